#include "deskedit.h"

#include <cmath>

namespace OddsDesk {

DeskEdit DeskEdit::inverse() const
{
    DeskEdit result;
    result.description = description;
    for (auto it = prices.crbegin(); it != prices.crend(); ++it)
        result.prices.append(PriceChange {it->selectionId, it->seen, it->price});
    for (auto it = statuses.crbegin(); it != statuses.crend(); ++it)
        result.statuses.append(StatusChange {it->marketId, it->seen, it->status});
    return result;
}

QVector<Price> shiftedPrices(const MarketInfo &market, int ticks, const Ladder &ladder)
{
    QVector<Price> result;
    result.reserve(market.selections.size());
    for (const SelectionInfo &selection : market.selections)
        result.append(selection.price ? ladder.step(selection.price, ticks) : 0);
    return result;
}

double marginPercent(const QVector<Price> &prices)
{
    double sum = 0;
    for (Price price : prices)
        sum += impliedPercent(price);
    return sum;
}

QVector<Price> pricesForMargin(const MarketInfo &market, double targetPercent, const Ladder &ladder)
{
    QVector<Price> prices;
    prices.reserve(market.selections.size());
    for (const SelectionInfo &selection : market.selections)
        prices.append(selection.price);
    const double current = marginPercent(prices);
    if (current <= 0 || targetPercent <= 0)
        return prices;

    // Every implied probability scaled by the same factor keeps the market's shape.
    const double factor = current / targetPercent;
    for (Price &price : prices) {
        if (price == 0)
            continue;
        const double scaled
            = std::clamp(std::round(price * factor), double(MinPrice), double(MaxPrice));
        price = ladder.nearest(Price(scaled));
    }

    // Rounding each price to the ladder moves the margin; single steps win some of it back,
    // but never one that puts a selection ahead of another it was behind. Each step strictly
    // improves the distance, so this ends; the bound only guards it.
    QVector<Price> original;
    for (const SelectionInfo &selection : market.selections)
        original.append(selection.price);
    const auto keepsOrder = [&original](const QVector<Price> &p, int moved) {
        for (int j = 0; j < p.size(); ++j) {
            if (j == moved || p.at(j) == 0)
                continue;
            if ((original.at(moved) < original.at(j) && p.at(moved) > p.at(j))
                || (original.at(moved) > original.at(j) && p.at(moved) < p.at(j)))
                return false;
        }
        return true;
    };
    const auto distance = [targetPercent](const QVector<Price> &p) {
        return std::abs(marginPercent(p) - targetPercent);
    };
    for (int round = 0; round < 64; ++round) {
        double best = distance(prices);
        int bestIndex = -1;
        Price bestPrice = 0;
        for (int i = 0; i < prices.size(); ++i) {
            if (prices.at(i) == 0)
                continue;
            for (int direction : {-1, 1}) {
                QVector<Price> candidate = prices;
                candidate[i] = ladder.step(prices.at(i), direction);
                if (!keepsOrder(candidate, i))
                    continue;
                const double d = distance(candidate);
                if (d < best - 1e-9) {
                    best = d;
                    bestIndex = i;
                    bestPrice = candidate.at(i);
                }
            }
        }
        if (bestIndex < 0)
            break;
        prices[bestIndex] = bestPrice;
    }
    return prices;
}

} // namespace OddsDesk
