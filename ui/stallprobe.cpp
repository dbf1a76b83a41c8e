#include "stallprobe.h"

#include "uilogging.h"

#include <algorithm>

namespace OddsDesk {
namespace {

// Stalls kept for the percentiles: a day of one a second; beyond it only the counters and
// the maximum move.
constexpr int StallsKept = 100000;
constexpr qint64 StallThresholdUs = 1000;

qint64 percentile(QVector<qint64> values, double q)
{
    if (values.isEmpty())
        return 0;
    const auto rank = qsizetype(q * double(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + rank, values.end());
    return values.at(rank);
}

} // namespace

StallProbe::StallProbe(QObject *parent, int intervalMs)
    : QObject(parent)
    , m_intervalMs(intervalMs)
{
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(m_intervalMs);
    connect(&m_timer, &QTimer::timeout, this, &StallProbe::onWake);
    m_clock.start();
}

void StallProbe::start()
{
    reset();
    m_timer.start();
}

void StallProbe::stop()
{
    m_timer.stop();
}

void StallProbe::reset()
{
    m_lastUs = m_startUs = m_clock.nsecsElapsed() / 1000;
    m_wakes = 0;
    m_stallsUs.clear();
    m_stallCount = 0;
    m_over50 = 0;
    m_maxUs = 0;
    m_secondMaxUs.fill(0);
    m_second = m_startUs / 1000000;
}

void StallProbe::onWake()
{
    const qint64 nowUs = m_clock.nsecsElapsed() / 1000;
    const qint64 lateUs = nowUs - m_lastUs - qint64(m_intervalMs) * 1000;
    m_lastUs = nowUs;
    ++m_wakes;

    const qint64 second = nowUs / 1000000;
    for (qint64 s = m_second + 1; s <= second && s <= m_second + qint64(m_secondMaxUs.size()); ++s)
        m_secondMaxUs[std::size_t(s % qint64(m_secondMaxUs.size()))] = 0;
    m_second = std::max(m_second, second);
    if (lateUs < StallThresholdUs)
        return;

    ++m_stallCount;
    if (m_stallsUs.size() < StallsKept)
        m_stallsUs.append(lateUs);
    m_over50 += lateUs > 50000;
    m_maxUs = std::max(m_maxUs, lateUs);
    qint64 &slot = m_secondMaxUs[std::size_t(second % qint64(m_secondMaxUs.size()))];
    slot = std::max(slot, lateUs);
    if (lateUs > qint64(WarnAboveMs) * 1000) {
        qCWarning(lcUiWindow) << "the window did not answer for" << lateUs / 1000 << "ms";
        Q_EMIT longStall(lateUs);
    }
}

StallProbe::Stats StallProbe::stats() const
{
    Stats s;
    s.wakes = m_wakes;
    s.stalls = m_stallCount;
    s.over50Ms = m_over50;
    s.p50Us = percentile(m_stallsUs, 0.50);
    s.p99Us = percentile(m_stallsUs, 0.99);
    s.maxUs = m_maxUs;
    s.elapsedMs = (m_clock.nsecsElapsed() / 1000 - m_startUs) / 1000;
    return s;
}

qint64 StallProbe::recentMaxUs() const
{
    return *std::max_element(m_secondMaxUs.cbegin(), m_secondMaxUs.cend());
}

} // namespace OddsDesk
