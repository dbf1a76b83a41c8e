#pragma once

#include "addressratelimiter.h"
#include "config.h"
#include "feed.h"
#include "refusallog.h"
#include "sessioninfo.h"
#include "latency.h"
#include "metrics.h"

#include <QHash>
#include <QHostAddress>
#include <QLoggingCategory>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QSslConfiguration>
#include <QTimer>
#include <QUrl>
#include <QWebSocketProtocol>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

Q_DECLARE_LOGGING_CATEGORY(lcNet)

class QTcpServer;
class QWebSocket;

namespace OddsDesk {

class NetworkThread;
class NetworkWorker;
struct PublishedBatch;

/// A client session: what survives while its connection comes and goes. Kept by the engine
/// thread; while attached, the connection's network thread sends it deltas and takes its acks.
/// The fields marked "shared" are read and written under the mutex by both threads; the
/// others belong to the engine thread.
struct Session
{
    // First, together: what the network thread reads of every session on every flush.
    mutable QMutex mutex;
    // Written by the engine thread under the mutex; the network thread reads it under the
    // mutex to know whether its connection still holds the session.
    class Connection *connection = nullptr;
    quint64 lastSentSequence = 0; // shared
    // When its oldest delta not yet acknowledged went out (the front of awaitingAck), 0 when
    // none is; shared.
    qint64 oldestUnackedSentUs = 0;
    // Whether its connection has acknowledged anything: one that never does is not paced;
    // shared.
    bool acks = false;
    std::atomic<quint64> framesOut {0}; // written by the network thread
    std::atomic<quint64> bytesOut {0};

    QString id;
    QString resumeToken;
    QString clientName;
    QString clientVersion;
    QString user; // from the client's token; empty on an open feed
    QString remoteAddress;
    qint64 createdMs = 0;
    qint64 connectedSinceMs = 0;
    qint64 disconnectedAtUs = 0; // 0 while connected
    quint64 lastAckedSequence = 0; // shared
    // When its last ack arrived, or when its connection began to be sent deltas; shared.
    qint64 lastAckUs = 0;
    // Its queue as last seen by the network thread: bytes its socket holds, and deltas held
    // back to go out conflated once that drains.
    std::atomic<qint64> queuedBytes {0};
    std::atomic<int> owedDeltas {0};
    int reconnects = 0;
    int resumes = 0;
    int snapshotFallbacks = 0;
    int gapsReported = 0;
    qint64 staleMs = 0; // as the client reported
    double telemetryTokens = 0;
    qint64 telemetryRefillUs = 0;
    quint64 telemetryDropped = 0; // messages over the rate, dropped
    LatencyWindow latency; // shared
    ClockOffsetEstimator clock; // shared
    /// A delta sent and not acknowledged yet.
    struct SentDelta
    {
        quint64 sequence = 0; // its last
        qint64 commitUs = 0; // when its oldest change was committed
        qint64 sentUs = 0;
    };
    std::deque<SentDelta> awaitingAck; // oldest first; shared
    std::deque<TimelineEntry> timeline;
};

/// The WebSocket side of the feed: accepts connections, runs the hello and resume
/// handshake, fans out each flush's shared frame, sends heartbeats and closes dead or
/// misbehaving connections. Lives on the engine thread, which keeps the sessions and answers
/// hellos; a small pool of network threads owns the sockets: the listener hands each new
/// connection to one of them, which upgrades it and from then on sends its frames, takes its
/// acks, heartbeats it and closes it. Each flush is framed once and handed to every network
/// thread once.
class FeedServer : public QObject
{
    Q_OBJECT

public:
    FeedServer(Feed *feed, const ServerConfig &config, QObject *parent = nullptr);
    ~FeedServer() override;

    bool listen();
    QString errorString() const { return m_errorString; }
    /// ws://address:port once listening.
    QUrl url() const;
    quint16 port() const;

    /// Adds \a origins to the browsers' allow-list, when there is one (an empty list lets
    /// every origin in, and stays so): the console's own web client must get in.
    void allowOrigins(const QStringList &origins);

    /// Closes every connection with \a code; sessions are kept for resume.
    void closeAll(QWebSocketProtocol::CloseCode code, const QString &reason);
    /// Cuts every connection at once without a close handshake (the demo's "restart the
    /// feed"); sessions are kept, so clients resume.
    void abortAll();

    int connectedCount() const { return int(m_connections.size()); }
    int networkThreadCount() const { return int(m_workers.size()); }
    /// Which network thread (0, 1, ...) holds the session's connection; -1 without one.
    int networkThreadOf(const QString &sessionId) const;
    /// The reconnect window offered to clients when the server goes away.
    int reconnectWindowMs() const;
    int sessionCount() const { return m_sessions.size(); }
    const Session *session(const QString &id) const;

    /// The figures since the previous call.
    FeedMetrics takeMetrics();

    /// Every session, connected and retained, as the inspector lists them.
    QVector<SessionSummary> sessionSummaries() const;
    std::optional<SessionDetail> sessionDetail(const QString &id) const;
    /// Closes a session's connection with \a reason (1000); the session is kept, so the
    /// client resumes. False if it has no connection.
    bool disconnectSession(const QString &id, const QString &reason);
    /// Sends a fresh snapshot to a connected session now.
    bool resyncSession(const QString &id);

Q_SIGNALS:
    void listening(const QUrl &url);

private:
    friend class Connection;
    struct ClosedInfo;

    bool loadTls();
    void startWorkers();
    void stopWorkers();
    void handOff(qintptr descriptor);
    void onFlushed(const FeedBatchPtr &batch);
    /// Frames \a batch once and hands it to every network thread.
    void publish(const FeedBatchPtr &batch);
    /// Publishes the flushes that came while the last one was being fanned out, as one.
    void publishHeld();
    /// Publishes what is held once the adapted interval since the last publish is over.
    void schedulePublish();
    void adaptPublishInterval(int behind, int sessions);
    /// One batch for consecutive \a batches: their changes conflated, encoded once.
    static FeedBatchPtr mergeBatches(const std::vector<FeedBatchPtr> &batches);
    void onBookReset();
    void housekeeping();

    // On a network thread, for the connections it owns.
    void onNewConnection(NetworkWorker *worker);
    void housekeepConnections(NetworkWorker *worker);
    /// Sends \a published to the worker's sessions; returns how many are held back.
    int fanOut(NetworkWorker *worker, const std::shared_ptr<const PublishedBatch> &published);
    /// Sends \a published to one connection, or adds it to what the connection is owed;
    /// \a fanOutUs is when the fan-out began, the clock of a held-back connection's hold.
    void sendBatch(Connection *connection, const std::shared_ptr<const PublishedBatch> &published,
        qint64 fanOutUs);
    /// Why what a connection is owed may go out: on an ack, one conflated delta goes however
    /// far behind the client still is (each ack lets one more through); on anything else
    /// (its socket drained, a flush, the housekeeping clock), only once it has caught up.
    enum class Release { IfCaughtUp, Acknowledged };
    void sendOwed(Connection *connection, Release release = Release::IfCaughtUp);
    /// Closes a held-back connection whose socket is backed up past the slow reader's bound
    /// (\a queued bytes in it, and what it is owed besides); returns whether it did.
    bool closeIfTooSlow(Connection *connection, qint64 queued);
    /// Notes a delta (or replayed batch) as sent to \a session, awaiting its ack. Under the
    /// session's mutex.
    void recordSent(Session *session, quint64 sequence, qint64 commitUs, qint64 nowUs);
    /// Whether the session's oldest unacknowledged delta went out longer ago than the pace
    /// allows. Under the session's mutex.
    bool isPaced(const Session &session, qint64 nowUs) const;
    void handleAck(Connection *connection, const pb::Ack &ack);
    void connectionLost(Connection *connection);
    void closeOwnConnections(NetworkWorker *worker, QWebSocketProtocol::CloseCode code,
        const QString &reason, quint32 reconnectWindowMs);

    // On the engine thread.
    void handleHello(Connection *connection, const pb::Hello &hello);
    void handleTelemetry(Connection *connection, const pb::Telemetry &telemetry);
    void connectionOpened(Connection *connection);
    void connectionClosed(Connection *connection, const ClosedInfo &info);
    void snapshotRequested(Connection *connection);
    void refuseHelloOverRate(Connection *connection, int retryAfterMs);

    Session *createSession(Connection *connection, const pb::Hello &hello);
    void attach(Session *session, Connection *connection);
    void sendSnapshot(Session *session);
    void replayBatch(Session *session, const FeedBatch &batch, QVector<QByteArray> *frames);
    void deliver(Session *session, const QVector<QByteArray> &frames);
    const QVector<QByteArray> &snapshotWire(const SnapshotFramesPtr &snapshot, WireFormat format);
    /// Adds an entry at \a timeMs (now, when not given), in time order.
    void addTimeline(Session *session, TimelineEntry::Source source, const QString &kind,
        const QString &detail, qint64 timeMs = 0);
    qint64 clientEventTimeMs(const Session &session, const pb::TelemetryEvent &event) const;
    SessionSummary summarize(const Session &session, qint64 nowUs) const;
    bool isStaleNow(const Session &session, qint64 nowUs) const;
    std::shared_ptr<Session> sharedSession(const Session *session) const;

    Feed *m_feed;
    ServerConfig m_config;
    QTcpServer *m_listener = nullptr;
    bool m_secure = false;
    QSslConfiguration m_tls;
    std::vector<std::unique_ptr<NetworkThread>> m_workers;
    size_t m_nextWorker = 0;
    QString m_errorString;
    QTimer m_housekeeping;
    // Every connection a network thread has reported and not yet reported closed, with the
    // session attached to it (null until its hello is answered, or once taken over).
    QHash<Connection *, Session *> m_connections;
    QHash<QString, std::shared_ptr<Session>> m_sessions;
    // The last flushed sequence, for the network threads' heartbeats.
    std::atomic<quint64> m_flushedSequence {0};
    // Flushes that came while the network threads were still sending the previous one, and
    // how many of those threads have not said they are done with it. Engine thread.
    std::vector<FeedBatchPtr> m_heldBatches;
    int m_fanOutsRunning = 0;
    // Sessions held back in the fan-out now ending, and of how many; the interval between
    // publishes they adapt; when the last publish was, and its timer.
    int m_behindInRound = 0;
    int m_sessionsInRound = 0;
    qint64 m_publishIntervalUs = 0;
    qint64 m_lastPublishUs = 0;
    QTimer m_publishTimer;
    // The snapshot last framed for the wire, shared by every session that gets it.
    SnapshotFramesPtr m_framedSnapshot;
    QVector<QByteArray> m_snapshotWire[2];

    // Counters for the current metrics interval.
    qint64 m_intervalStartMs = 0;
    int m_reconnects = 0;
    int m_resumes = 0;
    int m_fallbacks = 0;
    int m_clientReconnectAttempts = 0;
    // Since start; network threads count these too.
    std::atomic<quint64> m_protocolErrors {0};
    std::atomic<quint64> m_totalConnections {0};
    std::atomic<quint64> m_overloadRefusals {0};
    std::atomic<quint64> m_originRefusals {0};
    std::atomic<quint64> m_addressRefusals {0};

    // Admission, decided on the network threads as connections arrive.
    QMutex m_admissionMutex;
    QHash<QString, int> m_connectionsPerAddress;
    RefusalLog m_refusals {lcNet()};
    AddressRateLimiter m_helloLimiter;
    qint64 m_lastHelloPruneUs = 0;
    double m_acceptTokens = 0;
    qint64 m_acceptRefillUs = 0;
};

/// True when \a a equals \a b, in time that does not depend on where they differ.
bool constantTimeEquals(const QByteArray &a, const QByteArray &b);

} // namespace OddsDesk
