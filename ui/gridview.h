#pragma once

#include <QModelIndexList>
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
///   + / -            the price one step up or down the ladder (Ctrl: five steps); with
///                    several cells selected, every selected price, as one edit
///   Ctrl+S           suspend or reopen the selected markets
///   Ctrl+Shift+S     suspend or reopen every market of the current event
///   Ctrl+T           shift the selected prices by a number of steps
///   Ctrl+M           set the margin of the selected markets to a target
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

    /// What a bulk edit applies to: the selections of the selected price and name cells and
    /// every selection of a market whose other cells are selected; the current cell when
    /// nothing is selected. In the view's order.
    QVector<quint32> selectedSelectionIds() const;
    /// The markets of every selected cell, or of the current one.
    QVector<quint32> selectedMarketIds() const;

    QAction *shiftAction() const { return m_shift; }
    QAction *marginAction() const { return m_margin; }
    QAction *suspendMarketAction() const { return m_suspendMarket; }
    QAction *suspendEventAction() const { return m_suspendEvent; }

    /// Asks for the number of steps and shifts the selected prices (Ctrl+T).
    void chooseShift();
    /// Asks for the target margin and applies it to the selected markets (Ctrl+M).
    void chooseMargin();

private:
    void buildActions();
    void setColumnWidths();
    void showContextMenu(const QPoint &position);
    void updateActions();
    QModelIndex currentSourceIndex() const;
    QModelIndexList selectedSourceIndexes() const;

    BookModel *m_model;
    BookFilterModel *m_proxy;
    QLineEdit *m_filter = nullptr;
    QTableView *m_table = nullptr;
    GridDelegate *m_delegate;
    QLabel *m_message;
    QTimer *m_messageTimer;
    // The message is a refusal of what an open editor holds: it goes when the editor does.
    bool m_messageIsEditorRefusal = false;
    QAction *m_suspendMarket = nullptr;
    QAction *m_suspendEvent = nullptr;
    QAction *m_stepUp = nullptr;
    QAction *m_stepDown = nullptr;
    QAction *m_editPrice = nullptr;
    QAction *m_findAction = nullptr;
    QAction *m_shift = nullptr;
    QAction *m_margin = nullptr;
    double m_lastMarginTarget = 105.0;
    int m_lastShift = 1;
};

} // namespace OddsDesk
