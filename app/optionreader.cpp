#include "optionreader.h"

#include <algorithm>

bool isPlainWholeNumber(QStringView text, bool negativeAllowed)
{
    if (negativeAllowed && text.startsWith(QLatin1Char('-'))) {
        text = text.mid(1);
        // "-0" is no value below zero: a slip, as "+0" is.
        if (text.startsWith(QLatin1Char('0')))
            return false;
    }
    return !text.isEmpty() && std::all_of(text.cbegin(), text.cend(), [](QChar c) {
        return c >= QLatin1Char('0') && c <= QLatin1Char('9');
    });
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
    bool ok = isPlainWholeNumber(text, low < 0);
    const int parsed = ok ? text.toInt(&ok) : 0;
    if (!ok || parsed < low || parsed > high)
        return QStringLiteral("--%1 takes %2, not \"%3\"").arg(name, range, text);
    *value = parsed;
    return QString();
}
