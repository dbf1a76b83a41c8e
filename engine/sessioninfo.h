#pragma once

#include <QMetaType>
#include <QString>
#include <QVector>

namespace OddsDesk {

/// One entry of a session's timeline: something the engine saw or the client reported.
struct TimelineEntry
{
    enum class Source : quint8 { Engine, Client };
    qint64 timeMs = 0; // UTC wall time, ours
    Source source = Source::Engine;
    QString kind; // "connected", "closed", "resumed", "reconnect-attempt", ...
    QString detail;
};

/// One session as support staff see it in the inspector: a plain value copied off the
/// engine thread.
struct SessionSummary
{
    QString id;
    QString clientName;
    QString clientVersion;
    QString user; // from the client's token, once authentication exists
    QString remoteAddress;
    bool connected = false; // false: retained for resume
    qint64 createdMs = 0;
    qint64 connectedSinceMs = 0;
    int reconnects = 0;
    int resumes = 0;
    int snapshotFallbacks = 0;
    int gaps = 0;
    quint64 lag = 0; // head sequence minus the last sequence it acknowledged
    // Its queue, as of the network thread's last look (a quarter of a second at most ago):
    // bytes its socket holds that the client has not taken, and deltas held back for it to
    // go out as one conflated delta. Zero while it is away.
    qint64 queuedBytes = 0;
    int owedDeltas = 0;
    qint64 latencyP50Us = 0;
    qint64 latencyP99Us = 0;
    quint64 framesOut = 0;
    quint64 bytesOut = 0;
    qint64 staleMs = 0; // as the client reported
    bool staleNow = false; // deltas sent and not acknowledged for 3 heartbeats
    quint64 telemetryDropped = 0;
};

/// Everything about one session: its figures, its merged timeline and recent latencies.
struct SessionDetail
{
    SessionSummary summary;
    QVector<TimelineEntry> timeline;
    QVector<qint64> recentLatencyUs; // oldest first
};

} // namespace OddsDesk

Q_DECLARE_METATYPE(OddsDesk::SessionSummary) Q_DECLARE_METATYPE(OddsDesk::SessionDetail)
