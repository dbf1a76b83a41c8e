#pragma once

#include "book.h"
#include "ladder.h"

#include <QMetaType>
#include <QString>
#include <QVector>

namespace OddsDesk {

/// One decision of the desk: price and status changes made together. The engine applies an
/// edit whole or not at all, in one flush (so clients receive it as one delta), and the audit
/// log records its changes as one bulk operation when there is more than one.
///
/// Each change carries what the trader saw when they made it. If the book no longer holds
/// that value (the simulator, a replay or another trader moved it), the edit is a conflict:
/// nothing is applied and the trader is shown both values.
struct DeskEdit
{
    struct PriceChange
    {
        quint32 selectionId = 0;
        Price price = 0;
        Price seen = 0; // 0: the trader saw nothing to check against
    };
    struct StatusChange
    {
        quint32 marketId = 0;
        MarketStatus status = MarketStatus::Open;
        MarketStatus seen = MarketStatus::Unknown; // Unknown: not checked
    };

    QString description; // for the undo history: "Shift 10 prices up 2 ticks"
    QVector<PriceChange> prices;
    QVector<StatusChange> statuses;

    bool isEmpty() const { return prices.isEmpty() && statuses.isEmpty(); }
    int size() const { return int(prices.size() + statuses.size()); }
    /// The edit that takes this one back, when it holds what was applied: every value back
    /// to the one it replaced, checked against the value it set.
    DeskEdit inverse() const;
};

/// A change of an edit that met a different value from the one the trader saw.
struct EditConflict
{
    quint32 marketId = 0;
    quint32 selectionId = 0; // 0 for a status change
    QString marketName;
    QString selectionName;
    // For a price change.
    Price seenPrice = 0;
    Price currentPrice = 0;
    Price wantedPrice = 0;
    // For a status change.
    MarketStatus seenStatus = MarketStatus::Unknown;
    MarketStatus currentStatus = MarketStatus::Unknown;
    MarketStatus wantedStatus = MarketStatus::Unknown;
};

/// The engine's answer to an edit. Exactly one of: applied, refused with a sentence (a
/// change no choice can make valid), or in conflict with the book.
struct EditResult
{
    quint64 requestId = 0;
    bool applied = false;
    QString error;
    QVector<EditConflict> conflicts;
    /// What was applied, each change's seen value being the one it replaced (changes that
    /// set a value the book already had are left out).
    DeskEdit done;
    qint64 bulkId = 0; // 0 for a single change
    quint64 firstSequence = 0;
    quint64 lastSequence = 0;
};

/// Every selection of \a market moved by \a ticks steps of \a ladder, in selection order.
/// Unpriced selections keep 0.
QVector<Price> shiftedPrices(const MarketInfo &market, int ticks, const Ladder &ladder);

/// The market's margin, in percent, with these prices for its selections (in order).
double marginPercent(const QVector<Price> &prices);

/// Prices for the selections of \a market (in order) that bring its margin as close to
/// \a targetPercent as \a ladder allows: every price scaled by the same factor, rounded to
/// the ladder, then single steps taken while one brings the margin closer. No one-step move
/// of any selection from the result is closer to the target without putting that selection
/// ahead of one it was behind (the favourite stays the favourite). Selections without a price
/// keep 0; a market with none comes back unchanged.
QVector<Price> pricesForMargin(
    const MarketInfo &market, double targetPercent, const Ladder &ladder);

} // namespace OddsDesk

Q_DECLARE_METATYPE(OddsDesk::DeskEdit)
Q_DECLARE_METATYPE(OddsDesk::EditResult)
