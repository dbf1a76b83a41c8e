#include "bookmodel.h"

#include "deskeditor.h"
#include "engine.h"
#include "price.h"
#include "uilogging.h"

#include <QBrush>
#include <QColor>
#include <QDateTime>

#include <algorithm>
#include <numeric>

namespace OddsDesk {
namespace {

// 1.5 s: long enough for a trader's eye to catch a move, short enough that a busy market
// does not stay lit all the time.
constexpr int FlashMs = 1500;
// Below this many rows, one signal per changed row costs a view nothing; above it, a batch
// that touches most rows is sent as one signal over the table.
constexpr int WholeTableMinRows = 32;
// 250 ms: a lit cell fades at most a quarter of a second late; four sweeps a second cost
// nothing.
constexpr int FlashSweepMs = 250;

const QColor DriftColor(0xd4, 0xe6, 0xff); // price lengthened: blue, as exchanges show it
const QColor ShortenColor(0xff, 0xd9, 0xe1); // price shortened: pink
const QColor SuspendedColor(0xff, 0xd8, 0x80);
const QColor ClosedColor(0xd0, 0xd0, 0xd0);
const QColor NotTradableText(0x90, 0x90, 0x90);
const QColor UnderroundText(0xc0, 0x00, 0x00); // a margin under 100 %: the book is giving money

QString statusLabel(MarketStatus status)
{
    switch (status) {
    case MarketStatus::Open:
        return BookModel::tr("Open");
    case MarketStatus::Suspended:
        return BookModel::tr("Suspended");
    case MarketStatus::Closed:
        return BookModel::tr("Closed");
    case MarketStatus::Unknown:
        break;
    }
    return BookModel::tr("Unknown");
}

// Fixed formats rather than the locale's: the desk reads times the same way on every machine.
QString startText(qint64 startTimeMs)
{
    if (startTimeMs == 0)
        return QString();
    return QDateTime::fromMSecsSinceEpoch(startTimeMs).toString(QStringLiteral("ddd dd MMM HH:mm"));
}

QString changeText(qint64 wallTimeMs)
{
    if (wallTimeMs == 0)
        return QString();
    return QDateTime::fromMSecsSinceEpoch(wallTimeMs).toString(QStringLiteral("HH:mm:ss"));
}

bool hasAllPrices(const MarketInfo &market)
{
    return !market.selections.isEmpty()
        && std::all_of(market.selections.cbegin(), market.selections.cend(),
            [](const SelectionInfo &s) { return s.price != 0; });
}

} // namespace

BookModel::BookModel(Engine *engine, QObject *parent)
    : QAbstractTableModel(parent)
    , m_engine(engine)
{
    m_clock.start();
    m_flashTimer.setInterval(FlashSweepMs);
    connect(&m_flashTimer, &QTimer::timeout, this, &BookModel::expireFlashes);

    if (m_engine) {
        connect(m_engine, &Engine::bookReset, this, &BookModel::resetBook);
        connect(m_engine, &Engine::bookChanged, this, &BookModel::applyChanges);
        connect(m_engine, &Engine::editRejected, this, [this](const QString &reason) {
            qCInfo(lcUiGrid) << "the engine refused an edit:" << reason;
            Q_EMIT editRefused(reason);
        });
        m_editor = new DeskEditor(m_engine, this, this);
        connect(m_editor, &DeskEditor::refused, this, &BookModel::editRefused);
    }
}

BookModel::~BookModel() = default;

bool BookModel::isCell(const QModelIndex &index) const
{
    // Views and commands pass an invalid index when nothing is current: not an error.
    if (!index.isValid())
        return false;
    Q_ASSERT(checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid));
    return index.model() == this && index.row() < m_rows.size() && index.column() < ColumnCount;
}

int BookModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int BookModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

int BookModel::slotOfColumn(int column)
{
    if (column < Selection1Column || column > Price3Column)
        return -1;
    return (column - Selection1Column) / 2;
}

bool BookModel::isPriceColumn(int column)
{
    return column == Price1Column || column == Price2Column || column == Price3Column;
}

const MarketInfo *BookModel::market(quint32 marketId) const
{
    return marketAt(rowOfMarket(marketId));
}

const MarketInfo *BookModel::marketOfSelection(quint32 selectionId) const
{
    const auto found = m_marketOfSelection.constFind(selectionId);
    return found == m_marketOfSelection.cend() ? nullptr : market(*found);
}

const MarketInfo *BookModel::marketAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row).market : nullptr;
}

const EventInfo *BookModel::eventOfRow(int row) const
{
    const MarketInfo *market = marketAt(row);
    if (!market)
        return nullptr;
    const auto it = m_events.constFind(market->eventId);
    return it == m_events.cend() ? nullptr : &it->info;
}

int BookModel::rowOfMarket(quint32 marketId) const
{
    const int row = m_rowOfMarket.value(marketId, -1);
    return row < m_rows.size() ? row : -1;
}

bool BookModel::rowLessThan(int left, int right) const
{
    const Row &a = m_rows.at(left);
    const Row &b = m_rows.at(right);
    const EventEntry ea = m_events.value(a.market.eventId);
    const EventEntry eb = m_events.value(b.market.eventId);
    if (ea.info.startTimeMs != eb.info.startTimeMs)
        return ea.info.startTimeMs < eb.info.startTimeMs;
    if (ea.order != eb.order)
        return ea.order < eb.order;
    return a.order < b.order;
}

const Ladder &BookModel::ladder() const
{
    return m_display == OddsDisplay::Fractional ? Ladder::bookmaker() : Ladder::exchange();
}

QVariant BookModel::data(const QModelIndex &index, int role) const
{
    if (!isCell(index))
        return QVariant();
    const Row &row = m_rows.at(index.row());
    const MarketInfo &market = row.market;
    const int column = index.column();
    const auto eventIt = m_events.constFind(market.eventId);
    const EventInfo *event = eventIt == m_events.cend() ? nullptr : &eventIt->info;

    const int slot = slotOfColumn(column);
    if (isPriceColumn(column))
        return priceCellData(row, slot, role);

    switch (role) {
    case Qt::DisplayRole:
        return displayData(row, event, column);
    case Qt::TextAlignmentRole:
        if (column == MarginColumn || column == SequenceColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        if (column == StatusColumn || column == LastChangeColumn)
            return QVariant(Qt::AlignCenter);
        return QVariant();
    case Qt::BackgroundRole:
        if (column == StatusColumn && market.status == MarketStatus::Suspended)
            return QBrush(SuspendedColor);
        if (column == StatusColumn && market.status != MarketStatus::Open)
            return QBrush(ClosedColor);
        return QVariant();
    case Qt::ForegroundRole:
        if (column == MarginColumn && hasAllPrices(market) && marginPercent(market) < 100.0)
            return QBrush(UnderroundText);
        return QVariant();
    case Qt::ToolTipRole:
        if ((column == EventColumn || column == StartColumn) && event) {
            const QString start = QDateTime::fromMSecsSinceEpoch(event->startTimeMs)
                                      .toString(QStringLiteral("dddd d MMMM yyyy, HH:mm"));
            return QStringLiteral("%1\n%2").arg(event->competition, start);
        }
        if (column == MarketColumn && market.selections.size() > SelectionSlots)
            return tr("%n more selections not shown", nullptr,
                int(market.selections.size()) - SelectionSlots);
        if (column == StatusColumn)
            return tr("Ctrl+S suspends or reopens the market, Ctrl+Shift+S the whole event");
        return QVariant();
    case SortRole:
        switch (column) {
        case StartColumn:
            return event ? event->startTimeMs : 0;
        case StatusColumn:
            return int(market.status);
        case MarginColumn:
            return hasAllPrices(market) ? marginPercent(market) : 0.0;
        case LastChangeColumn:
            return market.lastChangeMs;
        case SequenceColumn:
            return market.lastSequence;
        default:
            return displayData(row, event, column);
        }
    case SearchTextRole:
        return searchText(row, event);
    case MarketIdRole:
        return market.id;
    case EventIdRole:
        return market.eventId;
    case SelectionIdRole:
        return slot >= 0 && slot < market.selections.size() ? market.selections.at(slot).id : 0u;
    case StatusRole:
        return int(market.status);
    default:
        return QVariant();
    }
}

QVariant BookModel::displayData(const Row &row, const EventInfo *event, int column) const
{
    const MarketInfo &market = row.market;
    switch (column) {
    case EventColumn:
        return event ? event->name : QString();
    case StartColumn:
        return event ? startText(event->startTimeMs) : QString();
    case MarketColumn:
        return market.name;
    case StatusColumn:
        return statusLabel(market.status);
    case Selection1Column:
    case Selection2Column:
    case Selection3Column: {
        const int slot = slotOfColumn(column);
        if (slot >= market.selections.size())
            return QString();
        const SelectionInfo &selection = market.selections.at(slot);
        return selection.winner ? tr("%1 (won)").arg(selection.name) : selection.name;
    }
    case MarginColumn:
        if (!hasAllPrices(market))
            return QString();
        return QStringLiteral("%1 %").arg(marginPercent(market), 0, 'f', 1);
    case LastChangeColumn:
        return changeText(market.lastChangeMs);
    case SequenceColumn:
        return market.lastSequence == 0 ? QString() : QString::number(market.lastSequence);
    default:
        return QVariant();
    }
}

QVariant BookModel::priceCellData(const Row &row, int slot, int role) const
{
    const MarketInfo &market = row.market;
    if (slot >= market.selections.size()) {
        switch (role) {
        case SelectionIdRole:
        case PriceRole:
        case SortRole:
            return 0u;
        case MarketIdRole:
            return market.id;
        case EventIdRole:
            return market.eventId;
        case StatusRole:
            return int(market.status);
        default:
            return QVariant();
        }
    }
    const SelectionInfo &selection = market.selections.at(slot);

    switch (role) {
    case Qt::DisplayRole:
        return selection.price == 0 ? QString() : formatOdds(selection.price, m_display);
    case Qt::EditRole:
        // Always decimal: that is what parsePrice() reads back.
        return selection.price == 0 ? QString() : formatDecimal(selection.price);
    case Qt::TextAlignmentRole:
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        return isTradable(market.status) ? QVariant() : QBrush(NotTradableText);
    case Qt::BackgroundRole: {
        const auto it = m_flashes.constFind(selection.id);
        if (it == m_flashes.cend())
            return QVariant();
        return QBrush(it->direction > 0 ? DriftColor : ShortenColor);
    }
    case Qt::ToolTipRole:
        return priceToolTip(selection);
    case SortRole:
    case PriceRole:
        return selection.price;
    case SearchTextRole:
        return QVariant();
    case MarketIdRole:
        return market.id;
    case EventIdRole:
        return market.eventId;
    case SelectionIdRole:
        return selection.id;
    case StatusRole:
        return int(market.status);
    default:
        return QVariant();
    }
}

QString BookModel::priceToolTip(const SelectionInfo &selection) const
{
    if (selection.price == 0)
        return tr("%1: no price").arg(selection.name);
    return tr("%1: %2 (%3, %4), implied %5 %")
        .arg(selection.name, formatDecimal(selection.price),
            formatOdds(selection.price, OddsDisplay::Fractional),
            formatOdds(selection.price, OddsDisplay::American))
        .arg(impliedPercent(selection.price), 0, 'f', 1);
}

QString BookModel::searchText(const Row &row, const EventInfo *event) const
{
    QStringList parts;
    if (event)
        parts << event->name;
    parts << row.market.name;
    for (const SelectionInfo &s : row.market.selections)
        parts << s.name;
    return parts.join(QLatin1Char('\n'));
}

QVariant BookModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        switch (section) {
        case EventColumn:
            return tr("Event");
        case StartColumn:
            return tr("Start");
        case MarketColumn:
            return tr("Market");
        case StatusColumn:
            return tr("Status");
        case Selection1Column:
        case Selection2Column:
        case Selection3Column:
            return tr("Selection %1").arg(slotOfColumn(section) + 1);
        case Price1Column:
        case Price2Column:
        case Price3Column:
            return tr("Price %1").arg(slotOfColumn(section) + 1);
        case MarginColumn:
            return tr("Margin");
        case LastChangeColumn:
            return tr("Changed");
        case SequenceColumn:
            return tr("Seq");
        }
    }
    if (role == Qt::ToolTipRole) {
        if (isPriceColumn(section))
            return tr("Type a decimal price and press Enter; + and - step along the ladder");
        if (section == MarginColumn)
            return tr("Overround: the sum of the selections' implied probabilities");
        if (section == SequenceColumn)
            return tr("The feed sequence number of the market's last change");
    }
    return QAbstractTableModel::headerData(section, orientation, role);
}

Qt::ItemFlags BookModel::flags(const QModelIndex &index) const
{
    if (!isCell(index))
        return Qt::NoItemFlags;
    Qt::ItemFlags result = Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemNeverHasChildren;
    const MarketInfo &market = m_rows.at(index.row()).market;
    if (isPriceColumn(index.column()) && slotOfColumn(index.column()) < market.selections.size()
        && market.status != MarketStatus::Closed)
        result |= Qt::ItemIsEditable;
    return result;
}

bool BookModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (role != Qt::EditRole || !isCell(index))
        return false;
    const QVariant shown = data(index, PriceRole);
    const Price current = shown.toUInt();
    return submitPrice(
        index, value.toString(), current == 0 ? std::nullopt : std::optional<Price>(current));
}

bool BookModel::refuse(const QString &reason)
{
    qCInfo(lcUiGrid) << "edit refused:" << reason;
    Q_EMIT editRefused(reason);
    return false;
}

bool BookModel::submitPrice(
    const QModelIndex &index, const QString &text, std::optional<Price> expected)
{
    if (!isCell(index) || !isPriceColumn(index.column()))
        return false;
    const MarketInfo &market = m_rows.at(index.row()).market;
    const int slot = slotOfColumn(index.column());
    if (slot >= market.selections.size())
        return false;
    const SelectionInfo &selection = market.selections.at(slot);

    const PriceParseResult parsed = parsePrice(text);
    if (!parsed.ok())
        return refuse(parsed.error);
    if (market.status == MarketStatus::Closed)
        return refuse(tr("%1 is closed: its prices can no longer change.").arg(market.name));
    if (!m_editor)
        return refuse(tr("Not connected to the feed engine; the price was not sent."));
    if (parsed.price == selection.price && (!expected || *expected == selection.price))
        return true; // nothing to change

    DeskEdit edit;
    edit.description = tr("%1 to %2").arg(selection.name, formatDecimal(parsed.price));
    edit.prices.append({selection.id, parsed.price, expected.value_or(0)});
    return m_editor->submit(edit);
}

bool BookModel::stepPrice(const QModelIndex &index, int ticks)
{
    if (!isCell(index) || !isPriceColumn(index.column()) || ticks == 0)
        return false;
    const MarketInfo &market = m_rows.at(index.row()).market;
    const int slot = slotOfColumn(index.column());
    if (slot >= market.selections.size() || market.selections.at(slot).price == 0)
        return false;
    if (!m_editor)
        return refuse(tr("Not connected to the feed engine; the price was not sent."));
    return m_editor->shiftPrices({market.selections.at(slot).id}, ticks);
}

bool BookModel::toggleMarketSuspended(const QModelIndex &index)
{
    if (!isCell(index))
        return false;
    const MarketInfo &market = m_rows.at(index.row()).market;
    if (market.status == MarketStatus::Closed)
        return refuse(tr("%1 is closed and cannot reopen.").arg(market.name));
    return toggleMarketsSuspended({market.id});
}

bool BookModel::toggleMarketsSuspended(const QVector<quint32> &marketIds)
{
    if (!m_editor)
        return refuse(tr("Not connected to the feed engine; nothing was changed."));
    bool anyOpen = false;
    bool anyReopenable = false;
    for (quint32 id : marketIds) {
        const MarketStatus status = m_editor->currentStatus(id);
        anyOpen = anyOpen || status == MarketStatus::Open;
        anyReopenable = anyReopenable || status == MarketStatus::Suspended;
    }
    if (!anyOpen && !anyReopenable)
        return refuse(marketIds.size() == 1 ? tr("That market is closed and cannot reopen.")
                                            : tr("Every one of those markets is closed."));
    return m_editor->setStatus(marketIds, anyOpen ? MarketStatus::Suspended : MarketStatus::Open);
}

bool BookModel::toggleEventSuspended(const QModelIndex &index)
{
    if (!isCell(index))
        return false;
    const quint32 eventId = m_rows.at(index.row()).market.eventId;
    QVector<quint32> markets;
    for (const Row &row : std::as_const(m_rows)) {
        if (row.market.eventId == eventId)
            markets.append(row.market.id);
    }
    qCInfo(lcUiGrid) << "event" << eventId << ":" << markets.size() << "markets";
    return toggleMarketsSuspended(markets);
}

void BookModel::setOddsDisplay(OddsDisplay display)
{
    if (display == m_display)
        return;
    m_display = display;
    if (m_rows.isEmpty())
        return;
    const int last = int(m_rows.size()) - 1;
    for (int slot = 0; slot < SelectionSlots; ++slot) {
        Q_EMIT dataChanged(
            index(0, priceColumn(slot)), index(last, priceColumn(slot)), {Qt::DisplayRole});
    }
}

void BookModel::resetBook(const BookData &book, quint64 sequence, const QString &epoch)
{
    beginResetModel();
    m_rows.clear();
    m_events.clear();
    m_flashes.clear();
    m_flashTimer.stop();
    m_nextOrder = 0;
    m_headSequence = sequence;
    m_epoch = epoch;

    // Events by start time; a stable sort keeps the book's order for the same kick-off.
    QVector<EventInfo> events = book.events;
    std::stable_sort(events.begin(), events.end(),
        [](const EventInfo &a, const EventInfo &b) { return a.startTimeMs < b.startTimeMs; });
    for (const EventInfo &event : std::as_const(events))
        m_events.insert(event.id, EventEntry {event, m_nextOrder++});
    m_rows.reserve(book.markets.size());
    for (const MarketInfo &market : book.markets)
        m_rows.append(Row {market, m_nextOrder++});
    QVector<int> order(m_rows.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(
        order.begin(), order.end(), [this](int a, int b) { return rowLessThan(a, b); });
    QVector<Row> sorted;
    sorted.reserve(m_rows.size());
    for (int i : std::as_const(order))
        sorted.append(m_rows.at(i));
    m_rows = std::move(sorted);
    indexRows();
    endResetModel();
}

void BookModel::indexRows()
{
    m_rowOfMarket.clear();
    m_slotOfSelection.clear();
    m_marketOfSelection.clear();
    for (int row = 0; row < m_rows.size(); ++row)
        indexRow(row);
}

void BookModel::indexRow(int row)
{
    const MarketInfo &market = m_rows.at(row).market;
    m_rowOfMarket.insert(market.id, row);
    for (int slot = 0; slot < market.selections.size(); ++slot) {
        m_slotOfSelection.insert(market.selections.at(slot).id, slot);
        m_marketOfSelection.insert(market.selections.at(slot).id, market.id);
    }
}

BookModel::Row *BookModel::rowForMarket(quint32 marketId, QVector<Row> &appended, int *rowNumber)
{
    const int row = m_rowOfMarket.value(marketId, -1);
    *rowNumber = row;
    if (row < 0)
        return nullptr;
    if (row < m_rows.size())
        return &m_rows[row];
    return &appended[row - m_rows.size()];
}

void BookModel::applyChanges(const BookChanges &changes)
{
    QVector<Row> appended;
    QHash<int, DirtyRow> dirty;
    for (const BookChange &change : changes)
        applyOne(change, appended, dirty);

    emitDirty(dirty);

    if (!appended.isEmpty()) {
        const int first = int(m_rows.size());
        beginInsertRows(QModelIndex(), first, first + int(appended.size()) - 1);
        m_rows.append(appended);
        endInsertRows();
    }
    if (!m_flashes.isEmpty() && !m_flashTimer.isActive())
        m_flashTimer.start();
}

void BookModel::applyOne(
    const BookChange &change, QVector<Row> &appended, QHash<int, DirtyRow> &dirty)
{
    m_headSequence = std::max(m_headSequence, change.sequence);

    if (change.kind == BookChange::Kind::EventAdded) {
        auto it = m_events.find(change.event.id);
        if (it == m_events.end()) {
            m_events.insert(change.event.id, EventEntry {change.event, m_nextOrder++});
            return;
        }
        it->info = change.event;
        for (int row = 0; row < m_rows.size(); ++row) {
            if (m_rows.at(row).market.eventId != change.event.id)
                continue;
            markDirty(dirty, row, EventColumn, DisplayBit | ToolTipBit | SortBit | IdBit);
            markDirty(dirty, row, StartColumn, DisplayBit | SortBit);
        }
        return;
    }

    int rowNumber = -1;
    if (change.kind == BookChange::Kind::MarketAdded) {
        Row *existing = rowForMarket(change.market.id, appended, &rowNumber);
        MarketInfo market = change.market;
        market.lastSequence = change.sequence;
        market.lastChangeMs = change.wallTimeMs;
        if (existing) {
            for (const SelectionInfo &s : existing->market.selections) {
                m_slotOfSelection.remove(s.id);
                m_marketOfSelection.remove(s.id);
                m_flashes.remove(s.id);
            }
            existing->market = market;
        } else {
            rowNumber = int(m_rows.size() + appended.size());
            appended.append(Row {market, m_nextOrder++});
        }
        m_rowOfMarket.insert(market.id, rowNumber);
        for (int slot = 0; slot < market.selections.size(); ++slot) {
            m_slotOfSelection.insert(market.selections.at(slot).id, slot);
            m_marketOfSelection.insert(market.selections.at(slot).id, market.id);
        }
        for (int column = 0; column < ColumnCount; ++column)
            markDirty(dirty, rowNumber, column, AllBits);
        return;
    }

    Row *row = rowForMarket(change.marketId, appended, &rowNumber);
    if (!row) {
        qCWarning(lcUiGrid) << "a change for market" << change.marketId
                            << "which the grid does not have; the grid may be out of date";
        return;
    }
    MarketInfo &market = row->market;

    switch (change.kind) {
    case BookChange::Kind::Price: {
        SelectionInfo *selection = market.selection(change.selectionId);
        if (!selection)
            return;
        const int direction = change.price > selection->price ? 1
            : change.price < selection->price                 ? -1
                                                              : 0;
        selection->price = change.price;
        const int slot = m_slotOfSelection.value(selection->id, SelectionSlots);
        if (slot < SelectionSlots) {
            markDirty(dirty, rowNumber, priceColumn(slot),
                DisplayBit | EditBit | ToolTipBit | SortBit | IdBit | BackgroundBit);
            if (direction != 0)
                startFlash(selection->id, direction);
        }
        markDirty(dirty, rowNumber, MarginColumn, DisplayBit | SortBit | ForegroundBit);
        break;
    }
    case BookChange::Kind::Status:
        market.status = change.status;
        markDirty(dirty, rowNumber, StatusColumn, DisplayBit | BackgroundBit | SortBit | IdBit);
        for (int slot = 0; slot < std::min(int(market.selections.size()), SelectionSlots); ++slot)
            markDirty(dirty, rowNumber, priceColumn(slot), ForegroundBit | IdBit);
        break;
    case BookChange::Kind::Winner: {
        SelectionInfo *selection = market.selection(change.selectionId);
        if (!selection)
            return;
        selection->winner = true;
        const int slot = m_slotOfSelection.value(selection->id, SelectionSlots);
        if (slot < SelectionSlots)
            markDirty(dirty, rowNumber, Selection1Column + 2 * slot, DisplayBit | SortBit);
        break;
    }
    default:
        return;
    }

    market.lastSequence = change.sequence;
    market.lastChangeMs = change.wallTimeMs;
    markDirty(dirty, rowNumber, LastChangeColumn, DisplayBit | SortBit);
    markDirty(dirty, rowNumber, SequenceColumn, DisplayBit | SortBit);
}

void BookModel::markDirty(QHash<int, DirtyRow> &dirty, int row, int column, quint8 bits)
{
    if (row >= m_rows.size())
        return; // a row this batch appends: it is inserted whole
    dirty[row].roles[column] |= bits;
}

QList<int> BookModel::rolesOf(quint8 bits)
{
    if (bits == AllBits)
        return {}; // every role
    QList<int> roles;
    if (bits & DisplayBit)
        roles << Qt::DisplayRole;
    if (bits & EditBit)
        roles << Qt::EditRole;
    if (bits & ForegroundBit)
        roles << Qt::ForegroundRole;
    if (bits & BackgroundBit)
        roles << Qt::BackgroundRole;
    if (bits & ToolTipBit)
        roles << Qt::ToolTipRole;
    if (bits & SortBit)
        roles << SortRole;
    if (bits & IdBit)
        roles << SearchTextRole << MarketIdRole << EventIdRole << SelectionIdRole << PriceRole
              << StatusRole;
    return roles;
}

void BookModel::emitDirty(const QHash<int, DirtyRow> &dirty)
{
    if (dirty.isEmpty())
        return;

    // When most rows changed, one signal over the whole table is cheaper for every view
    // than hundreds of small ones; it is still not a reset.
    if (m_rows.size() >= WholeTableMinRows && dirty.size() > m_rows.size() / 2) {
        quint8 all = 0;
        for (const DirtyRow &d : dirty) {
            for (quint8 bits : d.roles)
                all |= bits;
        }
        Q_EMIT dataChanged(
            index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1), rolesOf(all));
        return;
    }

    QList<int> rows = dirty.keys();
    std::sort(rows.begin(), rows.end());
    for (int row : std::as_const(rows)) {
        const DirtyRow &d = dirty.value(row);
        // One signal per run of adjacent columns that changed in the same roles.
        int column = 0;
        while (column < ColumnCount) {
            const quint8 bits = d.roles[column];
            if (bits == 0) {
                ++column;
                continue;
            }
            int end = column;
            while (end + 1 < ColumnCount && d.roles[end + 1] == bits)
                ++end;
            Q_EMIT dataChanged(index(row, column), index(row, end), rolesOf(bits));
            column = end + 1;
        }
    }
}

void BookModel::startFlash(quint32 selectionId, int direction)
{
    m_flashes.insert(selectionId, Flash {m_clock.elapsed() + FlashMs, direction});
}

void BookModel::expireFlashes()
{
    const qint64 now = m_clock.elapsed();
    for (auto it = m_flashes.begin(); it != m_flashes.end();) {
        if (it->untilMs > now) {
            ++it;
            continue;
        }
        const quint32 selectionId = it.key();
        it = m_flashes.erase(it);
        const int row = rowOfMarket(m_marketOfSelection.value(selectionId));
        const int slot = m_slotOfSelection.value(selectionId, SelectionSlots);
        if (row >= 0 && slot < SelectionSlots) {
            const QModelIndex cell = index(row, priceColumn(slot));
            Q_EMIT dataChanged(cell, cell, {Qt::BackgroundRole});
        }
    }
    if (m_flashes.isEmpty())
        m_flashTimer.stop();
}

} // namespace OddsDesk
