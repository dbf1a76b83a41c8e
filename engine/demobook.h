#pragma once

#include "book.h"

#include <QDate>

namespace OddsDesk {

/// A believable book the project invents for demos, benchmarks and tests; nothing in it comes
/// from a real data file. Five invented leagues of invented clubs (some with names such as
/// "Brøndvik IF", "Yeşiltepe SK" or "FC Grünwiesen") play round-robin fixtures at the usual
/// kick-off times, from the day after today (UTC) on, in chronological order. Each event has
/// a "Match Odds" market (kind "1x2": home team, "Draw", away team) and an "Over/Under 2.5
/// Goals" market (kind "ou25": "Over 2.5", "Under 2.5"), all open. Prices come from a random
/// strength per club and a goal model, so favourites, outsiders and high-scoring leagues look
/// like a real book; they lie on the exchange ladder and each market's margin is between 103 %
/// and 107 %. Events, markets and selections are numbered from 1, each with its own counter.
/// The same seed gives the same clubs and prices; the fixtures move with the day the book is
/// generated on.
BookData generateDemoBook(quint32 seed = 1, int eventCount = 120);

/// As above, with the first fixtures on \a firstDay (UTC): the same seed and day give the same
/// book, whenever it is generated.
BookData generateDemoBook(quint32 seed, int eventCount, const QDate &firstDay);

} // namespace OddsDesk
