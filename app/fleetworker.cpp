#include "fleetworker.h"

#include "clock.h"

#include <QThread>
#include <QTimer>

#include <algorithm>
#include <utility>

using namespace OddsDesk;
using OddsDesk::Testing::ImpairmentCounters;
using OddsDesk::Testing::ImpairmentProxy;

namespace {

// How long stopping waits for the close handshakes before the remaining connections are
// aborted: a loopback close takes milliseconds, a profile's latency and stalls a few
// hundred; two seconds keeps the end of a run short and bounded.
constexpr int DrainGraceMs = 2000;

void addCounters(ImpairmentCounters *to, const ImpairmentCounters &from)
{
    to->connectionsAccepted += from.connectionsAccepted;
    to->connectionsOpen += from.connectionsOpen;
    to->bytesClientToUpstream += from.bytesClientToUpstream;
    to->bytesUpstreamToClient += from.bytesUpstreamToClient;
    to->resets += from.resets;
    to->blackholes += from.blackholes;
    to->networkSwitches += from.networkSwitches;
    to->stalls += from.stalls;
}

} // namespace

void FleetFigures::add(const FleetFigures &other)
{
    takenUs = std::max(takenUs, other.takenUs);
    sessions += other.sessions;
    live += other.live;
    everLive += other.everLive;
    frames += other.frames;
    measuredFrames += other.measuredFrames;
    bytes += other.bytes;
    deltas += other.deltas;
    changes += other.changes;
    snapshots += other.snapshots;
    gaps += other.gaps;
    duplicates += other.duplicates;
    reconnects += other.reconnects;
    resumes += other.resumes;
    snapshotFallbacks += other.snapshotFallbacks;
    staleEvents += other.staleEvents;
    decodeErrors += other.decodeErrors;
    disconnects += other.disconnects;
    serverErrors += other.serverErrors;
    latencyUntrusted += other.latencyUntrusted;
    stopped += other.stopped;
    sourceAddresses.unite(other.sourceAddresses);
    latency.merge(other.latency);
    recent.merge(other.recent);
    addCounters(&impairment, other.impairment);
}

FleetWorker::FleetWorker(const FleetWorkerConfig &config)
    : m_config(config)
    , m_reportTimer(this) // a child, so that it moves to the worker's thread with it
{
    connect(&m_reportTimer, &QTimer::timeout, this, [this] { Q_EMIT reported(collect()); });
}

FleetWorker::~FleetWorker()
{
    // The clients first: they hold connections to the proxy.
    m_entries.clear();
    m_proxy.reset();
}

QString FleetWorker::setUp()
{
    if (!m_config.profile)
        return QString();
    m_proxy = std::make_unique<ImpairmentProxy>(m_config.upstreamHost, m_config.upstreamPort);
    m_proxy->setProfile(*m_config.profile);
    // Each worker's proxy draws its own faults, and the same ones on every run.
    m_proxy->setSeed(quint32(m_config.index + 1));
    if (!m_proxy->listen()) {
        return QStringLiteral("worker %1 could not open its impairment proxy: %2")
            .arg(m_config.index + 1)
            .arg(m_proxy->errorString());
    }
    // Only the address changes; the feed's path and query stay as given.
    const QUrl proxyUrl = m_proxy->wsUrl();
    m_config.client.url.setHost(proxyUrl.host());
    m_config.client.url.setPort(proxyUrl.port());
    return QString();
}

void FleetWorker::startSessions(const QVector<int> &indexes)
{
    if (m_draining)
        return;
    for (const int index : indexes) {
        FeedClientConfig config = m_config.client;
        config.clientName = QStringLiteral("%1-%2").arg(m_config.namePrefix).arg(index);
        if (m_config.sourceAddresses > 1) {
            const quint32 loopback = QHostAddress(QHostAddress::LocalHost).toIPv4Address();
            config.sourceAddress
                = QHostAddress(loopback + quint32(index % m_config.sourceAddresses));
        }
        m_entries.push_back({std::make_unique<FeedClient>(config), false});
        watch(m_entries.size() - 1);
        m_entries.back().client->start();
    }
}

void FleetWorker::watch(size_t entry)
{
    FeedClient *client = m_entries[entry].client.get();
    connect(client, &FeedClient::messageReceived, this,
        [this, client](const oddsdesk::v1::ServerMessage &message) { onMessage(client, message); });
    connect(client, &FeedClient::deltaApplied, this,
        [this, client](const BookChanges &, quint64) { onDeltaApplied(client); });
    connect(client, &FeedClient::welcomed, this, [this, entry, client](bool) {
        if (!std::exchange(m_entries[entry].everLive, true))
            ++m_everLive;
        m_sourceAddresses.insert(client->localAddress());
    });
    connect(client, &FeedClient::disconnected, this, [this, entry](int, const QString &) {
        ++m_disconnects;
        closed(entry);
    });
    connect(
        client, &FeedClient::serverError, this, [this](int, const QString &) { ++m_serverErrors; });
}

void FleetWorker::onMessage(const FeedClient *client, const oddsdesk::v1::ServerMessage &message)
{
    if (message.body_case() != oddsdesk::v1::ServerMessage::kDelta)
        return;
    m_pendingClient = client;
    m_pendingCommitUs = message.delta().commit_time_us();
    m_pendingReceivedUs = monotonicMicros();
}

void FleetWorker::onDeltaApplied(const FeedClient *client)
{
    // A duplicate or a gap is not applied: its timestamps are simply overwritten by the next.
    if (client != std::exchange(m_pendingClient, nullptr))
        return;
    const qint64 latency = m_pendingReceivedUs - m_pendingCommitUs;
    if (latency < 0) {
        ++m_latencyUntrusted;
        return;
    }
    m_latency.add(latency);
    m_recent.add(latency);
}

void FleetWorker::startReporting(int intervalMs)
{
    m_reportTimer.start(intervalMs);
}

FleetFigures FleetWorker::collect()
{
    FleetFigures f;
    f.takenUs = monotonicMicros();
    f.sessions = int(m_entries.size());
    f.everLive = m_everLive;
    for (const Entry &entry : m_entries) {
        const FeedClient &client = *entry.client;
        if (client.state() == FeedClient::State::Live)
            ++f.live;
        if (!client.refusal().isEmpty())
            ++f.stopped;
        const FeedClientStats &s = client.stats();
        f.frames += s.framesReceived;
        f.bytes += s.bytesReceived;
        f.deltas += s.deltasApplied;
        f.changes += s.changesApplied;
        f.snapshots += s.snapshots;
        f.gaps += s.gaps;
        f.duplicates += s.duplicates;
        f.reconnects += s.reconnects;
        f.resumes += s.resumes;
        f.snapshotFallbacks += s.snapshotFallbacks;
        f.staleEvents += s.staleEvents;
        f.decodeErrors += s.decodeErrors;
    }
    f.disconnects = m_disconnects;
    f.serverErrors = m_serverErrors;
    f.latencyUntrusted = m_latencyUntrusted;
    if (m_measuring)
        f.measuredFrames = f.frames - m_framesBeforeMeasuring;
    f.sourceAddresses = m_sourceAddresses;
    f.latency = m_latency;
    f.recent = m_recent;
    m_recent.clear();
    if (m_proxy)
        f.impairment = m_proxy->counters();
    return f;
}

void FleetWorker::dropAll()
{
    for (const Entry &entry : m_entries)
        entry.client->dropConnection(QStringLiteral("the fleet dropped every connection"));
}

void FleetWorker::blackholeAll()
{
    // The whole path, not only the connections open now: a session that gives up on its
    // silent connection reconnects through the proxy, and must find it as dark as the last.
    if (m_proxy)
        m_proxy->blackholeNetwork(true);
}

void FleetWorker::startMeasuring()
{
    m_latency.clear();
    m_framesBeforeMeasuring = 0;
    for (const Entry &entry : m_entries)
        m_framesBeforeMeasuring += entry.client->stats().framesReceived;
    m_measuring = true;
}

void FleetWorker::finish()
{
    m_reportTimer.stop();
    Q_EMIT finalReported(collect());
    stopAll();
}

void FleetWorker::stopAll()
{
    if (m_draining)
        return;
    m_draining = true;
    // Only an open connection has a close handshake to wait for; one still connecting or
    // waiting out its backoff is simply given up.
    for (Entry &entry : m_entries) {
        const FeedClient::State state = entry.client->state();
        entry.closing = state == FeedClient::State::Handshaking || state == FeedClient::State::Live;
        if (entry.closing)
            ++m_awaitingClose;
    }
    for (const Entry &entry : m_entries)
        entry.client->stop();
    if (m_awaitingClose == 0) {
        finishDraining();
        return;
    }
    QTimer::singleShot(DrainGraceMs, this, &FleetWorker::finishDraining);
}

void FleetWorker::closed(size_t entry)
{
    if (!std::exchange(m_entries[entry].closing, false))
        return;
    if (--m_awaitingClose == 0)
        finishDraining();
}

void FleetWorker::finishDraining()
{
    if (std::exchange(m_drained, true))
        return;
    Q_EMIT drained();
}

FleetWorkerThread::FleetWorkerThread(const FleetWorkerConfig &config)
    : m_worker(new FleetWorker(config))
{
    m_thread.setObjectName(QStringLiteral("fleet-worker-%1").arg(config.index + 1));
    if (QAbstractEventDispatcher *dispatcher = OddsDesk::createEventDispatcher(config.eventLoop))
        m_thread.setEventDispatcher(dispatcher);
    m_worker->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.start();
}

FleetWorkerThread::~FleetWorkerThread()
{
    m_thread.quit();
    m_thread.wait();
}
