#include "price.h"

namespace OddsDesk {

PriceParseResult parsePrice(QStringView text)
{
    PriceParseResult result;
    const QStringView trimmed = text.trimmed();
    if (trimmed.isEmpty()) {
        result.error = QStringLiteral("Enter a price, such as 2.50.");
        return result;
    }

    qint64 whole = 0;
    qint64 fraction = 0;
    int decimals = 0;
    bool seenPoint = false;
    bool seenDigit = false;
    for (const QChar c : trimmed) {
        if (c == QLatin1Char('.') && !seenPoint) {
            seenPoint = true;
            continue;
        }
        if (!c.isDigit() || c.unicode() > 0x7f) {
            result.error = QStringLiteral("\"%1\" is not a price: use decimal odds such as 2.50.")
                               .arg(trimmed.toString());
            return result;
        }
        seenDigit = true;
        const int digit = c.unicode() - '0';
        if (seenPoint) {
            if (++decimals > 2) {
                result.error = QStringLiteral("%1 has more than two decimals; prices are quoted "
                                              "in hundredths.")
                                   .arg(trimmed.toString());
                return result;
            }
            fraction = fraction * 10 + digit;
        } else {
            whole = whole * 10 + digit;
            if (whole > MaxPrice) // stop before an absurd number overflows
                break;
        }
    }
    if (!seenDigit) {
        result.error = QStringLiteral("\"%1\" is not a price: use decimal odds such as 2.50.")
                           .arg(trimmed.toString());
        return result;
    }

    if (decimals == 1)
        fraction *= 10;
    const qint64 hundredths = whole * 100 + fraction;
    if (hundredths < MinPrice) {
        result.error = QStringLiteral("%1 is below 1.01, the shortest price allowed.")
                           .arg(trimmed.toString());
        return result;
    }
    if (hundredths > MaxPrice) {
        result.error = QStringLiteral("%1 is above 1000, the longest price allowed.")
                           .arg(trimmed.toString());
        return result;
    }
    result.price = Price(hundredths);
    return result;
}

bool isValidPrice(qint64 price)
{
    return price >= MinPrice && price <= MaxPrice;
}

QString formatDecimal(Price price)
{
    return QStringLiteral("%1.%2").arg(price / 100).arg(price % 100, 2, 10, QLatin1Char('0'));
}

double impliedPercent(Price price)
{
    return price == 0 ? 0.0 : 10000.0 / double(price);
}

} // namespace OddsDesk
