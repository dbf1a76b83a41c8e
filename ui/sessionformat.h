#pragma once

#include "sessioninfo.h"

#include <QColor>
#include <QString>

namespace OddsDesk {

/// What a session is doing now, as support staff name it.
enum class SessionState : quint8 {
    Connected, // live and acknowledging
    Stale, // live, but deltas sent have gone unacknowledged for three heartbeats
    Retained, // disconnected; kept so that the client can resume
};

SessionState sessionState(const SessionSummary &session);
/// "connected", "stale" or "retained": the words the inspector shows and searches.
QString sessionStateName(SessionState state);
/// The background the desk paints behind a state; invalid for a plain connected session.
QColor sessionStateColor(SessionState state);

// Fixed formats rather than the locale's, as in the market grid: the desk reads figures the
// same way on every machine, and a support ticket quotes them the same way.

/// Microseconds as milliseconds with one decimal ("12.3"); an empty string for 0, which the
/// engine reports when a session has no latency samples yet.
QString formatLatencyMs(qint64 micros);
/// "512 B", "14.2 kB", "3.1 MB", "1.2 GB" (powers of 1000).
QString formatBytes(double bytes);
/// A session's queue: "14.2 kB", "14.2 kB, 37 held" with deltas held back for it, and an
/// empty string when nothing waits.
QString formatQueue(qint64 queuedBytes, int owedDeltas);
/// A duration for people: "850 ms", "4.2 s", "3 min 07 s", "2 h 05 min".
QString formatDuration(qint64 millis);
/// UTC wall time as the desk's local clock time, "HH:mm:ss".
QString formatClockTime(qint64 wallMillis);
/// UTC wall time with the date, for tool tips and reports: "Tue 14 May 2024 10:18:03".
QString formatDateTime(qint64 wallMillis);
/// A count grouped in thousands: "20,000".
QString formatCount(qint64 count);

} // namespace OddsDesk
