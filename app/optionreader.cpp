#include "optionreader.h"

#include <algorithm>

bool isPlainWholeNumber(QStringView text, bool negativeAllowed)
{
    if (negativeAllowed && text.startsWith(QLatin1Char('-')))
        text = text.mid(1);
    return !text.isEmpty() && std::all_of(text.cbegin(), text.cend(), [](QChar c) {
        return c >= QLatin1Char('0') && c <= QLatin1Char('9');
    });
}

QString readIntOption(const QCommandLineParser &parser, const QCommandLineOption &option, int low,
    int high, int *value)
{
    if (!parser.isSet(option))
        return QString();
    const QString text = parser.value(option);
    bool ok = isPlainWholeNumber(text, low < 0);
    const int parsed = ok ? text.toInt(&ok) : 0;
    if (!ok || parsed < low || parsed > high) {
        return QStringLiteral("--%1 takes a whole number from %2 to %3, not \"%4\"")
            .arg(option.names().first())
            .arg(low)
            .arg(high)
            .arg(text);
    }
    *value = parsed;
    return QString();
}
