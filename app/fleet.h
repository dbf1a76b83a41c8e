#pragma once

#include "fleetoptions.h"
#include "fleetworker.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <memory>
#include <vector>

/// The load generator: spreads its sessions over worker threads, ramps them up at a steady
/// rate, reports progress once a second and, at the end of the run (or on request), takes
/// the final figures, closes every session and says finished(). Lives on the main thread,
/// which never waits on a worker: workers report by signal, and every wait at the end is
/// bounded, so an overloaded run still ends on time.
class Fleet : public QObject
{
    Q_OBJECT

public:
    explicit Fleet(const FleetOptions &options, QObject *parent = nullptr);
    /// Quits and waits for every worker thread.
    ~Fleet() override;

    /// Starts the workers (and their proxies) and the ramp. Returns an error sentence, or an
    /// empty string.
    QString start();
    /// Ends the run now: takes the final figures, then closes the sessions. \a interrupted
    /// says it ended before its duration.
    void finish(bool interrupted);

    /// The run's figures as one JSON object; meaningful once finish() has been called.
    QJsonObject summary() const;
    /// True when at least one session was welcomed by the feed during the run.
    bool reachedFeed() const { return m_final.everLive > 0; }

Q_SIGNALS:
    void finished();

private:
    void ramp();
    void progress();
    void workerReported(size_t worker, const FleetFigures &figures);
    void workerFinalReported(size_t worker, const FleetFigures &figures);
    void finalFiguresIn();
    void workerDrained();
    FleetFigures latestTotal() const;

    FleetOptions m_options;
    int m_threadCount = 1;
    std::vector<std::unique_ptr<FleetWorkerThread>> m_workers;
    QTimer m_rampTimer;
    QTimer m_progressTimer;
    QTimer m_durationTimer;
    QTimer m_finalTimer;
    QTimer m_drainTimer;
    QElapsedTimer m_clock;
    qint64 m_startUs = 0;
    int m_started = 0;

    // Each worker's latest report, and the recent latencies reported since the last progress.
    std::vector<FleetFigures> m_latest;
    std::vector<LatencyHistogram> m_recent;
    FleetFigures m_previous;
    qint64 m_previousMs = 0;

    bool m_finishing = false;
    bool m_interrupted = false;
    std::vector<bool> m_finalIn;
    int m_finalCount = 0;
    bool m_haveFinal = false;
    int m_lateWorkers = 0;
    double m_elapsedS = 0;
    FleetFigures m_final;
    // With --measure-after: the frames received by then, and when that was.
    qint64 m_measuredFromUs = 0;
    int m_drainedWorkers = 0;
};
