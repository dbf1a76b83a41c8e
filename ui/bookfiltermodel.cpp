#include "bookfiltermodel.h"

#include "bookmodel.h"

#include <QRegularExpression>

namespace OddsDesk {

BookFilterModel::BookFilterModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(BookModel::SortRole);
    setSortCaseSensitivity(Qt::CaseInsensitive);
    setFilterRole(BookModel::SearchTextRole);
    setFilterKeyColumn(BookModel::EventColumn);
    // Re-sort and re-filter only when the sorted column or the names change, which the
    // book model signals precisely; a price tick in another column moves no row.
    setDynamicSortFilter(true);
}

void BookFilterModel::setBookModel(BookModel *model)
{
    m_book = model;
    setSourceModel(model);
    sort(BookModel::EventColumn, Qt::AscendingOrder);
}

void BookFilterModel::setFilterText(const QString &text)
{
    if (text == m_filterText)
        return;
    m_filterText = text;
    static const QRegularExpression spaces(QStringLiteral("\\s+"));
    m_words = text.split(spaces, Qt::SkipEmptyParts);
    invalidateFilter();
}

bool BookFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (m_words.isEmpty())
        return true;
    const QModelIndex index = sourceModel()->index(sourceRow, BookModel::EventColumn, sourceParent);
    const QString haystack = index.data(BookModel::SearchTextRole).toString();
    for (const QString &word : m_words) {
        if (!haystack.contains(word, Qt::CaseInsensitive))
            return false;
    }
    return true;
}

bool BookFilterModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    const bool bookOrder
        = left.column() == BookModel::EventColumn || left.column() == BookModel::StartColumn;
    if (!bookOrder) {
        if (QSortFilterProxyModel::lessThan(left, right))
            return true;
        if (QSortFilterProxyModel::lessThan(right, left))
            return false;
    }
    // Equal values, and the event columns, keep book order.
    if (m_book)
        return m_book->rowLessThan(left.row(), right.row());
    return left.row() < right.row();
}

} // namespace OddsDesk
