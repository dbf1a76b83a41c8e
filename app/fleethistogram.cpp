#include "fleethistogram.h"

#include <algorithm>
#include <cmath>

void LatencyHistogram::add(qint64 micros)
{
    micros = std::max<qint64>(0, micros);
    ++m_counts[size_t(indexOf(micros))];
    ++m_count;
    m_max = std::max(m_max, micros);
}

void LatencyHistogram::merge(const LatencyHistogram &other)
{
    for (size_t i = 0; i < m_counts.size(); ++i)
        m_counts[i] += other.m_counts[i];
    m_count += other.m_count;
    m_max = std::max(m_max, other.m_max);
}

void LatencyHistogram::clear()
{
    m_counts.fill(0);
    m_count = 0;
    m_max = 0;
}

qint64 LatencyHistogram::percentile(double q) const
{
    if (m_count == 0)
        return 0;
    const double wanted = std::ceil(std::clamp(q, 0.0, 1.0) * double(m_count));
    const quint64 rank = std::max<quint64>(1, quint64(wanted));
    quint64 seen = 0;
    for (int i = 0; i < BucketCount; ++i) {
        seen += m_counts[size_t(i)];
        if (seen >= rank)
            return std::min(highestOf(i), m_max);
    }
    return m_max;
}

int LatencyHistogram::indexOf(qint64 micros)
{
    if (micros < ExactBuckets)
        return int(micros);
    // Shift the value until it has seven significant bits: 64..127 selects the sub-bucket.
    const int topBit = 63 - __builtin_clzll(quint64(micros));
    const int shift = topBit - 6;
    if (shift > MaxShift)
        return BucketCount - 1;
    return ExactBuckets + (shift - 1) * SubBuckets + int((micros >> shift) - SubBuckets);
}

qint64 LatencyHistogram::highestOf(int index)
{
    if (index < ExactBuckets)
        return index;
    const int offset = index - ExactBuckets;
    const int shift = offset / SubBuckets + 1;
    const qint64 sub = offset % SubBuckets + SubBuckets;
    return ((sub + 1) << shift) - 1;
}
