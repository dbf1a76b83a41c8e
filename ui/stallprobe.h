#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <QVector>

#include <array>

namespace OddsDesk {

/// Measures how long the thread's event loop goes without running: a precise timer asks to
/// be woken every few milliseconds, and each wake that comes late by more than a millisecond
/// is a stall of that length. The window uses it to say how responsive it is; the GUI
/// benchmark reads the distribution.
class StallProbe : public QObject
{
    Q_OBJECT

public:
    /// 5 ms: fine enough to see a 10 ms stall, and about 200 wakes a second cost nothing.
    static constexpr int DefaultIntervalMs = 5;
    /// What the desk calls a stall worth a warning in the log.
    static constexpr int WarnAboveMs = 200;

    explicit StallProbe(QObject *parent = nullptr, int intervalMs = DefaultIntervalMs);

    void start();
    void stop();
    bool isRunning() const { return m_timer.isActive(); }

    struct Stats
    {
        qint64 wakes = 0; // times the timer ran
        qint64 stalls = 0; // wakes more than a millisecond late
        qint64 over50Ms = 0;
        qint64 p50Us = 0; // of the stalls
        qint64 p99Us = 0;
        qint64 maxUs = 0;
        qint64 elapsedMs = 0; // since start() or reset()
    };
    /// The stalls since start() or the last reset().
    Stats stats() const;
    void reset();
    /// Every stall since start() or reset(), in microseconds, in the order they happened (the
    /// first 100,000).
    const QVector<qint64> &stallsUs() const { return m_stallsUs; }
    /// The longest stall in about the last minute, in microseconds.
    qint64 recentMaxUs() const;

Q_SIGNALS:
    /// A stall longer than WarnAboveMs ended.
    void longStall(qint64 durationUs);

private:
    void onWake();

    int m_intervalMs;
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_lastUs = 0;
    qint64 m_startUs = 0;
    qint64 m_wakes = 0;
    QVector<qint64> m_stallsUs; // bounded: see onWake()
    qint64 m_stallCount = 0;
    qint64 m_over50 = 0;
    qint64 m_maxUs = 0;
    // The longest stall of each of the last 60 seconds, by second.
    std::array<qint64, 60> m_secondMaxUs {};
    qint64 m_second = 0;
};

} // namespace OddsDesk
