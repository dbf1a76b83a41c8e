#include "latency.h"

#include <algorithm>
#include <limits>

namespace OddsDesk {

LatencyWindow::LatencyWindow(int capacity)
    : m_samples(qMax(1, capacity), 0)
{ }

void LatencyWindow::add(qint64 micros)
{
    m_samples[m_next] = micros;
    m_next = (m_next + 1) % int(m_samples.size());
    m_filled = qMin(m_filled + 1, int(m_samples.size()));
}

void LatencyWindow::clear()
{
    m_next = 0;
    m_filled = 0;
}

qint64 LatencyWindow::percentile(double q) const
{
    QVector<qint64> copy(m_samples.cbegin(), m_samples.cbegin() + m_filled);
    return percentileOf(copy, q);
}

qint64 LatencyWindow::max() const
{
    if (m_filled == 0)
        return 0;
    return *std::max_element(m_samples.cbegin(), m_samples.cbegin() + m_filled);
}

QVector<qint64> LatencyWindow::samples() const
{
    QVector<qint64> out;
    out.reserve(m_filled);
    const int capacity = int(m_samples.size());
    const int start = m_filled < capacity ? 0 : m_next;
    for (int i = 0; i < m_filled; ++i)
        out.append(m_samples.at((start + i) % capacity));
    return out;
}

qint64 percentileOf(QVector<qint64> &samples, double q)
{
    if (samples.isEmpty())
        return 0;
    const qsizetype rank = qBound<qsizetype>(
        0, qsizetype(q * double(samples.size()) + 0.999999) - 1, samples.size() - 1);
    std::nth_element(samples.begin(), samples.begin() + rank, samples.end());
    return samples.at(rank);
}

qint64 ClockOffsetEstimator::addSample(qint64 commitUs, qint64 peerReceiveUs, qint64 arrivalUs)
{
    if (arrivalUs < commitUs)
        arrivalUs = commitUs;
    // offset >= receive - arrival; offset <= receive - commit.
    const Bounds sample {peerReceiveUs - arrivalUs, peerReceiveUs - commitUs};
    if (m_bounds.size() < Window) {
        m_bounds.append(sample);
    } else {
        m_bounds[m_next] = sample;
        m_next = (m_next + 1) % Window;
    }

    qint64 low = std::numeric_limits<qint64>::min();
    qint64 high = std::numeric_limits<qint64>::max();
    for (const Bounds &b : std::as_const(m_bounds)) {
        low = qMax(low, b.low);
        high = qMin(high, b.high);
    }
    if (low > high) {
        // The window disagrees with itself: the peer's clock stepped. Trust the newest.
        m_bounds = {sample};
        m_next = 0;
        low = sample.low;
        high = sample.high;
    }
    m_offset = (low <= 0 && high >= 0) ? 0 : (high < 0 ? high : low);

    return qBound<qint64>(0, peerReceiveUs - m_offset - commitUs, arrivalUs - commitUs);
}

} // namespace OddsDesk
