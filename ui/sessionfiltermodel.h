#pragma once

#include <QSortFilterProxyModel>
#include <QStringList>

namespace OddsDesk {

class SessionModel;

/// The inspector's view of a SessionModel: worst first (p99 descending) until support staff
/// sort by another column, and narrowed by the words typed in the search box. A row is kept
/// when every word appears, case-insensitively, in one of its cells as shown: a session id,
/// a user, a client name or version, an address, a state, or a figure.
///
/// Sorting compares the sessions' figures directly rather than through QVariants, and
/// stays dynamic: a session whose p99 grows moves up within the second it is reported.
class SessionFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit SessionFilterModel(QObject *parent = nullptr);

    void setSessionModel(SessionModel *model);
    SessionModel *sessionModel() const { return m_sessions; }

    QString filterText() const { return m_filterText; }
    void setFilterText(const QString &text);

    /// The session id of a row of this model.
    QString sessionIdAt(int row) const;
    /// This model's row of a session, or -1 when it is filtered out or unknown.
    int rowOfSession(const QString &sessionId) const;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    SessionModel *m_sessions = nullptr;
    QString m_filterText;
    QStringList m_words;
};

} // namespace OddsDesk
