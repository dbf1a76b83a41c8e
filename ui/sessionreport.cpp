#include "sessionreport.h"

#include "sessionformat.h"

#include <QJsonArray>
#include <QJsonObject>

#include <algorithm>

namespace OddsDesk {
namespace {

// Bumped when a field changes meaning or goes; new fields do not bump it.
constexpr int ReportVersion = 1;

QJsonValue isoTime(qint64 wallMillis)
{
    if (wallMillis <= 0)
        return QJsonValue::Null;
    return QDateTime::fromMSecsSinceEpoch(wallMillis, Qt::UTC).toString(Qt::ISODateWithMs);
}

// Fixed words, not the desk's translations: tools read the report.
QString stateKey(SessionState state)
{
    switch (state) {
    case SessionState::Connected:
        return QStringLiteral("connected");
    case SessionState::Stale:
        return QStringLiteral("stale");
    case SessionState::Retained:
        return QStringLiteral("retained");
    }
    return QString();
}

QString sourceKey(TimelineEntry::Source source)
{
    return source == TimelineEntry::Source::Client ? QStringLiteral("client")
                                                   : QStringLiteral("engine");
}

double millis(qint64 micros)
{
    return double(micros) / 1000.0;
}

QJsonObject summaryObject(const SessionSummary &s)
{
    QJsonObject o;
    o.insert(QStringLiteral("id"), s.id);
    o.insert(QStringLiteral("user"), s.user);
    o.insert(QStringLiteral("clientName"), s.clientName);
    o.insert(QStringLiteral("clientVersion"), s.clientVersion);
    o.insert(QStringLiteral("remoteAddress"), s.remoteAddress);
    o.insert(QStringLiteral("state"), stateKey(sessionState(s)));
    o.insert(QStringLiteral("connected"), s.connected);
    o.insert(QStringLiteral("staleNow"), s.staleNow);
    o.insert(QStringLiteral("createdAt"), isoTime(s.createdMs));
    o.insert(QStringLiteral("connectedSince"), isoTime(s.connectedSinceMs));
    o.insert(QStringLiteral("reconnects"), s.reconnects);
    o.insert(QStringLiteral("resumes"), s.resumes);
    o.insert(QStringLiteral("snapshotFallbacks"), s.snapshotFallbacks);
    o.insert(QStringLiteral("gaps"), s.gaps);
    o.insert(QStringLiteral("lag"), qint64(s.lag));
    o.insert(QStringLiteral("queuedBytes"), s.queuedBytes);
    o.insert(QStringLiteral("owedDeltas"), s.owedDeltas);
    o.insert(QStringLiteral("latencyP50Ms"), millis(s.latencyP50Us));
    o.insert(QStringLiteral("latencyP99Ms"), millis(s.latencyP99Us));
    o.insert(QStringLiteral("framesOut"), qint64(s.framesOut));
    o.insert(QStringLiteral("bytesOut"), qint64(s.bytesOut));
    o.insert(QStringLiteral("staleMs"), s.staleMs);
    o.insert(QStringLiteral("telemetryDropped"), qint64(s.telemetryDropped));
    return o;
}

QJsonArray timelineArray(QVector<TimelineEntry> timeline)
{
    std::stable_sort(timeline.begin(), timeline.end(),
        [](const TimelineEntry &a, const TimelineEntry &b) { return a.timeMs < b.timeMs; });
    QJsonArray entries;
    for (const TimelineEntry &entry : std::as_const(timeline)) {
        QJsonObject o;
        o.insert(QStringLiteral("time"), isoTime(entry.timeMs));
        o.insert(QStringLiteral("timeMs"), entry.timeMs);
        o.insert(QStringLiteral("source"), sourceKey(entry.source));
        o.insert(QStringLiteral("kind"), entry.kind);
        o.insert(QStringLiteral("detail"), entry.detail);
        entries.append(o);
    }
    return entries;
}

} // namespace

QJsonDocument sessionReport(const SessionDetail &detail, const QDateTime &generatedAt)
{
    QJsonObject report;
    report.insert(QStringLiteral("report"), QStringLiteral("oddsdesk-session"));
    report.insert(QStringLiteral("version"), ReportVersion);
    report.insert(QStringLiteral("generatedAt"), generatedAt.toUTC().toString(Qt::ISODateWithMs));
    report.insert(QStringLiteral("session"), summaryObject(detail.summary));

    QJsonArray latencies;
    for (qint64 micros : detail.recentLatencyUs)
        latencies.append(millis(micros));
    report.insert(QStringLiteral("recentLatencyMs"), latencies);
    report.insert(QStringLiteral("timeline"), timelineArray(detail.timeline));
    return QJsonDocument(report);
}

} // namespace OddsDesk
