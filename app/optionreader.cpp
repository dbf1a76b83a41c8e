#include "optionreader.h"

#include <algorithm>

bool parseWholeNumber(QStringView text, bool negativeAllowed, qint64 *value)
{
    QStringView digits = text;
    if (negativeAllowed && digits.startsWith(QLatin1Char('-'))) {
        digits = digits.mid(1);
        // "-0" is no value below zero: a slip, as "+0" is.
        if (digits.startsWith(QLatin1Char('0')))
            return false;
    }
    const bool plain = !digits.isEmpty()
        && std::all_of(digits.cbegin(), digits.cend(),
            [](QChar c) { return c >= QLatin1Char('0') && c <= QLatin1Char('9'); });
    bool ok = false;
    const qint64 parsed = plain ? text.toLongLong(&ok) : 0;
    if (ok)
        *value = parsed;
    return ok;
}

QString readIntOption(const QCommandLineParser &parser, const QCommandLineOption &option, int low,
    int high, int *value)
{
    if (!parser.isSet(option))
        return QString();
    const QString name = option.names().first();
    // Given twice, the last wins, as with most tools: a wrapper script appends what it
    // overrides.
    const QString text = parser.value(option);
    const QString range = QStringLiteral("a whole number from %1 to %2").arg(low).arg(high);
    if (text.isEmpty())
        return QStringLiteral("--%1 takes %2, not an empty value").arg(name, range);
    qint64 parsed = 0;
    if (!parseWholeNumber(text, low < 0, &parsed) || parsed < low || parsed > high)
        return QStringLiteral("--%1 takes %2, not \"%3\"").arg(name, range, text);
    *value = int(parsed);
    return QString();
}
