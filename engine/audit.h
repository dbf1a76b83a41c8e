#pragma once

#include <QMetaType>
#include <QString>
#include <QVector>

namespace OddsDesk {

/// One line of the audit trail: who changed what, from which value to which.
struct AuditEntry
{
    qint64 id = 0; // assigned by the store; 0 before it is recorded
    qint64 timeMs = 0; // UTC wall time of the edit
    QString user;
    QString source; // "desk", "import", "replay", "simulator"
    quint32 marketId = 0;
    quint32 selectionId = 0; // 0 for a market-level change
    QString field; // "price", "status", "winner", "market", "event"
    QString oldValue;
    QString newValue;
    qint64 bulkId = 0; // shared by the entries of one bulk edit; 0 when not part of one
    quint64 sequence = 0; // the feed sequence of the change
};

/// Which audit entries to read. Empty or zero fields do not filter.
struct AuditFilter
{
    qint64 fromMs = 0; // inclusive
    qint64 toMs = 0; // exclusive
    QString user; // exact match
    quint32 marketId = 0;
    /// Case-insensitive substring of the user, source, field, old or new value, or of the
    /// current name of the entry's market, its event or its selection.
    QString text;
    /// The newest entries that match are kept, up to this many; 0 or less keeps all.
    int limit = 1000;
};

} // namespace OddsDesk

Q_DECLARE_METATYPE(OddsDesk::AuditFilter)
Q_DECLARE_METATYPE(QVector<OddsDesk::AuditEntry>)
