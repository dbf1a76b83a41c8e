#pragma once

#include "book.h"
#include "ladder.h"

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QHash>
#include <QTimer>
#include <QVector>

#include <array>
#include <optional>

namespace OddsDesk {

class DeskEditor;
class Engine;

/// The market grid: one row per market of every event, grouped by event (the event's name
/// and start time repeat on each of its markets' rows). Up to three selections show as a
/// name and a price cell each; price cells are editable and send the trader's price to the
/// engine. The model mirrors the engine's book from bookReset() and bookChanged(): a reset
/// only when the whole book is replaced, otherwise dataChanged() over the cells that changed
/// and one row insertion per batch for new markets.
///
/// Rows come in book order after a reset (events by start time, markets as the book lists
/// them); markets added later are appended at the end, so views should sit on a
/// BookFilterModel, which keeps the event-then-market order for every row.
class BookModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        EventColumn,
        StartColumn,
        MarketColumn,
        StatusColumn,
        Selection1Column,
        Price1Column,
        Selection2Column,
        Price2Column,
        Selection3Column,
        Price3Column,
        MarginColumn,
        LastChangeColumn,
        SequenceColumn,
        ColumnCount
    };
    static constexpr int SelectionSlots = 3;

    enum Role {
        /// A value that sorts the column: numbers for prices, times and sequences.
        SortRole = Qt::UserRole + 1,
        /// Event, market and every selection name in one string, for the text filter.
        SearchTextRole,
        MarketIdRole,
        EventIdRole,
        /// The selection of a selection or price cell; 0 elsewhere.
        SelectionIdRole,
        /// The price of a price cell in hundredths (Price).
        PriceRole,
        /// The market's MarketStatus as an int.
        StatusRole,
    };

    /// \a engine receives the edits and feeds the model; it must outlive the model. A null
    /// engine gives a read-only model fed only through resetBook() and applyChanges().
    explicit BookModel(Engine *engine, QObject *parent = nullptr);
    ~BookModel() override;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    /// Price cells, Qt::EditRole: reads the text with parsePrice() and sends it to the
    /// engine with the price currently shown as the expected one. An unreadable price
    /// changes nothing, emits editRefused() with the reason and returns false.
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;

    OddsDisplay oddsDisplay() const { return m_display; }
    void setOddsDisplay(OddsDisplay display);
    /// The ladder the step commands walk: the bookmakers' one when showing fractions.
    const Ladder &ladder() const;

    /// Sends the price in \a text for the price cell \a index. \a expected is the price the
    /// trader saw when they started typing: the engine refuses the edit if it has moved.
    bool submitPrice(const QModelIndex &index, const QString &text, std::optional<Price> expected);
    /// Moves the price of the price cell \a index by \a ticks steps of ladder().
    bool stepPrice(const QModelIndex &index, int ticks);
    /// Suspends an open market or reopens a suspended one (the row of \a index).
    bool toggleMarketSuspended(const QModelIndex &index);
    /// Suspends every one of the markets when any is open, else reopens them all: one edit.
    bool toggleMarketsSuspended(const QVector<quint32> &marketIds);
    /// Suspends every market of the row's event when any is open, else reopens them all.
    bool toggleEventSuspended(const QModelIndex &index);

    /// Where the model's edits go: the margin check, conflicts and the undo history. Null
    /// for a read-only model.
    DeskEditor *editor() const { return m_editor; }

    /// A market by id, and the market of a selection, or null.
    const MarketInfo *market(quint32 marketId) const;
    const MarketInfo *marketOfSelection(quint32 selectionId) const;
    /// The market and event of row \a row, or null.
    const MarketInfo *marketAt(int row) const;
    const EventInfo *eventOfRow(int row) const;
    /// The row of a market, or -1.
    int rowOfMarket(quint32 marketId) const;
    /// The price column of a selection slot (0 to 2), and the reverse (-1 for others).
    static int priceColumn(int slot) { return Price1Column + 2 * slot; }
    static int slotOfColumn(int column);
    static bool isPriceColumn(int column);

    /// Book order: event start time, then the order events and markets first appeared.
    bool rowLessThan(int left, int right) const;

    quint64 headSequence() const { return m_headSequence; }
    QString epoch() const { return m_epoch; }

public Q_SLOTS:
    /// Replaces everything: the one place the model resets.
    void resetBook(const OddsDesk::BookData &book, quint64 sequence, const QString &epoch);
    /// Applies one batch of accepted changes.
    void applyChanges(const OddsDesk::BookChanges &changes);

Q_SIGNALS:
    /// An edit was refused, by the model (an unreadable price) or by the engine (the price
    /// moved, the market closed): a sentence for the trader.
    void editRefused(const QString &reason);

private:
    struct Row
    {
        MarketInfo market;
        quint64 order = 0; // the order the market first appeared, within its event
    };
    struct EventEntry
    {
        EventInfo info;
        quint64 order = 0; // the order the event first appeared
    };
    // A price cell lit after a move, until the time shown.
    struct Flash
    {
        qint64 untilMs = 0;
        int direction = 0; // +1 drifted (longer), -1 shortened
    };
    // The cells of one row a batch changed: per column, a mask of RoleBit values.
    struct DirtyRow
    {
        std::array<quint8, ColumnCount> roles {};
    };
    enum RoleBit : quint8 {
        DisplayBit = 1,
        EditBit = 2,
        ForegroundBit = 4,
        BackgroundBit = 8,
        ToolTipBit = 16,
        SortBit = 32,
        IdBit = 64, // the custom id, price and status roles
        AllBits = 0xff,
    };

    bool isCell(const QModelIndex &index) const;
    QVariant displayData(const Row &row, const EventInfo *event, int column) const;
    QVariant priceCellData(const Row &row, int slot, int role) const;
    QString searchText(const Row &row, const EventInfo *event) const;
    QString priceToolTip(const SelectionInfo &selection) const;

    void indexRows();
    void indexRow(int row);
    Row *rowForMarket(quint32 marketId, QVector<Row> &appended, int *rowNumber);
    void applyOne(const BookChange &change, QVector<Row> &appended, QHash<int, DirtyRow> &dirty);
    void markDirty(QHash<int, DirtyRow> &dirty, int row, int column, quint8 bits);
    void markTrailing(QHash<int, DirtyRow> &dirty, int row);
    void emitDirty(const QHash<int, DirtyRow> &dirty);
    static QList<int> rolesOf(quint8 bits);

    void startFlash(quint32 selectionId, int direction);
    void expireFlashes();
    bool refuse(const QString &reason);

    Engine *m_engine = nullptr;
    DeskEditor *m_editor = nullptr;
    OddsDisplay m_display = OddsDisplay::Decimal;
    QVector<Row> m_rows;
    QHash<quint32, EventEntry> m_events;
    QHash<quint32, int> m_rowOfMarket;
    QHash<quint32, int> m_slotOfSelection; // selection id -> its place in its market
    QHash<quint32, Flash> m_flashes; // selection id -> lit price cell
    QHash<quint32, quint32> m_marketOfSelection;
    QTimer m_flashTimer;
    QElapsedTimer m_clock;
    quint64 m_nextOrder = 0;
    quint64 m_headSequence = 0;
    QString m_epoch;
};

} // namespace OddsDesk
