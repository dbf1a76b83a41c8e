#pragma once

#include <QMetaType>
#include <QString>
#include <QVector>

namespace OddsDesk {

/// One client's delivery latency, for the charts' "worst clients" series.
struct ClientLatency
{
    QString sessionId;
    QString clientName;
    qint64 p50Us = 0;
    qint64 p99Us = 0;
};

/// The feed's figures over one sampling interval, sent to the UI a few times a second.
struct FeedMetrics
{
    qint64 timeMs = 0; // UTC wall time of the sample
    int intervalMs = 0;
    int connected = 0; // sessions with a live connection
    int retained = 0; // disconnected sessions kept for resume
    quint64 headSequence = 0;
    QString epoch;
    int reconnects = 0; // hellos that asked to resume, in this interval
    int resumes = 0; // of which were resumed
    int snapshotFallbacks = 0;
    int clientReconnectAttempts = 0; // as clients reported them, in this interval
    int staleSessions = 0; // connected, owing acks older than three heartbeats
    int latencySamples = 0;
    qint64 latencyP50Us = 0; // across every client's samples in this interval
    qint64 latencyP95Us = 0;
    qint64 latencyP99Us = 0;
    qint64 latencyMaxUs = 0;
    QVector<ClientLatency> worstClients; // highest p99 first, a few
    quint64 framesOut = 0; // in this interval
    quint64 bytesOut = 0;
    quint64 protocolErrors = 0; // sessions closed for bad input, since start
    quint64 totalConnections = 0;
    quint64 overloadRefusals = 0; // connections answered "overloaded", since start
};

} // namespace OddsDesk

Q_DECLARE_METATYPE(OddsDesk::FeedMetrics)
