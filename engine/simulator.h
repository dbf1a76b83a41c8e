#pragma once

#include "feed.h"

#include <QHash>
#include <QObject>
#include <QRandomGenerator>
#include <QTimer>

#include <functional>

namespace OddsDesk {

/// Moves prices at random, the way a live market drifts: one selection steps a tick or two
/// along the exchange ladder and another moves the other way so that the market's margin
/// stays near where it started. Drives the feed like any other source.
class PriceSimulator : public QObject
{
    Q_OBJECT

public:
    explicit PriceSimulator(Feed *feed, QObject *parent = nullptr);

    bool isEnabled() const { return m_timer.isActive(); }
    void setEnabled(bool enabled);
    /// Price changes per second across the book.
    int rate() const { return m_rate; }
    void setRate(int changesPerSecond);
    /// Makes the moves repeatable (tests, benchmarks).
    void setSeed(quint32 seed) { m_random.seed(seed); }

    /// Markets the simulator may move; by default every open one. Markets that another
    /// source drives (an exchange replay) are left to that source.
    void setMarketFilter(std::function<bool(const MarketInfo &)> filter)
    {
        m_filter = std::move(filter);
    }

    /// Makes one move now: returns the number of price changes committed (0 to 2).
    int step();

private:
    void tick();

    Feed *m_feed;
    QTimer m_timer;
    QRandomGenerator m_random;
    std::function<bool(const MarketInfo &)> m_filter;
    QHash<quint32, double> m_targetMargin; // market id -> margin when first moved
    int m_rate = 20;
    double m_owed = 0; // fractional moves carried between ticks
    qint64 m_lastTickUs = 0;
};

} // namespace OddsDesk
