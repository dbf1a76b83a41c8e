#pragma once

#include <QString>
#include <QStringView>

#include <cstdint>

namespace OddsDesk {

/// Decimal odds held exactly as an integer number of hundredths: 157 is 1.57.
using Price = quint32;

constexpr Price MinPrice = 101; // 1.01: the shortest odds anyone quotes
constexpr Price MaxPrice = 100000; // 1000: the longest odds the exchanges accept

/// The outcome of reading a price a person or a file wrote. Either a valid price or a
/// sentence that says why not; never a silently rounded value.
struct PriceParseResult
{
    Price price = 0;
    QString error;

    bool ok() const { return error.isEmpty(); }
};

/// Reads "1.57", "7.5", "12" or "1000.00". Refuses more than two decimals, values outside
/// 1.01 to 1000, and anything that is not a plain decimal number.
PriceParseResult parsePrice(QStringView text);

/// True when \a price lies within MinPrice and MaxPrice.
bool isValidPrice(qint64 price);

/// "1.57", "7.50", "1000.00".
QString formatDecimal(Price price);

/// The implied probability of a price, in percent: 100 / odds.
double impliedPercent(Price price);

} // namespace OddsDesk
