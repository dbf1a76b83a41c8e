#pragma once

#include <QString>
#include <QStringView>

namespace OddsDesk {

/// A count and its noun for a sentence: "1 line", "2 lines", "0 lines". The engine and the
/// command-line tools write English only and load no translations, so Qt's "%n" plurals
/// would print "1 line(s)" there; this picks the word itself.
inline QString counted(qint64 count, QStringView singular, QStringView plural)
{
    QString text = QString::number(count);
    text += QLatin1Char(' ');
    text += count == 1 ? singular : plural;
    return text;
}

} // namespace OddsDesk
