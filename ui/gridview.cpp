#include "gridview.h"
#include "filteredit.h"

#include "bookfiltermodel.h"
#include "bookmodel.h"
#include "deskeditor.h"
#include "griddelegate.h"

#include <QAction>
#include <QHeaderView>
#include <QInputDialog>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QSet>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <functional>

namespace OddsDesk {
namespace {

// 10 s: long enough to read a refusal twice, short enough not to describe an old edit.
constexpr int MessageMs = 10 * 1000;

// A window-modal question that deletes itself once answered; the caller sets its input and
// connects its answer, then opens it.
QInputDialog *openInputDialog(
    QWidget *parent, const QString &name, const QString &title, const QString &label)
{
    auto *dialog = new QInputDialog(parent);
    dialog->setObjectName(name);
    dialog->setWindowTitle(title);
    dialog->setLabelText(label);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    return dialog;
}

// Steps a price takes for + or - with Ctrl held.
constexpr int BigStep = 5;

// The table with the grid's own keys: + and - step the selected prices. They are plain keys
// rather than shortcuts so that they never reach an open editor as shortcuts would.
class GridTable : public QTableView
{
public:
    using QTableView::QTableView;

    std::function<void(int ticks)> step;

protected:
    void keyPressEvent(QKeyEvent *event) override
    {
        // Shift is how + is typed on many keyboards; the keypad's keys count the same.
        const Qt::KeyboardModifiers modifiers
            = event->modifiers() & ~(Qt::ShiftModifier | Qt::KeypadModifier);
        // "=" too: it is the + key without Shift on most keyboards.
        const bool up = event->key() == Qt::Key_Plus || event->key() == Qt::Key_Equal;
        const bool down = event->key() == Qt::Key_Minus;
        if (state() != EditingState && step && (up || down)
            && (modifiers == Qt::NoModifier || modifiers == Qt::ControlModifier)) {
            const int ticks = modifiers == Qt::ControlModifier ? BigStep : 1;
            step(up ? ticks : -ticks);
            return;
        }
        QTableView::keyPressEvent(event);
    }
};

} // namespace

GridView::GridView(BookModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
    , m_proxy(new BookFilterModel(this))
    , m_delegate(new GridDelegate(this))
    , m_message(new QLabel(this))
    , m_messageTimer(new QTimer(this))
{
    m_proxy->setBookModel(m_model);
    auto *table = new GridTable(this);
    table->step = [this](int ticks) {
        if (m_model->editor())
            m_model->editor()->shiftPrices(selectedSelectionIds(), ticks);
    };
    m_table = table;
    auto *filter = new FilterEdit(this);
    filter->next = m_table;
    m_filter = filter;

    m_filter->setPlaceholderText(tr("Filter events, markets and selections (Ctrl+F)"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &BookFilterModel::setFilterText);

    m_table->setModel(m_proxy);
    m_table->setItemDelegate(m_delegate);
    m_table->setSelectionBehavior(QAbstractItemView::SelectItems);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setEditTriggers(QAbstractItemView::AnyKeyPressed | QAbstractItemView::DoubleClicked
        | QAbstractItemView::EditKeyPressed);
    m_table->setTabKeyNavigation(false);
    m_table->setWordWrap(false);
    m_table->setShowGrid(false);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setSortIndicator(BookModel::EventColumn, Qt::AscendingOrder);
    m_table->horizontalHeader()->setHighlightSections(false);
    m_table->setSortingEnabled(true);
    setColumnWidths();
    connect(m_table, &QWidget::customContextMenuRequested, this, &GridView::showContextMenu);

    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setStyleSheet(QStringLiteral(
        "QLabel { background: #fff0c0; color: #5a3a00; padding: 3px 6px; border-radius: 2px; }"));
    m_message->hide();
    m_messageTimer->setSingleShot(true);
    m_messageTimer->setInterval(MessageMs);
    connect(m_messageTimer, &QTimer::timeout, this, [this] {
        m_message->clear();
        m_message->hide();
    });
    connect(m_model, &BookModel::editRefused, this, [this](const QString &reason) {
        showMessage(tr("Refused: %1").arg(reason));
        m_messageIsEditorRefusal = m_delegate->isEditing();
    });
    // Corrected (Enter) or abandoned (Esc), the refused price is gone, and so is why.
    connect(m_delegate, &QAbstractItemDelegate::closeEditor, this, [this] {
        if (std::exchange(m_messageIsEditorRefusal, false))
            showMessage(QString());
    });

    buildActions();
    connect(m_table->selectionModel(), &QItemSelectionModel::currentChanged, this,
        &GridView::updateActions);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(m_filter);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_message);
    setFocusProxy(m_table);
}

void GridView::buildActions()
{
    m_suspendMarket = new QAction(tr("Suspend market"), this);
    m_suspendMarket->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_S));
    m_suspendMarket->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_suspendMarket, &QAction::triggered, this,
        [this] { m_model->toggleMarketsSuspended(selectedMarketIds()); });

    m_suspendEvent = new QAction(tr("Suspend event"), this);
    m_suspendEvent->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    m_suspendEvent->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_suspendEvent, &QAction::triggered, this,
        [this] { m_model->toggleEventSuspended(currentSourceIndex()); });

    // + and - are read by the table itself; the shortcuts here only label the menu.
    m_stepUp = new QAction(tr("Price up one step"), this);
    m_stepUp->setShortcut(QKeySequence(Qt::Key_Plus));
    m_stepUp->setShortcutContext(Qt::WidgetShortcut);
    connect(m_stepUp, &QAction::triggered, this,
        [this] { m_model->stepPrice(currentSourceIndex(), 1); });
    m_stepDown = new QAction(tr("Price down one step"), this);
    m_stepDown->setShortcut(QKeySequence(Qt::Key_Minus));
    m_stepDown->setShortcutContext(Qt::WidgetShortcut);
    connect(m_stepDown, &QAction::triggered, this,
        [this] { m_model->stepPrice(currentSourceIndex(), -1); });

    m_editPrice = new QAction(tr("Edit price"), this);
    m_editPrice->setShortcut(QKeySequence(Qt::Key_F2));
    m_editPrice->setShortcutContext(Qt::WidgetShortcut);
    connect(
        m_editPrice, &QAction::triggered, this, [this] { m_table->edit(m_table->currentIndex()); });

    m_shift = new QAction(tr("Shi&ft prices..."), this);
    m_shift->setObjectName(QStringLiteral("shiftAction"));
    m_shift->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
    m_shift->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_shift->setStatusTip(tr("Move every selected price the same number of steps, in one edit"));
    connect(m_shift, &QAction::triggered, this, &GridView::chooseShift);

    m_margin = new QAction(tr("Set &margin..."), this);
    m_margin->setObjectName(QStringLiteral("marginAction"));
    m_margin->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    m_margin->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_margin->setStatusTip(tr("Rescale the selected markets' prices to a target margin"));
    connect(m_margin, &QAction::triggered, this, &GridView::chooseMargin);

    m_findAction = new QAction(tr("Filter"), this);
    m_findAction->setShortcut(QKeySequence::Find);
    m_findAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_findAction, &QAction::triggered, this, [this] {
        m_filter->setFocus(Qt::ShortcutFocusReason);
        m_filter->selectAll();
    });

    m_table->addAction(m_suspendMarket);
    m_table->addAction(m_suspendEvent);
    m_table->addAction(m_shift);
    m_table->addAction(m_margin);
    addAction(m_findAction);
    updateActions();
}

void GridView::setColumnWidths()
{
    // Widths from the font rather than from the contents: measuring a thousand rows on
    // every reset is slow, and a column that jumps as prices change is hard to read.
    const QFontMetrics metrics = m_table->fontMetrics();
    const auto chars = [&metrics](int count) {
        return metrics.horizontalAdvance(QLatin1Char('n')) * count + 12;
    };
    QHeaderView *header = m_table->horizontalHeader();
    header->setMinimumSectionSize(metrics.horizontalAdvance(QStringLiteral("Seq")) + 16);
    header->resizeSection(BookModel::EventColumn, chars(22));
    header->resizeSection(
        BookModel::StartColumn, metrics.horizontalAdvance(QStringLiteral("Wed 30 Dec 23:59")) + 16);
    header->resizeSection(BookModel::MarketColumn, chars(18));
    header->resizeSection(
        BookModel::StatusColumn, metrics.horizontalAdvance(QStringLiteral("Suspended")) + 16);
    const int priceWidth = metrics.horizontalAdvance(QStringLiteral("1000.00")) + 16;
    for (int slot = 0; slot < BookModel::SelectionSlots; ++slot) {
        // Room for a club's whole name ("Stourmouth Rovers", "Wolverhampton"): the event
        // column, stretched, has the names already, so it gives up width first.
        header->resizeSection(BookModel::Selection1Column + 2 * slot, chars(18));
        header->resizeSection(BookModel::priceColumn(slot), priceWidth);
    }
    header->resizeSection(
        BookModel::MarginColumn, metrics.horizontalAdvance(QStringLiteral("100.0 %")) + 16);
    header->resizeSection(
        BookModel::LastChangeColumn, metrics.horizontalAdvance(QStringLiteral("23:59:59")) + 16);
    header->resizeSection(
        BookModel::SequenceColumn, metrics.horizontalAdvance(QStringLiteral("9999999")) + 16);
    // Spare width goes to the event names rather than to the sequence numbers.
    header->setStretchLastSection(false);
    header->setSectionResizeMode(BookModel::EventColumn, QHeaderView::Stretch);
}

QModelIndex GridView::currentSourceIndex() const
{
    return m_proxy->mapToSource(m_table->currentIndex());
}

QModelIndexList GridView::selectedSourceIndexes() const
{
    QModelIndexList view = m_table->selectionModel()->selectedIndexes();
    if (view.isEmpty() && m_table->currentIndex().isValid())
        view.append(m_table->currentIndex());
    std::sort(view.begin(), view.end(), [](const QModelIndex &a, const QModelIndex &b) {
        return a.row() != b.row() ? a.row() < b.row() : a.column() < b.column();
    });
    QModelIndexList result;
    result.reserve(view.size());
    for (const QModelIndex &index : std::as_const(view))
        result.append(m_proxy->mapToSource(index));
    return result;
}

QVector<quint32> GridView::selectedSelectionIds() const
{
    QVector<quint32> ids;
    QSet<quint32> seen;
    for (const QModelIndex &index : selectedSourceIndexes()) {
        const MarketInfo *market = m_model->marketAt(index.row());
        if (!market)
            continue;
        const int slot = BookModel::slotOfColumn(index.column());
        for (int i = 0; i < market->selections.size(); ++i) {
            if (slot >= 0 && i != slot)
                continue;
            const quint32 id = market->selections.at(i).id;
            if (!seen.contains(id)) {
                seen.insert(id);
                ids.append(id);
            }
        }
    }
    return ids;
}

QVector<quint32> GridView::selectedMarketIds() const
{
    QVector<quint32> ids;
    QSet<quint32> seen;
    for (const QModelIndex &index : selectedSourceIndexes()) {
        const MarketInfo *market = m_model->marketAt(index.row());
        if (market && !seen.contains(market->id)) {
            seen.insert(market->id);
            ids.append(market->id);
        }
    }
    return ids;
}

void GridView::chooseShift()
{
    const QVector<quint32> selections = selectedSelectionIds();
    if (!m_model->editor() || selections.isEmpty())
        return;
    QInputDialog *dialog = openInputDialog(this, QStringLiteral("shiftDialog"), tr("Shift prices"),
        selections.size() == 1
            ? tr("Steps on the ladder (negative: shorter):")
            : tr("Steps on the ladder for %1 prices (negative: shorter):").arg(selections.size()));
    dialog->setInputMode(QInputDialog::IntInput);
    dialog->setIntRange(-100, 100);
    dialog->setIntValue(m_lastShift);
    connect(dialog, &QInputDialog::intValueSelected, this, [this, selections](int ticks) {
        m_lastShift = ticks;
        m_model->editor()->shiftPrices(selections, ticks);
    });
    dialog->open();
}

void GridView::chooseMargin()
{
    const QVector<quint32> markets = selectedMarketIds();
    if (!m_model->editor() || markets.isEmpty())
        return;
    QInputDialog *dialog = openInputDialog(this, QStringLiteral("marginDialog"), tr("Set margin"),
        markets.size() == 1 ? tr("Target margin in percent:")
                            : tr("Target margin in percent for %1 markets:").arg(markets.size()));
    dialog->setInputMode(QInputDialog::DoubleInput);
    dialog->setDoubleDecimals(1);
    dialog->setDoubleRange(90.0, 200.0);
    dialog->setDoubleValue(m_lastMarginTarget);
    connect(dialog, &QInputDialog::doubleValueSelected, this, [this, markets](double target) {
        m_lastMarginTarget = target;
        m_model->editor()->setMargin(markets, target);
    });
    dialog->open();
}

int GridView::viewRowOfMarket(quint32 marketId) const
{
    const int row = m_model->rowOfMarket(marketId);
    if (row < 0)
        return -1;
    return m_proxy->mapFromSource(m_model->index(row, 0)).row();
}

QString GridView::messageText() const
{
    return m_message->text();
}

void GridView::showMessage(const QString &text)
{
    m_messageIsEditorRefusal = false;
    m_message->setText(text);
    m_message->setVisible(!text.isEmpty());
    if (!text.isEmpty())
        m_messageTimer->start();
}

void GridView::updateActions()
{
    const QModelIndex index = currentSourceIndex();
    const MarketInfo *market = m_model->marketAt(index.row());
    const bool priceCell = market && BookModel::isPriceColumn(index.column())
        && BookModel::slotOfColumn(index.column()) < market->selections.size();
    m_suspendMarket->setEnabled(market != nullptr);
    m_suspendMarket->setText(market && market->status == MarketStatus::Suspended
            ? tr("Reopen market")
            : tr("Suspend market"));
    m_suspendEvent->setEnabled(market != nullptr);
    m_stepUp->setEnabled(priceCell && market->status != MarketStatus::Closed);
    m_stepDown->setEnabled(priceCell && market->status != MarketStatus::Closed);
    m_editPrice->setEnabled(priceCell && market->status != MarketStatus::Closed);

    bool anyOpen = false;
    if (market) {
        for (int row = 0; row < m_model->rowCount(); ++row) {
            const MarketInfo *other = m_model->marketAt(row);
            if (other->eventId == market->eventId && other->status == MarketStatus::Open) {
                anyOpen = true;
                break;
            }
        }
    }
    m_suspendEvent->setText(anyOpen || !market ? tr("Suspend event") : tr("Reopen event"));
}

void GridView::showContextMenu(const QPoint &position)
{
    const QModelIndex index = m_table->indexAt(position);
    if (!index.isValid())
        return;
    // A right-click inside the selection acts on the selection; outside it, on that cell.
    if (m_table->selectionModel()->isSelected(index))
        m_table->selectionModel()->setCurrentIndex(index, QItemSelectionModel::NoUpdate);
    else
        m_table->setCurrentIndex(index);
    updateActions();

    QMenu menu(this);
    menu.addAction(m_editPrice);
    menu.addAction(m_stepUp);
    menu.addAction(m_stepDown);
    menu.addSeparator();
    menu.addAction(m_suspendMarket);
    menu.addAction(m_suspendEvent);
    menu.addSeparator();
    menu.addAction(m_shift);
    menu.addAction(m_margin);
    menu.exec(m_table->viewport()->mapToGlobal(position));
}

} // namespace OddsDesk
