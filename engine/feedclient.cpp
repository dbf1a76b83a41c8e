#include "feedclient.h"

#include "clock.h"

#include <QSslConfiguration>
#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

#include <google/protobuf/arena.h>

#include <algorithm>
#include <memory>
#include <optional>

Q_LOGGING_CATEGORY(lcClient, "oddsdesk.client", QtWarningMsg)

namespace OddsDesk {
namespace {

// How often the client checks for silence; a quarter of a second makes "stale" appear
// within 250 ms of its deadline.
constexpr int LivenessCheckMs = 250;
// Heartbeats in the client's clock-offset window: about a minute at the default interval.
constexpr size_t OffsetWindow = 32;
// A jump of the offset by more than this is a step of our clock, not network delay.
constexpr qint64 ClockStepUs = 1000 * 1000;
// A latency this far above what the window implies cannot be trusted (a clock step, or a
// frame that sat in a buffer while the client was suspended): it is dropped, not drawn.
constexpr qint64 UntrustedLatencyUs = 10 * 1000 * 1000;
// The first block of a thread's message arena: a delta of a few hundred changes fits in it,
// a snapshot's part takes more blocks, given back at the next message.
constexpr size_t MessageArenaBlockBytes = 256 * 1024;

/// Where a thread parses its messages: a protobuf arena whose first block is kept from
/// message to message. A message reused without one still allocates and frees every change
/// of every delta, since a oneof (the message's body, a change's price) deletes what it held
/// on Clear(): that was a fifth of a fleet thread's time. From the arena, parsing allocates
/// by moving a pointer, and the next message takes the memory back at once.
class MessageArena
{
public:
    MessageArena()
        : m_block(new char[MessageArenaBlockBytes])
        , m_arena(options(m_block.get()))
    { }

    /// An empty message; the one handed out before is gone.
    pb::ServerMessage *freshMessage()
    {
        m_arena.Reset();
        return google::protobuf::Arena::CreateMessage<pb::ServerMessage>(&m_arena);
    }

private:
    static google::protobuf::ArenaOptions options(char *block)
    {
        google::protobuf::ArenaOptions options;
        options.initial_block = block;
        options.initial_block_size = MessageArenaBlockBytes;
        return options;
    }

    std::unique_ptr<char[]> m_block; // outlives the arena that uses it
    google::protobuf::Arena m_arena;
};

/// A value kept per thread and reused from call to call by the outermost call on the
/// thread; a call nested in it (from a slot that runs an event loop) gets one of its own,
/// so that it cannot take back what the outer call is still reading. Per thread, not per
/// client: a thread holds thousands of clients.
template <typename T> class ThreadScratch
{
public:
    ThreadScratch()
        : m_nested(inUse())
    {
        if (m_nested)
            m_own.emplace();
        inUse() = true;
    }
    ~ThreadScratch()
    {
        if (!m_nested)
            inUse() = false;
    }
    ThreadScratch(const ThreadScratch &) = delete;
    ThreadScratch &operator=(const ThreadScratch &) = delete;

    T &value() { return m_nested ? *m_own : shared(); }

private:
    static T &shared()
    {
        thread_local T value;
        return value;
    }
    static bool &inUse()
    {
        thread_local bool used = false;
        return used;
    }

    const bool m_nested;
    std::optional<T> m_own;
};

} // namespace

FeedClient::FeedClient(const FeedClientConfig &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_random(QRandomGenerator::securelySeeded())
{
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &FeedClient::connectNow);
    m_livenessTimer.setInterval(LivenessCheckMs);
    connect(&m_livenessTimer, &QTimer::timeout, this, &FeedClient::checkLiveness);
    m_telemetryTimer.setInterval(m_config.telemetryIntervalMs);
    connect(&m_telemetryTimer, &QTimer::timeout, this, &FeedClient::flushTelemetry);
}

FeedClient::~FeedClient()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

qint64 FeedClient::now() const
{
    return monotonicMicros() + m_clockSkewUs;
}

void FeedClient::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void FeedClient::start()
{
    m_stopping = false;
    m_refusal.clear();
    m_livenessTimer.start();
    if (m_config.sendTelemetry)
        m_telemetryTimer.start();
    connectNow();
}

void FeedClient::stop()
{
    m_stopping = true;
    m_reconnectTimer.stop();
    m_livenessTimer.stop();
    m_telemetryTimer.stop();
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("client stopped"));
    else if (m_socket && m_socket->state() != QAbstractSocket::UnconnectedState)
        // No close frame before the upgrade is answered: the connection is cut, and said so.
        dropConnection(QStringLiteral("client stopped before the feed answered"));
    setState(State::Closed);
}

void FeedClient::dropConnection(const QString &reason)
{
    if (!m_socket)
        return;
    m_lastCloseReason = reason;
    m_dropped = true;
    m_socket->abort();
}

void FeedClient::connectNow()
{
    if (m_stopping)
        return;
    m_dropped = false;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
    }
    m_socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    connect(m_socket, &QWebSocket::connected, this, &FeedClient::onConnected);
    connect(m_socket, &QWebSocket::disconnected, this, &FeedClient::onDisconnected);
    connect(m_socket, &QWebSocket::binaryMessageReceived, this, &FeedClient::onBinary);
    connect(m_socket, &QWebSocket::textMessageReceived, this, &FeedClient::onText);
    if (!m_config.sourceAddress.isNull())
        bindBeforeConnecting(m_socket);

    QWebSocketHandshakeOptions options;
    options.setSubprotocols({QString::fromLatin1(
        m_config.format == WireFormat::Json ? JsonSubprotocol : BinarySubprotocol)});
    if (m_stats.connects > 0 || m_attempt > 0)
        ++m_stats.reconnects;
    setState(State::Connecting);
    m_attemptStartedUs = now();
    if (!m_config.trustedCertificates.isEmpty()) {
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        QList<QSslCertificate> authorities = tls.caCertificates();
        authorities.append(m_config.trustedCertificates);
        tls.setCaCertificates(authorities);
        m_socket->setSslConfiguration(tls);
    }
    m_socket->open(QNetworkRequest(m_config.url), options);
}

void FeedClient::bindBeforeConnecting(QWebSocket *socket)
{
    // QWebSocket offers no way to choose the address it connects from. It makes its TCP
    // socket, says it is connecting, and only then connects that socket; a TCP socket bound
    // by then connects from the bound address (QAbstractSocket::bind(), then connectToHost()).
    // onConnected() checks that it did.
    connect(socket, &QWebSocket::stateChanged, this,
        [this, socket](QAbstractSocket::SocketState state) {
            if (state != QAbstractSocket::ConnectingState)
                return;
            auto *tcp = socket->findChild<QTcpSocket *>(QString(), Qt::FindDirectChildrenOnly);
            if (tcp && tcp->state() == QAbstractSocket::UnconnectedState)
                tcp->bind(m_config.sourceAddress);
        });
}

void FeedClient::onConnected()
{
    if (!m_config.sourceAddress.isNull() && m_socket->localAddress() != m_config.sourceAddress) {
        // Another address than the one asked for: a fleet spread over addresses would not be.
        m_refusal
            = QStringLiteral("connected from %1, not from %2 as asked; is %2 an address "
                             "of this machine?")
                  .arg(m_socket->localAddress().toString(), m_config.sourceAddress.toString());
        qCWarning(lcClient).noquote() << m_refusal;
        m_socket->abort();
        return;
    }
    ++m_stats.connects;
    m_connectedAtUs = m_lastMessageUs = now();
    m_ackPending = false;
    setState(State::Handshaking);

    pb::ClientMessage message;
    pb::Hello *hello = message.mutable_hello();
    hello->set_protocol_version(ProtocolVersion);
    hello->set_client_name(m_config.clientName.toStdString());
    hello->set_client_version(m_config.clientVersion.toStdString());
    if (!m_config.authToken.isEmpty())
        hello->set_auth_token(m_config.authToken.toStdString());
    m_askedResume = !m_sessionId.isEmpty() && m_hasBook;
    if (m_askedResume) {
        pb::ResumeRequest *resume = hello->mutable_resume();
        resume->set_session_id(m_sessionId.toStdString());
        resume->set_resume_token(m_resumeToken.toStdString());
        resume->set_epoch(m_epoch.toStdString());
        resume->set_last_sequence(m_lastSequence);
    }
    // Told before the hello leaves: the hello is written at once, and a connection that
    // fails on that write is closed (and reported) from within send().
    report(pb::TelemetryEvent::KIND_CONNECTED);
    // A new local address means the device moved to another network (Wi-Fi to mobile).
    const QString local = m_socket->localAddress().toString();
    if (!m_localAddress.isEmpty() && local != m_localAddress) {
        report(pb::TelemetryEvent::KIND_NETWORK_CHANGE,
            QStringLiteral("local address %1 -> %2").arg(m_localAddress, local));
    }
    m_localAddress = local;
    send(message);
}

void FeedClient::onDisconnected()
{
    QWebSocket *socket = m_socket;
    // Without a close frame from the server (refused, reset, cut, or given up by us) the
    // close was abnormal, whatever default code the socket reports: 1006, as browsers say.
    const bool abnormal = std::exchange(m_dropped, false)
        || (socket->closeReason().isEmpty()
            && socket->error() != QAbstractSocket::UnknownSocketError);
    m_lastCloseCode = abnormal ? 1006 : int(socket->closeCode());
    if (!socket->closeReason().isEmpty())
        m_lastCloseReason = socket->closeReason();
    else if (m_lastCloseReason.isEmpty())
        m_lastCloseReason = socket->errorString();
    qCInfo(lcClient).noquote() << "disconnected:" << m_lastCloseCode << m_lastCloseReason;
    report(pb::TelemetryEvent::KIND_DISCONNECTED,
        QStringLiteral("%1 %2").arg(m_lastCloseCode).arg(m_lastCloseReason));
    Q_EMIT disconnected(m_lastCloseCode, m_lastCloseReason);
    m_lastCloseReason.clear();

    // A connection that stayed up long enough was a success: start the backoff afresh.
    if (m_connectedAtUs != 0 && now() - m_connectedAtUs > qint64(m_config.stableAfterMs) * 1000)
        m_attempt = 0;
    m_connectedAtUs = 0;

    if (m_stopping || !m_config.autoReconnect || !m_refusal.isEmpty()) {
        if (!m_refusal.isEmpty())
            qCWarning(lcClient).noquote() << "not reconnecting:" << m_refusal;
        setState(State::Closed);
        return;
    }
    scheduleReconnect(std::exchange(m_retryAfterMs, 0));
}

void FeedClient::scheduleReconnect(int minimumDelayMs)
{
    ++m_attempt;
    const qint64 ceiling = qMin<qint64>(
        m_config.backoffCapMs, qint64(m_config.backoffBaseMs) << qMin(m_attempt - 1, 20));
    // A server that went away asked for a wider window than the first backoff step: a
    // restart then brings its clients back spread out, not in one stampede.
    const qint64 window = qMax<qint64>(ceiling, std::exchange(m_reconnectWindowMs, 0));
    int delay = int(m_random.bounded(quint32(window) + 1));
    delay = qMax(delay, minimumDelayMs);
    setState(State::Backoff);
    report(pb::TelemetryEvent::KIND_RECONNECT_ATTEMPT, {}, quint32(m_attempt), quint32(delay));
    Q_EMIT reconnectScheduled(m_attempt, delay);
    m_reconnectTimer.start(delay);
}

void FeedClient::checkLiveness()
{
    if (m_state == State::Connecting) {
        const qint64 waitedUs = now() - m_attemptStartedUs;
        if (waitedUs > qint64(m_config.connectTimeoutMs) * 1000)
            dropConnection(QStringLiteral("no connection within %1 ms").arg(waitedUs / 1000));
        return;
    }
    if (m_state != State::Live && m_state != State::Handshaking)
        return;
    if (m_ackPending && now() - m_lastAckSentUs >= qint64(m_config.ackIntervalMs) * 1000)
        sendPendingAck();
    const qint64 limitUs = qint64(m_heartbeatIntervalMs) * m_config.staleAfterHeartbeats * 1000;
    const qint64 silentUs = now() - m_lastMessageUs;
    if (silentUs <= limitUs)
        return;
    if (!m_stale) {
        m_stale = true;
        m_staleSinceUs = m_lastMessageUs;
        ++m_stats.staleEvents;
        qCInfo(lcClient) << "stale: no message for" << silentUs / 1000 << "ms";
        Q_EMIT staleChanged(true);
    }
    // The connection is presumably dead (a blackhole does not close): drop it and resume.
    dropConnection(QStringLiteral("stale: no message for %1 ms").arg(silentUs / 1000));
}

void FeedClient::onBinary(const QByteArray &data)
{
    if (m_config.format != WireFormat::Binary) {
        ++m_stats.decodeErrors;
        return;
    }
    handle(data);
}

void FeedClient::onText(const QString &text)
{
    if (m_config.format != WireFormat::Json) {
        ++m_stats.decodeErrors;
        return;
    }
    handle(text.toUtf8());
}

void FeedClient::handle(const QByteArray &data)
{
    const qint64 receivedUs = now();
    m_lastMessageUs = receivedUs;
    ++m_stats.framesReceived;
    m_stats.bytesReceived += quint64(data.size());

    // One arena per thread: one per client would keep a snapshot's worth of memory each.
    ThreadScratch<MessageArena> arena;
    pb::ServerMessage &message = *arena.value().freshMessage();
    QString error;
    if (!Codec::decode(data, m_config.format, &message, &error)) {
        ++m_stats.decodeErrors;
        report(pb::TelemetryEvent::KIND_DECODE_ERROR, error);
        qCWarning(lcClient).noquote() << "undecodable message:" << error;
        // A lost part of a snapshot leaves no book to apply deltas to: start again.
        if (!m_hasBook || !m_pendingSnapshot.events.isEmpty()
            || !m_pendingSnapshot.markets.isEmpty())
            dropConnection(QStringLiteral("an undecodable message during the snapshot"));
        return;
    }
    Q_EMIT messageReceived(message);

    if (m_stale) {
        m_stale = false;
        const qint64 staleMs = (receivedUs - m_staleSinceUs) / 1000;
        report(pb::TelemetryEvent::KIND_STALE, QStringLiteral("no message for %1 ms").arg(staleMs),
            0, quint32(qBound<qint64>(0, staleMs, 0xffffffff)));
        Q_EMIT staleChanged(false);
    }

    switch (message.body_case()) {
    case pb::ServerMessage::kWelcome:
        handleWelcome(message.welcome());
        break;
    case pb::ServerMessage::kSnapshot:
        handleSnapshot(message.snapshot(), receivedUs);
        break;
    case pb::ServerMessage::kDelta:
        handleDelta(message.delta(), receivedUs);
        break;
    case pb::ServerMessage::kHeartbeat:
        m_serverHead = qMax(m_serverHead, message.heartbeat().head_sequence());
        sampleClock(message.heartbeat().server_time_us(), receivedUs);
        sendPendingAck();
        break;
    case pb::ServerMessage::kError:
        handleError(message.error());
        break;
    case pb::ServerMessage::BODY_NOT_SET:
        break; // a message type from a newer server: ignored
    }
}

void FeedClient::handleWelcome(const pb::Welcome &welcome)
{
    const bool resumed = welcome.resumed();
    m_sessionId = QString::fromStdString(welcome.session_id());
    m_resumeToken = QString::fromStdString(welcome.resume_token());
    m_epoch = QString::fromStdString(welcome.epoch());
    m_heartbeatIntervalMs = qMax(100, int(welcome.heartbeat_interval_ms()));
    m_serverHead = welcome.head_sequence();
    if (welcome.server_time_us() != 0)
        sampleClock(welcome.server_time_us(), m_lastMessageUs);
    if (resumed) {
        ++m_stats.resumes;
        report(pb::TelemetryEvent::KIND_RESUMED, {}, 0, 0, m_lastSequence);
    } else if (m_askedResume) {
        ++m_stats.snapshotFallbacks;
        report(pb::TelemetryEvent::KIND_SNAPSHOT_FALLBACK, {}, 0, 0, m_lastSequence);
    }
    m_pendingSnapshot = BookData();
    m_pendingEvents.clear();
    m_pendingMarkets.clear();
    setState(State::Live);
    Q_EMIT welcomed(resumed);
    flushTelemetry();
}

void FeedClient::handleSnapshot(const pb::Snapshot &snapshot, qint64 receivedUs)
{
    // Parts are merged by id: an event whose markets span two parts comes in both.
    for (const pb::Event &event : snapshot.events()) {
        const auto found = m_pendingEvents.constFind(event.id());
        if (found != m_pendingEvents.cend()) {
            m_pendingSnapshot.events[*found] = Codec::fromProto(event);
        } else {
            m_pendingEvents.insert(event.id(), int(m_pendingSnapshot.events.size()));
            m_pendingSnapshot.events.append(Codec::fromProto(event));
        }
    }
    for (const pb::Market &market : snapshot.markets()) {
        const auto found = m_pendingMarkets.constFind(market.id());
        if (found != m_pendingMarkets.cend()) {
            m_pendingSnapshot.markets[*found] = Codec::fromProto(market);
        } else {
            m_pendingMarkets.insert(market.id(), int(m_pendingSnapshot.markets.size()));
            m_pendingSnapshot.markets.append(Codec::fromProto(market));
        }
    }
    if (!snapshot.last())
        return;

    m_book.reset(m_pendingSnapshot);
    m_pendingSnapshot = BookData();
    m_pendingEvents.clear();
    m_pendingMarkets.clear();
    m_hasBook = true;
    m_lastSequence = snapshot.sequence();
    ++m_stats.snapshots;
    acknowledge(receivedUs, true);
    Q_EMIT snapshotApplied(m_lastSequence);
}

void FeedClient::handleDelta(const pb::Delta &delta, qint64 receivedUs)
{
    if (!m_hasBook)
        return; // a delta before any snapshot cannot be applied; the server never sends one
    if (delta.to_sequence() <= m_lastSequence) {
        ++m_stats.duplicates;
        return;
    }
    if (delta.from_sequence() != m_lastSequence + 1) {
        ++m_stats.gaps;
        qCWarning(lcClient) << "gap: expected" << m_lastSequence + 1 << "received"
                            << delta.from_sequence();
        report(pb::TelemetryEvent::KIND_GAP_DETECTED, {}, 0, 0, m_lastSequence);
        Q_EMIT gapDetected(m_lastSequence + 1, delta.from_sequence());
        // Resuming from what we have yields exactly what is missing.
        dropConnection(QStringLiteral("sequence gap"));
        return;
    }

    // Kept from delta to delta on this thread, like the message above.
    ThreadScratch<BookChanges> scratch;
    BookChanges &changes = scratch.value();
    changes.clear();
    changes.reserve(delta.changes_size());
    for (const pb::Change &c : delta.changes()) {
        // Converted in place: a change is a large value (it can carry a whole market).
        if (!Codec::fromProto(c, &changes.emplaceBack()))
            changes.removeLast(); // a change kind from a newer server
    }
    // Those the book has nothing to apply to are left out.
    m_book.applyAll(&changes);
    m_lastSequence = delta.to_sequence();
    m_serverHead = qMax(m_serverHead, m_lastSequence);
    ++m_stats.deltasApplied;
    m_stats.changesApplied += quint64(changes.size());

    const qint64 latency = measureLatency(delta.commit_time_us(), receivedUs);
    if (latency >= 0)
        m_latency.add(latency);
    acknowledge(receivedUs, false);
    Q_EMIT deltaApplied(changes, m_lastSequence);
}

void FeedClient::sampleClock(qint64 serverTimeUs, qint64 receivedUs)
{
    // A heartbeat leaves the server the moment it is stamped, so receive - server time is
    // the clock offset plus a network delay that is never negative. The smallest recent
    // value estimates the offset; on one machine it is close to zero.
    const qint64 sample = receivedUs - serverTimeUs;
    if (!m_offsetWindow.empty()) {
        const qint64 minimum = *std::min_element(m_offsetWindow.cbegin(), m_offsetWindow.cend());
        // Below the minimum by more than any delay explains: our clock stepped back.
        if (sample < minimum - ClockStepUs)
            m_offsetWindow.clear();
        // Well above it three times running: our clock stepped forward.
        m_aboveMinimum = sample > minimum + ClockStepUs ? m_aboveMinimum + 1 : 0;
        if (m_aboveMinimum >= 3) {
            m_offsetWindow.clear();
            m_aboveMinimum = 0;
        }
    }
    m_offsetWindow.push_back(sample);
    if (m_offsetWindow.size() > OffsetWindow)
        m_offsetWindow.pop_front();
}

qint64 FeedClient::measureLatency(qint64 commitUs, qint64 receivedUs)
{
    qint64 offset = 0;
    if (!m_offsetWindow.empty()) {
        const qint64 minimum = *std::min_element(m_offsetWindow.cbegin(), m_offsetWindow.cend());
        // Clocks within a millisecond of each other are the same clock: no correction.
        offset = (minimum > -1000 && minimum < 1000) ? 0 : minimum;
    }
    const qint64 latency = receivedUs - commitUs - offset;
    // A sample that cannot be true (before the commit, or absurdly late) is dropped, never
    // drawn: the estimate is stale and the next heartbeat mends it.
    if (latency < 0 || latency > UntrustedLatencyUs)
        return -1;
    return latency;
}

void FeedClient::handleError(const pb::Error &error)
{
    const QString text = QString::fromStdString(error.message());
    // Logged at info: serverError() below hands it to whoever shows it (the command-line
    // client prints it), and a fleet of thousands must not write one line each.
    qCInfo(lcClient).noquote() << "server error" << int(error.code()) << text;
    // Hints from the server, bounded so that a broken server cannot park us for long.
    if (error.code() == pb::Error::CODE_OVERLOADED)
        m_retryAfterMs = int(qMin<quint32>(error.retry_after_ms(), 300000));
    if (error.code() == pb::Error::CODE_GOING_AWAY)
        m_reconnectWindowMs = int(qMin<quint32>(error.reconnect_window_ms(), 300000));
    // Coming back with the same token or the same version would be refused the same way.
    // A session another connection took is that connection's now: coming back would take
    // it back, and the two would take turns for ever.
    if (error.code() == pb::Error::CODE_UNAUTHORIZED
        || error.code() == pb::Error::CODE_UNSUPPORTED_VERSION
        || error.code() == pb::Error::CODE_SESSION_TAKEN_OVER)
        m_refusal = text;
    Q_EMIT serverError(int(error.code()), text);
}

void FeedClient::acknowledge(qint64 receivedUs, bool immediately)
{
    if (!m_config.sendAcks)
        return;
    m_ackPending = true;
    m_ackReceivedUs = receivedUs;
    if (immediately || receivedUs - m_lastAckSentUs >= qint64(m_config.ackIntervalMs) * 1000)
        sendPendingAck();
}

void FeedClient::sendPendingAck()
{
    if (!m_ackPending)
        return;
    m_ackPending = false;
    m_lastAckSentUs = now();
    // Acks are cumulative: the last sequence applied, received when it was.
    pb::ClientMessage message;
    message.mutable_ack()->set_sequence(m_lastSequence);
    message.mutable_ack()->set_receive_time_us(m_ackReceivedUs);
    send(message);
}

void FeedClient::send(const pb::ClientMessage &message)
{
    if (!m_socket || m_socket->state() != QAbstractSocket::ConnectedState)
        return;
    const QByteArray data = Codec::encode(message, m_config.format);
    if (m_config.format == WireFormat::Json)
        m_socket->sendTextMessage(QString::fromUtf8(data));
    else
        m_socket->sendBinaryMessage(data);
    // Written now rather than at the socket's next write notification: an ack leaves at
    // once, and costs one system call instead of four (watch, wait, write, unwatch).
    m_socket->flush();
}

void FeedClient::report(pb::TelemetryEvent::Kind kind, const QString &reason, quint32 attempt,
    quint32 delayMs, quint64 sequence)
{
    if (!m_config.sendTelemetry)
        return;
    pb::TelemetryEvent event;
    event.set_kind(kind);
    event.set_time_us(now());
    event.set_attempt(attempt);
    event.set_delay_ms(delayMs);
    event.set_reason(reason.left(200).toStdString());
    event.set_sequence(sequence);
    m_telemetry.push_back(std::move(event));
    while (m_telemetry.size() > size_t(m_config.telemetryQueueMax)) {
        m_telemetry.pop_front();
        ++m_stats.telemetryDropped;
    }
}

void FeedClient::flushTelemetry()
{
    if (m_state != State::Live || m_telemetry.empty())
        return;
    pb::ClientMessage message;
    pb::Telemetry *telemetry = message.mutable_telemetry();
    while (!m_telemetry.empty() && telemetry->events_size() < m_config.telemetryBatchMax) {
        *telemetry->add_events() = std::move(m_telemetry.front());
        m_telemetry.pop_front();
    }
    send(message);
}

} // namespace OddsDesk
