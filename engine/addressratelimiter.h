#pragma once

#include <QHash>
#include <QString>

namespace OddsDesk {

/// A token bucket per source address: each address may do something (say hello) at
/// \a ratePerSecond on average, with bursts of up to \a burst at once. Memory is bounded: an
/// address whose bucket has refilled is forgotten by prune(), and no more than
/// \a maxAddresses are tracked at once. Past that bound a new address is let through
/// untracked rather than refused, so that an attacker with many addresses cannot lock out
/// everyone else; the server's overall accept rate still bounds what they cost.
class AddressRateLimiter
{
public:
    // 100,000 addresses at about a hundred bytes each: ten megabytes at worst.
    static constexpr int DefaultMaxAddresses = 100000;

    /// A rate of 0 or less lets everything through.
    AddressRateLimiter(
        double ratePerSecond = 0, double burst = 1, int maxAddresses = DefaultMaxAddresses);

    bool enabled() const { return m_rate > 0; }

    /// Takes a token for \a address at \a nowUs (a monotonic clock). False when the
    /// address has none left; then \a retryAfterMs, if given, is how long until it has one.
    bool take(const QString &address, qint64 nowUs, int *retryAfterMs = nullptr);

    /// Forgets the addresses whose buckets are full again at \a nowUs.
    void prune(qint64 nowUs);

    int trackedAddresses() const { return int(m_buckets.size()); }

private:
    struct Bucket
    {
        double tokens = 0;
        qint64 refilledUs = 0;
    };

    double refilled(const Bucket &bucket, qint64 nowUs) const;

    double m_rate;
    double m_burst;
    int m_maxAddresses;
    qint64 m_lastFullPruneUs = 0;
    QHash<QString, Bucket> m_buckets;
};

} // namespace OddsDesk
