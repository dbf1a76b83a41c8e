#include "server.h"

#include "clientframe.h"
#include "clock.h"
#include "networkworker.h"

#include <QDateTime>
#include <QFile>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QSet>
#include <QThread>
#include <QWebSocketCorsAuthenticator>
#include <QRandomGenerator>
#include <QWebSocket>
#include <QWebSocketServer>
#include <QtNumeric>
#include <QtEndian>

#include <algorithm>
#include <limits>

#include <cerrno>
#include <sys/socket.h>

Q_LOGGING_CATEGORY(lcNet, "oddsdesk.engine.net", QtWarningMsg)

namespace OddsDesk {
namespace {

// The interval of the housekeeping pass that sends heartbeats and closes dead connections;
// short against the heartbeat so that a dead connection is noticed close to its deadline.
constexpr int HousekeepingIntervalMs = 250;
// Sample the interval's latencies for the charts from at most this many acks; beyond it
// percentiles are stable and the memory is bounded.
constexpr int MaxIntervalSamples = 100000;
// The worst few clients shown by name on the latency chart.
constexpr int WorstClientCount = 5;
// Sequences a session may be owed acks for; older ones are dropped unmeasured.
constexpr size_t MaxAwaitingAcks = 512;
// ServerConfig says why this value; here in microseconds, as the publish clock counts.
constexpr qint64 MinAdaptedPublishUs = qint64(ServerConfig::MinAdaptedPublishIntervalMs) * 1000;
// How often the per-address hello buckets that have refilled are forgotten.
constexpr qint64 HelloLimiterPruneIntervalUs = 10 * 1000 * 1000;

// A connection being closed is aborted this long after, whether or not the peer read the
// close: a reader that stopped must not hold its queue forever.
constexpr int CloseGraceMs = 5000;
// How many connections ahead a fan-out asks for a connection's memory (its session's, half
// as far ahead).
constexpr qsizetype PrefetchAhead = 8;

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

// One whole message as a server sends it on the wire (RFC 6455, section 5.2): FIN, the
// opcode of the format, the length, no mask, the payload. Built once, a frame can be written
// to any number of sockets as it is.
QByteArray webSocketFrame(const QByteArray &payload, WireFormat format)
{
    const quint64 size = quint64(payload.size());
    QByteArray frame;
    frame.reserve(payload.size() + 10);
    frame.append(char(0x80 | (format == WireFormat::Json ? 0x1 : 0x2)));
    if (size < 126) {
        frame.append(char(size));
    } else if (size <= 0xffff) {
        frame.append(char(126));
        const quint16 length = qToBigEndian(quint16(size));
        frame.append(reinterpret_cast<const char *>(&length), 2);
    } else {
        frame.append(char(127));
        const quint64 length = qToBigEndian(size);
        frame.append(reinterpret_cast<const char *>(&length), 8);
    }
    frame.append(payload);
    return frame;
}

int formatIndex(WireFormat format)
{
    return format == WireFormat::Json ? 1 : 0;
}

// A session starting on a new connection: nothing sent on it awaits an ack, and it is not
// paced until it acknowledges something. Under the session's mutex.
void restartAcks(Session *session)
{
    session->awaitingAck.clear();
    session->oldestUnackedSentUs = 0;
    session->lastAckUs = monotonicMicros();
    session->acks = false;
}

/// Accepts on the engine thread and hands each descriptor on, before any byte is read.
class Listener : public QTcpServer
{
public:
    Listener(std::function<void(qintptr)> handOff, QObject *parent)
        : QTcpServer(parent)
        , m_handOff(std::move(handOff))
    { }

protected:
    void incomingConnection(qintptr descriptor) override { m_handOff(descriptor); }

private:
    std::function<void(qintptr)> m_handOff;
};

} // namespace

/// One flush as the network threads send it: the batch and its delta framed for the wire in
/// each format, once for every session.
struct PublishedBatch
{
    FeedBatchPtr batch;
    QByteArray wire[2]; // by formatIndex()
};

/// What a network thread knows of a connection that closed, for the engine thread.
struct FeedServer::ClosedInfo
{
    QWebSocketProtocol::CloseCode closeCode = QWebSocketProtocol::CloseCodeNormal;
    QString peerReason;
    QString ownReason;
};

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a.at(i) ^ b.at(i));
    return diff == 0;
}

/// One WebSocket connection. Lives on its network thread, which owns the socket; the engine
/// thread keeps a pointer to it until it has heard that it closed, and then deletes it, so
/// that it may always post to it. fail() and close() may be called from either thread.
class Connection : public QObject
{
public:
    enum class State { AwaitingHello, HelloSent, Live, Closing };

    Connection(FeedServer *server, NetworkWorker *worker, QWebSocket *socket, QTcpSocket *tcp,
        WireFormat format)
        : QObject(worker)
        , m_server(server)
        , m_worker(worker)
        , m_socket(socket)
        , m_tcp(tcp)
        , m_format(format)
        , m_plain(tcp && !qobject_cast<QSslSocket *>(tcp))
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
        connect(m_socket, &QWebSocket::disconnected, this, [this] {
            if (!std::exchange(m_lost, true))
                m_server->connectionLost(this);
        });
        if (m_tcp) {
            connect(m_tcp, &QTcpSocket::bytesWritten, this, [this] {
                if (!m_owed.empty())
                    m_server->sendOwed(this);
            });
        }
    }

    /// Asks for what a fan-out reads of this connection, and of its session, ahead of it.
    void prefetch() const
    {
        const char *self = reinterpret_cast<const char *>(this);
        for (size_t line = 0; line < sizeof(Connection); line += 64)
            __builtin_prefetch(self + line);
    }
    void prefetchSession() const
    {
        if (const Session *session = m_session.get()) {
            __builtin_prefetch(session);
            __builtin_prefetch(reinterpret_cast<const char *>(session) + 64);
            // Where the next sent delta is recorded.
            __builtin_prefetch(&session->awaitingAck);
            __builtin_prefetch(reinterpret_cast<const char *>(&session->awaitingAck) + 64);
        }
    }

    QWebSocket *socket() const { return m_socket; }
    NetworkWorker *worker() const { return m_worker; }
    WireFormat format() const { return m_format; }
    State state() const { return m_state; }
    void setState(State state) { m_state = state; }
    Session *session() const { return m_session.get(); }
    QString remote() const { return m_remote; }
    QString address() const { return m_address; }
    void setAddress(const QString &address) { m_address = address; }
    qint64 connectedUs() const { return m_connectedUs; }
    qint64 lastInboundUs() const { return m_lastInboundUs; }
    bool isLost() const { return m_lost; }
    QString label() const
    {
        return m_session ? m_session->id : QStringLiteral("(no session, %1)").arg(m_remote);
    }

    /// What the socket holds that the peer has not taken yet, but for what is left of the
    /// snapshot or replay the session started with: a large book on a slow link is what the
    /// session needs to begin, not a sign that it cannot keep up, so only what comes after
    /// it counts against the slow reader's bound.
    qint64 queuedBytes() const
    {
        const qint64 queued = m_tcp ? m_tcp->bytesToWrite() : m_socket->bytesToWrite();
        const qint64 taken = m_handedBytes - queued; // by the kernel, in order
        const qint64 baselineLeft = qMax<qint64>(0, m_baselineEndBytes - taken);
        return queued - qMin(queued, baselineLeft);
    }

    /// Writes one frame built by webSocketFrame(). It goes straight to the TCP socket the
    /// WebSocket runs on: the same bytes QWebSocket would write, without its copy of the
    /// payload and its separate write of the header.
    void writeWire(const QByteArray &wire)
    {
        if (m_state == State::Closing || m_lost || !m_tcp
            || m_tcp->state() != QAbstractSocket::ConnectedState)
            return;
        m_handedBytes += wire.size();
        if (m_plain && m_tcp->bytesToWrite() == 0)
            sendNow(wire);
        else
            m_tcp->write(wire);
        // Payload bytes are counted, as the figures have always been: not the frame header.
        const int length = quint8(wire.at(1)) & 0x7f;
        const quint64 payload = quint64(wire.size()) - (length < 126 ? 2 : length == 126 ? 4 : 10);
        if (m_session) {
            m_session->framesOut.fetch_add(1, std::memory_order_relaxed);
            m_session->bytesOut.fetch_add(payload, std::memory_order_relaxed);
        }
        m_worker->framesOut.fetch_add(1, std::memory_order_relaxed);
        m_worker->bytesOut.fetch_add(payload, std::memory_order_relaxed);
    }

    void send(const QByteArray &frame) { writeWire(webSocketFrame(frame, m_format)); }

    void send(const pb::ServerMessage &message) { send(Codec::encode(message, m_format)); }

    /// Attaches \a session (as the engine thread decided) and sends what it is owed first:
    /// from here on the connection is live and takes its share of every flush.
    void deliver(const std::shared_ptr<Session> &session, const QVector<QByteArray> &frames)
    {
        if (m_lost || m_state == State::Closing)
            return;
        {
            QMutexLocker lock(&session->mutex);
            if (session->connection != this)
                return; // taken over meanwhile; this connection is being closed
        }
        m_session = session;
        m_state = State::Live;
        m_owed.clear();
        m_owedBytes = 0;
        m_awaitingSnapshot = false;
        for (const QByteArray &frame : frames)
            writeWire(frame);
        m_baselineEndBytes = m_handedBytes;
    }

    // A session that reads slower than the feed: what it is owed while its queue drains.
    bool hasOwed() const { return !m_owed.empty(); }
    int owedCount() const { return int(m_owed.size()); }
    qint64 owedBytes() const { return m_owedBytes; }
    qint64 owedSinceUs() const { return m_owedSinceUs; }
    void owe(const std::shared_ptr<const PublishedBatch> &published, qint64 nowUs)
    {
        if (m_owed.empty())
            m_owedSinceUs = nowUs;
        m_owed.push_back(published);
        m_owedBytes += published->wire[formatIndex(m_format)].size();
    }
    std::vector<std::shared_ptr<const PublishedBatch>> takeOwed()
    {
        m_owedBytes = 0;
        return std::exchange(m_owed, {});
    }
    /// Set when the engine thread was asked for a snapshot: no delta until it comes.
    bool awaitingSnapshot() const { return m_awaitingSnapshot; }
    void setAwaitingSnapshot(bool awaiting) { m_awaitingSnapshot = awaiting; }

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
        if (QThread::currentThread() != thread()) {
            QMetaObject::invokeMethod(
                this, [=] { fail(refusal, code, closeCode, untrustedReason, reconnectWindowMs); });
            return;
        }
        // A reason may quote what the client sent: keep it to one printable line, so that
        // no client can write lines of its own into the operator's log.
        const QString reason = printableLine(untrustedReason);
        if (m_state == State::Closing || m_lost)
            return;
        // Going away is the server's own doing and is logged once by whoever asked for it.
        if (closeCode != QWebSocketProtocol::CloseCodeGoingAway
            && closeCode != QWebSocketProtocol::CloseCodeNormal) {
            if (isProtocolError(refusal))
                m_server->m_protocolErrors.fetch_add(1, std::memory_order_relaxed);
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
        if (QThread::currentThread() != thread()) {
            QMetaObject::invokeMethod(this, [=] { close(code, reason); });
            return;
        }
        if (m_lost)
            return;
        m_state = State::Closing;
        m_closeCode = code;
        m_closeReason = reason;
        // A close reason travels in a control frame: at most 123 bytes.
        m_socket->close(code, reason.left(120));
        QTimer::singleShot(CloseGraceMs, m_socket, [socket = m_socket] { socket->abort(); });
    }

    QString closeReason() const { return m_closeReason; }
    QWebSocketProtocol::CloseCode closeCode() const { return m_closeCode; }

    /// Writes out now what the socket holds, instead of on the next pass of the event loop.
    void flush()
    {
        if (m_tcp)
            m_tcp->flush();
    }

private:
    void touch() { m_lastInboundUs = monotonicMicros(); }

    // With nothing queued, a plain socket's frame goes to the kernel at once, in one system
    // call: the socket's own buffering would switch its write notifier on and off for every
    // frame (which costs the event loop a search through every socket it watches) and send
    // it a pass of the loop later. What the kernel does not take is queued on the socket as
    // usual and goes out in order. A socket that broke is left to its read side to report.
    void sendNow(const QByteArray &wire)
    {
        const qsizetype size = wire.size();
        const ssize_t sent = ::send(int(m_tcp->socketDescriptor()), wire.constData(), size_t(size),
            MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent == size)
            return;
        if (sent >= 0)
            m_tcp->write(wire.constData() + sent, size - sent);
        else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            m_tcp->write(wire);
    }

    void onMessage(const QByteArray &data, WireFormat received)
    {
        touch();
        if (m_state == State::Closing)
            return;
        pb::ClientMessage message;
        const ClientFrameCheck check = checkClientFrame(data, received, m_format,
            m_state == State::AwaitingHello ? ClientPhase::AwaitingHello : ClientPhase::Live,
            &message);
        if (!check.ok) {
            fail(check.refusal, check.code, check.closeCode, check.reason);
            return;
        }
        switch (message.body_case()) {
        case pb::ClientMessage::kHello:
            if (m_state != State::AwaitingHello) {
                fail(pb::Error::CODE_PROTOCOL, QWebSocketProtocol::CloseCodeProtocolError,
                    QStringLiteral("a second hello on one connection"));
                return;
            }
            // Sessions live on the engine thread: the hello is answered there.
            m_state = State::HelloSent;
            QMetaObject::invokeMethod(
                m_server, [server = m_server, connection = this, hello = message.hello()] {
                    server->handleHello(connection, hello);
                });
            return;
        case pb::ClientMessage::kAck:
        case pb::ClientMessage::kTelemetry:
            if (m_state == State::AwaitingHello) {
                fail(pb::Error::CODE_PROTOCOL, QWebSocketProtocol::CloseCodeProtocolError,
                    QStringLiteral("a message before hello"));
                return;
            }
            if (message.has_ack()) {
                if (m_state != State::Live) {
                    fail(pb::Error::CODE_PROTOCOL, QWebSocketProtocol::CloseCodeProtocolError,
                        QStringLiteral("an ack before the welcome"));
                    return;
                }
                m_server->handleAck(this, message.ack());
            } else {
                // Telemetry may follow the hello before its answer: the engine thread takes
                // both in the order they came, so the session exists when this arrives.
                // Rare and about the session's history: handled on the engine thread.
                QMetaObject::invokeMethod(m_server,
                    [server = m_server, connection = this, telemetry = message.telemetry()] {
                        server->handleTelemetry(connection, telemetry);
                    });
            }
            return;
        case pb::ClientMessage::BODY_NOT_SET:
            break;
        }
        fail(pb::Error::CODE_PROTOCOL, QWebSocketProtocol::CloseCodeProtocolError,
            QStringLiteral("a message of no type this server knows"));
    }

    FeedServer *m_server;
    NetworkWorker *m_worker;
    QWebSocket *m_socket;
    QPointer<QTcpSocket> m_tcp;
    WireFormat m_format;
    bool m_plain; // no TLS: frames may go to the descriptor directly
    State m_state = State::AwaitingHello;
    std::shared_ptr<Session> m_session;
    QString m_remote;
    qint64 m_handedBytes = 0; // every byte written to the socket or sent to the kernel
    qint64 m_baselineEndBytes = 0; // m_handedBytes when the last snapshot or replay was sent
    QString m_address; // the source address it is counted under, once admitted
    QString m_closeReason;
    QWebSocketProtocol::CloseCode m_closeCode = QWebSocketProtocol::CloseCodeNormal;
    qint64 m_connectedUs = 0;
    qint64 m_lastInboundUs = 0;
    bool m_lost = false;
    bool m_awaitingSnapshot = false;
    std::vector<std::shared_ptr<const PublishedBatch>> m_owed;
    qint64 m_owedBytes = 0;
    qint64 m_owedSinceUs = 0;
};

FeedServer::FeedServer(Feed *feed, const ServerConfig &config, QObject *parent)
    : QObject(parent)
    , m_feed(feed)
    , m_config(config)
{
    m_secure = !m_config.tlsCertificatePath.isEmpty() && !m_config.tlsKeyPath.isEmpty();
    connect(m_feed, &Feed::flushed, this, &FeedServer::onFlushed);
    connect(m_feed, &Feed::bookReset, this, &FeedServer::onBookReset);
    m_acceptTokens = m_config.maxAcceptsPerSecond;
    m_acceptRefillUs = monotonicMicros();
    m_helloLimiter
        = AddressRateLimiter(m_config.maxHellosPerSecondPerAddress, m_config.helloBurstPerAddress);
    m_flushedSequence = m_feed->flushedSequence();

    m_housekeeping.setInterval(HousekeepingIntervalMs);
    m_publishTimer.setSingleShot(true);
    m_publishTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_publishTimer, &QTimer::timeout, this, &FeedServer::publishHeld);
    connect(&m_housekeeping, &QTimer::timeout, this, &FeedServer::housekeeping);
    m_intervalStartMs = wallMillis();
}

FeedServer::~FeedServer()
{
    if (m_listener)
        m_listener->close();
    stopWorkers();
}

void FeedServer::startWorkers()
{
    const int count = m_config.networkThreads > 0 ? m_config.networkThreads
                                                  : qMax(1, QThread::idealThreadCount());
    NetworkWorker::Setup setup;
    setup.secure = m_secure;
    setup.tls = m_tls;
    setup.subprotocols
        = {QString::fromLatin1(BinarySubprotocol), QString::fromLatin1(JsonSubprotocol)};
    setup.upgradeTimeoutMs = m_config.handshakeTimeoutMs;
    setup.maxPendingUpgrades = m_config.maxPendingConnections;
    setup.sendBufferBytes = m_config.socketSendBufferBytes;
    setup.eventLoop = m_config.eventLoop;
    for (int i = 0; i < count; ++i) {
        setup.index = i;
        m_workers.push_back(std::make_unique<NetworkThread>(setup));
        NetworkWorker *worker = m_workers.back()->worker();
        // Both run on the worker's thread, where the upgrader emits them.
        connect(worker->upgrader(), &QWebSocketServer::originAuthenticationRequired, worker,
            [this](QWebSocketCorsAuthenticator *authenticator) {
                const QString origin = authenticator->origin();
                const bool allowed = m_config.allowedOrigins.isEmpty() || origin.isEmpty()
                    || m_config.allowedOrigins.contains(origin);
                if (!allowed) {
                    m_originRefusals.fetch_add(1, std::memory_order_relaxed);
                    m_refusals.record(Refusal::Origin,
                        QStringLiteral("refused a browser from origin %1")
                            .arg(printableLine(origin, 100)),
                        monotonicMicros());
                }
                authenticator->setAllowed(allowed);
            });
        connect(worker->upgrader(), &QWebSocketServer::serverError, worker,
            [this, worker](QWebSocketProtocol::CloseCode code) {
                // A browser refused for its origin was counted and logged as such, above.
                if (code == QWebSocketProtocol::CloseCodePolicyViolated)
                    return;
                m_refusals.record(Refusal::BadHandshake,
                    QStringLiteral("a WebSocket handshake failed (%1): %2")
                        .arg(int(code))
                        .arg(printableLine(worker->upgrader()->errorString())),
                    monotonicMicros());
            });
        connect(worker->upgrader(), &QWebSocketServer::newConnection, worker,
            [this, worker] { onNewConnection(worker); });
        worker->housekeeping.setInterval(HousekeepingIntervalMs);
        connect(&worker->housekeeping, &QTimer::timeout, worker,
            [this, worker] { housekeepConnections(worker); });
        worker->post([worker] {
            worker->lastHeartbeatUs = monotonicMicros();
            worker->housekeeping.start();
        });
    }
}

void FeedServer::stopWorkers()
{
    // Connections are deleted with their thread's objects: they must not report back.
    for (const auto &thread : m_workers) {
        NetworkWorker *worker = thread->worker();
        QMetaObject::invokeMethod(
            worker,
            [worker] {
                worker->housekeeping.stop();
                for (Connection *c : std::as_const(worker->connections))
                    c->socket()->disconnect(c);
            },
            Qt::BlockingQueuedConnection);
    }
    m_workers.clear();
    m_connections.clear();
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
    m_tls = tls;
    return true;
}

bool FeedServer::listen()
{
    if (m_secure && !loadTls())
        return false;
    auto *listener = new Listener([this](qintptr descriptor) { handOff(descriptor); }, this);
    listener->setListenBacklogSize(m_config.maxPendingConnections);
    if (!listener->listen(m_config.bindAddress, m_config.port)) {
        m_errorString = QStringLiteral("cannot listen on %1:%2: %3")
                            .arg(m_config.bindAddress.toString())
                            .arg(m_config.port)
                            .arg(listener->errorString());
        delete listener;
        return false;
    }
    m_listener = listener;
    connect(m_listener, &QTcpServer::acceptError, this,
        [](QAbstractSocket::SocketError e) { qCWarning(lcNet) << "accept failed:" << e; });
    startWorkers();
    m_housekeeping.start();
    Q_EMIT listening(url());
    return true;
}

QUrl FeedServer::url() const
{
    QUrl url;
    url.setScheme(m_secure ? QStringLiteral("wss") : QStringLiteral("ws"));
    if (m_listener) {
        url.setHost(m_listener->serverAddress().toString());
        url.setPort(m_listener->serverPort());
    }
    return url;
}

quint16 FeedServer::port() const
{
    return m_listener ? m_listener->serverPort() : 0;
}

const Session *FeedServer::session(const QString &id) const
{
    const auto it = m_sessions.constFind(id);
    return it == m_sessions.cend() ? nullptr : it->get();
}

int FeedServer::networkThreadOf(const QString &sessionId) const
{
    const Session *s = session(sessionId);
    return s && s->connection ? s->connection->worker()->index() : -1;
}

int FeedServer::reconnectWindowMs() const
{
    return qBound(m_config.minReconnectWindowMs,
        int(m_sessions.size()) * m_config.reconnectWindowPerSessionMs,
        m_config.maxReconnectWindowMs);
}

void FeedServer::handOff(qintptr descriptor)
{
    // Round robin: connections come and go alike on every thread.
    NetworkWorker *worker = m_workers[m_nextWorker++ % m_workers.size()]->worker();
    worker->post([worker, descriptor] { worker->adopt(descriptor); });
}

void FeedServer::onNewConnection(NetworkWorker *worker)
{
    while (QWebSocket *socket = worker->upgrader()->nextPendingConnection()) {
        QMutexLocker admission(&m_admissionMutex);
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
        QTcpSocket *tcp = worker->takeTcpSocket(socket);
        auto *connection = new Connection(this, worker, socket, tcp, format);
        worker->connections.append(connection);
        m_totalConnections.fetch_add(1, std::memory_order_relaxed);
        QMetaObject::invokeMethod(this, [this, connection] { connectionOpened(connection); });
        if (!tcp) {
            // Cannot happen while the upgrader keeps the socket it was given.
            admission.unlock();
            qCWarning(lcNet).noquote()
                << "no socket under the connection from" << connection->remote() << "; dropping it";
            socket->abort();
            continue;
        }
        if (m_acceptTokens < 1.0) {
            // Over the accept rate: say when to come back instead of leaving the client
            // hanging in a queue. The hint is spread so the retries do not come together.
            m_overloadRefusals.fetch_add(1, std::memory_order_relaxed);
            admission.unlock();
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
        connection->setAddress(address);
        if (m_config.maxConnectionsPerAddress > 0 && held > m_config.maxConnectionsPerAddress) {
            // Logged sparingly, so that an attack does not write the operator's log for the
            // attacker.
            const quint64 refused = m_addressRefusals.fetch_add(1) + 1;
            admission.unlock();
            m_refusals.record(Refusal::AddressLimit,
                QStringLiteral("refusing connections from %1 over %2 held; %3 refused so far")
                    .arg(address)
                    .arg(m_config.maxConnectionsPerAddress)
                    .arg(refused),
                nowUs);
            pb::ServerMessage message;
            message.mutable_error()->set_code(pb::Error::CODE_POLICY);
            message.mutable_error()->set_message("too many connections from this address");
            connection->send(message);
            connection->close(QWebSocketProtocol::CloseCodePolicyViolated,
                QStringLiteral("too many connections from this address"));
            continue;
        }
        admission.unlock();
        qCDebug(lcNet).noquote() << "connection from" << connection->remote()
                                 << (format == WireFormat::Json ? "json" : "binary");
    }
}

void FeedServer::connectionOpened(Connection *connection)
{
    m_connections.insert(connection, nullptr);
}

void FeedServer::handleHello(Connection *connection, const pb::Hello &hello)
{
    // First, before a snapshot is built: one address saying hello faster than its share is
    // told when to come back.
    int retryAfterMs = 0;
    if (!m_helloLimiter.take(connection->address(), monotonicMicros(), &retryAfterMs)) {
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

    if (session->connection && session->connection->connectedUs() > connection->connectedUs()) {
        // A hello that a bad network held back on a connection the client had already given
        // up, arriving after the client's newer connection resumed: the newer one keeps the
        // session. Taking it over would close the client's live connection with "taken over",
        // after which it would rightly never come back.
        qCInfo(lcNet).noquote() << "session" << id << "is held by a newer connection than"
                                << connection->remote() << "; refusing its late hello";
        connection->fail(pb::Error::CODE_SESSION_TAKEN_OVER, QWebSocketProtocol::CloseCodeNormal,
            QStringLiteral("a newer connection holds this session"));
        return;
    }
    ++session->reconnects;
    if (session->connection) {
        // The old connection still looks open (half-open TCP): this one takes over.
        Connection *old = session->connection;
        if (m_connections.contains(old))
            m_connections[old] = nullptr;
        {
            QMutexLocker lock(&session->mutex);
            session->connection = nullptr;
        }
        addTimeline(session, TimelineEntry::Source::Engine, QStringLiteral("taken-over"),
            QStringLiteral("previous connection %1 replaced").arg(old->remote()));
        qCInfo(lcNet).noquote() << "session" << id << "taken over from" << old->remote() << "by"
                                << connection->remote();
        old->fail(pb::Error::CODE_SESSION_TAKEN_OVER, QWebSocketProtocol::CloseCodeNormal,
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
    {
        QMutexLocker lock(&session->mutex);
        session->lastSentSequence = resume.last_sequence();
        session->lastAckedSequence = resume.last_sequence();
        restartAcks(session);
    }
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
    const WireFormat format = connection->format();
    QVector<QByteArray> frames {webSocketFrame(Codec::encode(message, format), format)};
    for (const FeedBatchPtr &batch : *missed)
        replayBatch(session, *batch, &frames);
    deliver(session, frames);
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
    // The connection is its network thread's: it answers there.
    QMetaObject::invokeMethod(connection, [connection, retryMs] {
        pb::ServerMessage message;
        message.mutable_error()->set_code(pb::Error::CODE_OVERLOADED);
        message.mutable_error()->set_message("too many hellos from this address; retry later");
        message.mutable_error()->set_retry_after_ms(retryMs);
        connection->send(message);
        connection->close(QWebSocketProtocol::CloseCode(1013),
            QStringLiteral("too many hellos from this address; retry later"));
    });
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
    {
        QMutexLocker lock(&session->mutex);
        session->connection = connection;
    }
    m_connections[connection] = session;
    session->disconnectedAtUs = 0;
    session->connectedSinceMs = wallMillis();
    session->remoteAddress = connection->remote();
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
    const WireFormat format = connection->format();
    QVector<QByteArray> frames {webSocketFrame(Codec::encode(message, format), format)};
    frames += snapshotWire(snapshot, format);
    {
        QMutexLocker lock(&session->mutex);
        session->lastSentSequence = snapshot->sequence;
        session->lastAckedSequence = 0;
        restartAcks(session);
    }
    deliver(session, frames);
}

const QVector<QByteArray> &FeedServer::snapshotWire(
    const SnapshotFramesPtr &snapshot, WireFormat format)
{
    // A reconnect storm is a snapshot storm: the frames are built once per sequence, and
    // every session's socket shares them.
    if (m_framedSnapshot != snapshot) {
        m_framedSnapshot = snapshot;
        for (WireFormat f : {WireFormat::Binary, WireFormat::Json}) {
            QVector<QByteArray> &wire = m_snapshotWire[formatIndex(f)];
            wire.clear();
            for (const QByteArray &frame : snapshot->frames(f))
                wire.append(webSocketFrame(frame, f));
        }
    }
    return m_snapshotWire[formatIndex(format)];
}

void FeedServer::replayBatch(Session *session, const FeedBatch &batch, QVector<QByteArray> *frames)
{
    const WireFormat format = session->connection->format();
    QMutexLocker lock(&session->mutex);
    if (batch.toSequence <= session->lastSentSequence)
        return; // already has it: never a duplicate
    if (batch.fromSequence != session->lastSentSequence + 1) {
        // Cannot happen: the journal's batches are consecutive.
        qCWarning(lcNet).noquote() << "session" << session->id << "replay would skip from"
                                   << session->lastSentSequence << "to" << batch.fromSequence;
        return;
    }
    frames->append(webSocketFrame(batch.frame(format), format));
    recordSent(session, batch.toSequence, batch.oldestCommitUs, monotonicMicros());
}

void FeedServer::recordSent(Session *session, quint64 sequence, qint64 commitUs, qint64 nowUs)
{
    session->lastSentSequence = sequence;
    session->awaitingAck.push_back({sequence, commitUs, nowUs});
    if (session->awaitingAck.size() > MaxAwaitingAcks)
        session->awaitingAck.pop_front();
    session->oldestUnackedSentUs = session->awaitingAck.front().sentUs;
}

bool FeedServer::isPaced(const Session &session, qint64 nowUs) const
{
    // Read on every flush for every session: its own fields only, not its deque's.
    return m_config.ackPaceMs > 0 && session.acks && session.oldestUnackedSentUs > 0
        && nowUs - session.oldestUnackedSentUs > qint64(m_config.ackPaceMs) * 1000;
}

void FeedServer::deliver(Session *session, const QVector<QByteArray> &frames)
{
    Connection *connection = session->connection;
    QMetaObject::invokeMethod(connection, [connection, shared = sharedSession(session), frames] {
        connection->deliver(shared, frames);
    });
}

std::shared_ptr<Session> FeedServer::sharedSession(const Session *session) const
{
    return m_sessions.value(session->id);
}

void FeedServer::snapshotRequested(Connection *connection)
{
    if (Session *session = m_connections.value(connection))
        sendSnapshot(session);
}

void FeedServer::sendBatch(
    Connection *connection, const std::shared_ptr<const PublishedBatch> &published, qint64 fanOutUs)
{
    if (connection->state() != Connection::State::Live || connection->awaitingSnapshot())
        return;
    if (connection->hasOwed()) {
        // Held back already, and nothing this flush does can change why: what comes joins
        // what it is owed, which goes out when the socket drains, an ack comes or the
        // longest hold is over (sendOwed). The session is not touched: at 10,000 sessions
        // most are held back on most flushes, and reading each one's state on every flush
        // was a fifth of the network threads' time.
        connection->owe(published, 0);
        if (!closeIfTooSlow(connection, connection->queuedBytes())
            && fanOutUs - connection->owedSinceUs() >= qint64(m_config.ackPaceMaxHoldMs) * 1000)
            sendOwed(connection); // a reader that stopped acking gets it on this clock
        return;
    }
    Session *session = connection->session();
    const FeedBatch &batch = *published->batch;
    QMutexLocker lock(&session->mutex);
    if (session->connection != connection)
        return; // taken over by a newer connection, which is closing this one
    if (batch.toSequence <= session->lastSentSequence)
        return; // already has it: never a duplicate
    const qint64 queued = connection->queuedBytes();
    const qint64 nowUs = monotonicMicros();
    // A merged flush that begins before what the session has (its snapshot or replay came
    // in between) goes the same way: what it holds after that, in a delta of its own.
    if (queued > m_config.conflateAboveQueuedBytes || isPaced(*session, nowUs)
        || batch.fromSequence <= session->lastSentSequence) {
        // Behind: it gets what it is owed in one frame once its queue drains and its acks
        // catch up.
        connection->owe(published, nowUs);
        lock.unlock();
        if (!closeIfTooSlow(connection, queued))
            sendOwed(connection);
        return;
    }
    if (batch.fromSequence != session->lastSentSequence + 1) {
        // Cannot happen while the feed and the server agree; refuse to send a gap.
        qCWarning(lcNet).noquote()
            << "session" << session->id << "would skip from" << session->lastSentSequence << "to"
            << batch.fromSequence << "; sending a snapshot";
        connection->setAwaitingSnapshot(true);
        QMetaObject::invokeMethod(this, [this, connection] { snapshotRequested(connection); });
        return;
    }
    connection->writeWire(published->wire[formatIndex(connection->format())]);
    recordSent(session, batch.toSequence, batch.oldestCommitUs, nowUs);
}

bool FeedServer::closeIfTooSlow(Connection *connection, qint64 queued)
{
    // Only a reader whose socket is itself backed up is too slow: one held back by its acks
    // alone reads what it gets, and what it is owed goes out conflated.
    if (queued <= m_config.conflateAboveQueuedBytes
        || queued + connection->owedBytes() <= m_config.maxQueuedBytes)
        return false;
    // Told the engine thread first: the close below also reports to it, and the session
    // must have this entry by the time it hears of the close.
    QMetaObject::invokeMethod(
        this, [this, id = connection->session()->id, bytes = m_config.maxQueuedBytes] {
            if (const auto s = m_sessions.value(id)) {
                addTimeline(s.get(), TimelineEntry::Source::Engine, QStringLiteral("too-slow"),
                    QStringLiteral("queue over %1 bytes").arg(bytes));
            }
        });
    connection->fail(pb::Error::CODE_TOO_SLOW, QWebSocketProtocol::CloseCodePolicyViolated,
        QStringLiteral("too slow: more than %1 bytes queued; resume to catch up")
            .arg(m_config.maxQueuedBytes));
    return true;
}

void FeedServer::sendOwed(Connection *connection, Release release)
{
    if (connection->state() != Connection::State::Live || connection->awaitingSnapshot())
        return;
    // Let the queue drain well below the mark first, so that it does not flap around it.
    if (connection->queuedBytes() > m_config.conflateAboveQueuedBytes / 2)
        return;
    Session *session = connection->session();
    QMutexLocker lock(&session->mutex);
    if (session->connection != connection)
        return;
    const qint64 nowUs = monotonicMicros();
    if (release == Release::IfCaughtUp && isPaced(*session, nowUs)) {
        // A client that acknowledges, however late, is sent the next delta when it does:
        // one that is behind then sets its own pace, a delta for each ack, each holding all
        // it is owed (an ack releases it however far behind the client still is). Waiting
        // for an ack of everything older than the pace held a loaded client's deltas for
        // 640 ms and more. Only one that has stopped acking altogether is sent what it is
        // owed on a clock.
        const qint64 silentUs
            = qint64(m_config.heartbeatIntervalMs) * m_config.deadAfterHeartbeats * 1000;
        if (nowUs - session->lastAckUs < silentUs
            || nowUs - connection->owedSinceUs() < qint64(m_config.ackPaceMaxHoldMs) * 1000)
            return;
    }
    std::vector<std::shared_ptr<const PublishedBatch>> owed = connection->takeOwed();
    const quint64 sent = session->lastSentSequence;
    owed.erase(std::remove_if(owed.begin(), owed.end(),
                   [sent](const auto &p) { return p->batch->toSequence <= sent; }),
        owed.end());
    if (owed.empty())
        return;
    const FeedBatch &first = *owed.front()->batch;
    const FeedBatch &last = *owed.back()->batch;
    if (first.fromSequence > sent + 1) {
        qCWarning(lcNet).noquote() << "session" << session->id << "would skip from" << sent << "to"
                                   << first.fromSequence << "; sending a snapshot";
        connection->setAwaitingSnapshot(true);
        QMetaObject::invokeMethod(this, [this, connection] { snapshotRequested(connection); });
        return;
    }
    const WireFormat format = connection->format();
    if (owed.size() == 1 && first.fromSequence == sent + 1) {
        connection->writeWire(owed.front()->wire[formatIndex(format)]);
        recordSent(session, last.toSequence, first.oldestCommitUs, nowUs);
        return;
    }
    // One delta for everything owed after what the session has (a merged flush may begin
    // before that, if its snapshot or replay came in between): the latest value of each
    // selection wins. Sessions held back together share it.
    NetworkWorker::ConflatedFrame key {
        sent + 1, last.toSequence, first.oldestCommitUs, formatIndex(format), 0, {}};
    const NetworkWorker::ConflatedFrame *frame = connection->worker()->findConflated(key);
    if (!frame) {
        BookChanges changes;
        for (const auto &published : owed) {
            for (const BookChange &change : published->batch->changes) {
                if (change.sequence > sent)
                    changes.append(change);
            }
        }
        key.oldestCommitUs = first.oldestCommitUs;
        if (first.fromSequence <= sent && !changes.isEmpty()) {
            key.oldestCommitUs = std::numeric_limits<qint64>::max();
            for (const BookChange &change : std::as_const(changes))
                key.oldestCommitUs = qMin(key.oldestCommitUs, change.commitTimeUs);
        }
        key.wire = webSocketFrame(encodeDelta(key.fromSequence, key.toSequence, key.oldestCommitUs,
                                      conflate(changes), format),
            format);
        frame = &connection->worker()->keepConflated(std::move(key));
    }
    connection->writeWire(frame->wire);
    recordSent(session, last.toSequence, frame->oldestCommitUs, nowUs);
}

void FeedServer::onFlushed(const FeedBatchPtr &batch)
{
    m_flushedSequence = batch->toSequence;
    // Natural batching: while the network threads are still sending the last flush, the
    // next ones wait and then go out as one delta, encoded once for everyone. When the
    // machine cannot keep up with a frame per flush for every session, frames come as
    // often as it can send them, each holding more, instead of queueing without end.
    if (m_config.mergeFlushesWhileSending
        && (m_fanOutsRunning > 0 || !m_heldBatches.empty()
            || monotonicMicros() - m_lastPublishUs < m_publishIntervalUs)) {
        m_heldBatches.push_back(batch);
        if (m_fanOutsRunning == 0)
            schedulePublish();
        return;
    }
    publish(batch);
}

void FeedServer::publishHeld()
{
    if (m_heldBatches.empty() || m_fanOutsRunning > 0)
        return;
    if (monotonicMicros() - m_lastPublishUs < m_publishIntervalUs) {
        schedulePublish();
        return;
    }
    const std::vector<FeedBatchPtr> held = std::exchange(m_heldBatches, {});
    // Prices conflate, but a market's statuses are each told: a market suspended and then
    // closed while the threads were busy goes out as two deltas, not as closed alone. A
    // run of held flushes ends before one that changes the status of a market whose status
    // the run already changed.
    std::vector<FeedBatchPtr> run;
    QSet<quint32> statusChanged;
    auto publishRun = [this, &run, &statusChanged] {
        if (run.size() == 1)
            publish(run.front());
        else if (!run.empty())
            publish(mergeBatches(run));
        run.clear();
        statusChanged.clear();
    };
    for (const FeedBatchPtr &batch : held) {
        const bool again = std::any_of(
            batch->changes.cbegin(), batch->changes.cend(), [&statusChanged](const auto &c) {
                return c.kind == BookChange::Kind::Status && statusChanged.contains(c.marketId);
            });
        if (again)
            publishRun();
        for (const BookChange &change : batch->changes) {
            if (change.kind == BookChange::Kind::Status)
                statusChanged.insert(change.marketId);
        }
        run.push_back(batch);
    }
    publishRun();
}

void FeedServer::schedulePublish()
{
    const qint64 waitUs = m_lastPublishUs + m_publishIntervalUs - monotonicMicros();
    if (!m_publishTimer.isActive())
        m_publishTimer.start(int(qBound<qint64>(0, (waitUs + 999) / 1000, qint64(1000))));
}

FeedBatchPtr FeedServer::mergeBatches(const std::vector<FeedBatchPtr> &batches)
{
    auto merged = std::make_shared<FeedBatch>();
    merged->fromSequence = batches.front()->fromSequence;
    merged->toSequence = batches.back()->toSequence;
    merged->oldestCommitUs = batches.front()->oldestCommitUs;
    merged->flushedUs = batches.back()->flushedUs;
    BookChanges changes;
    for (const FeedBatchPtr &batch : batches)
        changes += batch->changes;
    merged->changes = conflate(changes);
    merged->binary = encodeDelta(merged->fromSequence, merged->toSequence, merged->oldestCommitUs,
        merged->changes, WireFormat::Binary);
    merged->json = encodeDelta(merged->fromSequence, merged->toSequence, merged->oldestCommitUs,
        merged->changes, WireFormat::Json);
    return merged;
}

void FeedServer::publish(const FeedBatchPtr &batch)
{
    auto published = std::make_shared<PublishedBatch>();
    published->batch = batch;
    for (WireFormat format : {WireFormat::Binary, WireFormat::Json})
        published->wire[formatIndex(format)] = webSocketFrame(batch->frame(format), format);
    // Once per network thread, never once per session.
    // Counted down here on the engine thread, as each thread's word comes back: a flush
    // that comes before the last word waits, so none overtakes another.
    m_fanOutsRunning += int(m_workers.size());
    m_lastPublishUs = monotonicMicros();
    for (const auto &thread : m_workers) {
        NetworkWorker *worker = thread->worker();
        worker->post([this, worker, published] {
            const int sessions = int(worker->connections.size());
            const int behind = fanOut(worker, published);
            QMetaObject::invokeMethod(this, [this, behind, sessions] {
                m_behindInRound += behind;
                m_sessionsInRound += sessions;
                if (--m_fanOutsRunning > 0)
                    return;
                adaptPublishInterval(
                    std::exchange(m_behindInRound, 0), std::exchange(m_sessionsInRound, 0));
                publishHeld();
            });
        });
    }
}

int FeedServer::fanOut(
    NetworkWorker *worker, const std::shared_ptr<const PublishedBatch> &published)
{
    // A copy: a send that fails closes a connection, which leaves the list. (Connections are
    // deleted later, from the event loop.)
    const QList<Connection *> connections = worker->connections;
    const qint64 fanOutUs = monotonicMicros();
    int behind = 0;
    // Thousands of connections and sessions, none of them in the cache: each one's memory is
    // asked for a few sessions ahead, the connection first and its session once the
    // connection is there, so that the misses overlap instead of coming one after another.
    const qsizetype count = connections.size();
    for (qsizetype i = 0; i < count; ++i) {
        if (i + PrefetchAhead < count)
            connections.at(i + PrefetchAhead)->prefetch();
        if (i + PrefetchAhead / 2 < count)
            connections.at(i + PrefetchAhead / 2)->prefetchSession();
        Connection *connection = connections.at(i);
        sendBatch(connection, published, fanOutUs);
        if (connection->hasOwed())
            ++behind;
    }
    return behind;
}

void FeedServer::adaptPublishInterval(int behind, int sessions)
{
    // Sessions held back are taken for clients that cannot keep up with a frame per flush.
    // When more than a quarter are, the cause is common to them (their machines, or the path
    // they share), and holding each back on its own leaves every client a queue of what went
    // out before: publish less often, for everyone alike, one shared frame holding more
    // changes, one decode instead of many. When hardly any are, come back down. A minority
    // held back by their own networks (a weak signal) leaves it where it is. Small steps
    // both ways: doubling and shrinking by a quarter swung the interval between 16 and
    // 150 ms (tenth and ninetieth percentiles) at 5,000 sessions where these keep it between
    // 25 and 88 ms.
    if (m_config.maxPublishIntervalMs <= 0)
        return;
    const qint64 before = m_publishIntervalUs;
    if (sessions > 0 && behind * 4 > sessions)
        m_publishIntervalUs = qBound<qint64>(MinAdaptedPublishUs, m_publishIntervalUs * 5 / 4,
            qMax(MinAdaptedPublishUs, qint64(m_config.maxPublishIntervalMs) * 1000));
    else if (behind * 20 <= sessions)
        m_publishIntervalUs
            = m_publishIntervalUs * 7 / 8 < MinAdaptedPublishUs ? 0 : m_publishIntervalUs * 7 / 8;
    if (m_publishIntervalUs != before)
        qCDebug(lcNet) << "publish interval" << m_publishIntervalUs / 1000 << "ms:" << behind
                       << "of" << sessions << "sessions held back";
}

void FeedServer::onBookReset()
{
    m_flushedSequence = m_feed->flushedSequence();
    m_heldBatches.clear(); // of the old book: everyone starts again from a snapshot
    // A new book is a new epoch: every live session starts again from a snapshot.
    for (auto it = m_connections.cbegin(); it != m_connections.cend(); ++it) {
        if (Session *session = it.value()) {
            addTimeline(session, TimelineEntry::Source::Engine, QStringLiteral("snapshot-fallback"),
                QStringLiteral("book replaced"));
            sendSnapshot(session);
        }
    }
}

void FeedServer::handleAck(Connection *connection, const pb::Ack &ack)
{
    Session *session = connection->session();
    QMutexLocker lock(&session->mutex);
    if (session->connection != connection)
        return; // taken over: what this connection acknowledges no longer counts
    if (ack.sequence() > session->lastSentSequence) {
        const quint64 sent = session->lastSentSequence;
        lock.unlock();
        connection->fail(pb::Error::CODE_POLICY, QWebSocketProtocol::CloseCodePolicyViolated,
            QStringLiteral("ack of sequence %1 beyond the %2 sent").arg(ack.sequence()).arg(sent));
        return;
    }
    session->lastAckedSequence = qMax(session->lastAckedSequence, ack.sequence());

    const qint64 arrivalUs = monotonicMicros();
    session->lastAckUs = arrivalUs;
    session->acks = true;
    auto &awaiting = session->awaitingAck;
    while (!awaiting.empty() && awaiting.front().sequence < ack.sequence())
        awaiting.pop_front();
    qint64 latency = -1; // none: the ack is of no delta awaiting it
    if (!awaiting.empty() && awaiting.front().sequence == ack.sequence()) {
        latency
            = session->clock.addSample(awaiting.front().commitUs, ack.receive_time_us(), arrivalUs);
        session->latency.add(latency);
        awaiting.pop_front();
    }
    session->oldestUnackedSentUs = awaiting.empty() ? 0 : awaiting.front().sentUs;
    lock.unlock();
    if (latency >= 0) {
        connection->worker()->addLatencySample(
            latency, MaxIntervalSamples / int(qMax<size_t>(1, m_workers.size())));
    }
    // A paced session waited for this ack.
    if (connection->hasOwed())
        sendOwed(connection, Release::Acknowledged);
}

void FeedServer::handleTelemetry(Connection *connection, const pb::Telemetry &telemetry)
{
    Session *session = m_connections.value(connection);
    if (!session)
        return; // closed or taken over since it was sent
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
        // A stale report's reason restates its length ("no message for 7258 ms").
        const QString reason = event.kind() == pb::TelemetryEvent::KIND_STALE
            ? QString()
            : QString::fromStdString(event.reason()).left(200);
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
    const qint64 silenceUs
        = event.kind() == pb::TelemetryEvent::KIND_STALE ? qint64(event.delay_ms()) * 1000 : 0;
    // No measure of its clock yet: only the arrival can be trusted, less the silence it
    // reports, which ended as the report left.
    if (!session.clock.hasEstimate())
        return qBound(session.createdMs, nowMs - silenceUs / 1000, nowMs);
    // Its times are the client's to choose: arithmetic on them must not overflow.
    qint64 happenedUs = 0;
    qint64 ageUs = 0;
    if (qSubOverflow(qint64(event.time_us()), session.clock.offset(), &happenedUs)
        || qSubOverflow(happenedUs, silenceUs, &happenedUs)
        || qSubOverflow(monotonicMicros(), happenedUs, &ageUs))
        return nowMs;
    // The client's word, within what can be true: not after it arrived, not before the
    // session existed.
    return qBound(session.createdMs, nowMs - qBound<qint64>(0, ageUs / 1000, nowMs), nowMs);
}

void FeedServer::connectionLost(Connection *connection)
{
    NetworkWorker *worker = connection->worker();
    worker->connections.removeOne(connection);
    connection->setState(Connection::State::Closing);
    ClosedInfo info;
    QWebSocket *socket = connection->socket();
    // Without a close frame (the app killed, the network gone) QWebSocket still reports its
    // default 1000; the socket's error tells the two apart. Browsers call such a close 1006.
    const bool closeFrame = !socket->closeReason().isEmpty()
        || socket->error() == QAbstractSocket::UnknownSocketError;
    info.closeCode
        = closeFrame ? socket->closeCode() : QWebSocketProtocol::CloseCodeAbnormalDisconnection;
    info.peerReason = socket->closeReason();
    info.ownReason = connection->closeReason();
    QMetaObject::invokeMethod(
        this, [this, connection, info] { connectionClosed(connection, info); });
}

void FeedServer::connectionClosed(Connection *connection, const ClosedInfo &info)
{
    Session *session = m_connections.take(connection);
    const QString address = connection->address();
    if (!address.isEmpty()) {
        QMutexLocker admission(&m_admissionMutex);
        auto held = m_connectionsPerAddress.find(address);
        if (held != m_connectionsPerAddress.end() && --*held <= 0)
            m_connectionsPerAddress.erase(held);
    }
    if (session) {
        if (session->connection == connection) {
            {
                QMutexLocker lock(&session->mutex);
                session->connection = nullptr;
            }
            session->disconnectedAtUs = monotonicMicros();
            const QString why = info.ownReason.isEmpty()
                ? QStringLiteral("peer closed with %1 %2")
                      .arg(closeCodeText(info.closeCode), info.peerReason)
                : info.ownReason;
            addTimeline(session, TimelineEntry::Source::Engine, QStringLiteral("closed"), why);
            qCInfo(lcNet).noquote() << "session" << session->id << "from" << connection->remote()
                                    << "disconnected:" << oneLine(why);
        }
    }
    // The WebSocket layer refuses an oversized message or frame by itself; count it once.
    if (info.closeCode == QWebSocketProtocol::CloseCodeTooMuchData && info.ownReason.isEmpty()) {
        ++m_protocolErrors;
        m_refusals.record(Refusal::TooBig,
            QStringLiteral("closed %1 from %2 with 1009: a message or frame over %3 bytes")
                .arg(session ? session->id : QStringLiteral("a connection"), connection->remote())
                .arg(m_config.maxIncomingMessageBytes),
            monotonicMicros());
    }
    // Nothing is posted to it from here on: it may go.
    connection->deleteLater();
}

void FeedServer::housekeeping()
{
    const qint64 nowUs = monotonicMicros();
    m_flushedSequence = m_feed->flushedSequence();

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

void FeedServer::housekeepConnections(NetworkWorker *worker)
{
    const qint64 nowUs = monotonicMicros();
    const qint64 deadUs
        = qint64(m_config.heartbeatIntervalMs) * m_config.deadAfterHeartbeats * 1000;
    const qint64 helloUs = qint64(m_config.helloTimeoutMs) * 1000;

    const qint64 intervalUs = qint64(m_config.heartbeatIntervalMs) * 1000;
    const bool heartbeatDue = nowUs - worker->lastHeartbeatUs >= intervalUs;
    QByteArray heartbeat[2];
    if (heartbeatDue) {
        worker->lastHeartbeatUs = nowUs;
        pb::ServerMessage message;
        message.mutable_heartbeat()->set_head_sequence(m_flushedSequence.load());
        message.mutable_heartbeat()->set_server_time_us(nowUs);
        message.mutable_heartbeat()->set_server_wall_time_ms(wallMillis());
        for (WireFormat format : {WireFormat::Binary, WireFormat::Json})
            heartbeat[formatIndex(format)] = webSocketFrame(Codec::encode(message, format), format);
    }

    const QList<Connection *> connections = worker->connections;
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
                qCInfo(lcNet).noquote() << "session" << connection->label() << why;
                QMetaObject::invokeMethod(this, [this, connection, why] {
                    if (Session *session = m_connections.value(connection)) {
                        addTimeline(
                            session, TimelineEntry::Source::Engine, QStringLiteral("dead"), why);
                    }
                });
                connection->close(QWebSocketProtocol::CloseCodeGoingAway, why);
                // The peer will not answer the close handshake; do not wait for it.
                connection->socket()->abort();
            } else if (heartbeatDue) {
                connection->writeWire(heartbeat[formatIndex(connection->format())]);
                // A client owes us nothing while no delta comes its way; a WebSocket ping,
                // which every client library answers by itself, shows whether it is there.
                if (nowUs - connection->lastInboundUs() >= intervalUs)
                    connection->socket()->ping();
            }
            if (connection->state() == Connection::State::Live) {
                // The queue support staff see: written here alone, four times a second,
                // rather than by every flush, send and ack that changes it.
                Session *session = connection->session();
                session->queuedBytes.store(connection->queuedBytes(), std::memory_order_relaxed);
                session->owedDeltas.store(connection->owedCount(), std::memory_order_relaxed);
                // A paced session that has waited its longest for an ack gets what it is
                // owed.
                if (connection->hasOwed())
                    sendOwed(connection);
            }
            break;
        case Connection::State::HelloSent:
        case Connection::State::Closing:
            break;
        }
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
    const quint32 windowMs = quint32(reconnectWindowMs());
    // Each network thread closes its own and writes the close frames out before this returns.
    for (const auto &thread : m_workers) {
        NetworkWorker *worker = thread->worker();
        QMetaObject::invokeMethod(
            worker,
            [this, worker, code, reason, windowMs] {
                closeOwnConnections(worker, code, reason, windowMs);
            },
            Qt::BlockingQueuedConnection);
    }
}

void FeedServer::closeOwnConnections(NetworkWorker *worker, QWebSocketProtocol::CloseCode code,
    const QString &reason, quint32 reconnectWindowMs)
{
    const QList<Connection *> connections = worker->connections;
    for (Connection *connection : connections) {
        if (code == QWebSocketProtocol::CloseCodeGoingAway)
            connection->fail(pb::Error::CODE_GOING_AWAY, code, reason, reconnectWindowMs);
        else
            connection->close(code, reason);
    }
}

void FeedServer::abortAll()
{
    for (const auto &thread : m_workers) {
        NetworkWorker *worker = thread->worker();
        worker->post([worker] {
            const QList<Connection *> connections = worker->connections;
            for (Connection *connection : connections)
                connection->socket()->abort();
        });
    }
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
    QVector<qint64> samples;
    for (const auto &thread : m_workers) {
        NetworkWorker *worker = thread->worker();
        m.framesOut += worker->framesOut.exchange(0);
        m.bytesOut += worker->bytesOut.exchange(0);
        samples += worker->takeLatencySamples();
    }
    m.protocolErrors = m_protocolErrors;
    m.totalConnections = m_totalConnections;
    m.overloadRefusals = m_overloadRefusals;
    m.originRefusals = m_originRefusals;
    m.addressRefusals = m_addressRefusals;
    m.refusals = m_refusals.totals();

    m.latencySamples = int(samples.size());
    if (!samples.isEmpty()) {
        m.latencyP50Us = percentileOf(samples, 0.50);
        m.latencyP95Us = percentileOf(samples, 0.95);
        m.latencyP99Us = percentileOf(samples, 0.99);
        m.latencyMaxUs = *std::max_element(samples.cbegin(), samples.cend());
        for (qint64 sample : std::as_const(samples)) {
            const auto bound = std::lower_bound(
                LatencyBucketBoundsUs.cbegin(), LatencyBucketBoundsUs.cend(), sample);
            ++m.latencyBuckets[size_t(bound - LatencyBucketBoundsUs.cbegin())];
            m.latencySumUs += sample;
        }
    }

    // The worst few by p99. A session whose largest sample is below the fifth-worst p99 so
    // far cannot be among them: its window need not be sorted.
    QVector<ClientLatency> clients;
    qint64 fifthWorstP99 = -1;
    for (const auto &session : std::as_const(m_sessions)) {
        if (!session->connection)
            continue;
        QMutexLocker lock(&session->mutex);
        if (session->latency.isEmpty() || session->latency.max() <= fifthWorstP99)
            continue;
        clients.append(ClientLatency {session->id, session->clientName,
            session->latency.percentile(0.5), session->latency.percentile(0.99)});
        if (clients.size() >= WorstClientCount * 4) {
            std::partial_sort(clients.begin(), clients.begin() + WorstClientCount, clients.end(),
                [](const ClientLatency &a, const ClientLatency &b) { return a.p99Us > b.p99Us; });
            clients.resize(WorstClientCount);
            fifthWorstP99 = clients.last().p99Us;
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
    if (!session.connection)
        return false;
    QMutexLocker lock(&session.mutex);
    return !session.awaitingAck.empty() && nowUs - session.awaitingAck.front().commitUs > staleUs;
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
    {
        QMutexLocker lock(&s.mutex);
        summary.lag
            = m_feed->flushedSequence() - qMin(s.lastAckedSequence, m_feed->flushedSequence());
        summary.latencyP50Us = s.latency.percentile(0.5);
        summary.latencyP99Us = s.latency.percentile(0.99);
    }
    if (summary.connected) {
        summary.queuedBytes = s.queuedBytes.load(std::memory_order_relaxed);
        summary.owedDeltas = s.owedDeltas.load(std::memory_order_relaxed);
    }
    summary.framesOut = s.framesOut.load(std::memory_order_relaxed);
    summary.bytesOut = s.bytesOut.load(std::memory_order_relaxed);
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
    QMutexLocker lock(&s->mutex);
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
