#include "fleet.h"

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
    m_durationTimer.setSingleShot(true);
    connect(&m_durationTimer, &QTimer::timeout, this, [this] { finish(false); });
    m_drainTimer.setSingleShot(true);
    connect(&m_drainTimer, &QTimer::timeout, this, &Fleet::finished);
}

Fleet::~Fleet() = default;

QString Fleet::start()
{
    FleetWorkerConfig config;
    config.client.url = m_options.url;
    config.client.format = m_options.format;
    config.client.clientVersion = QCoreApplication::applicationVersion();
    config.namePrefix = m_options.namePrefix;
    config.profile = m_options.profile;
    config.upstreamHost = m_options.upstreamHost;
    config.upstreamPort = m_options.upstreamPort;

    for (int i = 0; i < m_threadCount; ++i) {
        config.index = i;
        m_workers.push_back(std::make_unique<FleetWorkerThread>(config));
        FleetWorker *worker = m_workers.back()->worker();
        connect(worker, &FleetWorker::drained, this, &Fleet::workerDrained);
        QString error;
        QMetaObject::invokeMethod(
            worker, [worker, &error] { error = worker->setUp(); }, Qt::BlockingQueuedConnection);
        if (!error.isEmpty())
            return error;
    }

    m_clock.start();
    m_durationTimer.start(m_options.durationS * 1000);
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

FleetFigures Fleet::collectAll(bool resetRecent) const
{
    FleetFigures total;
    for (const auto &thread : m_workers) {
        FleetWorker *worker = thread->worker();
        FleetFigures figures;
        QMetaObject::invokeMethod(
            worker, [&] { figures = worker->collect(resetRecent); }, Qt::BlockingQueuedConnection);
        total.add(figures);
    }
    return total;
}

void Fleet::progress()
{
    const qint64 nowMs = m_clock.elapsed();
    const FleetFigures now = collectAll(true);
    const double seconds = double(nowMs - m_previousMs) / 1000.0;
    err() << "fleet " << (nowMs + 500) / 1000 << " s: " << m_started << " of " << m_options.sessions
          << " sessions started, " << now.live << " live, "
          << perSecond(now.frames - m_previous.frames, seconds) << " frames/s, "
          << perSecond(now.changes - m_previous.changes, seconds) << " changes/s, latency p50 "
          << millis(now.recent.percentile(0.5)) << " ms, p99 "
          << millis(now.recent.percentile(0.99)) << " ms, reconnects " << now.reconnects
          << ", resumes " << now.resumes << ", gaps " << now.gaps << Qt::endl;
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

    m_elapsedS = double(m_clock.elapsed()) / 1000.0;
    m_final = collectAll(false);

    m_drainTimer.start(DrainBackstopMs);
    for (const auto &thread : m_workers) {
        FleetWorker *worker = thread->worker();
        QMetaObject::invokeMethod(
            worker, [worker] { worker->stopAll(); }, Qt::QueuedConnection);
    }
    if (m_workers.empty())
        Q_EMIT finished();
}

void Fleet::workerDrained()
{
    if (++m_drainedWorkers < int(m_workers.size()))
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
        {QStringLiteral("duration_s"), std::round(s * 10.0) / 10.0},
        {QStringLiteral("interrupted"), m_interrupted}, {QStringLiteral("threads"), m_threadCount},
        {QStringLiteral("profile"),
            m_options.profile ? m_options.profile->name : QStringLiteral("none")},
        {QStringLiteral("format"),
            m_options.format == WireFormat::Json ? QStringLiteral("json")
                                                 : QStringLiteral("binary")},
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
