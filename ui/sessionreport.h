#pragma once

#include "sessioninfo.h"

#include <QDateTime>
#include <QJsonDocument>

namespace OddsDesk {

/// The "session report" support staff paste into a ticket: one JSON document with the
/// session's figures, its recent latencies and its whole timeline, oldest first. Times are
/// given twice, as ISO 8601 UTC for people and as milliseconds since the epoch for tools;
/// latencies are in milliseconds.
///
///   {"report": "oddsdesk-session", "version": 1, "generatedAt": "...",
///    "session": {"id": ..., "state": "connected", "latencyP99Ms": 12.3, ...},
///    "recentLatencyMs": [...], "timeline": [{"time": ..., "source": "client", ...}]}
QJsonDocument sessionReport(
    const SessionDetail &detail, const QDateTime &generatedAt = QDateTime::currentDateTimeUtc());

} // namespace OddsDesk
