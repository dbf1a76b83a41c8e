#include "sessionfiltermodel.h"

#include "sessionmodel.h"

#include <QRegularExpression>

namespace OddsDesk {

SessionFilterModel::SessionFilterModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(SessionModel::SortRole);
    setDynamicSortFilter(true);
}

void SessionFilterModel::setSessionModel(SessionModel *model)
{
    m_sessions = model;
    setSourceModel(model);
    sort(SessionModel::P99Column, Qt::DescendingOrder);
}

void SessionFilterModel::setFilterText(const QString &text)
{
    if (text == m_filterText)
        return;
    m_filterText = text;
    static const QRegularExpression spaces(QStringLiteral("\\s+"));
    m_words = text.toLower().split(spaces, Qt::SkipEmptyParts);
    invalidateFilter();
}

QString SessionFilterModel::sessionIdAt(int row) const
{
    return index(row, SessionModel::IdColumn).data(SessionModel::SessionIdRole).toString();
}

int SessionFilterModel::rowOfSession(const QString &sessionId) const
{
    if (!m_sessions)
        return -1;
    const int sourceRow = m_sessions->rowOfSession(sessionId);
    if (sourceRow < 0)
        return -1;
    return mapFromSource(m_sessions->index(sourceRow, SessionModel::IdColumn)).row();
}

bool SessionFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (m_words.isEmpty() || !m_sessions || sourceParent.isValid())
        return true;
    return m_sessions->matches(sourceRow, m_words);
}

bool SessionFilterModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    if (!m_sessions)
        return QSortFilterProxyModel::lessThan(left, right);
    return m_sessions->lessThan(left.row(), right.row(), left.column());
}

} // namespace OddsDesk
