#include "feed.h"

#include "bookstore.h"
#include "clock.h"
#include "counted.h"

#include <QDir>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSet>

#include <unordered_map>

Q_LOGGING_CATEGORY(lcFeed, "oddsdesk.engine.feed", QtWarningMsg)

namespace OddsDesk {

BookChanges conflate(const BookChanges &changes)
{
    std::unordered_map<quint64, int> latest; // key -> index into changes
    latest.reserve(changes.size());
    auto keyOf = [](const BookChange &c) -> quint64 {
        switch (c.kind) {
        case BookChange::Kind::Price:
            return (quint64(1) << 40) | c.selectionId;
        case BookChange::Kind::Status:
            return (quint64(2) << 40) | c.marketId;
        default:
            return 0; // never conflated
        }
    };
    for (int i = 0; i < changes.size(); ++i) {
        const quint64 key = keyOf(changes.at(i));
        if (key != 0)
            latest[key] = i;
    }
    BookChanges out;
    out.reserve(changes.size());
    for (int i = 0; i < changes.size(); ++i) {
        const quint64 key = keyOf(changes.at(i));
        if (key == 0 || latest[key] == i)
            out.append(changes.at(i));
    }
    return out;
}

QByteArray encodeDelta(quint64 fromSequence, quint64 toSequence, qint64 oldestCommitUs,
    const BookChanges &changes, WireFormat format)
{
    pb::ServerMessage message;
    pb::Delta *delta = message.mutable_delta();
    delta->set_from_sequence(fromSequence);
    delta->set_to_sequence(toSequence);
    delta->set_commit_time_us(oldestCommitUs);
    delta->mutable_changes()->Reserve(int(changes.size()));
    for (const BookChange &change : changes)
        Codec::toProto(change, delta->add_changes());
    return Codec::encode(message, format);
}

// What a journal entry holds in memory, near enough: both encodings and the changes.
static qint64 journalCost(const FeedBatch &batch)
{
    return batch.binary.size() + batch.json.size()
        + qint64(batch.changes.size()) * qint64(sizeof(BookChange));
}

// A batch the store refused is tried again after this long, not on every edit.
constexpr int StorageRetryMs = 1000;

Feed::OriginScope::OriginScope(Feed *feed, ChangeOrigin origin, qint64 bulkId)
    : m_feed(feed)
    , m_previousOrigin(feed->m_origin)
    , m_previousBulk(feed->m_bulkId)
{
    feed->m_origin = origin;
    feed->m_bulkId = bulkId;
}

Feed::OriginScope::~OriginScope()
{
    m_feed->m_origin = m_previousOrigin;
    m_feed->m_bulkId = m_previousBulk;
}

void Feed::setStore(BookStore *store, const QString &user)
{
    m_store = store;
    m_user = user;
}

Feed::Feed(QObject *parent)
    : Feed(Config {}, parent)
{ }

Feed::Feed(const Config &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_epoch(newEpoch())
{
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setTimerType(Qt::PreciseTimer);
    m_flushTimer.setInterval(m_config.flushIntervalMs);
    connect(&m_flushTimer, &QTimer::timeout, this, &Feed::flush);
}

QString Feed::newEpoch()
{
    return QString::number(QRandomGenerator::system()->generate64(), 16).rightJustified(16, '0');
}

AuditEntry importAuditEntry(const QString &path, int replacedEvents, int replacedMarkets,
    const BookData &imported, const QString &user, quint64 sequence)
{
    AuditEntry entry;
    entry.timeMs = wallMillis();
    entry.user = user;
    entry.source = originName(ChangeOrigin::Import);
    entry.field = QStringLiteral("book");
    if (replacedMarkets > 0) {
        entry.oldValue = counted(replacedEvents, u"event", u"events") + QStringLiteral(", ")
            + counted(replacedMarkets, u"market", u"markets");
    }
    entry.newValue = QStringLiteral("%1: %2, %3")
                         .arg(QDir::toNativeSeparators(QFileInfo(path).absoluteFilePath()),
                             counted(imported.events.size(), u"event", u"events"),
                             counted(imported.markets.size(), u"market", u"markets"));
    entry.sequence = sequence;
    return entry;
}

void Feed::resetBook(const BookData &data, const QString &importedFrom)
{
    QVector<AuditEntry> audit;
    if (!importedFrom.isEmpty()) {
        audit.append(importAuditEntry(
            importedFrom, m_book.eventCount(), m_book.marketCount(), data, m_user, m_head));
    }
    m_flushTimer.stop();
    m_pending.clear();
    m_journal.clear();
    m_journalBytes = 0;
    m_snapshot.reset();
    m_book.reset(data);
    m_epoch = newEpoch();
    // Sequences keep increasing across a reset, so no client mistakes the new feed for
    // the old one even if it ignores the epoch.
    m_flushed = m_head;
    if (m_store && !m_store->saveBook(data, m_epoch, m_head, audit)) {
        qCCritical(lcFeed).noquote() << "could not store the new book:" << m_store->errorString();
        Q_EMIT storageFailed(m_store->errorString());
    }
    qCInfo(lcFeed) << "book reset:" << data.events.size() << "events," << data.markets.size()
                   << "markets, epoch" << m_epoch;
    Q_EMIT bookReset();
}

void Feed::restore(const BookData &data, const QString &epoch, quint64 headSequence)
{
    resetBook(data);
    m_epoch = epoch;
    m_head = m_flushed = headSequence;
}

QString Feed::commit(BookChange change)
{
    change.sequence = m_head + 1;
    change.commitTimeUs = monotonicMicros();
    change.origin = m_origin;
    change.bulkId = m_bulkId;
    change.wallTimeMs = wallMillis();
    if (!m_book.apply(change))
        return QStringLiteral("the book has no such market or selection");
    m_head = change.sequence;
    m_pending.append(change);
    if (!m_flushTimer.isActive())
        m_flushTimer.start();
    return QString();
}

QString Feed::setPrice(quint32 selectionId, Price price, std::optional<Price> expected)
{
    if (!isValidPrice(price))
        return QStringLiteral("%1 is outside 1.01 to 1000").arg(formatDecimal(price));
    const MarketInfo *market = m_book.marketOfSelection(selectionId);
    if (!market)
        return QStringLiteral("no selection %1 in the book").arg(selectionId);
    const SelectionInfo *selection = market->selection(selectionId);
    if (expected && selection->price != *expected) {
        return QStringLiteral("%1 moved from %2 to %3 before the edit arrived")
            .arg(selection->name, formatDecimal(*expected), formatDecimal(selection->price));
    }
    if (market->status == MarketStatus::Closed)
        return QStringLiteral("%1 is closed").arg(market->name);
    if (selection->price == price)
        return QString();

    BookChange change;
    change.kind = BookChange::Kind::Price;
    change.marketId = market->id;
    change.selectionId = selectionId;
    change.price = price;
    change.oldPrice = selection->price;
    return commit(change);
}

QString Feed::setStatus(quint32 marketId, MarketStatus status)
{
    const MarketInfo *market = m_book.market(marketId);
    if (!market)
        return QStringLiteral("no market %1 in the book").arg(marketId);
    if (status == MarketStatus::Unknown)
        return QStringLiteral("not a market status");
    if (market->status == MarketStatus::Closed && status != MarketStatus::Closed)
        return QStringLiteral("%1 is closed and cannot reopen").arg(market->name);
    if (market->status == status)
        return QString();

    BookChange change;
    change.kind = BookChange::Kind::Status;
    change.marketId = marketId;
    change.status = status;
    change.oldStatus = market->status;
    return commit(change);
}

EditResult Feed::applyEdit(const DeskEdit &edit)
{
    EditResult result;
    if (edit.isEmpty()) {
        result.error = QStringLiteral("the edit changes nothing");
        return result;
    }
    // First every check, against the book as it is; nothing is committed until all pass.
    int effective = 0; // changes that set a value the book does not already have
    for (const DeskEdit::PriceChange &change : edit.prices) {
        if (!isValidPrice(change.price)) {
            result.error
                = QStringLiteral("%1 is outside 1.01 to 1000").arg(formatDecimal(change.price));
            return result;
        }
        const MarketInfo *market = m_book.marketOfSelection(change.selectionId);
        if (!market) {
            result.error = QStringLiteral("no selection %1 in the book").arg(change.selectionId);
            return result;
        }
        if (market->status == MarketStatus::Closed) {
            result.error = QStringLiteral("%1 is closed").arg(market->name);
            return result;
        }
        const SelectionInfo *selection = market->selection(change.selectionId);
        effective += selection->price != change.price;
        if (change.seen != 0 && selection->price != change.seen) {
            EditConflict conflict;
            conflict.marketId = market->id;
            conflict.selectionId = selection->id;
            conflict.marketName = market->name;
            conflict.selectionName = selection->name;
            conflict.seenPrice = change.seen;
            conflict.currentPrice = selection->price;
            conflict.wantedPrice = change.price;
            result.conflicts.append(conflict);
        }
    }
    for (const DeskEdit::StatusChange &change : edit.statuses) {
        const MarketInfo *market = m_book.market(change.marketId);
        if (!market) {
            result.error = QStringLiteral("no market %1 in the book").arg(change.marketId);
            return result;
        }
        if (change.status == MarketStatus::Unknown) {
            result.error = QStringLiteral("not a market status");
            return result;
        }
        if (market->status == MarketStatus::Closed && change.status != MarketStatus::Closed) {
            result.error = QStringLiteral("%1 is closed and cannot reopen").arg(market->name);
            return result;
        }
        effective += market->status != change.status;
        if (change.seen != MarketStatus::Unknown && market->status != change.seen) {
            EditConflict conflict;
            conflict.marketId = market->id;
            conflict.marketName = market->name;
            conflict.seenStatus = change.seen;
            conflict.currentStatus = market->status;
            conflict.wantedStatus = change.status;
            result.conflicts.append(conflict);
        }
    }
    if (!result.conflicts.isEmpty())
        return result;

    const qint64 bulkId = effective > 1 ? nextBulkId() : 0;
    const OriginScope scope(this, ChangeOrigin::Desk, bulkId);
    result.done.description = edit.description;
    for (const DeskEdit::StatusChange &change : edit.statuses) {
        const MarketStatus before = m_book.market(change.marketId)->status;
        if (before == change.status)
            continue;
        BookChange c;
        c.kind = BookChange::Kind::Status;
        c.marketId = change.marketId;
        c.status = change.status;
        c.oldStatus = before;
        commit(c);
        result.done.statuses.append({change.marketId, change.status, before});
    }
    for (const DeskEdit::PriceChange &change : edit.prices) {
        const MarketInfo *market = m_book.marketOfSelection(change.selectionId);
        const Price before = market->selection(change.selectionId)->price;
        if (before == change.price)
            continue;
        BookChange c;
        c.kind = BookChange::Kind::Price;
        c.marketId = market->id;
        c.selectionId = change.selectionId;
        c.price = change.price;
        c.oldPrice = before;
        commit(c);
        result.done.prices.append({change.selectionId, change.price, before});
    }
    result.applied = true;
    if (!result.done.isEmpty()) {
        result.bulkId = bulkId;
        result.lastSequence = m_head;
        result.firstSequence = m_head - quint64(result.done.size()) + 1;
    }
    return result;
}

QString Feed::setWinner(quint32 marketId, quint32 selectionId)
{
    const MarketInfo *market = m_book.market(marketId);
    if (!market || !market->selection(selectionId))
        return QStringLiteral("no selection %1 in market %2").arg(selectionId).arg(marketId);
    BookChange change;
    change.kind = BookChange::Kind::Winner;
    change.marketId = marketId;
    change.selectionId = selectionId;
    return commit(change);
}

QString Feed::addEvent(const EventInfo &event)
{
    BookChange change;
    change.kind = BookChange::Kind::EventAdded;
    change.event = event;
    return commit(change);
}

QString Feed::addMarket(const MarketInfo &market)
{
    if (!m_book.event(market.eventId))
        return QStringLiteral("no event %1 for market %2").arg(market.eventId).arg(market.name);
    for (const SelectionInfo &s : market.selections) {
        if (!isValidPrice(s.price) && s.price != 0)
            return QStringLiteral("%1 has an invalid price").arg(s.name);
    }
    BookChange change;
    change.kind = BookChange::Kind::MarketAdded;
    change.marketId = market.id;
    change.market = market;
    return commit(change);
}

void Feed::flush()
{
    m_flushTimer.stop();
    if (m_pending.isEmpty())
        return;

    auto batch = std::make_shared<FeedBatch>();
    batch->fromSequence = m_flushed + 1;
    batch->toSequence = m_head;
    batch->oldestCommitUs = m_pending.first().commitTimeUs;
    batch->changes = conflate(m_pending);
    if (m_store && !persist(*batch, m_pending)) {
        // Not durable, so not published: held back and tried again shortly.
        m_flushTimer.start(StorageRetryMs);
        return;
    }
    m_pending.clear();

    batch->binary = encodeDelta(batch->fromSequence, batch->toSequence, batch->oldestCommitUs,
        batch->changes, WireFormat::Binary);
    batch->json = encodeDelta(batch->fromSequence, batch->toSequence, batch->oldestCommitUs,
        batch->changes, WireFormat::Json);
    batch->flushedUs = monotonicMicros();

    m_flushed = m_head;
    m_snapshot.reset();
    m_journal.push_back(batch);
    m_journalBytes += journalCost(*batch);
    trimJournal(batch->flushedUs);
    Q_EMIT flushed(batch);
}

bool Feed::persist(const FeedBatch &batch, const BookChanges &all)
{
    QVector<AuditEntry> audit;
    for (const BookChange &c : all) {
        if (c.origin == ChangeOrigin::Simulator)
            continue; // random moves are not anyone's decision; they would drown the log
        AuditEntry entry;
        entry.timeMs = c.wallTimeMs;
        entry.user = m_user;
        entry.source = originName(c.origin);
        entry.marketId = c.marketId;
        entry.bulkId = c.bulkId;
        entry.sequence = c.sequence;
        switch (c.kind) {
        case BookChange::Kind::Price:
            entry.selectionId = c.selectionId;
            entry.field = QStringLiteral("price");
            entry.oldValue = c.oldPrice ? formatDecimal(c.oldPrice) : QString();
            entry.newValue = formatDecimal(c.price);
            break;
        case BookChange::Kind::Status:
            entry.field = QStringLiteral("status");
            entry.oldValue = statusName(c.oldStatus);
            entry.newValue = statusName(c.status);
            break;
        case BookChange::Kind::Winner:
            entry.selectionId = c.selectionId;
            entry.field = QStringLiteral("winner");
            entry.newValue = QString::number(c.selectionId);
            break;
        case BookChange::Kind::MarketAdded:
            entry.field = QStringLiteral("market");
            entry.newValue = c.market.name;
            break;
        case BookChange::Kind::EventAdded:
            entry.field = QStringLiteral("event");
            entry.newValue = c.event.name;
            break;
        }
        audit.append(entry);
    }
    if (m_store->commitBatch(batch.changes, batch.toSequence, audit))
        return true;

    // The store refuses further batches after a failure until it holds the whole book again.
    const QString error = m_store->errorString();
    qCCritical(lcFeed).noquote() << "could not make sequence" << batch.toSequence
                                 << "durable:" << error;
    if (m_store->saveBook(m_book.toData(), m_epoch, m_head)) {
        qCWarning(lcFeed) << "stored the whole book again at sequence" << m_head;
        return true;
    }
    qCCritical(lcFeed).noquote() << "could not store the whole book again either:"
                                 << m_store->errorString();
    Q_EMIT storageFailed(error);
    return false;
}

void Feed::trimJournal(qint64 nowUs)
{
    const qint64 oldestKeptUs = nowUs - qint64(m_config.journalMaxAgeMs) * 1000;
    while (!m_journal.empty()
        && (m_journal.size() > size_t(m_config.journalMaxBatches)
            || m_journalBytes > m_config.journalMaxBytes
            || m_journal.front()->flushedUs < oldestKeptUs)) {
        m_journalBytes -= journalCost(*m_journal.front());
        m_journal.pop_front();
    }
}

SnapshotFramesPtr Feed::snapshot()
{
    flush();
    if (m_snapshot && m_snapshot->sequence == m_flushed)
        return m_snapshot;

    auto frames = std::make_shared<SnapshotFrames>();
    frames->sequence = m_flushed;
    const auto &markets = m_book.markets();
    const int perFrame = qMax(1, m_config.snapshotMarketsPerFrame);
    const int parts = qMax(1, int((markets.size() + perFrame - 1) / perFrame));
    for (int part = 0; part < parts; ++part) {
        pb::ServerMessage message;
        pb::Snapshot *snapshot = message.mutable_snapshot();
        snapshot->set_sequence(m_flushed);
        snapshot->set_part(quint32(part));
        snapshot->set_last(part == parts - 1);
        const int begin = part * perFrame;
        const int end = qMin(int(markets.size()), begin + perFrame);
        // Events travel with the first market that needs them, so each part is usable.
        QSet<quint32> eventsSent;
        for (int i = begin; i < end; ++i) {
            const MarketInfo &market = markets.at(i);
            if (!eventsSent.contains(market.eventId)) {
                if (const EventInfo *event = m_book.event(market.eventId))
                    Codec::toProto(*event, snapshot->add_events());
                eventsSent.insert(market.eventId);
            }
            Codec::toProto(market, snapshot->add_markets());
        }
        if (part == parts - 1) {
            // Events without markets still belong to the book.
            QSet<quint32> withMarkets;
            for (const MarketInfo &m : markets)
                withMarkets.insert(m.eventId);
            for (const EventInfo &event : m_book.events()) {
                if (!withMarkets.contains(event.id))
                    Codec::toProto(event, snapshot->add_events());
            }
        }
        frames->binary.append(Codec::encode(message, WireFormat::Binary));
        frames->json.append(Codec::encode(message, WireFormat::Json));
    }
    m_snapshot = frames;
    return m_snapshot;
}

std::optional<std::vector<FeedBatchPtr>> Feed::batchesAfter(quint64 sequence) const
{
    if (sequence > m_flushed)
        return std::nullopt;
    std::vector<FeedBatchPtr> out;
    if (sequence == m_flushed)
        return out;
    // Find the batch that starts right after the client's last sequence.
    auto it = std::lower_bound(m_journal.cbegin(), m_journal.cend(), sequence + 1,
        [](const FeedBatchPtr &b, quint64 s) { return b->fromSequence < s; });
    if (it == m_journal.cend() || (*it)->fromSequence != sequence + 1)
        return std::nullopt;
    out.assign(it, m_journal.cend());
    return out;
}

} // namespace OddsDesk
