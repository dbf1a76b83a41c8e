#include "optionreader.h"

QString readIntOption(const QCommandLineParser &parser, const QCommandLineOption &option, int low,
    int high, int *value)
{
    if (!parser.isSet(option))
        return QString();
    bool ok = false;
    const int parsed = parser.value(option).toInt(&ok);
    if (!ok || parsed < low || parsed > high) {
        return QStringLiteral("--%1 takes a whole number from %2 to %3, not \"%4\"")
            .arg(option.names().first())
            .arg(low)
            .arg(high)
            .arg(parser.value(option));
    }
    *value = parsed;
    return QString();
}
