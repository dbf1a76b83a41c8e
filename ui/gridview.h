#pragma once

#include <QWidget>

class QAction;
class QLabel;
class QLineEdit;
class QTableView;
class QTimer;

namespace OddsDesk {

class BookFilterModel;
class BookModel;
class GridDelegate;

/// The trader's market grid: a filter box over a table of every market.
///
/// Keys, with the table focused:
///   type a price     opens the price cell's editor; Enter sends, Esc cancels
///   F2, double-click edit the price cell
///   + / -            the price one step up or down the ladder
///   Ctrl+S           suspend or reopen the current market
///   Ctrl+Shift+S     suspend or reopen every market of the current event
///   Ctrl+F           to the filter box; Down or Enter there comes back to the table
/// A refused edit (an unreadable price, or one the engine turned down) shows its reason in
/// a line under the table.
class GridView : public QWidget
{
    Q_OBJECT

public:
    explicit GridView(BookModel *model, QWidget *parent = nullptr);

    QTableView *tableView() const { return m_table; }
    QLineEdit *filterEdit() const { return m_filter; }
    BookFilterModel *filterModel() const { return m_proxy; }
    BookModel *bookModel() const { return m_model; }

    /// The sentence shown under the table; empty when none.
    QString messageText() const;
    void showMessage(const QString &text);

    /// The view's row (in the filter model) of a market, or -1 when filtered out.
    int viewRowOfMarket(quint32 marketId) const;

private:
    void buildActions();
    void setColumnWidths();
    void showContextMenu(const QPoint &position);
    void updateActions();
    QModelIndex currentSourceIndex() const;

    BookModel *m_model;
    BookFilterModel *m_proxy;
    QLineEdit *m_filter = nullptr;
    QTableView *m_table = nullptr;
    GridDelegate *m_delegate;
    QLabel *m_message;
    QTimer *m_messageTimer;
    QAction *m_suspendMarket = nullptr;
    QAction *m_suspendEvent = nullptr;
    QAction *m_stepUp = nullptr;
    QAction *m_stepDown = nullptr;
    QAction *m_editPrice = nullptr;
    QAction *m_findAction = nullptr;
};

} // namespace OddsDesk
