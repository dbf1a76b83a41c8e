#include "ladder.h"

#include <algorithm>
#include <cstdlib>

namespace OddsDesk {
namespace {

struct Band
{
    Price from;
    Price to;
    Price increment;
};

// The exchange price ladder, in hundredths.
constexpr Band ExchangeBands[] = {
    {101, 200, 1},
    {200, 300, 2},
    {300, 400, 5},
    {400, 600, 10},
    {600, 1000, 20},
    {1000, 2000, 50},
    {2000, 3000, 100},
    {3000, 5000, 200},
    {5000, 10000, 500},
    {10000, 100000, 1000},
};

struct Fraction
{
    int numerator;
    int denominator;
};

// The fractions bookmakers quote, shortest first.
constexpr Fraction UsualFractions[] = {
    {1, 100},
    {1, 50},
    {1, 33},
    {1, 25},
    {1, 20},
    {1, 16},
    {1, 14},
    {1, 12},
    {1, 10},
    {1, 9},
    {1, 8},
    {2, 11},
    {1, 5},
    {2, 9},
    {1, 4},
    {2, 7},
    {3, 10},
    {1, 3},
    {4, 11},
    {2, 5},
    {4, 9},
    {1, 2},
    {8, 15},
    {4, 7},
    {8, 13},
    {4, 6},
    {8, 11},
    {4, 5},
    {5, 6},
    {10, 11},
    {1, 1},
    {11, 10},
    {6, 5},
    {5, 4},
    {11, 8},
    {7, 5},
    {6, 4},
    {8, 5},
    {13, 8},
    {7, 4},
    {15, 8},
    {2, 1},
    {9, 4},
    {5, 2},
    {11, 4},
    {3, 1},
    {10, 3},
    {7, 2},
    {4, 1},
    {9, 2},
    {5, 1},
    {11, 2},
    {6, 1},
    {13, 2},
    {7, 1},
    {15, 2},
    {8, 1},
    {17, 2},
    {9, 1},
    {10, 1},
    {11, 1},
    {12, 1},
    {14, 1},
    {16, 1},
    {18, 1},
    {20, 1},
    {22, 1},
    {25, 1},
    {28, 1},
    {33, 1},
    {40, 1},
    {50, 1},
    {66, 1},
    {80, 1},
    {100, 1},
    {125, 1},
    {150, 1},
    {200, 1},
    {250, 1},
    {300, 1},
    {400, 1},
    {500, 1},
    {750, 1},
    {999, 1},
};

// 1 + n/d in hundredths, rounded to the nearest hundredth (10/11 is quoted as 1.91).
Price decimalOf(const Fraction &f)
{
    return Price(100 + (200 * f.numerator + f.denominator) / (2 * f.denominator));
}

QVector<Price> exchangeSteps()
{
    QVector<Price> steps;
    for (const Band &band : ExchangeBands) {
        for (Price p = band.from; p < band.to; p += band.increment)
            steps.append(p);
    }
    steps.append(MaxPrice);
    return steps;
}

QVector<Price> bookmakerSteps()
{
    QVector<Price> steps;
    for (const Fraction &f : UsualFractions) {
        const Price p = std::clamp(decimalOf(f), MinPrice, MaxPrice);
        if (steps.isEmpty() || steps.last() < p)
            steps.append(p);
    }
    return steps;
}

} // namespace

Ladder::Ladder(LadderKind kind)
    : m_kind(kind)
    , m_steps(kind == LadderKind::Exchange ? exchangeSteps() : bookmakerSteps())
{ }

const Ladder &Ladder::exchange()
{
    static const Ladder ladder(LadderKind::Exchange);
    return ladder;
}

const Ladder &Ladder::bookmaker()
{
    static const Ladder ladder(LadderKind::Bookmaker);
    return ladder;
}

const Ladder &Ladder::of(LadderKind kind)
{
    return kind == LadderKind::Exchange ? exchange() : bookmaker();
}

Price Ladder::step(Price price, int ticks) const
{
    if (ticks == 0 || m_steps.isEmpty())
        return price;

    qsizetype index;
    if (ticks > 0) {
        // The first step above the price counts as the first tick up.
        auto it = std::upper_bound(m_steps.cbegin(), m_steps.cend(), price);
        index = (it - m_steps.cbegin()) + ticks - 1;
    } else {
        // The first step below the price counts as the first tick down.
        auto it = std::lower_bound(m_steps.cbegin(), m_steps.cend(), price);
        index = (it - m_steps.cbegin()) + ticks;
    }
    index = std::clamp<qsizetype>(index, 0, m_steps.size() - 1);
    return m_steps.at(index);
}

Price Ladder::nearest(Price price) const
{
    auto it = std::lower_bound(m_steps.cbegin(), m_steps.cend(), price);
    if (it == m_steps.cend())
        return m_steps.last();
    if (it == m_steps.cbegin() || *it == price)
        return *it;
    const Price above = *it;
    const Price below = *(it - 1);
    return (above - price) < (price - below) ? above : below;
}

bool Ladder::isOnLadder(Price price) const
{
    return std::binary_search(m_steps.cbegin(), m_steps.cend(), price);
}

QString nearestFraction(Price price)
{
    const Fraction *best = &UsualFractions[0];
    for (const Fraction &f : UsualFractions) {
        if (std::abs(int(decimalOf(f)) - int(price)) < std::abs(int(decimalOf(*best)) - int(price)))
            best = &f;
    }
    if (best->numerator == best->denominator)
        return QStringLiteral("evens");
    return QStringLiteral("%1/%2").arg(best->numerator).arg(best->denominator);
}

QString formatOdds(Price price, OddsDisplay display)
{
    switch (display) {
    case OddsDisplay::Decimal:
        return formatDecimal(price);
    case OddsDisplay::Fractional:
        return nearestFraction(price);
    case OddsDisplay::American:
        // Odds against: the profit on 100 staked; odds on: the stake that wins 100.
        if (price >= 200)
            return QStringLiteral("+%1").arg(price - 100);
        return QStringLiteral("-%1").arg(qRound(10000.0 / double(price - 100)));
    }
    return formatDecimal(price);
}

} // namespace OddsDesk
