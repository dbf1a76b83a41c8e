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
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>
#include <QWebSocketProtocol>

#include <deque>
#include <memory>
#include <optional>

Q_DECLARE_LOGGING_CATEGORY(lcNet)

class QWebSocket;
class QWebSocketServer;

namespace OddsDesk {

/// A client session: what survives while its connection comes and goes.
struct Session
{
    QString id;
    QString resumeToken;
    QString clientName;
    QString clientVersion;
    QString user; // from the client's token; empty on an open feed
    QString remoteAddress;
    qint64 createdMs = 0;
    qint64 connectedSinceMs = 0;
    qint64 disconnectedAtUs = 0; // 0 while connected
    quint64 lastSentSequence = 0;
    quint64 lastAckedSequence = 0;
    quint64 framesOut = 0;
    quint64 bytesOut = 0;
    int reconnects = 0;
    int resumes = 0;
    int snapshotFallbacks = 0;
    int gapsReported = 0;
    qint64 staleMs = 0; // as the client reported
    double telemetryTokens = 0;
    qint64 telemetryRefillUs = 0;
    quint64 telemetryDropped = 0; // messages over the rate, dropped
    LatencyWindow latency;
    ClockOffsetEstimator clock;
    std::deque<std::pair<quint64, qint64>> awaitingAck; // (sequence, commit time)
    std::deque<TimelineEntry> timeline;
    class Connection *connection = nullptr;
};

/// The WebSocket side of the feed: accepts connections, runs the hello and resume
/// handshake, fans out each flush's shared frame, sends heartbeats and closes dead or
/// misbehaving connections. Lives on the engine thread.
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

    bool loadTls();
    void onNewConnection();
    void onFlushed(const FeedBatchPtr &batch);
    void onBookReset();
    void housekeeping();

    void handleHello(Connection *connection, const pb::Hello &hello);
    void handleAck(Connection *connection, const pb::Ack &ack);
    void handleTelemetry(Connection *connection, const pb::Telemetry &telemetry);
    void connectionClosed(Connection *connection);
    void refuseHelloOverRate(Connection *connection, int retryAfterMs);

    Session *createSession(Connection *connection, const pb::Hello &hello);
    void attach(Session *session, Connection *connection);
    void sendSnapshot(Session *session);
    void sendBatch(Session *session, const FeedBatch &batch);
    /// Adds an entry at \a timeMs (now, when not given), in time order.
    void addTimeline(Session *session, TimelineEntry::Source source, const QString &kind,
        const QString &detail, qint64 timeMs = 0);
    qint64 clientEventTimeMs(const Session &session, const pb::TelemetryEvent &event) const;
    SessionSummary summarize(const Session &session, qint64 nowUs) const;
    bool isStaleNow(const Session &session, qint64 nowUs) const;

    Feed *m_feed;
    ServerConfig m_config;
    QWebSocketServer *m_server = nullptr;
    QString m_errorString;
    QTimer m_housekeeping;
    qint64 m_lastHeartbeatUs = 0;
    QList<Connection *> m_connections;
    QHash<QString, std::shared_ptr<Session>> m_sessions;

    // Counters for the current metrics interval.
    qint64 m_intervalStartMs = 0;
    int m_reconnects = 0;
    int m_resumes = 0;
    int m_fallbacks = 0;
    int m_clientReconnectAttempts = 0;
    quint64 m_framesOut = 0;
    quint64 m_bytesOut = 0;
    QVector<qint64> m_intervalSamples;
    quint64 m_protocolErrors = 0;
    quint64 m_totalConnections = 0;
    quint64 m_overloadRefusals = 0;
    quint64 m_originRefusals = 0;
    quint64 m_addressRefusals = 0;
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
