#pragma once

#include "book.h"
#include "price.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QString>
#include <QStringList>
#include <QVector>

#include <map>
#include <optional>
#include <utility>

namespace OddsDesk {

/// The first id a Betfair replay gives its events, markets and selections. Ids below it belong
/// to the desk's own books (importers and the demo number theirs from 1), so a replayed market
/// can sit in the same book as those without a collision.
constexpr quint32 BetfairIdBase = 0x40000000;

/// A price as Betfair's stream writes it (a JSON number such as 3.45 or 12.5) in hundredths.
/// Every price on Betfair's ladders is a whole number of hundredths; a number that is not
/// (within what a double can hold), or lies outside 1.01 to 1000, is refused with a reason.
PriceParseResult betfairPrice(double value);

/// One side of a runner's order book: price -> size available at that price. Only levels
/// with a size above zero are kept.
using BetfairLadder = std::map<Price, double>;

/// A [price, size] level of a ladder delta; size 0 removes the level.
using BetfairLevel = std::pair<Price, double>;

struct BetfairRunnerDefinition
{
    qint64 selectionId = 0;
    QString status; // ACTIVE, WINNER, LOSER, PLACED, REMOVED, REMOVED_VACANT, HIDDEN
    int sortPriority = 0;
    QString name; // some streams carry it (a settled market's last definition does)
};

/// The market definition as the stream last sent it: always whole, never a delta.
struct BetfairMarketDefinition
{
    QString status; // INACTIVE, OPEN, SUSPENDED, CLOSED
    QString eventId;
    QString eventName;
    QString marketType; // WIN, PLACE, MATCH_ODDS, ...
    QString name;
    QString venue;
    QString timezone; // an IANA zone name such as Europe/London
    qint64 marketTimeMs = 0; // UTC; 0 when the definition has none
    bool inPlay = false;
    QVector<BetfairRunnerDefinition> runners;
};

/// One runner's part of a market change, checked and converted.
struct BetfairRunnerChange
{
    qint64 selectionId = 0;
    QVector<BetfairLevel> availableToBack; // "atb"
    QVector<BetfairLevel> availableToLay; // "atl"
    std::optional<Price> lastTraded; // "ltp"
    std::optional<double> tradedVolume; // "tv"
};

/// One market's part of a message ("mc" entry), checked and converted.
struct BetfairMarketChange
{
    QString marketId;
    bool image = false; // "img": replaces what was known of the market
    std::optional<BetfairMarketDefinition> definition;
    QVector<BetfairRunnerChange> runners;
    std::optional<double> tradedVolume;
};

/// One line of a recording, decoded and checked but not yet applied. Either error is empty
/// or it says why the line cannot be used.
struct BetfairMessage
{
    QString operation; // "op": what message the line is; empty when it could not tell
    bool marketChange = false; // "op":"mcm"; other operations carry nothing for the book
    qint64 publishTimeMs = 0; // "pt"; 0 when the line had none
    QVector<BetfairMarketChange> markets;
    QString error;

    bool ok() const { return error.isEmpty(); }
};

struct BetfairRunnerState
{
    BetfairLadder availableToBack;
    BetfairLadder availableToLay;
    Price lastTraded = 0;
    double tradedVolume = 0;

    /// The highest price with money available to back, or 0 when the back side is empty.
    Price bestBack() const;
    /// The lowest price with money available to lay, or 0 when the lay side is empty.
    Price bestLay() const;
};

/// What the stream has said about one market so far.
struct BetfairMarketState
{
    QString marketId;
    std::optional<BetfairMarketDefinition> definition;
    QHash<qint64, BetfairRunnerState> runners; // by Betfair selection id
    double tradedVolume = 0;
    qint64 publishTimeMs = 0; // of the last line that changed it
};

/// A change in book terms, ready for the feed's commands.
struct BetfairUpdate
{
    enum class Kind : quint8 {
        EventDefined, // event: for Feed::addEvent (a repeat replaces the event)
        MarketDefined, // market, whole with prices, status and winners: for Feed::addMarket
        Price, // marketId, selectionId, price: for Feed::setPrice
        Status, // marketId, status: for Feed::setStatus
        Winner, // marketId, selectionId: for Feed::setWinner
    };

    Kind kind = Kind::Price;
    quint32 marketId = 0;
    quint32 selectionId = 0;
    Price price = 0;
    MarketStatus status = MarketStatus::Open;
    EventInfo event;
    MarketInfo market;
};

/// What one line did: the updates in the order to apply them, or why it was skipped.
struct BetfairLineResult
{
    int line = 0; // 1-based
    qint64 publishTimeMs = 0;
    QVector<BetfairUpdate> updates;
    QString error; // non-empty: the line was skipped and the state is as it was before it

    bool ok() const { return error.isEmpty(); }
};

/// Reads a recording of the Betfair Exchange Stream API (one JSON market-change message per
/// line) and keeps each market's state: its definition, and every runner's full
/// available-to-back and available-to-lay ladders with the deltas applied. Pure and
/// synchronous: feed it lines; it says, in book terms, what each one changed.
///
/// Book terms: one event per race or fixture (a Betfair event and the market's start time:
/// a WIN and a PLACE market of one race share it), named by the start time in the market's
/// time zone and the venue ("19:26 Sheffield"), the meeting ("Sheffield 19th Apr") as its
/// competition; one market per Betfair market, named from the catalogue, kind the lowercase
/// market type ("win"); one selection per runner in the definition's order, named from the
/// catalogue, removed and hidden runners left out. A selection's price is its runner's best
/// available-to-back price; when the back side empties (as it does at a suspension) the book
/// keeps the last price, because a selection cannot be unpriced, and the status says the
/// market cannot be traded. Market status: OPEN is open, CLOSED is closed, SUSPENDED, INACTIVE
/// and anything unknown are suspended. A runner whose status becomes WINNER is the winner.
///
/// Ids: events, markets and selections each count up from the id base (BetfairIdBase unless
/// told otherwise) in the order the stream first defines them: the first market is base + 0,
/// its first event base + 0, and its runners base + 0, base + 1, ... in definition order; a
/// runner added by a later definition takes the next free selection id. Selections are keyed
/// by Betfair market id and selection id, since one dog or horse runs in several markets.
/// The same recording therefore always maps to the same ids.
///
/// A line is applied whole or not at all: one that is not JSON, lacks a field it needs, has a
/// field of the wrong type, or a price that is not a whole number of hundredths from 1.01 to
/// 1000 is skipped and reported with its line number and the reason. Fields the parser does not
/// know are ignored, and so are messages other than market changes (connection and status messages,
/// heartbeats), and blank lines.
///
/// Runners are keyed by selection id alone, so until the handicap ("hc") is part of the key,
/// Asian handicap markets (one selection at several handicaps) are not read correctly.
class BetfairStream
{
public:
    explicit BetfairStream(quint32 idBase = BetfairIdBase);

    /// Reads a market catalogue (one object as listMarketCatalogue returns it, or a list of
    /// them) for the runners', markets' and events' names; a name that is missing or not text
    /// leaves the stream's own in place. Returns an error sentence, or an empty string.
    /// Replaces any catalogue read before; names change in the book with the next definition.
    QString setCatalogue(const QByteArray &json);

    /// Decodes and checks one line without touching any state.
    static BetfairMessage decode(QByteArrayView line);

    /// Applies the next line of the recording (decode and apply in one).
    BetfairLineResult feed(QByteArrayView line);
    /// Applies the next line, already decoded. A message with an error is counted as a line,
    /// reported and skipped.
    BetfairLineResult apply(const BetfairMessage &message);

    /// Forgets every market and the line count; keeps the catalogue.
    void reset();

    int linesFed() const { return m_lines; }
    quint32 idBase() const { return m_idBase; }
    QStringList marketIds() const { return m_marketOrder; }
    const BetfairMarketState *market(const QString &marketId) const;
    /// Our ids for Betfair's, or 0 when the stream has not defined them yet.
    quint32 bookMarketId(const QString &marketId) const;
    quint32 bookSelectionId(const QString &marketId, qint64 selectionId) const;
    quint32 bookEventId(const QString &marketId) const;

private:
    struct CatalogueMarket
    {
        QString marketName;
        QString eventName;
        QString eventTypeName;
        QString competitionName;
        QString venue;
        QString timezone;
        QHash<qint64, QString> runnerNames;
    };

    // What the book was last told about a market: the base of every diff.
    struct Published
    {
        bool defined = false;
        EventInfo event;
        MarketInfo market;
    };

    void applyChange(const BetfairMarketChange &change, QVector<BetfairUpdate> *updates);
    EventInfo eventFor(const BetfairMarketState &state);
    MarketInfo marketFor(const BetfairMarketState &state, quint32 eventId, const Published &was);
    static void diff(const Published &was, const MarketInfo &now, QVector<BetfairUpdate> *out);

    quint32 m_idBase;
    int m_lines = 0;
    QHash<QString, CatalogueMarket> m_catalogue; // by Betfair market id
    QHash<QString, BetfairMarketState> m_markets;
    QStringList m_marketOrder;
    QHash<QString, Published> m_published;
    QHash<QString, quint32> m_marketIds;
    QHash<QString, quint32> m_eventIds; // by Betfair event id and start time
    QHash<QString, QHash<qint64, quint32>> m_selectionIds;
    quint32 m_nextEventId;
    quint32 m_nextMarketId;
    quint32 m_nextSelectionId;
};

} // namespace OddsDesk
