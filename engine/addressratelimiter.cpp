#include "addressratelimiter.h"

#include <QtGlobal>

#include <cmath>

namespace OddsDesk {

AddressRateLimiter::AddressRateLimiter(double ratePerSecond, double burst, int maxAddresses)
    : m_rate(ratePerSecond)
    , m_burst(qMax(1.0, burst))
    , m_maxAddresses(qMax(1, maxAddresses))
{ }

double AddressRateLimiter::refilled(const Bucket &bucket, qint64 nowUs) const
{
    // A clock that seems to go back refills nothing rather than taking tokens away.
    const qint64 elapsedUs = qMax<qint64>(0, nowUs - bucket.refilledUs);
    return qMin(m_burst, bucket.tokens + m_rate * double(elapsedUs) / 1e6);
}

bool AddressRateLimiter::take(const QString &address, qint64 nowUs, int *retryAfterMs)
{
    if (!enabled())
        return true;
    auto it = m_buckets.find(address);
    if (it == m_buckets.end()) {
        // Pruning walks every bucket: when the table is full, at most once a second.
        if (m_buckets.size() >= m_maxAddresses && nowUs - m_lastFullPruneUs >= 1000 * 1000) {
            m_lastFullPruneUs = nowUs;
            prune(nowUs);
        }
        if (m_buckets.size() >= m_maxAddresses)
            return true; // untracked: see the class comment
        it = m_buckets.insert(address, Bucket {m_burst, nowUs});
    }
    Bucket &bucket = *it;
    bucket.tokens = refilled(bucket, nowUs);
    bucket.refilledUs = nowUs;
    if (bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        return true;
    }
    if (retryAfterMs)
        *retryAfterMs = int(std::ceil((1.0 - bucket.tokens) / m_rate * 1000.0));
    return false;
}

void AddressRateLimiter::prune(qint64 nowUs)
{
    for (auto it = m_buckets.begin(); it != m_buckets.end();) {
        if (refilled(*it, nowUs) >= m_burst)
            it = m_buckets.erase(it);
        else
            ++it;
    }
}

} // namespace OddsDesk
