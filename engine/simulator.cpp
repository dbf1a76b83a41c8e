#include "simulator.h"

#include "clock.h"
#include "ladder.h"

namespace OddsDesk {
namespace {

// 20 ms ticks: smooth enough that 1,000 changes a second arrive as a steady stream rather
// than in bursts, cheap enough to cost nothing when idle.
constexpr int TickMs = 20;
// Never more than this many moves in one tick, however late the tick fires.
constexpr int MaxMovesPerTick = 500;

} // namespace

PriceSimulator::PriceSimulator(Feed *feed, QObject *parent)
    : QObject(parent)
    , m_feed(feed)
    , m_random(QRandomGenerator::securelySeeded())
{
    m_timer.setInterval(TickMs);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &PriceSimulator::tick);
    connect(m_feed, &Feed::bookReset, this, [this] { m_targetMargin.clear(); });
}

void PriceSimulator::setEnabled(bool enabled)
{
    if (enabled == isEnabled())
        return;
    if (enabled) {
        m_owed = 0;
        m_lastTickUs = monotonicMicros();
        m_timer.start();
    } else {
        m_timer.stop();
    }
}

void PriceSimulator::setRate(int changesPerSecond)
{
    m_rate = qBound(1, changesPerSecond, 100000);
}

void PriceSimulator::tick()
{
    const qint64 now = monotonicMicros();
    m_owed += double(m_rate) * double(now - m_lastTickUs) / 1e6;
    m_lastTickUs = now;
    int moves = 0;
    while (m_owed >= 1.0 && moves < MaxMovesPerTick) {
        m_owed -= qMax(1, step());
        ++moves;
    }
    if (m_owed > MaxMovesPerTick)
        m_owed = 0; // the machine could not keep up; do not try to catch up in a burst
}

int PriceSimulator::step()
{
    const auto &markets = m_feed->book().markets();
    if (markets.isEmpty())
        return 0;
    // A few tries to find an open market with at least two priced selections.
    const MarketInfo *market = nullptr;
    for (int attempt = 0; attempt < 8 && !market; ++attempt) {
        const MarketInfo &candidate = markets.at(int(m_random.bounded(int(markets.size()))));
        if (candidate.status == MarketStatus::Open && candidate.selections.size() >= 2
            && (!m_filter || m_filter(candidate)))
            market = &candidate;
    }
    if (!market)
        return 0;

    const auto target = m_targetMargin.find(market->id);
    const double margin = target != m_targetMargin.end()
        ? *target
        : *m_targetMargin.insert(market->id, marginPercent(*market));

    const int count = int(market->selections.size());
    const int moved = int(m_random.bounded(count));
    int balancer = int(m_random.bounded(count - 1));
    if (balancer >= moved)
        ++balancer;
    const SelectionInfo movedSel = market->selections.at(moved);
    const SelectionInfo balancerSel = market->selections.at(balancer);

    const int ticks = (m_random.bounded(2) ? 1 : -1) * int(1 + m_random.bounded(2));
    const Price movedPrice = Ladder::exchange().step(movedSel.price, ticks);
    if (movedPrice == movedSel.price)
        return 0;

    // The balancing selection takes up whatever implied probability keeps the margin.
    double others = 0;
    for (int i = 0; i < count; ++i) {
        if (i != moved && i != balancer)
            others += impliedPercent(market->selections.at(i).price);
    }
    const double wanted = margin - others - impliedPercent(movedPrice);
    Price balancerPrice = balancerSel.price;
    if (wanted > 0.1)
        balancerPrice
            = Ladder::exchange().nearest(Price(qBound(101.0, 10000.0 / wanted, 100000.0)));

    const Feed::OriginScope origin(m_feed, ChangeOrigin::Simulator);
    int changes = 0;
    // The market reference may move once the first change commits: use the copies.
    if (m_feed->setPrice(movedSel.id, movedPrice).isEmpty())
        ++changes;
    if (balancerPrice != balancerSel.price
        && m_feed->setPrice(balancerSel.id, balancerPrice).isEmpty())
        ++changes;
    return changes;
}

} // namespace OddsDesk
