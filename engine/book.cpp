#include "book.h"

namespace OddsDesk {

QString statusName(MarketStatus status)
{
    switch (status) {
    case MarketStatus::Open:
        return QStringLiteral("open");
    case MarketStatus::Suspended:
        return QStringLiteral("suspended");
    case MarketStatus::Closed:
        return QStringLiteral("closed");
    case MarketStatus::Unknown:
        break;
    }
    return QStringLiteral("unknown");
}

QString originName(ChangeOrigin origin)
{
    switch (origin) {
    case ChangeOrigin::Desk:
        return QStringLiteral("desk");
    case ChangeOrigin::Import:
        return QStringLiteral("import");
    case ChangeOrigin::Replay:
        return QStringLiteral("replay");
    case ChangeOrigin::Simulator:
        return QStringLiteral("simulator");
    }
    return QStringLiteral("desk");
}

const SelectionInfo *MarketInfo::selection(quint32 selectionId) const
{
    for (const SelectionInfo &s : selections) {
        if (s.id == selectionId)
            return &s;
    }
    return nullptr;
}

SelectionInfo *MarketInfo::selection(quint32 selectionId)
{
    for (SelectionInfo &s : selections) {
        if (s.id == selectionId)
            return &s;
    }
    return nullptr;
}

double marginPercent(const MarketInfo &market)
{
    double sum = 0;
    for (const SelectionInfo &s : market.selections)
        sum += impliedPercent(s.price);
    return sum;
}

void Book::reset(const BookData &data)
{
    m_events = data.events;
    m_markets = data.markets;
    index();
}

BookData Book::toData() const
{
    return BookData {m_events, m_markets};
}

void Book::index()
{
    m_eventIndex.clear();
    m_marketIndex.clear();
    m_selectionMarket.clear();
    for (int i = 0; i < m_events.size(); ++i)
        m_eventIndex.insert(m_events.at(i).id, i);
    for (int i = 0; i < m_markets.size(); ++i) {
        const MarketInfo &market = m_markets.at(i);
        m_marketIndex.insert(market.id, i);
        for (const SelectionInfo &s : market.selections)
            m_selectionMarket.insert(s.id, market.id);
    }
}

const EventInfo *Book::event(quint32 eventId) const
{
    const auto it = m_eventIndex.constFind(eventId);
    return it == m_eventIndex.cend() ? nullptr : &m_events.at(*it);
}

const MarketInfo *Book::market(quint32 marketId) const
{
    const auto it = m_marketIndex.constFind(marketId);
    return it == m_marketIndex.cend() ? nullptr : &m_markets.at(*it);
}

MarketInfo *Book::market(quint32 marketId)
{
    const auto it = m_marketIndex.constFind(marketId);
    return it == m_marketIndex.cend() ? nullptr : &m_markets[*it];
}

const MarketInfo *Book::marketOfSelection(quint32 selectionId) const
{
    const auto it = m_selectionMarket.constFind(selectionId);
    return it == m_selectionMarket.cend() ? nullptr : market(*it);
}

bool Book::apply(const BookChange &change)
{
    switch (change.kind) {
    case BookChange::Kind::EventAdded:
        if (m_eventIndex.contains(change.event.id)) {
            m_events[m_eventIndex.value(change.event.id)] = change.event;
        } else {
            m_eventIndex.insert(change.event.id, int(m_events.size()));
            m_events.append(change.event);
        }
        return true;
    case BookChange::Kind::MarketAdded: {
        MarketInfo market = change.market;
        market.lastSequence = change.sequence;
        market.lastChangeMs = change.wallTimeMs;
        if (MarketInfo *existing = this->market(market.id)) {
            for (const SelectionInfo &s : existing->selections)
                m_selectionMarket.remove(s.id);
            *existing = market;
        } else {
            m_marketIndex.insert(market.id, int(m_markets.size()));
            m_markets.append(market);
        }
        for (const SelectionInfo &s : market.selections)
            m_selectionMarket.insert(s.id, market.id);
        return true;
    }
    default:
        break;
    }

    MarketInfo *market = this->market(change.marketId);
    return market && applyToMarket(market, change);
}

bool Book::applyToMarket(MarketInfo *market, const BookChange &change)
{
    switch (change.kind) {
    case BookChange::Kind::Price: {
        SelectionInfo *selection = market->selection(change.selectionId);
        if (!selection)
            return false;
        selection->price = change.price;
        break;
    }
    case BookChange::Kind::Winner: {
        SelectionInfo *selection = market->selection(change.selectionId);
        if (!selection)
            return false;
        selection->winner = true;
        break;
    }
    case BookChange::Kind::Status:
        market->status = change.status;
        break;
    default:
        break;
    }
    market->lastSequence = change.sequence;
    market->lastChangeMs = change.wallTimeMs;
    return true;
}

namespace {

// How many changes ahead the memory of a market, then its selections, is asked for. A
// market's selections are found only once the market itself is in the cache, so they are
// asked for at half the distance.
constexpr qsizetype PrefetchAhead = 8;
// The changes whose market was looked up and not yet applied: a power of two above it.
constexpr qsizetype LookedUpMask = 15;
static_assert(PrefetchAhead <= LookedUpMask);

inline void prefetch(const void *address)
{
#if defined(__GNUC__)
    __builtin_prefetch(address);
#else
    Q_UNUSED(address);
#endif
}

inline bool changesSelection(const BookChange &change)
{
    return change.kind == BookChange::Kind::Price || change.kind == BookChange::Kind::Winner;
}

inline bool changesMarket(const BookChange &change)
{
    return changesSelection(change) || change.kind == BookChange::Kind::Status;
}

} // namespace

void Book::applyAll(BookChanges *changes)
{
    const qsizetype count = changes->size();
    // The index of each change's market, looked up once, PrefetchAhead changes early. An
    // index stays true while changes are applied (a market is never removed, one added goes
    // at the end), but the markets' memory may move: so indices are kept, never pointers.
    // -1 when the book has no such market yet (one added further up the list).
    int marketAt[LookedUpMask + 1];
    const auto lookUp = [this, changes, &marketAt](qsizetype i) {
        const BookChange &change = changes->at(i);
        int index = -1;
        if (changesMarket(change)) {
            const auto it = m_marketIndex.constFind(change.marketId);
            if (it != m_marketIndex.cend()) {
                index = *it;
                const MarketInfo &market = m_markets.at(index);
                prefetch(&market.selections);
                prefetch(&market.lastChangeMs);
            }
        }
        marketAt[i & LookedUpMask] = index;
    };
    for (qsizetype i = 0; i < qMin(count, PrefetchAhead); ++i)
        lookUp(i);

    qsizetype kept = 0;
    for (qsizetype i = 0; i < count; ++i) {
        if (i + PrefetchAhead < count)
            lookUp(i + PrefetchAhead);
        const qsizetype soon = i + PrefetchAhead / 2;
        if (soon < count && marketAt[soon & LookedUpMask] >= 0
            && changesSelection(changes->at(soon)))
            prefetch(m_markets.at(marketAt[soon & LookedUpMask]).selections.constData());

        const BookChange &change = changes->at(i);
        const int index = marketAt[i & LookedUpMask];
        if (!(index >= 0 ? applyToMarket(&m_markets[index], change) : apply(change)))
            continue;
        if (kept != i)
            (*changes)[kept] = std::move((*changes)[i]);
        ++kept;
    }
    changes->resize(kept);
}

bool Book::operator==(const Book &other) const
{
    if (m_events.size() != other.m_events.size() || m_markets.size() != other.m_markets.size())
        return false;
    for (const EventInfo &e : m_events) {
        const EventInfo *o = other.event(e.id);
        if (!o || !(*o == e))
            return false;
    }
    for (const MarketInfo &m : m_markets) {
        const MarketInfo *o = other.market(m.id);
        if (!o || !(*o == m))
            return false;
    }
    return true;
}

bool operator==(const EventInfo &a, const EventInfo &b)
{
    return a.id == b.id && a.name == b.name && a.competition == b.competition && a.home == b.home
        && a.away == b.away && a.startTimeMs == b.startTimeMs;
}

bool operator==(const SelectionInfo &a, const SelectionInfo &b)
{
    return a.id == b.id && a.name == b.name && a.price == b.price && a.winner == b.winner;
}

bool operator==(const MarketInfo &a, const MarketInfo &b)
{
    return a.id == b.id && a.eventId == b.eventId && a.name == b.name && a.kind == b.kind
        && a.status == b.status && a.selections == b.selections;
}

} // namespace OddsDesk
