#pragma once

#include "audit.h"
#include "book.h"
#include "codec.h"
#include "config.h"
#include "deskedit.h"

#include <QByteArray>
#include <QLoggingCategory>
#include <QObject>
#include <QTimer>

#include <deque>
#include <memory>
#include <optional>

Q_DECLARE_LOGGING_CATEGORY(lcFeed)

namespace OddsDesk {

class BookStore;

/// What one flush sent: a range of sequence numbers, the changes (conflated: the latest
/// value of a selection wins), and the delta encoded once in each wire format for every
/// session to share.
struct FeedBatch
{
    quint64 fromSequence = 0;
    quint64 toSequence = 0;
    qint64 oldestCommitUs = 0; // the change in this batch that waited longest
    qint64 flushedUs = 0;
    BookChanges changes;
    QByteArray binary;
    QByteArray json;

    const QByteArray &frame(WireFormat format) const
    {
        return format == WireFormat::Json ? json : binary;
    }
};

using FeedBatchPtr = std::shared_ptr<const FeedBatch>;

/// A snapshot of the book at one sequence, encoded once per wire format, possibly in
/// several frames.
struct SnapshotFrames
{
    quint64 sequence = 0;
    QVector<QByteArray> binary;
    QVector<QByteArray> json;

    const QVector<QByteArray> &frames(WireFormat format) const
    {
        return format == WireFormat::Json ? json : binary;
    }
};

using SnapshotFramesPtr = std::shared_ptr<const SnapshotFrames>;

/// Keeps the latest change per selection (prices) or per market (status) of \a changes, in
/// the order of their final sequence numbers; other kinds are all kept.
BookChanges conflate(const BookChanges &changes);
/// One delta message holding \a changes, encoded in \a format.
QByteArray encodeDelta(quint64 fromSequence, quint64 toSequence, qint64 oldestCommitUs,
    const BookChanges &changes, WireFormat format);

/// The audit log's entry for a book imported from the file \a path: what it replaced (a
/// book of \a replacedEvents events and \a replacedMarkets markets) and what came.
AuditEntry importAuditEntry(const QString &path, int replacedEvents, int replacedMarkets,
    const BookData &imported, const QString &user, quint64 sequence);

/// The sequenced feed: the book, the sequence numbers and epoch, the changes of the
/// current flush interval, and the journal of recent batches for resuming sessions.
/// Lives on the engine thread.
class Feed : public QObject
{
    Q_OBJECT

public:
    using Config = FeedConfig;

    explicit Feed(QObject *parent = nullptr);
    Feed(const Config &config, QObject *parent = nullptr);

    const Book &book() const { return m_book; }
    QString epoch() const { return m_epoch; }
    quint64 headSequence() const { return m_head; }
    /// The sequence the last flush ended at: what a new snapshot's baseline is.
    quint64 flushedSequence() const { return m_flushed; }
    const Config &config() const { return m_config; }

    /// Replaces the whole book. Continuity cannot be promised, so the epoch changes; every
    /// session needs a new snapshot. A book imported from the file \a importedFrom is
    /// recorded in the audit log, with the book it replaced.
    void resetBook(const BookData &data, const QString &importedFrom = QString());
    /// Starts the feed with a known epoch and head (after a restart that kept its state).
    void restore(const BookData &data, const QString &epoch, quint64 headSequence);

    /// Commands. Each returns an empty string when accepted, or a sentence saying why not.
    /// \a expected, when given, is the price the editor saw: the edit is refused if the
    /// selection has moved since.
    QString setPrice(quint32 selectionId, Price price, std::optional<Price> expected = {});
    QString setStatus(quint32 marketId, MarketStatus status);
    QString setWinner(quint32 marketId, quint32 selectionId);
    QString addEvent(const EventInfo &event);
    QString addMarket(const MarketInfo &market);
    /// Applies a desk edit whole or not at all: every change is checked first (valid price,
    /// known market or selection, a market that can still change, and what the trader saw
    /// against the book) and only then committed, under one bulk id when there is more than
    /// one change. The result says what was applied, or why nothing was. It does not flush.
    EditResult applyEdit(const DeskEdit &edit);

    /// Sends what is pending now instead of at the end of the interval. With a store, the
    /// batch is made durable first and only then published.
    void flush();

    /// Makes every flush durable in \a store before it is published, and records the audit
    /// log under \a user. The store must be open and hold this feed's book.
    void setStore(BookStore *store, const QString &user);
    BookStore *store() const { return m_store; }

    /// While one lives, commits carry this origin (and bulk id).
    class OriginScope
    {
    public:
        OriginScope(Feed *feed, ChangeOrigin origin, qint64 bulkId = 0);
        ~OriginScope();
        OriginScope(const OriginScope &) = delete;
        OriginScope &operator=(const OriginScope &) = delete;

    private:
        Feed *m_feed;
        ChangeOrigin m_previousOrigin;
        qint64 m_previousBulk;
    };
    /// A fresh id for a bulk edit.
    qint64 nextBulkId() { return ++m_lastBulkId; }

    /// The snapshot at the flushed sequence (pending changes are flushed first).
    SnapshotFramesPtr snapshot();

    /// The batches after \a sequence, in order, when the journal still reaches back that far
    /// and \a sequence is a batch boundary; otherwise nullopt. Never a partial list.
    std::optional<std::vector<FeedBatchPtr>> batchesAfter(quint64 sequence) const;

    static QString newEpoch();

Q_SIGNALS:
    /// One signal per flush with everything it held.
    void flushed(const OddsDesk::FeedBatchPtr &batch);
    /// The book was replaced: sessions need a snapshot, views a reload.
    void bookReset();
    /// The store refused a batch; it is held back, not published, and retried.
    void storageFailed(const QString &error);

private:
    QString commit(BookChange change);
    bool persist(const FeedBatch &batch, const BookChanges &all);
    void trimJournal(qint64 nowUs);

    Config m_config;
    Book m_book;
    QString m_epoch;
    quint64 m_head = 0;
    quint64 m_flushed = 0;
    BookChanges m_pending;
    QTimer m_flushTimer;
    std::deque<FeedBatchPtr> m_journal;
    qint64 m_journalBytes = 0;
    SnapshotFramesPtr m_snapshot;
    BookStore *m_store = nullptr;
    QString m_user;
    ChangeOrigin m_origin = ChangeOrigin::Desk;
    qint64 m_bulkId = 0;
    qint64 m_lastBulkId = 0;
};

} // namespace OddsDesk

Q_DECLARE_METATYPE(OddsDesk::FeedBatchPtr)
