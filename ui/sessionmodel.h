#pragma once

#include "sessioninfo.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QStringList>
#include <QVector>

namespace OddsDesk {

/// Every session the engine holds, connected and retained, one row each, for the support
/// desk's inspector. The model mirrors the lists Engine::sessionsUpdated() sends once a
/// second, matching them to its rows by session id: only the first fill resets it; after
/// that a changed session is one dataChanged() over the cells that changed (adjacent rows
/// coalesced into one rectangle), new sessions are appended with one row insertion per
/// list, and sessions the engine no longer holds are removed in as few ranges as possible.
///
/// Rows keep the order sessions first appeared in; views sort through a SessionFilterModel.
class SessionModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        IdColumn,
        UserColumn,
        ClientColumn,
        VersionColumn,
        AddressColumn,
        StateColumn,
        ConnectedSinceColumn,
        ReconnectsColumn,
        ResumesColumn,
        FallbacksColumn,
        LagColumn,
        QueueColumn,
        P50Column,
        P99Column,
        FramesColumn,
        BytesColumn,
        StaleTimeColumn,
        GapsColumn,
        ColumnCount
    };

    enum Role {
        /// A value that sorts the column: numbers for the figures, text for the names.
        SortRole = Qt::UserRole + 1,
        SessionIdRole,
        /// The row's SessionState as an int.
        StateRole,
    };

    /// What one list did to the model, for tests and the inspector's status line.
    struct UpdateCounts
    {
        int changed = 0; // rows with at least one changed cell
        int inserted = 0;
        int removed = 0;
        bool reset = false;
    };

    explicit SessionModel(QObject *parent = nullptr);
    ~SessionModel() override;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;

    /// The session of row \a row, or null.
    const SessionSummary *sessionAt(int row) const;
    /// The row of a session, or -1.
    int rowOfSession(const QString &sessionId) const;

    /// True when row \a left sorts before row \a right in \a column: the figures compared
    /// as numbers, without building a QVariant per comparison (a sort of 20,000 rows makes
    /// a few hundred thousand of them). In the p99 column a stale session counts as slower
    /// than any p99. Ties fall back to p99, then to the session id, so equal rows keep a
    /// stable order between updates.
    bool lessThan(int left, int right, int column) const;
    /// True when every word of \a words (already lower case) appears in one of the row's
    /// cells as shown, case-insensitively.
    bool matches(int row, const QStringList &words) const;

    int connectedCount() const { return m_connected; }
    int retainedCount() const { return m_retained; }
    int staleCount() const { return m_stale; }
    const UpdateCounts &lastUpdate() const { return m_lastUpdate; }

public Q_SLOTS:
    /// Takes the engine's whole list of sessions.
    void updateSessions(const QVector<OddsDesk::SessionSummary> &sessions);

Q_SIGNALS:
    /// After each list is applied.
    void sessionsUpdated();

private:
    struct Row
    {
        SessionSummary session;
        // The text cells in lower case, joined, for the search; rebuilt when they change.
        QString searchText;
    };
    struct Dirty
    {
        int row;
        quint32 columns; // one bit per Column
    };

    void fill(const QVector<SessionSummary> &sessions);
    void removeRowsNotSeen(const QVector<bool> &seen);
    void emitChanged(QVector<Dirty> &dirty);
    void emitRectangle(int firstRow, int lastRow, quint32 columns);
    void appendSessions(const QVector<SessionSummary> &sessions, const QVector<int> &which);
    void reindex(int fromRow);
    void recount();

    static quint32 changedColumns(const SessionSummary &was, const SessionSummary &now);
    static QString searchTextOf(const SessionSummary &session);
    static QString numberText(const SessionSummary &session, int column);
    QVariant displayData(const SessionSummary &session, int column) const;
    QVariant sortData(const SessionSummary &session, int column) const;
    QVariant toolTipData(const SessionSummary &session, int column) const;
    QVariant foregroundData(const SessionSummary &session, int column) const;

    QVector<Row> m_rows;
    QHash<QString, int> m_rowOfId;
    bool m_filled = false; // the first non-empty list resets the model; no later one does
    int m_connected = 0;
    int m_retained = 0;
    int m_stale = 0;
    UpdateCounts m_lastUpdate;
};

} // namespace OddsDesk
