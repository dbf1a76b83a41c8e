#pragma once

#include "audit.h"
#include "book.h"

#include <QLoggingCategory>
#include <QSqlDatabase>
#include <QString>
#include <QVector>

#include <memory>
#include <optional>

Q_DECLARE_LOGGING_CATEGORY(lcStore)

class QLockFile;
class QThread;

namespace OddsDesk {

/// What the store held when it was opened.
struct StoredState
{
    BookData book;
    QString epoch;
    quint64 headSequence = 0;
    /// Whether the session that last had the database open ended with markCleanShutdown();
    /// false after a crash or a kill.
    bool cleanShutdown = false;
};

/// The persistence of the book, the feed's head and the audit trail in one SQLite file,
/// <directory>/oddsdesk.sqlite, so that a restart, a crash or a kill loses no accepted edit.
///
/// One store per directory: a lock file beside the database keeps a second console out. A
/// file that is not ours, is damaged or has a newer schema is refused and left as it is.
/// Each write is one transaction. Not thread-safe: use it only on the thread that opened it
/// (the engine thread), which is also where it must be closed or destroyed.
class BookStore
{
public:
    /// How hard a commit waits for the disk. Both use SQLite's write-ahead log.
    enum class Durability {
        /// The log is flushed to the device before a commit returns: a commit survives a
        /// power cut or an operating system crash as well as a crash or kill of the console.
        Full,
        /// The log is written but flushed only at checkpoints: a commit survives a crash or
        /// kill of the console, but the last ones can be lost when the machine goes down.
        Normal,
    };

    explicit BookStore(Durability durability = Durability::Full);
    ~BookStore();
    Q_DISABLE_COPY_MOVE(BookStore)

    /// The file name of the database inside the data directory.
    static QString fileName();
    /// The schema version this build writes and the newest it reads.
    static int schemaVersion();

    /// Opens (creating if needed) <directory>/oddsdesk.sqlite. Refuses a file that is not an
    /// OddsDesk database, is damaged, is locked by another running console, or has a newer
    /// schema: returns false with errorString() naming the path and what to do, and never
    /// overwrites or repairs such a file. An older schema is migrated in one transaction.
    bool open(const QString &directory);
    /// Closes the database and releases the lock. The destructor does it too.
    void close();
    bool isOpen() const;

    /// The last error as a sentence a person can act on; empty after a success. The store
    /// does not log it: the caller says it, once.
    QString errorString() const { return m_error; }
    /// The database file, once open() has been called.
    QString path() const { return m_path; }
    Durability durability() const { return m_durability; }

    /// The state last saved, or nullopt for a new database. nullopt with a non-empty
    /// errorString() means the state could not be read: do not overwrite it then.
    std::optional<StoredState> load();

    /// Replaces the whole stored book (an import, a reset) and sets the epoch and head, in
    /// one transaction, with \a audit (an import's entry) recorded in it. The audit trail is
    /// kept.
    bool saveBook(const BookData &book, const QString &epoch, quint64 headSequence,
        const QVector<AuditEntry> &audit = {});

    /// Makes one flush durable: applies the changes to the stored book, records the audit
    /// entries and moves the head, in one transaction that is on the disk when this returns
    /// (see Durability). Every change must be after the stored head and at most
    /// \a headSequence. Returns false on failure and then changes nothing; the store then
    /// refuses further batches until saveBook() has stored the whole book again, so the head
    /// never claims changes that were lost.
    bool commitBatch(
        const BookChanges &changes, quint64 headSequence, const QVector<AuditEntry> &audit);

    /// Records that this session stops cleanly, so the next load() can tell a crash from a
    /// clean stop. A later write clears it again. Returns false, with errorString(), when
    /// it could not be recorded.
    bool markCleanShutdown();

    /// The audit entries that match, oldest first.
    QVector<AuditEntry> audit(const AuditFilter &filter) const;
    /// Writes the filtered audit trail as CSV (RFC 4180 quoting, CRLF line ends, UTF-8,
    /// header row). Returns false with \a error (when given) set on failure; on success
    /// \a written (when given) holds the number of entries written.
    bool exportAuditCsv(const AuditFilter &filter, const QString &path, QString *error,
        int *written = nullptr) const;

private:
    struct Statements;
    struct Inspection;

    bool fail(const QString &error);
    bool checkUsable(const char *what);
    bool acquireLock();
    bool inspectExisting(Inspection *inspection);
    bool openReadWrite(const Inspection &inspection);
    bool migrate(int fromVersion);
    bool prepareStatements();
    bool readState();
    bool applyChange(const BookChange &change);
    bool recordAudit(const AuditEntry &entry);
    bool writeHead(quint64 headSequence);
    bool finishTransaction(bool ok, const QString &what);
    std::optional<QVector<AuditEntry>> queryAudit(const AuditFilter &filter, QString *error) const;

    Durability m_durability;
    QString m_connectionName;
    QString m_path;
    mutable QString m_error;
    QSqlDatabase m_db;
    std::unique_ptr<QLockFile> m_lock;
    std::unique_ptr<Statements> m_statements;
    QThread *m_thread = nullptr;
    bool m_hasState = false; // a book has been saved
    bool m_previousClean = false;
    bool m_needsFullSave = false; // a batch failed: the stored book lags the feed
    bool m_mismatch = false; // the last failure was a change the stored book cannot apply
    quint64 m_head = 0;
    QString m_epoch;
};

} // namespace OddsDesk
