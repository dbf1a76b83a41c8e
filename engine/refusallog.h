#pragma once

#include "metrics.h"

#include <QLoggingCategory>
#include <QMutex>
#include <QString>

#include <array>

namespace OddsDesk {

/// Counts every refusal by its reason and logs it, one line per refusal, but at most one
/// line per reason in each interval: a flood of bad connections is a count on /metrics and
/// a line a second in the operator's log, never a log written by the attacker. The line
/// that ends a quiet spell says how many were left out before it.
///
/// Thread-safe: the network threads and the engine thread record into one log.
class RefusalLog
{
public:
    // One line a second per reason: an operator sees that it goes on and how fast (from the
    // counts the lines carry), and sixteen reasons cannot write more than sixteen lines a
    // second between them.
    static constexpr qint64 DefaultIntervalUs = 1000 * 1000;

    explicit RefusalLog(const QLoggingCategory &category, qint64 intervalUs = DefaultIntervalUs);

    /// Counts a refusal and logs \a line (one printable line, the caller's) unless this
    /// reason has already been logged within the interval. Returns whether it logged.
    bool record(Refusal reason, const QString &line, qint64 nowUs);
    /// Counts without logging, for refusals that have just been logged another way.
    void count(Refusal reason);

    quint64 total(Refusal reason) const;
    std::array<quint64, RefusalCount> totals() const;

private:
    struct Entry
    {
        quint64 total = 0;
        quint64 suppressed = 0; // since the last line
        qint64 lastLoggedUs = 0;
        bool logged = false;
    };

    const QLoggingCategory &m_category;
    qint64 m_intervalUs;
    mutable QMutex m_mutex;
    std::array<Entry, RefusalCount> m_entries;
};

/// \a text as one printable line of at most \a maxLength characters: what a client sent
/// may be quoted in a log line, but never as lines of its own.
QString printableLine(const QString &text, int maxLength = 200);

} // namespace OddsDesk
