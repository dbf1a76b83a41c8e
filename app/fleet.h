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
/// the final figures, closes every session and says finished(). Lives on the main thread.
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
    FleetFigures collectAll(bool resetRecent) const;
    void workerDrained();

    FleetOptions m_options;
    int m_threadCount = 1;
    std::vector<std::unique_ptr<FleetWorkerThread>> m_workers;
    QTimer m_rampTimer;
    QTimer m_progressTimer;
    QTimer m_durationTimer;
    QTimer m_drainTimer;
    QElapsedTimer m_clock;
    int m_started = 0;

    FleetFigures m_previous;
    qint64 m_previousMs = 0;

    bool m_finishing = false;
    bool m_interrupted = false;
    double m_elapsedS = 0;
    FleetFigures m_final;
    int m_drainedWorkers = 0;
};
