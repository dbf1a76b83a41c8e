#pragma once

#include "price.h"

#include <QString>
#include <QVector>

namespace OddsDesk {

enum class LadderKind { Exchange, Bookmaker };

/// The steps a price walks when a trader moves it up or down. A price between two steps
/// is valid; a step from it lands on the next step in that direction.
class Ladder
{
public:
    explicit Ladder(LadderKind kind);

    /// The shared instances; ladders never change.
    static const Ladder &exchange();
    static const Ladder &bookmaker();
    static const Ladder &of(LadderKind kind);

    LadderKind kind() const { return m_kind; }
    const QVector<Price> &steps() const { return m_steps; }

    /// \a price moved by \a ticks steps (negative: shorter). Clamped at the ends.
    Price step(Price price, int ticks) const;

    /// The step nearest to \a price (ties go to the shorter price).
    Price nearest(Price price) const;

    bool isOnLadder(Price price) const;

private:
    LadderKind m_kind;
    QVector<Price> m_steps;
};

enum class OddsDisplay { Decimal, Fractional, American };

/// A price as the desk chose to show it: "7.50", "13/2" or "+650".
QString formatOdds(Price price, OddsDisplay display);

/// The usual fraction nearest to \a price, as "numerator/denominator" ("evens" for 2.00).
QString nearestFraction(Price price);

} // namespace OddsDesk
