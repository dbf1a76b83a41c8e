#include "server.h"

#include "clientframe.h"
#include "clock.h"

#include <QDateTime>
#include <QFile>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QWebSocketCorsAuthenticator>
#include <QRandomGenerator>
#include <QWebSocket>
#include <QWebSocketServer>
#include <QtNumeric>

#include <algorithm>

Q_LOGGING_CATEGORY(lcNet, "oddsdesk.engine.net", QtWarningMsg)

namespace OddsDesk {
namespace {

// The interval of the housekeeping pass that sends heartbeats and closes dead connections;
// short against the heartbeat so that a dead connection is noticed close to its deadline.
constexpr int HousekeepingIntervalMs = 250;
// Sample the interval's latencies for the charts from at most this many acks; beyond it
// percentiles are stable and the memory is bounded.
constexpr int MaxIntervalSamples = 100000;
// The dynamic property holding the source address a connection is counted under.
constexpr char AddressProperty[] = "oddsdesk.address";
// The worst few clients shown by name on the latency chart.
constexpr int WorstClientCount = 5;
// Sequences a session may be owed acks for; older ones are dropped unmeasured.
constexpr size_t MaxAwaitingAcks = 512;
// How often the per-address hello buckets that have refilled are forgotten.
constexpr qint64 HelloLimiterPruneIntervalUs = 10 * 1000 * 1000;

QString randomHex(int bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(raw.data()), bytes / 4);
    return QString::fromLatin1(raw.toHex());
}

QString closeCodeText(QWebSocketProtocol::CloseCode code)
{
    return QString::number(int(code));
}

// What a client wrote (its name, a close reason), made fit for one line of the log: no
// client may write lines of its own into the operator's log.
QString oneLine(const QString &untrusted, int maxLength = 200)
{
    QString text = untrusted.left(maxLength);
    for (QChar &c : text) {
        if (!c.isPrint())
            c = QLatin1Char(' ');
    }
    return text;
}

} // namespace

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a.at(i) ^ b.at(i));
    return diff == 0;
}

/// One WebSocket connection. Owned by the server; a session points at it while attached.
class Connection : public QObject
{
public:
    enum class State { AwaitingHello, Live, Closing };

    Connection(FeedServer *server, QWebSocket *socket, WireFormat format)
        : QObject(server)
        , m_server(server)
        , m_socket(socket)
        , m_format(format)
    {
        m_socket->setParent(this);
        m_connectedUs = m_lastInboundUs = monotonicMicros();
        m_remote
            = QStringLiteral("%1:%2").arg(socket->peerAddress().toString()).arg(socket->peerPort());
        connect(m_socket, &QWebSocket::binaryMessageReceived, this,
            [this](const QByteArray &data) { onMessage(data, WireFormat::Binary); });
        connect(m_socket, &QWebSocket::textMessageReceived, this,
            [this](const QString &text) { onMessage(text.toUtf8(), WireFormat::Json); });
        connect(m_socket, &QWebSocket::pong, this, [this] { touch(); });
        connect(m_socket, &QWebSocket::disconnected, this,
            [this] { m_server->connectionClosed(this); });
    }

    QWebSocket *socket() const { return m_socket; }
    WireFormat format() const { return m_format; }
    State state() const { return m_state; }
    void setState(State state) { m_state = state; }
    Session *session() const { return m_session; }
    void setSession(Session *session) { m_session = session; }
    QString remote() const { return m_remote; }
    qint64 connectedUs() const { return m_connectedUs; }
    qint64 lastInboundUs() const { return m_lastInboundUs; }
    QString label() const
    {
        return m_session ? m_session->id : QStringLiteral("(no session, %1)").arg(m_remote);
    }

    void send(const QByteArray &frame)
    {
        if (m_format == WireFormat::Json)
            m_socket->sendTextMessage(QString::fromUtf8(frame));
        else
            m_socket->sendBinaryMessage(frame);
        if (m_session) {
            ++m_session->framesOut;
            m_session->bytesOut += quint64(frame.size());
        }
        ++m_server->m_framesOut;
        m_server->m_bytesOut += quint64(frame.size());
    }

    void send(const pb::ServerMessage &message) { send(Codec::encode(message, m_format)); }

    /// Sends an error message, then closes with the matching close code. Counts and logs
    /// it under \a refusal (by default the one \a code stands for), sparingly.
    void fail(pb::Error::Code code, QWebSocketProtocol::CloseCode closeCode,
        const QString &untrustedReason, quint32 reconnectWindowMs = 0)
    {
        fail(refusalFor(code), code, closeCode, untrustedReason, reconnectWindowMs);
    }

    void fail(Refusal refusal, pb::Error::Code code, QWebSocketProtocol::CloseCode closeCode,
        const QString &untrustedReason, quint32 reconnectWindowMs = 0)
    {
        // A reason may quote what the client sent: keep it to one printable line, so that
        // no client can write lines of its own into the operator's log.
        const QString reason = printableLine(untrustedReason);
        if (m_state == State::Closing)
            return;
        // Going away is the server's own doing and is logged once by whoever asked for it.
        if (closeCode != QWebSocketProtocol::CloseCodeGoingAway
            && closeCode != QWebSocketProtocol::CloseCodeNormal) {
            ++m_server->m_protocolErrors;
            m_server->m_refusals.record(refusal,
                QStringLiteral("closing session %1 from %2 with %3 - %4")
                    .arg(label(), m_remote, QString::number(int(closeCode)), reason),
                monotonicMicros());
        }
        pb::ServerMessage message;
        message.mutable_error()->set_code(code);
        message.mutable_error()->set_message(reason.toStdString());
        message.mutable_error()->set_reconnect_window_ms(reconnectWindowMs);
        send(message);
        close(closeCode, reason);
    }

    void close(QWebSocketProtocol::CloseCode code, const QString &reason)
    {
        m_state = State::Closing;
        m_closeCode = code;
        m_closeReason = reason;
        // A close reason travels in a control frame: at most 123 bytes.
        m_socket->close(code, reason.left(120));
    }

    QString closeReason() const { return m_closeReason; }
    QWebSocketProtocol::CloseCode closeCode() const { return m_closeCode; }

private:
    void touch() { m_lastInboundUs = monotonicMicros(); }

    void onMessage(const QByteArray &data, WireFormat received)
    {
        touch();
        if (m_state == State::Closing)
            return;
        pb::ClientMessage message;
        const ClientFrameCheck check = checkClientFrame(data, received, m_format,
            m_state == State::Live ? ClientPhase::Live : ClientPhase::AwaitingHello, &message);
        if (!check.ok) {
            fail(check.refusal, check.code, check.closeCode, check.reason);
            return;
        }
        if (message.has_hello())
            m_server->handleHello(this, message.hello());
        else if (message.has_ack())
            m_server->handleAck(this, message.ack());
        else
            m_server->handleTelemetry(this, message.telemetry());
    }

    FeedServer *m_server;
    QWebSocket *m_socket;
    WireFormat m_format;
    State m_state = State::AwaitingHello;
    Session *m_session = nullptr;
    QString m_remote;
    QString m_closeReason;
    QWebSocketProtocol::CloseCode m_closeCode = QWebSocketProtocol::CloseCodeNormal;
    qint64 m_connectedUs = 0;
    qint64 m_lastInboundUs = 0;
};

FeedServer::FeedServer(Feed *feed, const ServerConfig &config, QObject *parent)
    : QObject(parent)
    , m_feed(feed)
    , m_config(config)
{
    const bool secure = !m_config.tlsCertificatePath.isEmpty() && !m_config.tlsKeyPath.isEmpty();
    m_server = new QWebSocketServer(QStringLiteral("OddsDesk"),
        secure ? QWebSocketServer::SecureMode : QWebSocketServer::NonSecureMode, this);
    connect(m_server, &QWebSocketServer::originAuthenticationRequired, this,
        [this](QWebSocketCorsAuthenticator *authenticator) {
            const QString origin = authenticator->origin();
            const bool allowed = m_config.allowedOrigins.isEmpty() || origin.isEmpty()
                || m_config.allowedOrigins.contains(origin);
            if (!allowed) {
                ++m_originRefusals;
                m_refusals.record(Refusal::Origin,
                    QStringLiteral("refused a browser from origin %1")
                        .arg(printableLine(origin, 100)),
                    monotonicMicros());
            }
            authenticator->setAllowed(allowed);
        });
    m_server->setSupportedSubprotocols(
        {QString::fromLatin1(BinarySubprotocol), QString::fromLatin1(JsonSubprotocol)});
    m_server->setMaxPendingConnections(m_config.maxPendingConnections);
    m_server->setHandshakeTimeout(m_config.handshakeTimeoutMs);
    connect(
        m_server, &QWebSocketServer::serverError, this, [this](QWebSocketProtocol::CloseCode code) {
            // A browser refused for its origin was counted and logged as such, above.
            if (code == QWebSocketProtocol::CloseCodePolicyViolated)
                return;
            m_refusals.record(Refusal::BadHandshake,
                QStringLiteral("a WebSocket handshake failed (%1): %2")
                    .arg(int(code))
                    .arg(printableLine(m_server->errorString())),
                monotonicMicros());
        });
    connect(m_server, &QWebSocketServer::newConnection, this, &FeedServer::onNewConnection);
    connect(m_server, &QWebSocketServer::acceptError, this,
        [](QAbstractSocket::SocketError e) { qCWarning(lcNet) << "accept failed:" << e; });
    connect(m_feed, &Feed::flushed, this, &FeedServer::onFlushed);
    connect(m_feed, &Feed::bookReset, this, &FeedServer::onBookReset);
    m_acceptTokens = m_config.maxAcceptsPerSecond;
    m_acceptRefillUs = monotonicMicros();
    m_helloLimiter
        = AddressRateLimiter(m_config.maxHellosPerSecondPerAddress, m_config.helloBurstPerAddress);

    m_housekeeping.setInterval(HousekeepingIntervalMs);
    connect(&m_housekeeping, &QTimer::timeout, this, &FeedServer::housekeeping);
    m_intervalStartMs = wallMillis();
}

FeedServer::~FeedServer()
{
    for (Connection *c : std::as_const(m_connections))
        c->socket()->disconnect(c);
}

bool FeedServer::loadTls()
{
    QFile certificateFile(m_config.tlsCertificatePath);
    QFile keyFile(m_config.tlsKeyPath);
    if (!certificateFile.open(QIODevice::ReadOnly)) {
        m_errorString = QStringLiteral("cannot read the TLS certificate %1: %2")
                            .arg(m_config.tlsCertificatePath, certificateFile.errorString());
        return false;
    }
    if (!keyFile.open(QIODevice::ReadOnly)) {
        m_errorString = QStringLiteral("cannot read the TLS key %1: %2")
                            .arg(m_config.tlsKeyPath, keyFile.errorString());
        return false;
    }
    const QList<QSslCertificate> chain = QSslCertificate::fromDevice(&certificateFile, QSsl::Pem);
    if (chain.isEmpty()) {
        m_errorString
            = QStringLiteral("%1 holds no PEM certificate").arg(m_config.tlsCertificatePath);
        return false;
    }
    QSslKey key(&keyFile, QSsl::Rsa, QSsl::Pem);
    if (key.isNull()) {
        keyFile.seek(0);
        key = QSslKey(&keyFile, QSsl::Ec, QSsl::Pem);
    }
    if (key.isNull()) {
        m_errorString = QStringLiteral("%1 holds no unencrypted PEM key (RSA or EC)")
                            .arg(m_config.tlsKeyPath);
        return false;
    }
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificateChain(chain);
    tls.setPrivateKey(key);
    tls.setPeerVerifyMode(QSslSocket::VerifyNone); // clients prove who they are by token
    m_server->setSslConfiguration(tls);
    return true;
}

bool FeedServer::listen()
{
    if (m_server->secureMode() == QWebSocketServer::SecureMode && !loadTls())
        return false;
    if (!m_server->listen(m_config.bindAddress, m_config.port)) {
        m_errorString = QStringLiteral("cannot listen on %1:%2: %3")
                            .arg(m_config.bindAddress.toString())
                            .arg(m_config.port)
                            .arg(m_server->errorString());
        return false;
    }
    m_housekeeping.start();
    m_lastHeartbeatUs = monotonicMicros();
    Q_EMIT listening(url());
    return true;
}

QUrl FeedServer::url() const
{
    QUrl url;
    url.setScheme(m_server->secureMode() == QWebSocketServer::SecureMode ? QStringLiteral("wss")
                                                                         : QStringLiteral("ws"));
    url.setHost(m_server->serverAddress().toString());
    url.setPort(m_server->serverPort());
    return url;
}

quint16 FeedServer::port() const
{
    return m_server->serverPort();
}

const Session *FeedServer::session(const QString &id) const
{
    const auto it = m_sessions.constFind(id);
    return it == m_sessions.cend() ? nullptr : it->get();
}

int FeedServer::reconnectWindowMs() const
{
    return qBound(m_config.minReconnectWindowMs,
        int(m_sessions.size()) * m_config.reconnectWindowPerSessionMs,
        m_config.maxReconnectWindowMs);
}

void FeedServer::onNewConnection()
{
    while (QWebSocket *socket = m_server->nextPendingConnection()) {
        // A token bucket of accepts: a second's worth of burst, refilled continuously.
        const qint64 nowUs = monotonicMicros();
        const double rate = double(m_config.maxAcceptsPerSecond);
        m_acceptTokens = qMin(rate, m_acceptTokens + rate * double(nowUs - m_acceptRefillUs) / 1e6);
        m_acceptRefillUs = nowUs;
        // An absent subprotocol means binary: that is the default for a client that asks
        // for none.
        const WireFormat format = socket->subprotocol() == QLatin1String(JsonSubprotocol)
            ? WireFormat::Json
            : WireFormat::Binary;
        socket->setMaxAllowedIncomingMessageSize(m_config.maxIncomingMessageBytes);
        socket->setMaxAllowedIncomingFrameSize(m_config.maxIncomingMessageBytes);
        auto *connection = new Connection(this, socket, format);
        m_connections.append(connection);
        ++m_totalConnections;
        if (m_acceptTokens < 1.0) {
            // Over the accept rate: say when to come back instead of leaving the client
            // hanging in a queue. The hint is spread so the retries do not come together.
            ++m_overloadRefusals;
            m_refusals.record(Refusal::Overloaded,
                QStringLiteral("over %1 accepts a second: told %2 to retry later")
                    .arg(m_config.maxAcceptsPerSecond)
                    .arg(connection->remote()),
                nowUs);
            const quint32 retryMs = 1000 + QRandomGenerator::global()->bounded(2000);
            pb::ServerMessage message;
            message.mutable_error()->set_code(pb::Error::CODE_OVERLOADED);
            message.mutable_error()->set_message("the server is busy; retry later");
            message.mutable_error()->set_retry_after_ms(retryMs);
            connection->send(message);
            connection->close(QWebSocketProtocol::CloseCode(1013), QStringLiteral("overloaded"));
            continue;
        }
        m_acceptTokens -= 1.0;
        const QString address = socket->peerAddress().toString();
        int &held = m_connectionsPerAddress[address];
        ++held;
        connection->setProperty(AddressProperty, address);
        if (m_config.maxConnectionsPerAddress > 0 && held > m_config.maxConnectionsPerAddress) {
            // Logged sparingly, so that an attack does not write the operator's log for the
            // attacker.
            ++m_addressRefusals;
            m_refusals.record(Refusal::AddressLimit,
                QStringLiteral("refusing connections from %1 over %2 held; %3 refused so far")
                    .arg(address)
                    .arg(m_config.maxConnectionsPerAddress)
                    .arg(m_addressRefusals),
                nowUs);
            pb::ServerMessage message;
            message.mutable_error()->set_code(pb::Error::CODE_POLICY);
            message.mutable_error()->set_message("too many connections from this address");
            connection->send(message);
            connection->close(QWebSocketProtocol::CloseCodePolicyViolated,
                QStringLiteral("too many connections from this address"));
            continue;
        }
        qCDebug(lcNet).noquote() << "connection from" << connection->remote()
                                 << (format == WireFormat::Json ? "json" : "binary");
    }
}

void FeedServer::handleHello(Connection *connection, const pb::Hello &hello)
{
    // First, before a snapshot is built: one address saying hello faster than its share is
    // told when to come back.
    int retryAfterMs = 0;
    if (!m_helloLimiter.take(
            connection->property(AddressProperty).toString(), monotonicMicros(), &retryAfterMs)) {
        refuseHelloOverRate(connection, retryAfterMs);
        return;
    }

    // What is pending goes out to the sessions already live before this one joins, so that
    // its snapshot or replay and the live deltas meet exactly at the flushed sequence.
    m_feed->flush();

    const HelloCheck check = checkHello(hello, m_config.authKey, wallMillis());
    if (!check.ok) {
        connection->fail(check.refusal, check.code, check.closeCode, check.reason);
        return;
    }
    const QString user = check.user;

    const bool wantsResume = hello.has_resume() && !hello.resume().session_id().empty();
    if (!wantsResume) {
        Session *session = createSession(connection, hello);
        session->user = user;
        attach(session, connection);
        sendSnapshot(session);
        return;
    }

    ++m_reconnects;
    const pb::ResumeRequest &resume = hello.resume();
    const QString id = QString::fromStdString(resume.session_id());
    auto it = m_sessions.find(id);
    Session *session = it == m_sessions.end() ? nullptr : it->get();
    QString refusal;
    if (!session) {
        refusal = QStringLiteral("unknown or expired session");
    } else if (!constantTimeEquals(session->resumeToken.toLatin1(),
                   QByteArray::fromStdString(resume.resume_token()))) {
        refusal = QStringLiteral("wrong resume token");
        session = nullptr; // never hand another session's state to this client
    } else if (session->user != user) {
        refusal = QStringLiteral("the session belongs to another user");
        session = nullptr;
    }

    if (!session) {
        session = createSession(connection, hello);
        qCInfo(lcNet).noquote() << "resume of" << oneLine(id, 64) << "refused:" << refusal
                                << "- fell back to a snapshot in session" << session->id;
        session->user = user;
        ++session->reconnects;
        ++session->snapshotFallbacks;
        ++m_fallbacks;
        attach(session, connection);
        addTimeline(
            session, TimelineEntry::Source::Engine, QStringLiteral("snapshot-fallback"), refusal);
        sendSnapshot(session);
        return;
    }

    ++session->reconnects;
    if (session->connection) {
        // The old connection still looks open (half-open TCP): this one takes over.
        Connection *old = session->connection;
        old->setSession(nullptr);
        session->connection = nullptr;
        addTimeline(session, TimelineEntry::Source::Engine, QStringLiteral("taken-over"),
            QStringLiteral("previous connection %1 replaced").arg(old->remote()));
        qCInfo(lcNet).noquote() << "session" << id << "taken over from" << old->remote() << "by"
                                << connection->remote();
        old->close(QWebSocketProtocol::CloseCode(SessionTakenOverCloseCode),
            QStringLiteral("session taken over by a newer connection"));
    }
    session->clientName = QString::fromStdString(hello.client_name());
    session->clientVersion = QString::fromStdString(hello.client_version());

    const QString epoch = QString::fromStdString(resume.epoch());
    std::optional<std::vector<FeedBatchPtr>> missed;
    if (epoch == m_feed->epoch())
        missed = m_feed->batchesAfter(resume.last_sequence());
    attach(session, connection);
    if (!missed) {
        const QString why = epoch != m_feed->epoch()
            ? QStringLiteral("feed epoch changed")
            : QStringLiteral("journal no longer reaches sequence %1").arg(resume.last_sequence());
        qCInfo(lcNet).noquote() << "session" << id << "fell back to a snapshot:" << why;
        ++session->snapshotFallbacks;
        ++m_fallbacks;
        addTimeline(
            session, TimelineEntry::Source::Engine, QStringLiteral("snapshot-fallback"), why);
        sendSnapshot(session);
        return;
    }

    ++session->resumes;
    ++m_resumes;
    session->lastSentSequence = resume.last_sequence();
    session->lastAckedSequence = resume.last_sequence();
    session->awaitingAck.clear();
    pb::ServerMessage message;
    pb::Welcome *welcome = message.mutable_welcome();
    welcome->set_session_id(session->id.toStdString());
    welcome->set_resume_token(session->resumeToken.toStdString());
    welcome->set_epoch(m_feed->epoch().toStdString());
    welcome->set_heartbeat_interval_ms(quint32(m_config.heartbeatIntervalMs));
    welcome->set_resumed(true);
    welcome->set_head_sequence(m_feed->flushedSequence());
    welcome->set_protocol_version(ProtocolVersion);
    welcome->set_server_time_us(monotonicMicros());
    connection->send(message);
    for (const FeedBatchPtr &batch : *missed)
        sendBatch(session, *batch);
    addTimeline(session, TimelineEntry::Source::Engine, QStringLiteral("resumed"),
        QStringLiteral("from sequence %1, %2 frames replayed")
            .arg(resume.last_sequence())
            .arg(missed->size()));
    qCInfo(lcNet).noquote() << "session" << id << "resumed from" << resume.last_sequence() << "with"
                            << missed->size() << "frames";
}

void FeedServer::refuseHelloOverRate(Connection *connection, int retryAfterMs)
{
    // Spread the retries over a second past the earliest moment, so they do not all come
    // back together.
    const quint32 retryMs = quint32(retryAfterMs) + QRandomGenerator::global()->bounded(1000u);
    m_refusals.record(Refusal::HelloRate,
        QStringLiteral("refusing a hello from %1: over %2 a second from that address")
            .arg(connection->remote())
            .arg(m_config.maxHellosPerSecondPerAddress),
        monotonicMicros());
    pb::ServerMessage message;
    message.mutable_error()->set_code(pb::Error::CODE_OVERLOADED);
    message.mutable_error()->set_message("too many hellos from this address; retry later");
    message.mutable_error()->set_retry_after_ms(retryMs);
    connection->send(message);
    connection->close(QWebSocketProtocol::CloseCode(1013),
        QStringLiteral("too many hellos from this address; retry later"));
}

Session *FeedServer::createSession(Connection *connection, const pb::Hello &hello)
{
    auto session = std::make_shared<Session>();
    do {
        session->id = randomHex(8);
    } while (m_sessions.contains(session->id));
    session->resumeToken = randomHex(16); // 128 random bits
    session->clientName = QString::fromStdString(hello.client_name());
    session->clientVersion = QString::fromStdString(hello.client_version());
    session->remoteAddress = connection->remote();
    session->createdMs = wallMillis();
    m_sessions.insert(session->id, session);
    qCInfo(lcNet).noquote() << "session" << session->id << "opened by"
                            << oneLine(session->clientName, 64)
                            << oneLine(session->clientVersion, 32) << "from"
                            << session->remoteAddress;
    return session.get();
}

void FeedServer::attach(Session *session, Connection *connection)
{
    session->connection = connection;
    session->disconnectedAtUs = 0;
    session->connectedSinceMs = wallMillis();
    session->remoteAddress = connection->remote();
    connection->setSession(session);
    connection->setState(Connection::State::Live);
    addTimeline(session, TimelineEntry::Source::Engine, QStringLiteral("connected"),
        QStringLiteral("from %1").arg(connection->remote()));
}

void FeedServer::sendSnapshot(Session *session)
{
    Connection *connection = session->connection;
    const SnapshotFramesPtr snapshot = m_feed->snapshot();

    pb::ServerMessage message;
    pb::Welcome *welcome = message.mutable_welcome();
    welcome->set_session_id(session->id.toStdString());
    welcome->set_resume_token(session->resumeToken.toStdString());
    welcome->set_epoch(m_feed->epoch().toStdString());
    welcome->set_heartbeat_interval_ms(quint32(m_config.heartbeatIntervalMs));
    welcome->set_resumed(false);
    welcome->set_head_sequence(snapshot->sequence);
    welcome->set_protocol_version(ProtocolVersion);
    welcome->set_server_time_us(monotonicMicros());
    connection->send(message);

    for (const QByteArray &frame : snapshot->frames(connection->format()))
        connection->send(frame);
    session->lastSentSequence = snapshot->sequence;
    session->lastAckedSequence = 0;
    session->awaitingAck.clear();
}

void FeedServer::sendBatch(Session *session, const FeedBatch &batch)
{
    Connection *connection = session->connection;
    if (!connection || connection->state() != Connection::State::Live)
        return;
    if (batch.toSequence <= session->lastSentSequence)
        return; // already has it: never a duplicate
    if (batch.fromSequence != session->lastSentSequence + 1) {
        // Cannot happen while the feed and the server agree; refuse to send a gap.
        qCWarning(lcNet).noquote()
            << "session" << session->id << "would skip from" << session->lastSentSequence << "to"
            << batch.fromSequence << "; sending a snapshot";
        sendSnapshot(session);
        return;
    }
    if (connection->socket()->bytesToWrite() > m_config.maxQueuedBytes) {
        connection->fail(pb::Error::CODE_TOO_SLOW, QWebSocketProtocol::CloseCodePolicyViolated,
            QStringLiteral("too slow: more than %1 bytes queued; resume to catch up")
                .arg(m_config.maxQueuedBytes));
        addTimeline(session, TimelineEntry::Source::Engine, QStringLiteral("too-slow"),
            QStringLiteral("queue over %1 bytes").arg(m_config.maxQueuedBytes));
        return;
    }
    connection->send(batch.frame(connection->format()));
    session->lastSentSequence = batch.toSequence;
    session->awaitingAck.emplace_back(batch.toSequence, batch.oldestCommitUs);
    if (session->awaitingAck.size() > MaxAwaitingAcks)
        session->awaitingAck.pop_front();
}

void FeedServer::onFlushed(const FeedBatchPtr &batch)
{
    for (Connection *connection : std::as_const(m_connections)) {
        if (Session *session = connection->session())
            sendBatch(session, *batch);
    }
}

void FeedServer::onBookReset()
{
    // A new book is a new epoch: every live session starts again from a snapshot.
    for (Connection *connection : std::as_const(m_connections)) {
        if (Session *session = connection->session()) {
            if (connection->state() == Connection::State::Live) {
                addTimeline(session, TimelineEntry::Source::Engine,
                    QStringLiteral("snapshot-fallback"), QStringLiteral("book replaced"));
                sendSnapshot(session);
            }
        }
    }
}

void FeedServer::handleAck(Connection *connection, const pb::Ack &ack)
{
    Session *session = connection->session();
    if (ack.sequence() > session->lastSentSequence) {
        connection->fail(pb::Error::CODE_POLICY, QWebSocketProtocol::CloseCodePolicyViolated,
            QStringLiteral("ack of sequence %1 beyond the %2 sent")
                .arg(ack.sequence())
                .arg(session->lastSentSequence));
        return;
    }
    session->lastAckedSequence = qMax(session->lastAckedSequence, ack.sequence());

    const qint64 arrivalUs = monotonicMicros();
    auto &awaiting = session->awaitingAck;
    while (!awaiting.empty() && awaiting.front().first < ack.sequence())
        awaiting.pop_front();
    if (!awaiting.empty() && awaiting.front().first == ack.sequence()) {
        const qint64 latency
            = session->clock.addSample(awaiting.front().second, ack.receive_time_us(), arrivalUs);
        session->latency.add(latency);
        if (m_intervalSamples.size() < MaxIntervalSamples)
            m_intervalSamples.append(latency);
        awaiting.pop_front();
    }
}

void FeedServer::handleTelemetry(Connection *connection, const pb::Telemetry &telemetry)
{
    Session *session = connection->session();
    const qint64 nowUs = monotonicMicros();
    const double rate = double(m_config.telemetryPerSecond);
    if (session->telemetryRefillUs == 0)
        session->telemetryTokens = m_config.telemetryBurst;
    else
        session->telemetryTokens = qMin(double(m_config.telemetryBurst),
            session->telemetryTokens + rate * double(nowUs - session->telemetryRefillUs) / 1e6);
    session->telemetryRefillUs = nowUs;
    if (session->telemetryTokens < 1.0) {
        m_refusals.record(Refusal::TelemetryDropped,
            QStringLiteral("session %1 sends telemetry faster than %2 a second; dropping")
                .arg(session->id)
                .arg(m_config.telemetryPerSecond),
            nowUs);
        if (session->telemetryDropped >= quint64(m_config.telemetryDropsBeforeClose)) {
            connection->fail(Refusal::TelemetryFlood, pb::Error::CODE_POLICY,
                QWebSocketProtocol::CloseCodePolicyViolated,
                QStringLiteral("telemetry far faster than %1 a second")
                    .arg(m_config.telemetryPerSecond));
            return;
        }
        if (session->telemetryDropped++ == 0) {
            addTimeline(session, TimelineEntry::Source::Engine, QStringLiteral("telemetry-flood"),
                QStringLiteral("over %1 messages a second").arg(m_config.telemetryPerSecond));
        }
        return;
    }
    session->telemetryTokens -= 1.0;
    // A batch holds at most this many events; the rest of an oversized one is ignored.
    constexpr int MaxEventsPerBatch = 64;
    int taken = 0;
    for (const pb::TelemetryEvent &event : telemetry.events()) {
        if (++taken > MaxEventsPerBatch)
            break;
        QString kind;
        QString detail;
        switch (event.kind()) {
        case pb::TelemetryEvent::KIND_CONNECTED:
            kind = QStringLiteral("client-connected");
            break;
        case pb::TelemetryEvent::KIND_DISCONNECTED:
            kind = QStringLiteral("client-disconnected");
            break;
        case pb::TelemetryEvent::KIND_RECONNECT_ATTEMPT:
            kind = QStringLiteral("reconnect-attempt");
            ++m_clientReconnectAttempts;
            detail = QStringLiteral("attempt %1 after %2 ms")
                         .arg(event.attempt())
                         .arg(event.delay_ms());
            break;
        case pb::TelemetryEvent::KIND_RESUMED:
            kind = QStringLiteral("client-resumed");
            break;
        case pb::TelemetryEvent::KIND_SNAPSHOT_FALLBACK:
            kind = QStringLiteral("client-snapshot");
            break;
        case pb::TelemetryEvent::KIND_GAP_DETECTED:
            kind = QStringLiteral("gap");
            detail = QStringLiteral("after sequence %1").arg(event.sequence());
            ++session->gapsReported;
            break;
        case pb::TelemetryEvent::KIND_STALE:
            kind = QStringLiteral("stale");
            detail = QStringLiteral("%1 ms without data").arg(event.delay_ms());
            // The client's word: no stale period is longer than the session has existed.
            session->staleMs += qMin<qint64>(event.delay_ms(), wallMillis() - session->createdMs);
            break;
        case pb::TelemetryEvent::KIND_DECODE_ERROR:
            kind = QStringLiteral("decode-error");
            break;
        case pb::TelemetryEvent::KIND_NETWORK_CHANGE:
            kind = QStringLiteral("network-change");
            break;
        default:
            kind = QStringLiteral("unknown");
            break;
        }
        const QString reason = QString::fromStdString(event.reason()).left(200);
        if (!reason.isEmpty())
            detail = detail.isEmpty() ? reason : detail + QStringLiteral(": ") + reason;
        addTimeline(session, TimelineEntry::Source::Client, kind, detail,
            clientEventTimeMs(*session, event));
    }
}

qint64 FeedServer::clientEventTimeMs(const Session &session, const pb::TelemetryEvent &event) const
{
    // A client reports what it saw in batches, up to a second later, and what happened while
    // it was cut off only after it is back: timed on arrival, its drop would sort after its
    // return. So an event is timed when the client says it happened, on our clock through
    // the offset its acks measured; a stale report says how long the silence lasted, and is
    // timed when the silence began.
    const qint64 nowMs = wallMillis();
    if (!session.clock.hasEstimate())
        return nowMs; // no measure of its clock yet: only the arrival can be trusted
    // Its times are the client's to choose: arithmetic on them must not overflow.
    qint64 happenedUs = 0;
    const qint64 silenceUs
        = event.kind() == pb::TelemetryEvent::KIND_STALE ? qint64(event.delay_ms()) * 1000 : 0;
    qint64 ageUs = 0;
    if (qSubOverflow(qint64(event.time_us()), session.clock.offset(), &happenedUs)
        || qSubOverflow(happenedUs, silenceUs, &happenedUs)
        || qSubOverflow(monotonicMicros(), happenedUs, &ageUs))
        return nowMs;
    // The client's word, within what can be true: not after it arrived, not before the
    // session existed.
    return qBound(session.createdMs, nowMs - qBound<qint64>(0, ageUs / 1000, nowMs), nowMs);
}

void FeedServer::connectionClosed(Connection *connection)
{
    m_connections.removeOne(connection);
    const QString address = connection->property(AddressProperty).toString();
    if (!address.isEmpty()) {
        auto held = m_connectionsPerAddress.find(address);
        if (held != m_connectionsPerAddress.end() && --*held <= 0)
            m_connectionsPerAddress.erase(held);
    }
    QWebSocket *socket = connection->socket();
    if (Session *session = connection->session()) {
        if (session->connection == connection) {
            session->connection = nullptr;
            session->disconnectedAtUs = monotonicMicros();
            const QString why = connection->closeReason().isEmpty()
                ? QStringLiteral("peer closed with %1 %2")
                      .arg(closeCodeText(socket->closeCode()), socket->closeReason())
                : QStringLiteral("closed with %1 %2")
                      .arg(closeCodeText(connection->closeCode()), connection->closeReason());
            addTimeline(session, TimelineEntry::Source::Engine, QStringLiteral("closed"), why);
            qCInfo(lcNet).noquote() << "session" << session->id << "from" << connection->remote()
                                    << "disconnected:" << oneLine(why);
        }
    }
    // The WebSocket layer refuses an oversized message or frame by itself; count it once.
    if (socket->closeCode() == QWebSocketProtocol::CloseCodeTooMuchData
        && connection->closeReason().isEmpty()) {
        ++m_protocolErrors;
        m_refusals.record(Refusal::TooBig,
            QStringLiteral("closed %1 from %2 with 1009: a message or frame over %3 bytes")
                .arg(connection->label(), connection->remote())
                .arg(m_config.maxIncomingMessageBytes),
            monotonicMicros());
    }
    connection->deleteLater();
}

void FeedServer::housekeeping()
{
    const qint64 nowUs = monotonicMicros();
    const qint64 deadUs
        = qint64(m_config.heartbeatIntervalMs) * m_config.deadAfterHeartbeats * 1000;
    const qint64 helloUs = qint64(m_config.helloTimeoutMs) * 1000;

    const qint64 intervalUs = qint64(m_config.heartbeatIntervalMs) * 1000;
    const bool heartbeatDue = nowUs - m_lastHeartbeatUs >= intervalUs;
    QByteArray heartbeat[2];
    if (heartbeatDue) {
        m_lastHeartbeatUs = nowUs;
        pb::ServerMessage message;
        message.mutable_heartbeat()->set_head_sequence(m_feed->flushedSequence());
        message.mutable_heartbeat()->set_server_time_us(nowUs);
        message.mutable_heartbeat()->set_server_wall_time_ms(wallMillis());
        heartbeat[0] = Codec::encode(message, WireFormat::Binary);
        heartbeat[1] = Codec::encode(message, WireFormat::Json);
    }

    const QList<Connection *> connections = m_connections;
    for (Connection *connection : connections) {
        switch (connection->state()) {
        case Connection::State::AwaitingHello:
            if (nowUs - connection->connectedUs() > helloUs) {
                connection->fail(pb::Error::CODE_HANDSHAKE_TIMEOUT,
                    QWebSocketProtocol::CloseCodePolicyViolated,
                    QStringLiteral("no hello within %1 ms").arg(m_config.helloTimeoutMs));
            }
            break;
        case Connection::State::Live:
            if (nowUs - connection->lastInboundUs() > deadUs) {
                const QString why = QStringLiteral("silent for %1 ms: connection presumed dead")
                                        .arg((nowUs - connection->lastInboundUs()) / 1000);
                // Logged once, as the close of the session, by connectionClosed().
                if (Session *session = connection->session()) {
                    addTimeline(
                        session, TimelineEntry::Source::Engine, QStringLiteral("dead"), why);
                }
                connection->close(QWebSocketProtocol::CloseCodeGoingAway, why);
                // The peer will not answer the close handshake; do not wait for it.
                connection->socket()->abort();
            } else if (heartbeatDue) {
                connection->send(heartbeat[connection->format() == WireFormat::Json ? 1 : 0]);
                // A client owes us nothing while no delta comes its way; a WebSocket ping,
                // which every client library answers by itself, shows whether it is there.
                if (nowUs - connection->lastInboundUs() >= intervalUs)
                    connection->socket()->ping();
            }
            break;
        case Connection::State::Closing:
            break;
        }
    }

    if (nowUs - m_lastHelloPruneUs >= HelloLimiterPruneIntervalUs) {
        m_lastHelloPruneUs = nowUs;
        m_helloLimiter.prune(nowUs);
    }

    // Forget sessions that have been away longer than the retention window.
    const qint64 retentionUs = qint64(m_config.retentionMs) * 1000;
    for (auto it = m_sessions.begin(); it != m_sessions.end();) {
        const Session &s = **it;
        if (!s.connection && s.disconnectedAtUs != 0 && nowUs - s.disconnectedAtUs > retentionUs)
            it = m_sessions.erase(it);
        else
            ++it;
    }
}

void FeedServer::allowOrigins(const QStringList &origins)
{
    if (m_config.allowedOrigins.isEmpty())
        return;
    for (const QString &origin : origins) {
        if (!m_config.allowedOrigins.contains(origin))
            m_config.allowedOrigins.append(origin);
    }
}

void FeedServer::closeAll(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    qCInfo(lcNet).noquote() << "closing" << m_connections.size() << "connections with" << int(code)
                            << "-" << reason;
    const QList<Connection *> connections = m_connections;
    const quint32 windowMs = quint32(reconnectWindowMs());
    for (Connection *connection : connections) {
        if (code == QWebSocketProtocol::CloseCodeGoingAway)
            connection->fail(pb::Error::CODE_GOING_AWAY, code, reason, windowMs);
        else
            connection->close(code, reason);
    }
}

void FeedServer::abortAll()
{
    const QList<Connection *> connections = m_connections;
    for (Connection *connection : connections)
        connection->socket()->abort();
}

FeedMetrics FeedServer::takeMetrics()
{
    FeedMetrics m;
    m.timeMs = wallMillis();
    m.intervalMs = int(m.timeMs - m_intervalStartMs);
    m_intervalStartMs = m.timeMs;
    m.headSequence = m_feed->headSequence();
    m.epoch = m_feed->epoch();
    for (const auto &session : std::as_const(m_sessions)) {
        if (session->connection)
            ++m.connected;
        else
            ++m.retained;
    }
    m.reconnects = std::exchange(m_reconnects, 0);
    m.resumes = std::exchange(m_resumes, 0);
    m.snapshotFallbacks = std::exchange(m_fallbacks, 0);
    m.clientReconnectAttempts = std::exchange(m_clientReconnectAttempts, 0);
    const qint64 nowUs = monotonicMicros();
    for (const auto &session : std::as_const(m_sessions)) {
        if (isStaleNow(*session, nowUs))
            ++m.staleSessions;
    }
    m.framesOut = std::exchange(m_framesOut, 0);
    m.bytesOut = std::exchange(m_bytesOut, 0);
    m.protocolErrors = m_protocolErrors;
    m.totalConnections = m_totalConnections;
    m.overloadRefusals = m_overloadRefusals;
    m.originRefusals = m_originRefusals;
    m.addressRefusals = m_addressRefusals;
    m.refusals = m_refusals.totals();

    m.latencySamples = int(m_intervalSamples.size());
    if (!m_intervalSamples.isEmpty()) {
        m.latencyP50Us = percentileOf(m_intervalSamples, 0.50);
        m.latencyP95Us = percentileOf(m_intervalSamples, 0.95);
        m.latencyP99Us = percentileOf(m_intervalSamples, 0.99);
        m.latencyMaxUs = *std::max_element(m_intervalSamples.cbegin(), m_intervalSamples.cend());
        for (qint64 sample : std::as_const(m_intervalSamples)) {
            const auto bound = std::lower_bound(
                LatencyBucketBoundsUs.cbegin(), LatencyBucketBoundsUs.cend(), sample);
            ++m.latencyBuckets[size_t(bound - LatencyBucketBoundsUs.cbegin())];
            m.latencySumUs += sample;
        }
        m_intervalSamples.clear();
    }

    QVector<ClientLatency> clients;
    for (const auto &session : std::as_const(m_sessions)) {
        if (session->connection && !session->latency.isEmpty()) {
            clients.append(ClientLatency {session->id, session->clientName,
                session->latency.percentile(0.5), session->latency.percentile(0.99)});
        }
    }
    const int worst = qMin(WorstClientCount, int(clients.size()));
    std::partial_sort(clients.begin(), clients.begin() + worst, clients.end(),
        [](const ClientLatency &a, const ClientLatency &b) { return a.p99Us > b.p99Us; });
    clients.resize(worst);
    m.worstClients = clients;
    return m;
}

bool FeedServer::isStaleNow(const Session &session, qint64 nowUs) const
{
    // Connected, yet what we sent three heartbeats ago is still not acknowledged.
    const qint64 staleUs
        = qint64(m_config.heartbeatIntervalMs) * m_config.deadAfterHeartbeats * 1000;
    return session.connection && !session.awaitingAck.empty()
        && nowUs - session.awaitingAck.front().second > staleUs;
}

SessionSummary FeedServer::summarize(const Session &s, qint64 nowUs) const
{
    SessionSummary summary;
    summary.id = s.id;
    summary.clientName = s.clientName;
    summary.clientVersion = s.clientVersion;
    summary.user = s.user;
    summary.remoteAddress = s.remoteAddress;
    summary.connected = s.connection != nullptr;
    summary.createdMs = s.createdMs;
    summary.connectedSinceMs = s.connectedSinceMs;
    summary.reconnects = s.reconnects;
    summary.resumes = s.resumes;
    summary.snapshotFallbacks = s.snapshotFallbacks;
    summary.gaps = s.gapsReported;
    summary.lag = m_feed->flushedSequence() - qMin(s.lastAckedSequence, m_feed->flushedSequence());
    summary.latencyP50Us = s.latency.percentile(0.5);
    summary.latencyP99Us = s.latency.percentile(0.99);
    summary.framesOut = s.framesOut;
    summary.bytesOut = s.bytesOut;
    summary.staleMs = s.staleMs;
    summary.staleNow = isStaleNow(s, nowUs);
    summary.telemetryDropped = s.telemetryDropped;
    return summary;
}

QVector<SessionSummary> FeedServer::sessionSummaries() const
{
    const qint64 nowUs = monotonicMicros();
    QVector<SessionSummary> out;
    out.reserve(m_sessions.size());
    for (const auto &session : m_sessions)
        out.append(summarize(*session, nowUs));
    return out;
}

std::optional<SessionDetail> FeedServer::sessionDetail(const QString &id) const
{
    const Session *s = session(id);
    if (!s)
        return std::nullopt;
    SessionDetail detail;
    detail.summary = summarize(*s, monotonicMicros());
    detail.timeline = QVector<TimelineEntry>(s->timeline.cbegin(), s->timeline.cend());
    detail.recentLatencyUs = s->latency.samples();
    return detail;
}

bool FeedServer::disconnectSession(const QString &id, const QString &reason)
{
    auto it = m_sessions.find(id);
    if (it == m_sessions.end() || !(*it)->connection)
        return false;
    Session *s = it->get();
    addTimeline(s, TimelineEntry::Source::Engine, QStringLiteral("disconnected-by-desk"), reason);
    qCInfo(lcNet).noquote() << "session" << id << "disconnected by the desk:" << reason;
    s->connection->close(QWebSocketProtocol::CloseCodeNormal, reason);
    return true;
}

bool FeedServer::resyncSession(const QString &id)
{
    auto it = m_sessions.find(id);
    if (it == m_sessions.end() || !(*it)->connection)
        return false;
    Session *s = it->get();
    addTimeline(s, TimelineEntry::Source::Engine, QStringLiteral("resync-by-desk"),
        QStringLiteral("fresh snapshot sent"));
    qCInfo(lcNet).noquote() << "session" << id << "resynchronised by the desk";
    m_feed->flush();
    sendSnapshot(s);
    return true;
}

void FeedServer::addTimeline(Session *session, TimelineEntry::Source source, const QString &kind,
    const QString &detail, qint64 timeMs)
{
    if (timeMs == 0)
        timeMs = wallMillis();
    // After every entry of the same millisecond or earlier: what arrives together keeps the
    // order it came in.
    auto &timeline = session->timeline;
    const auto at = std::upper_bound(timeline.begin(), timeline.end(), timeMs,
        [](qint64 time, const TimelineEntry &entry) { return time < entry.timeMs; });
    timeline.insert(at, TimelineEntry {timeMs, source, kind, detail});
    while (timeline.size() > size_t(m_config.timelineCapacity))
        timeline.pop_front();
}

} // namespace OddsDesk
