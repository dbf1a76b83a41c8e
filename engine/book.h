#pragma once

#include "price.h"

#include <QHash>
#include <QMetaType>
#include <QString>
#include <QVector>

namespace OddsDesk {

enum class MarketStatus : quint8 {
    Unknown = 0, // a status this build does not know: never tradable
    Open = 1,
    Suspended = 2,
    Closed = 3,
};

QString statusName(MarketStatus status);
inline bool isTradable(MarketStatus status)
{
    return status == MarketStatus::Open;
}

struct EventInfo
{
    quint32 id = 0;
    QString name;
    QString competition;
    QString home;
    QString away;
    qint64 startTimeMs = 0; // UTC
};

struct SelectionInfo
{
    quint32 id = 0;
    QString name;
    Price price = 0;
    bool winner = false;
};

struct MarketInfo
{
    quint32 id = 0;
    quint32 eventId = 0;
    QString name;
    QString kind;
    MarketStatus status = MarketStatus::Open;
    QVector<SelectionInfo> selections;
    quint64 lastSequence = 0; // the sequence of the last change to this market
    qint64 lastChangeMs = 0; // UTC wall time of that change

    const SelectionInfo *selection(quint32 selectionId) const;
    SelectionInfo *selection(quint32 selectionId);
};

/// The overround of a market in percent: the sum of its selections' implied probabilities.
double marginPercent(const MarketInfo &market);

/// A whole book as a value: what an importer produces and a snapshot carries.
struct BookData
{
    QVector<EventInfo> events;
    QVector<MarketInfo> markets;
};

/// Where a change came from: the desk's traders, an import, an exchange replay or the
/// price simulator. The audit log records every origin but the simulator.
enum class ChangeOrigin : quint8 { Desk, Import, Replay, Simulator };

QString originName(ChangeOrigin origin);

/// One accepted change, with the sequence number the feed gave it.
struct BookChange
{
    enum class Kind : quint8 { Price, Status, Winner, MarketAdded, EventAdded };

    Kind kind = Kind::Price;
    quint64 sequence = 0;
    quint32 marketId = 0;
    quint32 selectionId = 0; // Price, Winner
    Price price = 0; // Price
    MarketStatus status = MarketStatus::Open; // Status
    qint64 commitTimeUs = 0; // engine's monotonic clock
    qint64 wallTimeMs = 0;
    MarketInfo market; // MarketAdded
    EventInfo event; // EventAdded
    ChangeOrigin origin = ChangeOrigin::Desk;
    Price oldPrice = 0; // Price: what it replaced
    MarketStatus oldStatus = MarketStatus::Open; // Status: what it replaced
    qint64 bulkId = 0; // the bulk edit it belonged to, or 0
};

using BookChanges = QVector<BookChange>;

/// The odds book: events, their markets and the markets' selections, by id. A plain value
/// owned by one thread; the feed mutates it, copies travel to the UI and to clients.
class Book
{
public:
    void reset(const BookData &data);
    BookData toData() const;

    const QVector<EventInfo> &events() const { return m_events; }
    const QVector<MarketInfo> &markets() const { return m_markets; }
    int eventCount() const { return int(m_events.size()); }
    int marketCount() const { return int(m_markets.size()); }

    const EventInfo *event(quint32 eventId) const;
    const MarketInfo *market(quint32 marketId) const;
    MarketInfo *market(quint32 marketId);
    /// The market a selection belongs to, or null.
    const MarketInfo *marketOfSelection(quint32 selectionId) const;

    /// Applies an accepted change. Returns false (and changes nothing) when the change
    /// names a market or selection the book does not have.
    bool apply(const BookChange &change);
    /// Applies \a changes in order, as apply() would one by one, and keeps in the list only
    /// those that applied. For a book out of the processor's cache (one of the thousands a
    /// load generator keeps) it is several times cheaper: the markets and selections of the
    /// changes further down the list are fetched from memory while the first are applied.
    void applyAll(BookChanges *changes);

    bool operator==(const Book &other) const;
    bool operator!=(const Book &other) const { return !(*this == other); }

private:
    void index();
    /// A change of a market's prices, status or winner, to that market.
    static bool applyToMarket(MarketInfo *market, const BookChange &change);

    QVector<EventInfo> m_events;
    QVector<MarketInfo> m_markets;
    QHash<quint32, int> m_eventIndex;
    QHash<quint32, int> m_marketIndex;
    QHash<quint32, quint32> m_selectionMarket;
};

bool operator==(const EventInfo &a, const EventInfo &b);
bool operator==(const SelectionInfo &a, const SelectionInfo &b);
/// Compares what a client sees: ids, names, status and prices (not sequence or timing).
bool operator==(const MarketInfo &a, const MarketInfo &b);

} // namespace OddsDesk

Q_DECLARE_METATYPE(OddsDesk::BookData)
Q_DECLARE_METATYPE(OddsDesk::BookChanges)
