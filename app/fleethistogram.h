#pragma once

#include <QtGlobal>

#include <array>

/// Every latency sample of a run in fixed memory: a log-linear histogram of microseconds.
/// Values below 128 µs have a bucket each; above that each power of two is split into 64
/// buckets, so a percentile is never off by more than 1/64 (1.6 %) of its value. Holds up to
/// about 38 hours; anything longer lands in the last bucket. 16 KiB, whatever the count.
class LatencyHistogram
{
public:
    void add(qint64 micros);
    void merge(const LatencyHistogram &other);
    void clear();

    quint64 count() const { return m_count; }
    /// The largest sample, exactly.
    qint64 max() const { return m_max; }
    /// The nearest-rank q-quantile (0..1): the highest value of the bucket that holds it,
    /// never above max(). 0 when empty.
    qint64 percentile(double q) const;

private:
    static constexpr int ExactBuckets = 128;
    static constexpr int SubBuckets = 64;
    static constexpr int MaxShift = 30;
    static constexpr int BucketCount = ExactBuckets + MaxShift * SubBuckets;

    static int indexOf(qint64 micros);
    static qint64 highestOf(int index);

    std::array<quint64, BucketCount> m_counts {};
    quint64 m_count = 0;
    qint64 m_max = 0;
};
