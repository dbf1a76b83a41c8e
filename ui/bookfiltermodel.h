#pragma once

#include <QSortFilterProxyModel>

namespace OddsDesk {

class BookModel;

/// The grid's view of a BookModel: rows in book order (event start, then market) unless the
/// trader sorts by another column, filtered by the words typed in the filter box. A row is
/// kept when every word appears, case-insensitively, in its event, market or selection names.
class BookFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit BookFilterModel(QObject *parent = nullptr);

    void setBookModel(BookModel *model);
    BookModel *bookModel() const { return m_book; }

    QString filterText() const { return m_filterText; }
    void setFilterText(const QString &text);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    BookModel *m_book = nullptr;
    QString m_filterText;
    QStringList m_words;
};

} // namespace OddsDesk
