#pragma once

#include "sessioninfo.h"

#include <QAbstractTableModel>
#include <QVector>

namespace OddsDesk {

/// One session's timeline for the detail window: what the engine saw and what the client
/// reported, oldest first. The engine sends the whole timeline with every detail (at most
/// its last 500 entries); the model finds where the new list overlaps the rows it holds,
/// so that a refresh is a removal of the entries that fell off the front and an insertion
/// of the new ones at the end, never a reset.
class TimelineModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { TimeColumn, SourceColumn, KindColumn, DetailColumn, ColumnCount };
    enum Role {
        TimeMsRole = Qt::UserRole + 1,
        KindRole,
    };

    explicit TimelineModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;

    const QVector<TimelineEntry> &entries() const { return m_entries; }
    /// True when an entry of \a kind is among the rows.
    bool hasKind(const QString &kind) const;

public Q_SLOTS:
    /// Takes a session's whole timeline; entries are put in time order first.
    void setEntries(QVector<OddsDesk::TimelineEntry> entries);

private:
    QVector<TimelineEntry> m_entries;
};

/// "engine" or "client": who wrote a timeline entry.
QString timelineSourceName(TimelineEntry::Source source);

} // namespace OddsDesk
