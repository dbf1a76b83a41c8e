#include "sessionformat.h"

#include <QCoreApplication>
#include <QDateTime>

namespace OddsDesk {

SessionState sessionState(const SessionSummary &session)
{
    if (!session.connected)
        return SessionState::Retained;
    return session.staleNow ? SessionState::Stale : SessionState::Connected;
}

QString sessionStateName(SessionState state)
{
    switch (state) {
    case SessionState::Connected:
        return QCoreApplication::translate("OddsDesk::SessionModel", "connected");
    case SessionState::Stale:
        return QCoreApplication::translate("OddsDesk::SessionModel", "stale");
    case SessionState::Retained:
        return QCoreApplication::translate("OddsDesk::SessionModel", "retained");
    }
    return QString();
}

QColor sessionStateColor(SessionState state)
{
    switch (state) {
    case SessionState::Stale:
        return QColor(0xff, 0xc4, 0xcc); // the grid's "shortened" pink, a shade stronger
    case SessionState::Retained:
        return QColor(0xff, 0xd8, 0x80); // the grid's "suspended" amber
    case SessionState::Connected:
        break;
    }
    return QColor();
}

QString formatLatencyMs(qint64 micros)
{
    if (micros <= 0)
        return QString();
    return QString::number(double(micros) / 1000.0, 'f', 1);
}

QString formatBytes(double bytes)
{
    static const char *const Units[] = {"kB", "MB", "GB", "TB"};
    if (bytes < 1000)
        return QStringLiteral("%1 B").arg(qint64(bytes));
    double value = bytes / 1000;
    int unit = 0;
    while (value >= 1000 && unit < 3) {
        value /= 1000;
        ++unit;
    }
    return QStringLiteral("%1 %2").arg(
        QString::number(value, 'f', value < 100 ? 1 : 0), QLatin1String(Units[unit]));
}

QString formatQueue(qint64 queuedBytes, int owedDeltas)
{
    if (owedDeltas <= 0)
        return queuedBytes > 0 ? formatBytes(double(queuedBytes)) : QString();
    return QStringLiteral("%1, %2 held").arg(formatBytes(double(queuedBytes))).arg(owedDeltas);
}

QString formatDuration(qint64 millis)
{
    if (millis < 1000)
        return QStringLiteral("%1 ms").arg(millis);
    if (millis < 60 * 1000)
        return QStringLiteral("%1 s").arg(QString::number(double(millis) / 1000, 'f', 1));
    const qint64 seconds = millis / 1000;
    if (seconds < 3600) {
        return QStringLiteral("%1 min %2 s")
            .arg(seconds / 60)
            .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    }
    return QStringLiteral("%1 h %2 min")
        .arg(seconds / 3600)
        .arg((seconds / 60) % 60, 2, 10, QLatin1Char('0'));
}

QString formatClockTime(qint64 wallMillis)
{
    if (wallMillis <= 0)
        return QString();
    return QDateTime::fromMSecsSinceEpoch(wallMillis).toString(QStringLiteral("HH:mm:ss"));
}

QString formatDateTime(qint64 wallMillis)
{
    if (wallMillis <= 0)
        return QString();
    return QDateTime::fromMSecsSinceEpoch(wallMillis)
        .toString(QStringLiteral("ddd d MMM yyyy HH:mm:ss"));
}

QString formatCount(qint64 count)
{
    QString digits = QString::number(count < 0 ? -count : count);
    for (int at = int(digits.size()) - 3; at > 0; at -= 3)
        digits.insert(at, QLatin1Char(','));
    return count < 0 ? QLatin1Char('-') + digits : digits;
}

} // namespace OddsDesk
