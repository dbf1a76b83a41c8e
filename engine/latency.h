#pragma once

#include <QVector>

namespace OddsDesk {

/// The last N latency samples of one session or of the whole feed, in microseconds, with
/// percentiles over them. Fixed memory: a ring that overwrites its oldest sample.
class LatencyWindow
{
public:
    // 256 samples: at one ack per flush this is several seconds of a busy feed, enough for
    // a stable p99 without holding a session's history forever.
    static constexpr int DefaultCapacity = 256;

    explicit LatencyWindow(int capacity = DefaultCapacity);

    void add(qint64 micros);
    void clear();
    int count() const { return m_filled; }
    bool isEmpty() const { return m_filled == 0; }

    /// The q-quantile (0..1) of the samples held, nearest-rank; 0 when empty.
    qint64 percentile(double q) const;
    qint64 max() const;
    /// The samples held, oldest first.
    QVector<qint64> samples() const;

private:
    QVector<qint64> m_samples;
    int m_next = 0;
    int m_filled = 0;
};

/// Nearest-rank q-quantile of \a samples (sorted in place).
qint64 percentileOf(QVector<qint64> &samples, double q);

/// Estimates a peer's clock offset from timestamped round trips, so a latency is never
/// drawn negative or jumping when the peer's clock is off or steps.
///
/// For an ack of sequence s: commit (our clock) <= receive (peer clock) - offset <= arrival
/// (our clock). Every sample therefore bounds the offset from both sides; the estimate is
/// 0 when the bounds allow it (same machine, same clock) and otherwise the nearest bound.
/// Bounds come from a short window of recent samples so that a clock step is forgotten.
class ClockOffsetEstimator
{
public:
    static constexpr int Window = 32; // samples; a clock step is forgotten after this many

    /// Adds a sample and returns the one-way latency it implies, in microseconds, clamped to
    /// [0, arrival - commit].
    qint64 addSample(qint64 commitUs, qint64 peerReceiveUs, qint64 arrivalUs);
    qint64 offset() const { return m_offset; }
    /// False until the first sample: offset() is then a guess of zero.
    bool hasEstimate() const { return !m_bounds.isEmpty(); }

private:
    struct Bounds
    {
        qint64 low;
        qint64 high;
    };
    QVector<Bounds> m_bounds;
    int m_next = 0;
    qint64 m_offset = 0;
};

} // namespace OddsDesk
