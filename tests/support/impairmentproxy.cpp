#include "impairmentproxy.h"

#include <QTcpServer>
#include <QTcpSocket>

#include <algorithm>
#include <cmath>
#include <deque>

Q_LOGGING_CATEGORY(lcImpairment, "oddsdesk.testing.impairment", QtWarningMsg)

namespace OddsDesk::Testing {
namespace {

// Random faults are drawn ten times a second: fine enough that a rate of a few per second
// still behaves like a Poisson process, coarse enough to cost nothing with many connections.
constexpr int FaultTickMs = 100;
// A tick that comes late (a busy machine) counts for at most this long, so a stalled event
// loop does not turn into a burst of faults when it wakes.
constexpr double MaxFaultTickSeconds = 1.0;
// Qt buffers at most this much unread input per socket; past it the kernel's buffers fill and
// the sender's TCP window closes, which is how back-pressure reaches the peer.
constexpr qint64 SocketReadBufferBytes = 64 * 1024;
// One direction holds at most this much in its delay queue before the proxy stops reading:
// well above what a loopback test sends within one latency period, and a hard memory bound.
constexpr qint64 MaxQueuedBytes = 1024 * 1024;
// Delivery pauses while a socket has this much unwritten, so a slow reader pushes back on the
// other peer instead of growing the proxy's memory.
constexpr qint64 MaxSinkBacklogBytes = 64 * 1024;
// Under a bandwidth limit bytes leave in slices of this many milliseconds' worth, so the rate
// holds over short windows too and not only on average.
constexpr int BandwidthSliceMs = 10;
// The smallest slice, so a very low limit still moves whole bytes at a sane timer rate.
constexpr qint64 MinBandwidthSliceBytes = 64;
// Without setSeed() every run draws the same jitter and faults, so a failure can be repeated.
constexpr quint32 DefaultSeed = 1;

int ceilMs(qint64 us)
{
    return us <= 0 ? 0 : int((us + 999) / 1000);
}

// Without this, Nagle's algorithm meets the peer's delayed acknowledgement on every frame
// written in two parts (header, then payload) and adds tens of milliseconds no profile asked for.
void setLowDelay(QTcpSocket *socket)
{
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
}

} // namespace

// One proxied connection: the socket the client connected to, the socket to the upstream, and
// a delay queue for each direction.
class ImpairmentProxy::Link : public QObject
{
public:
    Link(ImpairmentProxy *proxy, QTcpSocket *client);

    /// Opens the upstream connection; the proxy calls it once the link is in its list.
    void start();
    /// Aborts both sides and tells the proxy to forget this link.
    void reset();
    void setBlackholed(bool on);
    void startBlackhole(int ms);
    void stall(int ms);
    void networkSwitch();
    /// Aborts both sides without telling the proxy (it is being destroyed).
    void abortSockets();

    bool isSwitched() const { return m_switched; }
    bool isBlackholed() const { return m_blackholed || m_proxy->nowUs() < m_blackholeUntilUs; }

private:
    struct Chunk
    {
        QByteArray bytes;
        qsizetype offset = 0;
        qint64 dueUs = 0;
    };

    // One direction of the connection.
    struct Pipe
    {
        QTcpSocket *source = nullptr;
        QTcpSocket *sink = nullptr;
        quint64 *forwarded = nullptr;
        std::deque<Chunk> queue;
        qint64 queuedBytes = 0;
        // Due time of the last chunk queued: the next one is never due before it.
        qint64 lastDueUs = 0;
        // Under a bandwidth limit, when the next slice may leave.
        qint64 nextSendUs = 0;
        // The source closed; its close is passed on once the queue has drained.
        bool sourceClosed = false;
        qint64 closeDueUs = 0;
        bool closeSent = false;
        QTimer timer;
    };

    void watch(Pipe &pipe);
    void process(Pipe &pipe);
    bool pump(Pipe &pipe);
    void enqueue(Pipe &pipe, const QByteArray &bytes);
    bool deliver(Pipe &pipe);
    void deliverClose(Pipe &pipe);
    void scheduleWake(Pipe &pipe);
    void onReadFinished(Pipe &from);
    void onSourceClosed(Pipe &from, Pipe &to);
    void drop(Pipe &pipe);
    void kick();
    void armHoldTimer();
    bool isHeld(qint64 now) const;
    qint64 drawDelayUs() const;
    void unwatch(QTcpSocket *socket);
    void finish();

    ImpairmentProxy *m_proxy;
    QTcpSocket *m_client;
    QTcpSocket *m_upstream;
    Pipe m_up; // client to upstream
    Pipe m_down; // upstream to client
    QTimer m_holdTimer;
    qint64 m_stallUntilUs = 0;
    qint64 m_blackholeUntilUs = 0;
    bool m_blackholed = false;
    bool m_switched = false;
    bool m_upstreamConnected = false;
    bool m_finished = false;
};

ImpairmentProxy::Link::Link(ImpairmentProxy *proxy, QTcpSocket *client)
    : QObject(proxy)
    , m_proxy(proxy)
    , m_client(client)
    , m_upstream(new QTcpSocket(this))
{
    m_client->setParent(this);
    m_client->setReadBufferSize(SocketReadBufferBytes);
    m_upstream->setReadBufferSize(SocketReadBufferBytes);
    setLowDelay(m_client);

    m_up.source = m_client;
    m_up.sink = m_upstream;
    m_up.forwarded = &m_proxy->m_counters.bytesClientToUpstream;
    m_down.source = m_upstream;
    m_down.sink = m_client;
    m_down.forwarded = &m_proxy->m_counters.bytesUpstreamToClient;
    watch(m_up);
    watch(m_down);

    m_holdTimer.setSingleShot(true);
    m_holdTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_holdTimer, &QTimer::timeout, this, &Link::kick);

    connect(m_client, &QTcpSocket::readChannelFinished, this, [this] { onReadFinished(m_up); });
    connect(m_upstream, &QTcpSocket::readChannelFinished, this, [this] { onReadFinished(m_down); });
    connect(m_client, &QTcpSocket::disconnected, this, [this] { onSourceClosed(m_up, m_down); });
    connect(m_upstream, &QTcpSocket::disconnected, this, [this] { onSourceClosed(m_down, m_up); });
    connect(m_upstream, &QTcpSocket::connected, this, [this] {
        m_upstreamConnected = true;
        setLowDelay(m_upstream); // a socket takes options only once it is open
        process(m_up);
    });
    connect(m_upstream, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError) {
        if (m_upstreamConnected)
            return; // a drop after connecting arrives as disconnected()
        qCWarning(lcImpairment) << "upstream connection failed:" << m_upstream->errorString();
        finish();
    });
}

void ImpairmentProxy::Link::start()
{
    m_upstream->connectToHost(m_proxy->m_upstreamHost, m_proxy->m_upstreamPort);
}

void ImpairmentProxy::Link::watch(Pipe &pipe)
{
    pipe.timer.setSingleShot(true);
    pipe.timer.setTimerType(Qt::PreciseTimer);
    connect(&pipe.timer, &QTimer::timeout, this, [this, &pipe] { process(pipe); });
    connect(pipe.source, &QTcpSocket::readyRead, this, [this, &pipe] { process(pipe); });
    // Room in the sink's write buffer lets a held-back chunk go.
    connect(pipe.sink, &QTcpSocket::bytesWritten, this, [this, &pipe] { process(pipe); });
}

bool ImpairmentProxy::Link::isHeld(qint64 now) const
{
    return m_switched || m_blackholed || now < m_blackholeUntilUs || now < m_stallUntilUs;
}

qint64 ImpairmentProxy::Link::drawDelayUs() const
{
    const ImpairmentProfile &profile = m_proxy->m_profile;
    qint64 delayUs = qint64(profile.latencyMs) * 1000;
    if (profile.jitterMs > 0) {
        const int jitterUs = profile.jitterMs * 1000;
        delayUs += m_proxy->m_random.bounded(2 * jitterUs + 1) - jitterUs;
    }
    return std::max<qint64>(0, delayUs);
}

void ImpairmentProxy::Link::process(Pipe &pipe)
{
    if (m_finished)
        return;

    // Reading makes room for delivery and delivery makes room for reading; both stop on
    // their own (no data, a full queue, nothing due yet, a full sink), so this ends.
    for (;;) {
        const bool readSome = pump(pipe);
        const bool wroteSome = deliver(pipe);
        if (m_finished)
            return;
        if (!readSome && !wroteSome)
            break;
    }

    deliverClose(pipe);
    if (!m_finished)
        scheduleWake(pipe);
}

bool ImpairmentProxy::Link::pump(Pipe &pipe)
{
    // A blackhole reads nothing, so the sender's buffers fill as they would with no path.
    if (m_switched || pipe.sourceClosed || isBlackholed())
        return false;
    const qint64 room = MaxQueuedBytes - pipe.queuedBytes;
    if (room <= 0 || pipe.source->bytesAvailable() <= 0)
        return false;
    const QByteArray bytes = pipe.source->read(room);
    if (bytes.isEmpty())
        return false;
    enqueue(pipe, bytes);
    return true;
}

void ImpairmentProxy::Link::enqueue(Pipe &pipe, const QByteArray &bytes)
{
    // Never due before the chunk ahead of it: jitter delays bytes but never reorders them.
    const qint64 dueUs = std::max(pipe.lastDueUs, m_proxy->nowUs() + drawDelayUs());
    pipe.lastDueUs = dueUs;
    pipe.queuedBytes += bytes.size();
    pipe.queue.push_back(Chunk {bytes, 0, dueUs});
}

bool ImpairmentProxy::Link::deliver(Pipe &pipe)
{
    const qint64 bandwidth = m_proxy->m_profile.bandwidthBytesPerSecond;
    bool wroteSome = false;
    while (!pipe.queue.empty()) {
        const qint64 now = m_proxy->nowUs();
        if (isHeld(now) || pipe.sink->state() != QAbstractSocket::ConnectedState
            || pipe.sink->bytesToWrite() >= MaxSinkBacklogBytes)
            break;
        Chunk &chunk = pipe.queue.front();
        if (chunk.dueUs > now)
            break;

        qint64 length = chunk.bytes.size() - chunk.offset;
        if (bandwidth > 0) {
            if (pipe.nextSendUs > now)
                break;
            const qint64 slice
                = std::max(MinBandwidthSliceBytes, bandwidth * BandwidthSliceMs / 1000);
            length = std::min(length, slice);
            // A slightly late timer keeps the schedule (no drift); an idle link starts afresh
            // (no burst of saved-up credit).
            const qint64 lateUs = now - pipe.nextSendUs;
            const qint64 startUs = lateUs < BandwidthSliceMs * 1000 ? pipe.nextSendUs : now;
            pipe.nextSendUs = startUs + length * 1000 * 1000 / bandwidth;
        }

        const qint64 written = pipe.sink->write(chunk.bytes.constData() + chunk.offset, length);
        if (written <= 0) {
            // Only a socket that is no longer open refuses bytes: this direction is over.
            qCWarning(lcImpairment) << "write failed:" << pipe.sink->errorString();
            drop(pipe);
            break;
        }
        *pipe.forwarded += quint64(written);
        wroteSome = true;
        chunk.offset += written;
        pipe.queuedBytes -= written;
        if (chunk.offset == chunk.bytes.size())
            pipe.queue.pop_front();
    }
    return wroteSome;
}

void ImpairmentProxy::Link::deliverClose(Pipe &pipe)
{
    if (!pipe.sourceClosed || pipe.closeSent || !pipe.queue.empty())
        return;
    const qint64 now = m_proxy->nowUs();
    if (isHeld(now) || now < pipe.closeDueUs
        || pipe.sink->state() != QAbstractSocket::ConnectedState)
        return;
    pipe.closeSent = true;
    // Flushes what the sink still has to write, then closes; may emit disconnected() now.
    pipe.sink->disconnectFromHost();
}

void ImpairmentProxy::Link::scheduleWake(Pipe &pipe)
{
    pipe.timer.stop();
    const qint64 now = m_proxy->nowUs();
    if (m_switched || m_blackholed)
        return; // nothing moves until blackholeAll(false); a switch is for good
    if (isHeld(now)) {
        armHoldTimer();
        return;
    }
    if (pipe.sink->state() != QAbstractSocket::ConnectedState
        || pipe.sink->bytesToWrite() >= MaxSinkBacklogBytes)
        return; // connected() or bytesWritten() wakes this pipe

    qint64 wakeUs = -1;
    if (!pipe.queue.empty()) {
        wakeUs = pipe.queue.front().dueUs;
        if (m_proxy->m_profile.bandwidthBytesPerSecond > 0)
            wakeUs = std::max(wakeUs, pipe.nextSendUs);
    } else if (pipe.sourceClosed && !pipe.closeSent) {
        wakeUs = pipe.closeDueUs;
    }
    if (wakeUs >= 0)
        pipe.timer.start(ceilMs(wakeUs - now));
}

void ImpairmentProxy::Link::onReadFinished(Pipe &from)
{
    if (m_finished || m_switched || from.sourceClosed)
        return;

    // What the socket still had buffered is the end of its stream, read even in a blackhole
    // (it is gone from the socket once it closes): keep it, then pass the close on after it,
    // delayed like any other byte.
    const QByteArray rest = from.source->readAll();
    if (!rest.isEmpty())
        enqueue(from, rest);
    from.sourceClosed = true;
    from.closeDueUs = std::max(from.lastDueUs, m_proxy->nowUs() + drawDelayUs());
}

void ImpairmentProxy::Link::onSourceClosed(Pipe &from, Pipe &to)
{
    if (m_finished)
        return;

    onReadFinished(from);
    // The closed socket was also the other direction's sink: nothing can reach it any more.
    drop(to);

    if (m_client->state() == QAbstractSocket::UnconnectedState
        && m_upstream->state() == QAbstractSocket::UnconnectedState) {
        finish();
        return;
    }
    if (m_switched) {
        finish(); // the half-open upstream finally closed
        return;
    }
    process(from);
}

void ImpairmentProxy::Link::drop(Pipe &pipe)
{
    pipe.timer.stop();
    pipe.queue.clear();
    pipe.queuedBytes = 0;
    pipe.sourceClosed = true;
    pipe.closeSent = true;
}

void ImpairmentProxy::Link::kick()
{
    process(m_up);
    process(m_down);
}

void ImpairmentProxy::Link::armHoldTimer()
{
    const qint64 untilUs = std::max(m_stallUntilUs, m_blackholeUntilUs);
    const qint64 now = m_proxy->nowUs();
    if (untilUs <= now)
        return;
    m_holdTimer.start(ceilMs(untilUs - now));
}

void ImpairmentProxy::Link::reset()
{
    if (m_finished)
        return;
    ++m_proxy->m_counters.resets;
    qCInfo(lcImpairment) << "reset: client port" << m_client->peerPort();
    abortSockets();
    finish();
}

void ImpairmentProxy::Link::setBlackholed(bool on)
{
    if (m_finished || m_switched || m_blackholed == on)
        return;
    m_blackholed = on;
    if (on) {
        ++m_proxy->m_counters.blackholes;
        qCInfo(lcImpairment) << "blackhole on: client port" << m_client->peerPort();
        return;
    }
    qCInfo(lcImpairment) << "blackhole off: client port" << m_client->peerPort();
    kick();
}

void ImpairmentProxy::Link::startBlackhole(int ms)
{
    if (m_finished || m_switched || ms <= 0)
        return;
    ++m_proxy->m_counters.blackholes;
    qCInfo(lcImpairment) << "blackhole for" << ms << "ms: client port" << m_client->peerPort();
    m_blackholeUntilUs = std::max(m_blackholeUntilUs, m_proxy->nowUs() + qint64(ms) * 1000);
    armHoldTimer();
}

void ImpairmentProxy::Link::stall(int ms)
{
    if (m_finished || m_switched || ms <= 0)
        return;
    ++m_proxy->m_counters.stalls;
    m_stallUntilUs = std::max(m_stallUntilUs, m_proxy->nowUs() + qint64(ms) * 1000);
    armHoldTimer();
}

void ImpairmentProxy::Link::networkSwitch()
{
    if (m_finished || m_switched)
        return;
    ++m_proxy->m_counters.networkSwitches;
    qCInfo(lcImpairment) << "network switch: client port" << m_client->peerPort()
                         << "aborted, upstream left half-open";
    m_switched = true;
    m_holdTimer.stop();
    drop(m_up);
    drop(m_down);

    // The client's side dies; the upstream keeps its signals so the link goes away when the
    // server closes it, but nothing is read from it or written to it again.
    unwatch(m_client);
    m_client->abort();
}

void ImpairmentProxy::Link::unwatch(QTcpSocket *socket)
{
    disconnect(socket, nullptr, this, nullptr);
}

void ImpairmentProxy::Link::abortSockets()
{
    m_up.timer.stop();
    m_down.timer.stop();
    m_holdTimer.stop();
    // Aborting emits disconnected() at once; this link is not to hear it.
    unwatch(m_client);
    unwatch(m_upstream);
    m_client->abort();
    m_upstream->abort();
}

void ImpairmentProxy::Link::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    abortSockets();
    m_proxy->removeLink(this);
}

ImpairmentProfile ImpairmentProfile::stableBroadband()
{
    ImpairmentProfile p;
    p.name = QStringLiteral("stable-broadband");
    // Fibre or cable to a nearby data centre: a few milliseconds and almost no variation.
    p.latencyMs = 5;
    p.jitterMs = 1;
    return p;
}

ImpairmentProfile ImpairmentProfile::urban4g()
{
    ImpairmentProfile p;
    p.name = QStringLiteral("urban-4g");
    // Typical 4G round trips are 60 to 100 ms; the radio scheduler makes them vary a lot.
    p.latencyMs = 40;
    p.jitterMs = 20;
    // A 4G cell carries far more than a feed needs, so bandwidth is left unlimited.
    p.bandwidthBytesPerSecond = 0;
    // A handover between cells or a burst of loss every ~20 s, recovered within half a second:
    // short enough that no heartbeat deadline (3 x 2 s) is ever at risk.
    p.stallProbabilityPerSecond = 0.05;
    p.stallMs = 400;
    // A carrier NAT dropping the connection every ~8 minutes.
    p.resetProbabilityPerSecond = 1.0 / 500.0;
    return p;
}

ImpairmentProfile ImpairmentProfile::weakSignal()
{
    ImpairmentProfile p;
    p.name = QStringLiteral("weak-signal");
    // One bar: retransmissions on the radio link make latency long and very uneven.
    p.latencyMs = 150;
    p.jitterMs = 100;
    // 32 KiB/s: a snapshot of a big book takes seconds, so conflation and queues matter.
    p.bandwidthBytesPerSecond = 32 * 1024;
    // A one-and-a-half-second stall every ~5 s: the feed visibly freezes but stays within the
    // stale deadline of 3 heartbeats.
    p.stallProbabilityPerSecond = 0.2;
    p.stallMs = 1500;
    // Every ~100 s the signal goes for 20 s, longer than both the client's stale deadline and
    // the server's dead-connection deadline (3 x 2 s each): both sides must give up by
    // themselves, the server keeps the session for a resume.
    p.blackholeProbabilityPerSecond = 0.01;
    p.blackholeMs = 20 * 1000;
    // The modem gives up on the connection every ~3 minutes.
    p.resetProbabilityPerSecond = 1.0 / 180.0;
    return p;
}

ImpairmentProfile ImpairmentProfile::networkSwitch()
{
    ImpairmentProfile p;
    p.name = QStringLiteral("network-switch");
    // Moderate home Wi-Fi or good mobile latency between switches.
    p.latencyMs = 30;
    p.jitterMs = 10;
    // A switch every ~20 s: often enough that a short run sees several resumes, and each old
    // server-side connection must be found dead through heartbeats.
    p.networkSwitchProbabilityPerSecond = 1.0 / 20.0;
    return p;
}

ImpairmentProfile ImpairmentProfile::matchDayBurst()
{
    ImpairmentProfile p;
    p.name = QStringLiteral("match-day-burst");
    // A crowded stadium cell: queues at the base station add latency and jitter.
    p.latencyMs = 60;
    p.jitterMs = 40;
    // Congestion stalls every ~10 s.
    p.stallProbabilityPerSecond = 0.1;
    p.stallMs = 500;
    // Each connection is reset about every 10 s, so across a fleet a tenth of all clients
    // reconnect every second: the reconnect storm the backoff and the retention exist for.
    p.resetProbabilityPerSecond = 0.1;
    return p;
}

std::optional<ImpairmentProfile> ImpairmentProfile::profile(const QString &name)
{
    using Factory = ImpairmentProfile (*)();
    static const Factory factories[]
        = {&stableBroadband, &urban4g, &weakSignal, &networkSwitch, &matchDayBurst};
    for (const Factory factory : factories) {
        ImpairmentProfile candidate = factory();
        if (candidate.name == name)
            return candidate;
    }
    return std::nullopt;
}

QStringList ImpairmentProfile::profileNames()
{
    return {stableBroadband().name, urban4g().name, weakSignal().name, networkSwitch().name,
        matchDayBurst().name};
}

ImpairmentProxy::ImpairmentProxy(QHostAddress upstreamHost, quint16 upstreamPort, QObject *parent)
    : QObject(parent)
    , m_upstreamHost(std::move(upstreamHost))
    , m_upstreamPort(upstreamPort)
    , m_server(new QTcpServer(this))
    , m_random(DefaultSeed)
{
    m_clock.start();
    connect(m_server, &QTcpServer::newConnection, this, &ImpairmentProxy::acceptPending);
    m_faultTimer.setInterval(FaultTickMs);
    connect(&m_faultTimer, &QTimer::timeout, this, &ImpairmentProxy::rollFaults);
}

ImpairmentProxy::~ImpairmentProxy()
{
    m_faultTimer.stop();
    m_server->close();
    const std::vector<Link *> links = std::move(m_links);
    m_links.clear();
    for (Link *link : links) {
        link->abortSockets();
        delete link;
    }
}

bool ImpairmentProxy::listen(const QHostAddress &address, quint16 port)
{
    if (!address.isLoopback()) {
        m_errorString = QStringLiteral("the impairment proxy listens only on loopback, not on %1")
                            .arg(address.toString());
        return false;
    }
    if (!m_server->listen(address, port)) {
        m_errorString = m_server->errorString();
        return false;
    }
    m_errorString.clear();
    return true;
}

quint16 ImpairmentProxy::port() const
{
    return m_server->serverPort();
}

QUrl ImpairmentProxy::wsUrl() const
{
    QUrl url;
    url.setScheme(QStringLiteral("ws"));
    url.setHost(m_server->serverAddress().toString());
    url.setPort(port());
    return url;
}

void ImpairmentProxy::setProfile(const ImpairmentProfile &profile)
{
    m_profile = profile;
    updateFaultTimer();
}

void ImpairmentProxy::setSeed(quint32 seed)
{
    m_random.seed(seed);
}

void ImpairmentProxy::setLatency(int ms, int jitterMs)
{
    m_profile.latencyMs = std::max(0, ms);
    m_profile.jitterMs = std::max(0, jitterMs);
}

void ImpairmentProxy::setBandwidth(qint64 bytesPerSecond)
{
    m_profile.bandwidthBytesPerSecond = std::max<qint64>(0, bytesPerSecond);
}

ImpairmentProxy::Link *ImpairmentProxy::linkAt(int index) const
{
    if (index < 0 || index >= int(m_links.size()))
        return nullptr;
    return m_links[size_t(index)];
}

void ImpairmentProxy::resetAll()
{
    // A reset removes the link from m_links: walk a copy.
    const std::vector<Link *> links = m_links;
    for (Link *link : links)
        link->reset();
}

bool ImpairmentProxy::reset(int index)
{
    Link *link = linkAt(index);
    if (!link)
        return false;
    link->reset();
    return true;
}

void ImpairmentProxy::blackholeAll(bool on)
{
    for (Link *link : m_links)
        link->setBlackholed(on);
}

void ImpairmentProxy::blackholeNetwork(bool on)
{
    m_networkBlackholed = on;
    blackholeAll(on);
}

bool ImpairmentProxy::blackhole(int index, bool on)
{
    Link *link = linkAt(index);
    if (!link)
        return false;
    link->setBlackholed(on);
    return true;
}

void ImpairmentProxy::stallAll(int ms)
{
    for (Link *link : m_links)
        link->stall(ms);
}

bool ImpairmentProxy::stall(int index, int ms)
{
    Link *link = linkAt(index);
    if (!link)
        return false;
    link->stall(ms);
    return true;
}

void ImpairmentProxy::networkSwitchAll()
{
    for (Link *link : m_links)
        link->networkSwitch();
}

bool ImpairmentProxy::networkSwitch(int index)
{
    Link *link = linkAt(index);
    if (!link)
        return false;
    link->networkSwitch();
    return true;
}

void ImpairmentProxy::acceptPending()
{
    while (QTcpSocket *client = m_server->nextPendingConnection()) {
        ++m_counters.connectionsAccepted;
        Link *link = new Link(this, client);
        m_links.push_back(link);
        m_counters.connectionsOpen = m_links.size();
        if (m_networkBlackholed)
            link->setBlackholed(true);
        link->start();
        Q_EMIT connectionCountChanged(connectionCount());
    }
    updateFaultTimer();
}

void ImpairmentProxy::removeLink(Link *link)
{
    const auto it = std::find(m_links.begin(), m_links.end(), link);
    if (it == m_links.end())
        return;
    m_links.erase(it);
    m_counters.connectionsOpen = m_links.size();
    // Usually called from one of the link's own socket signals: delete it once that returns.
    link->deleteLater();
    updateFaultTimer();
    Q_EMIT connectionCountChanged(connectionCount());
}

void ImpairmentProxy::updateFaultTimer()
{
    const bool random = m_profile.stallProbabilityPerSecond > 0
        || m_profile.resetProbabilityPerSecond > 0 || m_profile.blackholeProbabilityPerSecond > 0
        || m_profile.networkSwitchProbabilityPerSecond > 0;
    if (!random || m_links.empty()) {
        m_faultTimer.stop();
        return;
    }
    if (!m_faultTimer.isActive()) {
        m_lastFaultRollUs = nowUs();
        m_faultTimer.start();
    }
}

void ImpairmentProxy::rollFaults()
{
    const qint64 now = nowUs();
    const double seconds = std::min(MaxFaultTickSeconds, (now - m_lastFaultRollUs) / 1e6);
    m_lastFaultRollUs = now;

    // The chance that a Poisson process of this rate fires at least once in the tick.
    const auto fires = [this, seconds](double ratePerSecond) {
        return ratePerSecond > 0
            && m_random.generateDouble() < 1.0 - std::exp(-ratePerSecond * seconds);
    };

    // Faults remove links from m_links: walk a copy.
    const std::vector<Link *> links = m_links;
    for (Link *link : links) {
        if (link->isSwitched())
            continue;
        if (fires(m_profile.resetProbabilityPerSecond)) {
            link->reset();
            continue;
        }
        if (fires(m_profile.networkSwitchProbabilityPerSecond)) {
            link->networkSwitch();
            continue;
        }
        if (fires(m_profile.blackholeProbabilityPerSecond) && !link->isBlackholed())
            link->startBlackhole(m_profile.blackholeMs);
        if (fires(m_profile.stallProbabilityPerSecond))
            link->stall(m_profile.stallMs);
    }
}

} // namespace OddsDesk::Testing
