#pragma once

#include "book.h"
#include "codec.h"
#include "latency.h"

#include <QAbstractSocket>
#include <QLoggingCategory>
#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QSslCertificate>
#include <QRandomGenerator>
#include <QTimer>
#include <QUrl>
#include <QWebSocketProtocol>

#include <deque>

Q_DECLARE_LOGGING_CATEGORY(lcClient)

class QWebSocket;

namespace OddsDesk {

struct FeedClientConfig
{
    QUrl url;
    // The local address to connect from; null leaves it to the system. A load generator
    // spreads its sessions over 127.0.0.x with it: each source address has its own local
    // ports towards the feed's address and port.
    QHostAddress sourceAddress;
    WireFormat format = WireFormat::Binary;
    QString clientName = QStringLiteral("oddsdesk-client");
    QString clientVersion;
    QString authToken;
    // For wss:// to a server whose certificate no system authority signed (a test's own).
    QList<QSslCertificate> trustedCertificates;
    bool autoReconnect = true;
    // Full-jitter exponential backoff: attempt n waits a random time in
    // [0, min(cap, base * 2^(n-1))], so a server restart does not cause a stampede.
    int backoffBaseMs = 500;
    int backoffCapMs = 20000;
    // A connection that stayed up this long resets the backoff to its first step.
    int stableAfterMs = 10000;
    // Without any message for this many heartbeat intervals the client calls itself stale.
    int staleAfterHeartbeats = 3;
    // A connection attempt not open by then is given up and tried again after the backoff:
    // on a network that drops every packet an attempt would otherwise wait for the system's
    // own timeout, minutes, while the network may long be back. Ten seconds, as long as the
    // server gives a connection to say hello, leaves a busy server in a reconnect storm
    // time to answer before its clients pile a second attempt on the first.
    int connectTimeoutMs = 10000;
    bool sendAcks = true;
    // Acks of deltas leave at most this often; a snapshot's at once. Each ack is a message
    // the server must read, and at 50 deltas a second to 5,000 sessions acking every one
    // doubled the messages on the wire. A pending ack leaves with the next delta or
    // heartbeat after the interval, or at the next liveness check (every 250 ms). Zero acks
    // every delta.
    int ackIntervalMs = 100;
    bool sendTelemetry = true;
    // Telemetry leaves in small batches: at most this many events once a second.
    int telemetryBatchMax = 32;
    int telemetryIntervalMs = 1000;
    // Kept while disconnected; beyond it the oldest events are dropped (and counted).
    int telemetryQueueMax = 256;
};

/// Figures a client keeps about its own feed, for tests, the reference client and the fleet.
struct FeedClientStats
{
    quint64 framesReceived = 0;
    quint64 bytesReceived = 0;
    quint64 deltasApplied = 0;
    quint64 changesApplied = 0;
    quint64 snapshots = 0;
    quint64 duplicates = 0; // delta frames that repeated sequences already applied
    quint64 gaps = 0; // delta frames that skipped sequences
    quint64 connects = 0;
    quint64 reconnects = 0; // connection attempts after the first
    quint64 resumes = 0; // welcomes that said resumed
    quint64 snapshotFallbacks = 0; // resume asked for, snapshot received
    quint64 staleEvents = 0;
    quint64 decodeErrors = 0;
    quint64 telemetryDropped = 0;
};

/// A feed client: connects, says hello, keeps its own copy of the book from the snapshot
/// and the deltas, acknowledges what it applied, measures delivery latency, notices a dead
/// connection by the silence of its heartbeats, and reconnects with backoff, resuming where
/// it was. The library behind oddsdesk-client, the tests and the load generator.
class FeedClient : public QObject
{
    Q_OBJECT

public:
    enum class State { Idle, Connecting, Handshaking, Live, Backoff, Closed };
    Q_ENUM(State)

    explicit FeedClient(const FeedClientConfig &config, QObject *parent = nullptr);
    ~FeedClient() override;

    void start();
    /// Closes the connection and stops reconnecting.
    void stop();
    /// Cuts the connection without a close handshake and reconnects (as a network drop would).
    void dropConnection(const QString &reason);

    State state() const { return m_state; }
    const Book &book() const { return m_book; }
    /// The last sequence applied (a snapshot's baseline counts).
    quint64 lastSequence() const { return m_lastSequence; }
    /// The head sequence the server last told us about (welcome or heartbeat).
    quint64 serverHead() const { return m_serverHead; }
    QString sessionId() const { return m_sessionId; }
    /// The address its latest connection came from (empty before the first).
    QString localAddress() const { return m_localAddress; }
    /// Why the client stopped for good (the server refused it, or it could not connect
    /// from its source address); empty while it carries on.
    QString refusal() const { return m_refusal; }
    QString epoch() const { return m_epoch; }
    bool hasBook() const { return m_hasBook; }
    bool isStale() const { return m_stale; }
    const FeedClientStats &stats() const { return m_stats; }
    const LatencyWindow &latency() const { return m_latency; }
    const FeedClientConfig &config() const { return m_config; }
    void setAutoReconnect(bool enabled) { m_config.autoReconnect = enabled; }
    /// The close code and reason of the last disconnect.
    int lastCloseCode() const { return m_lastCloseCode; }
    QString lastCloseReason() const { return m_lastCloseReason; }

    /// Adds a clock offset to every timestamp this client takes, to test a client whose
    /// clock is off or steps.
    void setClockSkewUs(qint64 skewUs) { m_clockSkewUs = skewUs; }

Q_SIGNALS:
    void stateChanged(OddsDesk::FeedClient::State state);
    /// Every message as received, before it is applied.
    void messageReceived(const oddsdesk::v1::ServerMessage &message);
    void welcomed(bool resumed);
    /// The snapshot is complete and the book replaced.
    void snapshotApplied(quint64 sequence);
    void deltaApplied(const OddsDesk::BookChanges &changes, quint64 toSequence);
    void gapDetected(quint64 expected, quint64 received);
    /// No message for staleAfterHeartbeats heartbeat intervals: what the client shows may
    /// be out of date.
    void staleChanged(bool stale);
    void serverError(int code, const QString &message);
    void disconnected(int closeCode, const QString &reason);
    void reconnectScheduled(int attempt, int delayMs);

private:
    void connectNow();
    void bindBeforeConnecting(QWebSocket *socket);
    void onConnected();
    void onDisconnected();
    void onBinary(const QByteArray &data);
    void onText(const QString &text);
    void handle(const QByteArray &data);
    void handleWelcome(const pb::Welcome &welcome);
    void handleSnapshot(const pb::Snapshot &snapshot, qint64 receivedUs);
    void handleDelta(const pb::Delta &delta, qint64 receivedUs);
    void handleError(const pb::Error &error);
    void acknowledge(qint64 receivedUs, bool immediately);
    void sendPendingAck();
    void send(const pb::ClientMessage &message);
    void scheduleReconnect(int minimumDelayMs = 0);
    void checkLiveness();
    void report(pb::TelemetryEvent::Kind kind, const QString &reason = {}, quint32 attempt = 0,
        quint32 delayMs = 0, quint64 sequence = 0);
    void flushTelemetry();
    void setState(State state);
    qint64 now() const;
    qint64 measureLatency(qint64 commitUs, qint64 receivedUs);
    void sampleClock(qint64 serverTimeUs, qint64 receivedUs);

    FeedClientConfig m_config;
    QWebSocket *m_socket = nullptr;
    State m_state = State::Idle;
    Book m_book;
    BookData m_pendingSnapshot;
    // Where each event and market of m_pendingSnapshot is: an event may come in two parts.
    QHash<quint32, int> m_pendingEvents;
    QHash<quint32, int> m_pendingMarkets;
    // Why the server will not take this client back as it is (a token it refuses, a version
    // it does not speak, a session another connection took): no reconnecting then.
    QString m_refusal;
    bool m_hasBook = false;
    quint64 m_lastSequence = 0;
    quint64 m_serverHead = 0;
    QString m_sessionId;
    QString m_resumeToken;
    QString m_epoch;
    bool m_askedResume = false;
    int m_heartbeatIntervalMs = 2000;
    qint64 m_lastMessageUs = 0;
    bool m_ackPending = false;
    qint64 m_ackReceivedUs = 0; // when the sequence the pending ack names was received
    qint64 m_lastAckSentUs = 0;
    qint64 m_connectedAtUs = 0;
    qint64 m_attemptStartedUs = 0;
    bool m_stale = false;
    qint64 m_staleSinceUs = 0;
    int m_attempt = 0;
    int m_retryAfterMs = 0;
    int m_reconnectWindowMs = 0; // the server going away asked us to spread over this
    int m_lastCloseCode = 0;
    QString m_lastCloseReason;
    bool m_stopping = false;
    bool m_dropped = false; // the connection was cut by dropConnection()
    QTimer m_reconnectTimer;
    QTimer m_livenessTimer;
    QTimer m_telemetryTimer;
    QRandomGenerator m_random;
    std::deque<pb::TelemetryEvent> m_telemetry;
    FeedClientStats m_stats;
    LatencyWindow m_latency;
    // Client-side clock estimate: (receive - server time) of recent heartbeats. On one
    // machine the smallest is close to zero; with a skewed clock it is the skew.
    std::deque<qint64> m_offsetWindow;
    int m_aboveMinimum = 0;
    qint64 m_clockSkewUs = 0;
    QString m_localAddress; // of the last connection, to notice a change of network
};

} // namespace OddsDesk
