#pragma once

#include <QMetaType>

#include <array>
#include <QString>
#include <QVector>

namespace OddsDesk {

/// Upper bounds of the delivery-latency histogram, in microseconds: from a loopback 1 ms
/// to a struggling phone's 10 s, roughly doubling, as Prometheus histograms usually go.
inline constexpr std::array<qint64, 13> LatencyBucketBoundsUs = {1000, 2500, 5000, 10000, 25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

/// Why the server refused a client or closed its connection: each is counted, exported on
/// /metrics as oddsdesk_refusals_total{reason="..."} and logged sparingly.
enum class Refusal : int {
    BadMessage, // did not parse (1007)
    UnsupportedData, // text on the binary subprotocol or the reverse (1003)
    Protocol, // a message not valid in the connection's state (1002)
    UnsupportedVersion, // a protocol version this server does not speak (1002)
    NotAClientMessage, // anything but hello, ack or telemetry: an attempt at the book (1008)
    Policy, // not allowed, such as an ack beyond what was sent (1008)
    TooBig, // a message or frame over the size limit (1009)
    HelloTimeout, // no hello in time (1008)
    Unauthorized, // no valid token (1008)
    TooSlow, // the queue for the client grew past its bound (1008)
    Overloaded, // over the server's accept rate (1013)
    AddressLimit, // over the connections one address may hold (1008)
    HelloRate, // over the hellos one address may send a second (1013)
    Origin, // a browser from an origin not allowed (403)
    BadHandshake, // a WebSocket handshake that failed or timed out
    TelemetryDropped, // a telemetry message over the session's rate, dropped
    TelemetryFlood, // so many dropped that the session is closed (1008)
};
inline constexpr int RefusalCount = int(Refusal::TelemetryFlood) + 1;

/// The label of \a reason on /metrics and in the log: "hello_rate", "too_big", ...
const char *refusalName(Refusal reason);

/// Whether \a reason is about what a client sent (a message it should not have, a token
/// that is not valid), as counted in oddsdesk_protocol_errors_total; not a client too slow,
/// one that said nothing in time, or the server's own limits.
bool isProtocolError(Refusal reason);

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
    // This interval's samples by bucket (not cumulative); the last counts what is above
    // every bound.
    std::array<quint64, LatencyBucketBoundsUs.size() + 1> latencyBuckets = {};
    qint64 latencySumUs = 0;
    quint64 framesOut = 0; // in this interval
    quint64 bytesOut = 0;
    quint64 protocolErrors = 0; // sessions closed for bad input, since start
    quint64 totalConnections = 0;
    quint64 overloadRefusals = 0; // connections answered "overloaded", since start
    quint64 originRefusals = 0; // browsers refused for their origin, since start
    quint64 addressRefusals = 0; // connections over the per-address limit, since start
    std::array<quint64, RefusalCount> refusals = {}; // by Refusal, since start
};

} // namespace OddsDesk

Q_DECLARE_METATYPE(OddsDesk::FeedMetrics)
