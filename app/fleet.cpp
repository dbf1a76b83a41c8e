#include "fleet.h"

#include "clock.h"

#include <QCoreApplication>
#include <QTextStream>

#include <algorithm>
#include <cmath>

using namespace OddsDesk;

namespace {

// Sessions start in small groups this often: at the default 500 a second that is five per
// tick, a steady stream rather than bursts, for a hundred wakeups a second.
constexpr int RampTickMs = 10;
// Progress goes to standard error at most once a second.
constexpr int ProgressIntervalMs = 1000;
// A worker that has not sent its final figures this long after the end of the run is
// overloaded beyond a meaningful figure: its last regular report stands in for it.
constexpr int FinalReportBackstopMs = 10 * 1000;
// A backstop above the workers' own grace period for closing their sessions, so that the
// run ends even if a worker never reports back.
constexpr int DrainBackstopMs = 5000;

double millis(qint64 micros)
{
    return double(micros) / 1000.0;
}

double perSecond(quint64 count, double seconds)
{
    return seconds > 0 ? std::round(double(count) / seconds * 10.0) / 10.0 : 0.0;
}

QTextStream &err()
{
    static QTextStream stream(stderr);
    return stream;
}

} // namespace

Fleet::Fleet(const FleetOptions &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_threadCount(std::max(1, std::min(options.threads, options.sessions)))
{
    m_rampTimer.setInterval(RampTickMs);
    connect(&m_rampTimer, &QTimer::timeout, this, &Fleet::ramp);
    m_progressTimer.setInterval(ProgressIntervalMs);
    connect(&m_progressTimer, &QTimer::timeout, this, &Fleet::progress);
    // The run's own clock: a coarse timer may fire up to a twentieth early, and a run of
    // --duration 10 ended after 9.6 s. The scheduled events below are precise too.
    m_durationTimer.setSingleShot(true);
    m_durationTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_durationTimer, &QTimer::timeout, this, [this] { finish(false); });
    m_finalTimer.setSingleShot(true);
    connect(&m_finalTimer, &QTimer::timeout, this, &Fleet::finalFiguresIn);
    m_drainTimer.setSingleShot(true);
    connect(&m_drainTimer, &QTimer::timeout, this, &Fleet::finished);
    qRegisterMetaType<FleetFigures>();
}

Fleet::~Fleet() = default;

QString Fleet::start()
{
    FleetWorkerConfig config;
    config.client.url = m_options.url;
    config.client.format = m_options.format;
    config.client.ackIntervalMs = m_options.ackIntervalMs;
    config.eventLoop = m_options.eventLoop;
    config.client.clientVersion = QCoreApplication::applicationVersion();
    config.namePrefix = m_options.namePrefix;
    config.profile = m_options.profile;
    config.upstreamHost = m_options.upstreamHost;
    config.upstreamPort = m_options.upstreamPort;
    config.sourceAddresses = m_options.sourceAddresses;

    m_latest.resize(size_t(m_threadCount));
    m_recent.resize(size_t(m_threadCount));
    m_finalIn.assign(size_t(m_threadCount), false);
    for (int i = 0; i < m_threadCount; ++i) {
        config.index = i;
        m_workers.push_back(std::make_unique<FleetWorkerThread>(config));
        FleetWorker *worker = m_workers.back()->worker();
        const size_t index = size_t(i);
        connect(worker, &FleetWorker::reported, this,
            [this, index](const FleetFigures &figures) { workerReported(index, figures); });
        connect(worker, &FleetWorker::finalReported, this,
            [this, index](const FleetFigures &figures) { workerFinalReported(index, figures); });
        connect(worker, &FleetWorker::drained, this, &Fleet::workerDrained);
        // The one wait on a worker: before the run, while it has nothing else to do.
        QString error;
        QMetaObject::invokeMethod(
            worker, [worker, &error] { error = worker->setUp(); }, Qt::BlockingQueuedConnection);
        if (!error.isEmpty())
            return error;
    }

    m_clock.start();
    m_startUs = monotonicMicros();
    for (const auto &thread : m_workers) {
        FleetWorker *worker = thread->worker();
        QMetaObject::invokeMethod(
            worker, [worker] { worker->startReporting(ProgressIntervalMs); }, Qt::QueuedConnection);
    }
    m_durationTimer.start(m_options.durationS * 1000);
    auto atSecond = [this](int seconds, void (FleetWorker::*action)()) {
        if (seconds <= 0)
            return;
        QTimer::singleShot(seconds * 1000, Qt::PreciseTimer, this, [this, action] {
            for (const auto &thread : m_workers) {
                FleetWorker *worker = thread->worker();
                QMetaObject::invokeMethod(
                    worker, [worker, action] { (worker->*action)(); }, Qt::QueuedConnection);
            }
        });
    };
    atSecond(m_options.dropAtS, &FleetWorker::dropAll);
    atSecond(m_options.blackholeAtS, &FleetWorker::blackholeAll);
    atSecond(m_options.measureAfterS, &FleetWorker::startMeasuring);
    if (m_options.measureAfterS > 0) {
        // Each worker counts its frames from the moment it is told; the last report's
        // figures may be a second old by then.
        QTimer::singleShot(m_options.measureAfterS * 1000, Qt::PreciseTimer, this,
            [this] { m_measuredFromUs = monotonicMicros(); });
    }
    m_rampTimer.start();
    m_progressTimer.start();
    ramp();
    return QString();
}

void Fleet::ramp()
{
    const qint64 due = std::min<qint64>(
        m_options.sessions, 1 + m_clock.elapsed() * m_options.rampPerSecond / 1000);
    if (due <= m_started)
        return;

    // Session n goes to worker n modulo the thread count, so every worker ramps alike.
    std::vector<QVector<int>> batches(static_cast<size_t>(m_threadCount));
    for (int n = m_started; n < int(due); ++n)
        batches[size_t(n % m_threadCount)].append(n + 1);
    m_started = int(due);
    for (int i = 0; i < m_threadCount; ++i) {
        if (batches[size_t(i)].isEmpty())
            continue;
        FleetWorker *worker = m_workers[size_t(i)]->worker();
        QMetaObject::invokeMethod(
            worker, [worker, batch = batches[size_t(i)]] { worker->startSessions(batch); },
            Qt::QueuedConnection);
    }
    if (m_started >= m_options.sessions)
        m_rampTimer.stop();
}

void Fleet::workerReported(size_t worker, const FleetFigures &figures)
{
    if (m_finishing)
        return;
    m_latest[worker] = figures;
    m_recent[worker].merge(figures.recent);
}

FleetFigures Fleet::latestTotal() const
{
    FleetFigures total;
    for (const FleetFigures &figures : m_latest)
        total.add(figures);
    return total;
}

void Fleet::progress()
{
    const qint64 nowMs = m_clock.elapsed();
    const FleetFigures now = latestTotal();
    LatencyHistogram recent;
    for (LatencyHistogram &h : m_recent) {
        recent.merge(h);
        h.clear();
    }
    const double seconds = double(nowMs - m_previousMs) / 1000.0;
    err() << "fleet " << (nowMs + 500) / 1000 << " s: " << m_started << " of " << m_options.sessions
          << " sessions started, " << now.live << " live, "
          << perSecond(now.frames - m_previous.frames, seconds) << " frames/s, "
          << perSecond(now.changes - m_previous.changes, seconds) << " changes/s, latency p50 "
          << millis(recent.percentile(0.5)) << " ms, p99 " << millis(recent.percentile(0.99))
          << " ms, reconnects " << now.reconnects << ", resumes " << now.resumes << ", gaps "
          << now.gaps << Qt::endl;
    m_previous = now;
    m_previousMs = nowMs;
}

void Fleet::finish(bool interrupted)
{
    if (m_finishing)
        return;
    m_finishing = true;
    m_interrupted = interrupted;
    m_rampTimer.stop();
    m_progressTimer.stop();
    m_durationTimer.stop();

    if (m_workers.empty()) {
        finalFiguresIn();
        return;
    }
    m_finalTimer.start(FinalReportBackstopMs);
    for (const auto &thread : m_workers) {
        FleetWorker *worker = thread->worker();
        QMetaObject::invokeMethod(
            worker, [worker] { worker->finish(); }, Qt::QueuedConnection);
    }
}

void Fleet::workerFinalReported(size_t worker, const FleetFigures &figures)
{
    if (m_haveFinal || m_finalIn[worker])
        return;
    m_finalIn[worker] = true;
    m_latest[worker] = figures;
    if (++m_finalCount == int(m_workers.size()))
        finalFiguresIn();
}

void Fleet::finalFiguresIn()
{
    if (std::exchange(m_haveFinal, true))
        return;
    m_finalTimer.stop();
    m_final = latestTotal();
    m_lateWorkers = int(m_workers.size()) - m_finalCount;
    const qint64 endUs = m_final.takenUs > 0 ? m_final.takenUs : monotonicMicros();
    m_elapsedS = double(endUs - m_startUs) / 1e6;

    if (m_drainedWorkers == int(m_workers.size())) {
        Q_EMIT finished();
        return;
    }
    m_drainTimer.start(DrainBackstopMs);
}

void Fleet::workerDrained()
{
    if (++m_drainedWorkers < int(m_workers.size()) || !m_haveFinal)
        return;
    m_drainTimer.stop();
    Q_EMIT finished();
}

QJsonObject Fleet::summary() const
{
    const FleetFigures &f = m_final;
    const double s = m_elapsedS;
    QJsonObject latency {{QStringLiteral("p50"), millis(f.latency.percentile(0.50))},
        {QStringLiteral("p95"), millis(f.latency.percentile(0.95))},
        {QStringLiteral("p99"), millis(f.latency.percentile(0.99))},
        {QStringLiteral("max"), millis(f.latency.max())}};

    QJsonObject summary {{QStringLiteral("sessions"), f.sessions},
        {QStringLiteral("sessions_requested"), m_options.sessions},
        {QStringLiteral("sessions_live"), f.live},
        {QStringLiteral("sessions_never_live"), f.sessions - f.everLive},
        {QStringLiteral("sessions_stopped"), f.stopped},
        {QStringLiteral("source_addresses"), int(f.sourceAddresses.size())},
        {QStringLiteral("duration_s"), std::round(s * 10.0) / 10.0},
        {QStringLiteral("interrupted"), m_interrupted}, {QStringLiteral("threads"), m_threadCount},
        {QStringLiteral("workers_late"), m_lateWorkers},
        {QStringLiteral("profile"),
            m_options.profile ? m_options.profile->name : QStringLiteral("none")},
        {QStringLiteral("format"),
            m_options.format == WireFormat::Json ? QStringLiteral("json")
                                                 : QStringLiteral("binary")},
        {QStringLiteral("ack_interval_ms"), m_options.ackIntervalMs},
        {QStringLiteral("event_loop"), OddsDesk::eventLoopKindName(m_options.eventLoop)},
        {QStringLiteral("frames"), qint64(f.frames)},
        {QStringLiteral("frames_per_s"), perSecond(f.frames, s)},
        {QStringLiteral("deltas_per_s"), perSecond(f.deltas, s)},
        {QStringLiteral("changes"), qint64(f.changes)},
        {QStringLiteral("changes_per_s"), perSecond(f.changes, s)},
        {QStringLiteral("bytes_per_s"), perSecond(f.bytes, s)},
        {QStringLiteral("latency_ms"), latency},
        {QStringLiteral("latency_samples"), qint64(f.latency.count())},
        {QStringLiteral("latency_untrusted"), qint64(f.latencyUntrusted)},
        {QStringLiteral("snapshots"), qint64(f.snapshots)},
        {QStringLiteral("gaps"), qint64(f.gaps)},
        {QStringLiteral("duplicates"), qint64(f.duplicates)},
        {QStringLiteral("reconnects"), qint64(f.reconnects)},
        {QStringLiteral("resumes"), qint64(f.resumes)},
        {QStringLiteral("snapshot_fallbacks"), qint64(f.snapshotFallbacks)},
        {QStringLiteral("disconnects"), qint64(f.disconnects)},
        {QStringLiteral("stale_events"), qint64(f.staleEvents)},
        {QStringLiteral("decode_errors"), qint64(f.decodeErrors)},
        {QStringLiteral("server_errors"), qint64(f.serverErrors)}};
    if (m_options.measureAfterS > 0 && m_measuredFromUs > 0) {
        const qint64 endUs = f.takenUs > 0 ? f.takenUs : monotonicMicros();
        summary.insert(QStringLiteral("measured_frames"), qint64(f.measuredFrames));
        summary.insert(QStringLiteral("measured_s"),
            std::round(double(endUs - m_measuredFromUs) / 1e5) / 10.0);
    }
    if (m_options.profile) {
        const Testing::ImpairmentCounters &c = f.impairment;
        summary.insert(QStringLiteral("impairment"),
            QJsonObject {{QStringLiteral("connections"), qint64(c.connectionsAccepted)},
                {QStringLiteral("resets"), qint64(c.resets)},
                {QStringLiteral("stalls"), qint64(c.stalls)},
                {QStringLiteral("blackholes"), qint64(c.blackholes)},
                {QStringLiteral("network_switches"), qint64(c.networkSwitches)}});
    }
    return summary;
}
