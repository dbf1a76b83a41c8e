#include "bookstore.h"

#include "clock.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QLockFile>
#include <QSaveFile>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QSysInfo>
#include <QThread>

#include <algorithm>
#include <atomic>

Q_LOGGING_CATEGORY(lcStore, "oddsdesk.engine.store", QtWarningMsg)

namespace OddsDesk {
namespace {

const QString DatabaseFileName = QStringLiteral("oddsdesk.sqlite");
const QString DriverName = QStringLiteral("QSQLITE");
const QString ApplicationName = QStringLiteral("OddsDesk");

// The version of the schema below. Raise it together with a new entry in migrations().
constexpr int SchemaVersion = 1;

// Written into the SQLite header ("ODSK"), so that our file is told from any other SQLite
// database before a single table is read.
constexpr qint32 ApplicationId = 0x4F44534B;

// An SQLite file starts with this string and its terminating zero, in a 100-byte header.
constexpr char SqliteMagic[] = "SQLite format 3";
constexpr int SqliteHeaderSize = 100;
constexpr int SqlitePageSizeOffset = 16;
constexpr int SqliteApplicationIdOffset = 68;

// Only a reader outside the console (a support tool) can hold a lock on the file; a write
// waits this long for it rather than failing at once, yet short enough that a stuck reader
// shows up as an error instead of a frozen feed.
constexpr int BusyTimeoutMs = 1000;

// The schema, one statement per entry (the driver runs one statement per call).
// Version 1: the book as rows, the feed's head and epoch, and the audit trail.
const char *const SchemaV1[] = {
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE feed_state ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " epoch TEXT NOT NULL,"
    " head_sequence INTEGER NOT NULL,"
    " clean_shutdown INTEGER NOT NULL DEFAULT 0,"
    " saved_ms INTEGER NOT NULL)",
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY,"
    " position INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " competition TEXT NOT NULL,"
    " home TEXT NOT NULL,"
    " away TEXT NOT NULL,"
    " start_time_ms INTEGER NOT NULL)",
    "CREATE TABLE markets ("
    " id INTEGER PRIMARY KEY,"
    " position INTEGER NOT NULL,"
    " event_id INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " status INTEGER NOT NULL,"
    " last_sequence INTEGER NOT NULL,"
    " last_change_ms INTEGER NOT NULL)",
    "CREATE TABLE selections ("
    " market_id INTEGER NOT NULL,"
    " id INTEGER NOT NULL,"
    " position INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " price INTEGER NOT NULL,"
    " winner INTEGER NOT NULL,"
    " PRIMARY KEY (market_id, id)) WITHOUT ROWID",
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY,"
    " time_ms INTEGER NOT NULL,"
    " user_name TEXT NOT NULL,"
    " source TEXT NOT NULL,"
    " market_id INTEGER NOT NULL,"
    " selection_id INTEGER NOT NULL,"
    " field TEXT NOT NULL,"
    " old_value TEXT NOT NULL,"
    " new_value TEXT NOT NULL,"
    " bulk_id INTEGER NOT NULL,"
    " sequence INTEGER NOT NULL)",
    "CREATE INDEX audit_by_time ON audit (time_ms)",
    "CREATE INDEX audit_by_market ON audit (market_id, time_ms)",
};

struct Migration
{
    int toVersion;
    const char *const *begin;
    const char *const *end;
};

// Each entry takes the schema from toVersion - 1 to toVersion; version 0 is an empty file.
QVector<Migration> migrations()
{
    return {{1, std::begin(SchemaV1), std::end(SchemaV1)}};
}

// The tables each version must have; a file that lacks one is damaged.
QStringList requiredTables(int version)
{
    Q_UNUSED(version) // every version so far has the same tables
    return {QStringLiteral("meta"), QStringLiteral("feed_state"), QStringLiteral("events"),
        QStringLiteral("markets"), QStringLiteral("selections"), QStringLiteral("audit")};
}

QString sqlError(const QSqlError &error)
{
    const QString text = error.databaseText().isEmpty() ? error.text() : error.databaseText();
    return text.isEmpty() ? QStringLiteral("unknown database error") : text;
}

// The driver binds a null QString as SQL NULL; the text columns are NOT NULL.
QString nonNull(const QString &text)
{
    return text.isNull() ? QString(QLatin1String("")) : text;
}

MarketStatus statusFromInt(qint64 value)
{
    switch (value) {
    case int(MarketStatus::Open):
        return MarketStatus::Open;
    case int(MarketStatus::Suspended):
        return MarketStatus::Suspended;
    case int(MarketStatus::Closed):
        return MarketStatus::Closed;
    default:
        return MarketStatus::Unknown;
    }
}

quint32 readBigEndian(const QByteArray &bytes, int offset, int size)
{
    quint32 value = 0;
    for (int i = 0; i < size; ++i)
        value = (value << 8) | quint8(bytes.at(offset + i));
    return value;
}

QString notOursOrDamaged(const QString &path, const QString &reason)
{
    return QStringLiteral("%1 is not an OddsDesk database or is damaged (%2); move it aside or "
                          "choose another --data directory.")
        .arg(QDir::toNativeSeparators(path), reason);
}

// The integrity check lists every problem; the first one says enough.
QString integrityProblem(const QString &report)
{
    QStringList lines = report.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    lines.removeIf([](const QString &line) { return line.startsWith(QLatin1String("***")); });
    if (lines.isEmpty())
        return QStringLiteral("the integrity check failed");
    if (lines.size() == 1)
        return lines.first();
    return QStringLiteral("%1, and %2 more problems").arg(lines.first()).arg(lines.size() - 1);
}

QString csvField(const QString &value)
{
    static const QString mustQuote = QStringLiteral(",\"\r\n");
    bool quote = false;
    for (const QChar c : value) {
        if (mustQuote.contains(c)) {
            quote = true;
            break;
        }
    }
    if (!quote)
        return value;
    QString escaped = value;
    escaped.replace(QLatin1Char('"'), QLatin1String("\"\""));
    return QLatin1Char('"') + escaped + QLatin1Char('"');
}

// Removes what a read-only look at a file left behind that was not there before: SQLite
// creates an empty log and an index beside a write-ahead-log database even to read it.
class SidecarCleanup
{
public:
    explicit SidecarCleanup(const QString &path)
        : m_wal(path + QStringLiteral("-wal"))
        , m_shm(path + QStringLiteral("-shm"))
        , m_walExisted(QFileInfo::exists(m_wal))
        , m_shmExisted(QFileInfo::exists(m_shm))
    { }

    void run() const
    {
        if (!m_walExisted && QFileInfo(m_wal).size() == 0)
            QFile::remove(m_wal);
        if (!m_shmExisted && !QFileInfo::exists(m_wal))
            QFile::remove(m_shm);
    }

private:
    QString m_wal;
    QString m_shm;
    bool m_walExisted;
    bool m_shmExisted;
};

std::atomic<int> connectionCounter {0};

// The data directory, or the nearest of its parents that exists, when that is a file (or
// anything else that is not a folder): no folder can be made there, whatever the
// permissions. Empty when nothing is in the way.
QString fileInTheWay(const QString &directory)
{
    QFileInfo info(QDir(directory).absolutePath());
    while (!info.exists() && !info.isRoot())
        info = QFileInfo(info.absolutePath());
    return info.exists() && !info.isDir() ? info.absoluteFilePath() : QString();
}

} // namespace

struct BookStore::Statements
{
    explicit Statements(const QSqlDatabase &db)
        : setPrice(db)
        , setWinner(db)
        , setStatus(db)
        , touchMarket(db)
        , upsertEvent(db)
        , upsertMarket(db)
        , deleteSelections(db)
        , insertSelection(db)
        , insertAudit(db)
        , setHead(db)
    { }

    QSqlQuery setPrice;
    QSqlQuery setWinner;
    QSqlQuery setStatus;
    QSqlQuery touchMarket;
    QSqlQuery upsertEvent;
    QSqlQuery upsertMarket;
    QSqlQuery deleteSelections;
    QSqlQuery insertSelection;
    QSqlQuery insertAudit;
    QSqlQuery setHead;
    qint64 nextEventPosition = 0;
    qint64 nextMarketPosition = 0;
};

struct BookStore::Inspection
{
    int version = 0; // 0: a new (empty or missing) file
};

BookStore::BookStore(Durability durability)
    : m_durability(durability)
    , m_connectionName(QStringLiteral("oddsdesk.store.%1").arg(connectionCounter.fetch_add(1)))
{ }

BookStore::~BookStore()
{
    close();
}

QString BookStore::fileName()
{
    return DatabaseFileName;
}

int BookStore::schemaVersion()
{
    return SchemaVersion;
}

bool BookStore::isOpen() const
{
    return m_db.isOpen();
}

bool BookStore::fail(const QString &error)
{
    // Not logged: every caller reports it, with what it stops (the console's start, a flush),
    // and a line here said the same sentence a second time.
    m_error = error;
    return false;
}

bool BookStore::checkUsable(const char *what)
{
    if (!isOpen())
        return fail(QStringLiteral("Cannot %1: no OddsDesk database is open.").arg(what));
    if (QThread::currentThread() != m_thread) {
        return fail(QStringLiteral("Cannot %1 from this thread: %2 belongs to the thread that "
                                   "opened it.")
                        .arg(what, QDir::toNativeSeparators(m_path)));
    }
    m_error.clear();
    return true;
}

void BookStore::close()
{
    if (m_thread && QThread::currentThread() != m_thread)
        qCWarning(lcStore) << "closing" << m_path << "from a thread other than its own";
    m_statements.reset();
    if (m_db.isValid())
        m_db.close();
    m_db = QSqlDatabase();
    if (QSqlDatabase::contains(m_connectionName))
        QSqlDatabase::removeDatabase(m_connectionName);
    m_lock.reset(); // unlocks
    m_thread = nullptr;
    m_hasState = false;
    m_previousClean = false;
    m_needsFullSave = false;
    m_head = 0;
    m_epoch.clear();
}

bool BookStore::open(const QString &directory)
{
    close();
    m_error.clear();
    m_path = QDir(directory).absoluteFilePath(DatabaseFileName);

    if (!QSqlDatabase::isDriverAvailable(DriverName)) {
        return fail(QStringLiteral("Cannot open %1: Qt's SQLite driver is not installed; install "
                                   "it (libqt6sql6-sqlite on Debian) and start again.")
                        .arg(QDir::toNativeSeparators(m_path)));
    }
    if (const QString file = fileInTheWay(directory); !file.isEmpty()) {
        if (file == QDir(directory).absolutePath()) {
            return fail(QStringLiteral("The data directory %1 is a file, not a folder; choose "
                                       "another --data directory.")
                            .arg(QDir::toNativeSeparators(directory)));
        }
        return fail(QStringLiteral("Cannot create the data directory %1: %2 is a file, not a "
                                   "folder; choose another --data directory.")
                        .arg(QDir::toNativeSeparators(directory), QDir::toNativeSeparators(file)));
    }
    if (!QDir().mkpath(directory)) {
        return fail(QStringLiteral("Cannot create the data directory %1; check its parent's "
                                   "permissions or choose another --data directory.")
                        .arg(QDir::toNativeSeparators(directory)));
    }
    if (!acquireLock())
        return false;

    Inspection inspection;
    if (!inspectExisting(&inspection) || !openReadWrite(inspection)) {
        const QString error = m_error;
        close();
        m_error = error;
        return false;
    }
    m_thread = QThread::currentThread();

    if (m_hasState)
        qCInfo(lcStore).noquote() << "opened" << m_path << "at sequence" << m_head;
    else
        qCInfo(lcStore).noquote() << "opened" << m_path << "with no book yet";
    if (m_hasState && !m_previousClean) {
        qCWarning(lcStore).noquote()
            << m_path << "was not closed cleanly last time; its state is restored up to sequence"
            << m_head;
    }
    return true;
}

bool BookStore::acquireLock()
{
    m_lock = std::make_unique<QLockFile>(m_path + QStringLiteral(".lock"));
    // Never stale by age: a console may hold its data for weeks. A lock whose process is
    // gone (killed, crashed) is still taken over, by its pid.
    m_lock->setStaleLockTime(0);
    if (m_lock->tryLock(0))
        return true;

    const QString path = QDir::toNativeSeparators(m_path);
    const QLockFile::LockError error = m_lock->error();
    if (error == QLockFile::LockFailedError) {
        qint64 pid = 0;
        QString host;
        QString application;
        QString holder;
        if (m_lock->getLockInfo(&pid, &host, &application)) {
            holder = QSysInfo::machineHostName() == host || host.isEmpty()
                ? QStringLiteral(" (pid %1)").arg(pid)
                : QStringLiteral(" (pid %1 on %2)").arg(pid).arg(host);
        }
        m_lock.reset();
        return fail(QStringLiteral("%1 is in use by another OddsDesk console%2; close it or "
                                   "choose another --data directory.")
                        .arg(path, holder));
    }
    m_lock.reset();
    return fail(QStringLiteral("Cannot create the lock file beside %1; check that the directory "
                               "is writable or choose another --data directory.")
                    .arg(path));
}

bool BookStore::inspectExisting(Inspection *inspection)
{
    inspection->version = 0;
    const QFileInfo info(m_path);
    if (!info.exists())
        return true;
    if (!info.isFile())
        return fail(notOursOrDamaged(m_path, QStringLiteral("it is not a file")));

    // An empty file is a database that was never written, unless its log holds the start.
    const bool hasLog = QFileInfo(m_path + QStringLiteral("-wal")).size() > 0;
    if (info.size() == 0 && !hasLog)
        return true;

    // Look at the header ourselves first, so that SQLite never touches a foreign file.
    if (info.size() > 0) {
        QFile file(m_path);
        if (!file.open(QIODevice::ReadOnly)) {
            return fail(QStringLiteral("Cannot read %1 (%2); check its permissions or choose "
                                       "another --data directory.")
                            .arg(QDir::toNativeSeparators(m_path), file.errorString()));
        }
        const QByteArray header = file.read(SqliteHeaderSize);
        if (header.size() < SqliteHeaderSize
            || !header.startsWith(QByteArray(SqliteMagic, sizeof(SqliteMagic)))) {
            return fail(notOursOrDamaged(m_path, QStringLiteral("it is not an SQLite file")));
        }
        quint32 pageSize = readBigEndian(header, SqlitePageSizeOffset, 2);
        if (pageSize == 1)
            pageSize = 65536; // how the format writes the largest size
        if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) != 0)
            return fail(notOursOrDamaged(m_path, QStringLiteral("its header is damaged")));
        if (info.size() < pageSize)
            return fail(notOursOrDamaged(m_path, QStringLiteral("it is cut short")));
        const quint32 applicationId = readBigEndian(header, SqliteApplicationIdOffset, 4);
        if (applicationId != 0 && applicationId != quint32(ApplicationId)) {
            return fail(
                notOursOrDamaged(m_path, QStringLiteral("it belongs to another application")));
        }
    }

    // Then let SQLite read it without the right to write: a refused file stays as it was.
    // The integrity check reads the whole file: on the machine this was measured on, half a
    // second warm and about four seconds cold for 185 MB (two million audit entries). Should
    // the audit trail grow well past that, check only the book's tables here.
    const SidecarCleanup cleanup(m_path);
    const QString checkName = m_connectionName + QStringLiteral(".check");
    QString error;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(DriverName, checkName);
        db.setDatabaseName(m_path);
        db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY"));
        if (!db.open()) {
            error = notOursOrDamaged(m_path, sqlError(db.lastError()));
        } else {
            QSqlQuery query(db);
            QStringList tables;
            qint64 applicationId = 0;
            if (!query.exec(QStringLiteral("PRAGMA quick_check")) || !query.next()) {
                error = notOursOrDamaged(m_path, sqlError(query.lastError()));
            } else if (query.value(0).toString() != QLatin1String("ok")) {
                error = notOursOrDamaged(m_path, integrityProblem(query.value(0).toString()));
            } else if (!query.exec(QStringLiteral("PRAGMA application_id")) || !query.next()) {
                error = notOursOrDamaged(m_path, sqlError(query.lastError()));
            } else {
                applicationId = query.value(0).toLongLong();
                tables = db.tables(QSql::Tables);
            }
            if (error.isEmpty() && !(tables.isEmpty() && applicationId == 0)) {
                if (applicationId != ApplicationId) {
                    error = notOursOrDamaged(
                        m_path, QStringLiteral("it belongs to another application"));
                } else if (!tables.contains(QLatin1String("meta"))) {
                    error = notOursOrDamaged(m_path, QStringLiteral("it has no meta table"));
                } else {
                    QHash<QString, QString> meta;
                    if (query.exec(QStringLiteral("SELECT key, value FROM meta"))) {
                        while (query.next())
                            meta.insert(query.value(0).toString(), query.value(1).toString());
                    }
                    bool ok = false;
                    const int version = meta.value(QStringLiteral("schema_version")).toInt(&ok);
                    if (meta.value(QStringLiteral("application")) != ApplicationName) {
                        error = notOursOrDamaged(
                            m_path, QStringLiteral("it belongs to another application"));
                    } else if (!ok || version < 1) {
                        error = notOursOrDamaged(
                            m_path, QStringLiteral("it records no schema version"));
                    } else if (version > SchemaVersion) {
                        error = QStringLiteral("%1 was written by a newer OddsDesk (schema "
                                               "version %2; this one reads up to %3); run that "
                                               "newer version or choose another --data "
                                               "directory.")
                                    .arg(QDir::toNativeSeparators(m_path))
                                    .arg(version)
                                    .arg(SchemaVersion);
                    } else {
                        for (const QString &table : requiredTables(version)) {
                            if (!tables.contains(table)) {
                                error = notOursOrDamaged(
                                    m_path, QStringLiteral("its %1 table is missing").arg(table));
                                break;
                            }
                        }
                        inspection->version = version;
                    }
                }
            }
            query.finish();
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(checkName);
    cleanup.run();

    if (!error.isEmpty())
        return fail(error);
    return true;
}

bool BookStore::openReadWrite(const Inspection &inspection)
{
    const QString path = QDir::toNativeSeparators(m_path);
    m_db = QSqlDatabase::addDatabase(DriverName, m_connectionName);
    m_db.setDatabaseName(m_path);
    m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(BusyTimeoutMs));
    if (!m_db.open()) {
        return fail(QStringLiteral("Cannot open %1 for writing (%2); check that the file and "
                                   "its directory are writable or choose another --data "
                                   "directory.")
                        .arg(path, sqlError(m_db.lastError())));
    }

    QSqlQuery query(m_db);
    if (!query.exec(QStringLiteral("PRAGMA journal_mode = WAL")) || !query.next()
        || query.value(0).toString().compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0) {
        return fail(QStringLiteral("Cannot turn on write-ahead logging for %1 (%2); a file "
                                   "system without shared memory (a network share) cannot hold "
                                   "it: choose a local --data directory.")
                        .arg(path, sqlError(query.lastError())));
    }
    const QString synchronous
        = m_durability == Durability::Full ? QStringLiteral("FULL") : QStringLiteral("NORMAL");
    if (!query.exec(QStringLiteral("PRAGMA synchronous = %1").arg(synchronous))) {
        return fail(QStringLiteral("Cannot set how %1 is flushed (%2).")
                        .arg(path, sqlError(query.lastError())));
    }
    query.finish();

    if (inspection.version < SchemaVersion && !migrate(inspection.version))
        return false;
    return prepareStatements() && readState();
}

bool BookStore::migrate(int fromVersion)
{
    const QString path = QDir::toNativeSeparators(m_path);
    if (!m_db.transaction()) {
        return fail(QStringLiteral("Cannot start a transaction in %1 (%2).")
                        .arg(path, sqlError(m_db.lastError())));
    }
    QSqlQuery query(m_db);
    QString error;
    for (const Migration &migration : migrations()) {
        if (migration.toVersion <= fromVersion)
            continue;
        for (auto it = migration.begin; it != migration.end && error.isEmpty(); ++it) {
            if (!query.exec(QString::fromLatin1(*it)))
                error = sqlError(query.lastError());
        }
    }
    if (error.isEmpty() && fromVersion == 0) {
        // A new file: mark it as ours.
        query.prepare(QStringLiteral("INSERT INTO meta (key, value) VALUES (?, ?)"));
        const QList<QPair<QString, QString>> rows
            = {{QStringLiteral("application"), ApplicationName},
                {QStringLiteral("created_ms"), QString::number(wallMillis())}};
        for (const auto &row : rows) {
            query.bindValue(0, row.first);
            query.bindValue(1, row.second);
            if (error.isEmpty() && !query.exec())
                error = sqlError(query.lastError());
        }
        if (error.isEmpty()
            && !query.exec(QStringLiteral("PRAGMA application_id = %1").arg(ApplicationId)))
            error = sqlError(query.lastError());
    }
    if (error.isEmpty()) {
        query.prepare(QStringLiteral("INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
        query.bindValue(0, QString::number(SchemaVersion));
        if (!query.exec())
            error = sqlError(query.lastError());
    }
    query.finish();

    if (!error.isEmpty() || !m_db.commit()) {
        if (error.isEmpty())
            error = sqlError(m_db.lastError());
        m_db.rollback();
        return fail(QStringLiteral("Cannot bring %1 to schema version %2 (%3); nothing was "
                                   "changed: check the free disk space and start again.")
                        .arg(path)
                        .arg(SchemaVersion)
                        .arg(error));
    }
    if (fromVersion == 0)
        qCInfo(lcStore).noquote() << "created" << m_path;
    else
        qCInfo(lcStore).noquote() << "migrated" << m_path << "from schema" << fromVersion << "to"
                                  << SchemaVersion;
    return true;
}

bool BookStore::prepareStatements()
{
    auto statements = std::make_unique<Statements>(m_db);
    const QList<QPair<QSqlQuery *, QString>> all = {
        {&statements->setPrice,
            QStringLiteral("UPDATE selections SET price = ? WHERE market_id = ? AND id = ?")},
        {&statements->setWinner,
            QStringLiteral("UPDATE selections SET winner = 1 WHERE market_id = ? AND id = ?")},
        {&statements->setStatus, QStringLiteral("UPDATE markets SET status = ? WHERE id = ?")},
        {&statements->touchMarket,
            QStringLiteral(
                "UPDATE markets SET last_sequence = ?, last_change_ms = ? WHERE id = ?")},
        {&statements->upsertEvent,
            QStringLiteral(
                "INSERT INTO events (id, position, name, competition, home, away, start_time_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " name = excluded.name, competition = excluded.competition,"
                " home = excluded.home, away = excluded.away,"
                " start_time_ms = excluded.start_time_ms")},
        {&statements->upsertMarket,
            QStringLiteral("INSERT INTO markets (id, position, event_id, name, kind, status,"
                           " last_sequence, last_change_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                           " ON CONFLICT (id) DO UPDATE SET event_id = excluded.event_id,"
                           " name = excluded.name, kind = excluded.kind,"
                           " status = excluded.status, last_sequence = excluded.last_sequence,"
                           " last_change_ms = excluded.last_change_ms")},
        {&statements->deleteSelections,
            QStringLiteral("DELETE FROM selections WHERE market_id = ?")},
        {&statements->insertSelection,
            QStringLiteral("INSERT INTO selections (market_id, id, position, name, price, winner)"
                           " VALUES (?, ?, ?, ?, ?, ?)")},
        {&statements->insertAudit,
            QStringLiteral("INSERT INTO audit (time_ms, user_name, source, market_id,"
                           " selection_id, field, old_value, new_value, bulk_id, sequence)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")},
        {&statements->setHead,
            QStringLiteral("UPDATE feed_state SET head_sequence = ?, clean_shutdown = 0,"
                           " saved_ms = ? WHERE id = 1")},
    };
    for (const auto &[query, sql] : all) {
        if (!query->prepare(sql)) {
            return fail(QStringLiteral("Cannot prepare the statements for %1 (%2); the file may "
                                       "be damaged: move it aside or choose another --data "
                                       "directory.")
                            .arg(QDir::toNativeSeparators(m_path), sqlError(query->lastError())));
        }
    }
    m_statements = std::move(statements);
    return true;
}

bool BookStore::readState()
{
    const QString path = QDir::toNativeSeparators(m_path);
    QSqlQuery query(m_db);
    auto failed = [&] {
        return fail(QStringLiteral("Cannot read the saved state of %1 (%2); move the file aside "
                                   "or choose another --data directory.")
                        .arg(path, sqlError(query.lastError())));
    };

    if (!query.exec(QStringLiteral("SELECT (SELECT COALESCE(MAX(position), -1) + 1 FROM events),"
                                   " (SELECT COALESCE(MAX(position), -1) + 1 FROM markets)"))
        || !query.next())
        return failed();
    m_statements->nextEventPosition = query.value(0).toLongLong();
    m_statements->nextMarketPosition = query.value(1).toLongLong();

    if (!query.exec(QStringLiteral(
            "SELECT epoch, head_sequence, clean_shutdown FROM feed_state WHERE id = 1")))
        return failed();
    m_hasState = query.next();
    if (m_hasState) {
        m_epoch = query.value(0).toString();
        m_head = query.value(1).toULongLong();
        m_previousClean = query.value(2).toInt() != 0;
    }
    query.finish();

    // From now on a crash of this session must look like one.
    if (m_previousClean
        && !query.exec(QStringLiteral("UPDATE feed_state SET clean_shutdown = 0 WHERE id = 1"))) {
        return fail(QStringLiteral("Cannot write to %1 (%2); check that the file is writable "
                                   "and the disk has space.")
                        .arg(path, sqlError(query.lastError())));
    }
    return true;
}

std::optional<StoredState> BookStore::load()
{
    if (!checkUsable("load the stored book"))
        return std::nullopt;
    if (!m_hasState)
        return std::nullopt;

    StoredState state;
    state.epoch = m_epoch;
    state.headSequence = m_head;
    state.cleanShutdown = m_previousClean;

    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    auto failed = [&] {
        fail(QStringLiteral("Cannot read the book stored in %1 (%2); it is left as it is: move "
                            "it aside or choose another --data directory.")
                 .arg(QDir::toNativeSeparators(m_path), sqlError(query.lastError())));
        return std::nullopt;
    };

    if (!query.exec(QStringLiteral("SELECT id, name, competition, home, away, start_time_ms"
                                   " FROM events ORDER BY position")))
        return failed();
    while (query.next()) {
        EventInfo event;
        event.id = quint32(query.value(0).toLongLong());
        event.name = query.value(1).toString();
        event.competition = query.value(2).toString();
        event.home = query.value(3).toString();
        event.away = query.value(4).toString();
        event.startTimeMs = query.value(5).toLongLong();
        state.book.events.append(event);
    }

    QHash<quint32, int> marketIndex;
    if (!query.exec(QStringLiteral("SELECT id, event_id, name, kind, status, last_sequence,"
                                   " last_change_ms FROM markets ORDER BY position")))
        return failed();
    while (query.next()) {
        MarketInfo market;
        market.id = quint32(query.value(0).toLongLong());
        market.eventId = quint32(query.value(1).toLongLong());
        market.name = query.value(2).toString();
        market.kind = query.value(3).toString();
        market.status = statusFromInt(query.value(4).toLongLong());
        market.lastSequence = query.value(5).toULongLong();
        market.lastChangeMs = query.value(6).toLongLong();
        marketIndex.insert(market.id, int(state.book.markets.size()));
        state.book.markets.append(market);
    }

    if (!query.exec(QStringLiteral("SELECT market_id, id, name, price, winner FROM selections"
                                   " ORDER BY market_id, position")))
        return failed();
    while (query.next()) {
        const auto it = marketIndex.constFind(quint32(query.value(0).toLongLong()));
        if (it == marketIndex.cend())
            continue; // cannot happen: selections are only written with their market
        SelectionInfo selection;
        selection.id = quint32(query.value(1).toLongLong());
        selection.name = query.value(2).toString();
        selection.price = Price(query.value(3).toLongLong());
        selection.winner = query.value(4).toInt() != 0;
        state.book.markets[*it].selections.append(selection);
    }
    return state;
}

bool BookStore::finishTransaction(bool ok, const QString &what)
{
    if (ok && m_db.commit())
        return true;
    const QString reason = m_error.isEmpty() ? sqlError(m_db.lastError()) : m_error;
    m_db.rollback();
    const QString advice = m_mismatch
        ? QStringLiteral("save the whole book again so that the store matches the feed")
        : QStringLiteral("check the free disk space and that the file is writable");
    return fail(QStringLiteral("Cannot save %1 to %2 (%3); nothing of it is stored: %4.")
                    .arg(what, QDir::toNativeSeparators(m_path), reason, advice));
}

bool BookStore::saveBook(const BookData &book, const QString &epoch, quint64 headSequence,
    const QVector<AuditEntry> &audit)
{
    if (!checkUsable("save the book"))
        return false;
    m_mismatch = false;
    if (!m_db.transaction())
        return finishTransaction(false, QStringLiteral("the book"));

    Statements &s = *m_statements;
    QSqlQuery query(m_db);
    bool ok = query.exec(QStringLiteral("DELETE FROM selections"))
        && query.exec(QStringLiteral("DELETE FROM markets"))
        && query.exec(QStringLiteral("DELETE FROM events"));
    if (!ok)
        m_error = sqlError(query.lastError());
    s.nextEventPosition = 0;
    s.nextMarketPosition = 0;

    for (int i = 0; ok && i < book.events.size(); ++i) {
        BookChange change;
        change.kind = BookChange::Kind::EventAdded;
        change.event = book.events.at(i);
        ok = applyChange(change);
    }
    for (int i = 0; ok && i < book.markets.size(); ++i) {
        BookChange change;
        change.kind = BookChange::Kind::MarketAdded;
        change.market = book.markets.at(i);
        change.sequence = change.market.lastSequence;
        change.wallTimeMs = change.market.lastChangeMs;
        ok = applyChange(change);
    }
    for (int i = 0; ok && i < audit.size(); ++i)
        ok = recordAudit(audit.at(i));
    if (ok) {
        query.prepare(QStringLiteral("INSERT OR REPLACE INTO feed_state (id, epoch,"
                                     " head_sequence, clean_shutdown, saved_ms)"
                                     " VALUES (1, ?, ?, 0, ?)"));
        query.bindValue(0, nonNull(epoch));
        query.bindValue(1, qint64(headSequence));
        query.bindValue(2, wallMillis());
        ok = query.exec();
        if (!ok)
            m_error = sqlError(query.lastError());
    }
    query.finish();

    if (!finishTransaction(ok, QStringLiteral("the book")))
        return false;
    m_hasState = true;
    m_needsFullSave = false;
    m_head = headSequence;
    m_epoch = epoch;
    qCInfo(lcStore).noquote() << "saved a book of" << book.events.size() << "events and"
                              << book.markets.size() << "markets at sequence" << headSequence;
    return true;
}

bool BookStore::applyChange(const BookChange &change)
{
    Statements &s = *m_statements;
    auto execute = [this](QSqlQuery &query) {
        if (query.exec())
            return true;
        m_error = sqlError(query.lastError());
        return false;
    };
    auto missing = [&](const QString &what) {
        m_error = QStringLiteral("change %1 names %2, which the stored book does not hold")
                      .arg(change.sequence)
                      .arg(what);
        m_mismatch = true;
        return false;
    };

    switch (change.kind) {
    case BookChange::Kind::Price:
        s.setPrice.bindValue(0, qint64(change.price));
        s.setPrice.bindValue(1, qint64(change.marketId));
        s.setPrice.bindValue(2, qint64(change.selectionId));
        if (!execute(s.setPrice))
            return false;
        if (s.setPrice.numRowsAffected() != 1) {
            return missing(QStringLiteral("selection %1 of market %2")
                               .arg(change.selectionId)
                               .arg(change.marketId));
        }
        break;
    case BookChange::Kind::Winner:
        s.setWinner.bindValue(0, qint64(change.marketId));
        s.setWinner.bindValue(1, qint64(change.selectionId));
        if (!execute(s.setWinner))
            return false;
        if (s.setWinner.numRowsAffected() != 1) {
            return missing(QStringLiteral("selection %1 of market %2")
                               .arg(change.selectionId)
                               .arg(change.marketId));
        }
        break;
    case BookChange::Kind::Status:
        s.setStatus.bindValue(0, int(change.status));
        s.setStatus.bindValue(1, qint64(change.marketId));
        if (!execute(s.setStatus))
            return false;
        if (s.setStatus.numRowsAffected() != 1)
            return missing(QStringLiteral("market %1").arg(change.marketId));
        break;
    case BookChange::Kind::EventAdded: {
        const EventInfo &e = change.event;
        s.upsertEvent.bindValue(0, qint64(e.id));
        s.upsertEvent.bindValue(1, s.nextEventPosition++);
        s.upsertEvent.bindValue(2, nonNull(e.name));
        s.upsertEvent.bindValue(3, nonNull(e.competition));
        s.upsertEvent.bindValue(4, nonNull(e.home));
        s.upsertEvent.bindValue(5, nonNull(e.away));
        s.upsertEvent.bindValue(6, e.startTimeMs);
        return execute(s.upsertEvent);
    }
    case BookChange::Kind::MarketAdded: {
        const MarketInfo &m = change.market;
        s.upsertMarket.bindValue(0, qint64(m.id));
        s.upsertMarket.bindValue(1, s.nextMarketPosition++);
        s.upsertMarket.bindValue(2, qint64(m.eventId));
        s.upsertMarket.bindValue(3, nonNull(m.name));
        s.upsertMarket.bindValue(4, nonNull(m.kind));
        s.upsertMarket.bindValue(5, int(m.status));
        s.upsertMarket.bindValue(6, qint64(change.sequence));
        s.upsertMarket.bindValue(7, change.wallTimeMs);
        s.deleteSelections.bindValue(0, qint64(m.id));
        if (!execute(s.upsertMarket) || !execute(s.deleteSelections))
            return false;
        for (int i = 0; i < m.selections.size(); ++i) {
            const SelectionInfo &selection = m.selections.at(i);
            s.insertSelection.bindValue(0, qint64(m.id));
            s.insertSelection.bindValue(1, qint64(selection.id));
            s.insertSelection.bindValue(2, i);
            s.insertSelection.bindValue(3, nonNull(selection.name));
            s.insertSelection.bindValue(4, qint64(selection.price));
            s.insertSelection.bindValue(5, selection.winner ? 1 : 0);
            if (!execute(s.insertSelection))
                return false;
        }
        return true;
    }
    }

    // Like the book: a change to a market stamps it with its sequence and time.
    s.touchMarket.bindValue(0, qint64(change.sequence));
    s.touchMarket.bindValue(1, change.wallTimeMs);
    s.touchMarket.bindValue(2, qint64(change.marketId));
    return execute(s.touchMarket);
}

bool BookStore::recordAudit(const AuditEntry &entry)
{
    QSqlQuery &q = m_statements->insertAudit;
    q.bindValue(0, entry.timeMs);
    q.bindValue(1, nonNull(entry.user));
    q.bindValue(2, nonNull(entry.source));
    q.bindValue(3, qint64(entry.marketId));
    q.bindValue(4, qint64(entry.selectionId));
    q.bindValue(5, nonNull(entry.field));
    q.bindValue(6, nonNull(entry.oldValue));
    q.bindValue(7, nonNull(entry.newValue));
    q.bindValue(8, entry.bulkId);
    q.bindValue(9, qint64(entry.sequence));
    if (q.exec())
        return true;
    m_error = sqlError(q.lastError());
    return false;
}

bool BookStore::writeHead(quint64 headSequence)
{
    QSqlQuery &q = m_statements->setHead;
    q.bindValue(0, qint64(headSequence));
    q.bindValue(1, wallMillis());
    if (!q.exec()) {
        m_error = sqlError(q.lastError());
        return false;
    }
    if (q.numRowsAffected() != 1) {
        m_error = QStringLiteral("the feed state row is missing");
        return false;
    }
    return true;
}

bool BookStore::commitBatch(
    const BookChanges &changes, quint64 headSequence, const QVector<AuditEntry> &audit)
{
    if (!checkUsable("commit changes"))
        return false;
    const QString path = QDir::toNativeSeparators(m_path);
    if (!m_hasState) {
        return fail(QStringLiteral("Cannot commit changes to %1: it holds no book yet; save the "
                                   "whole book first.")
                        .arg(path));
    }
    if (m_needsFullSave) {
        return fail(QStringLiteral("Cannot commit changes to %1: an earlier batch failed, so the "
                                   "stored book lags the feed; save the whole book again first.")
                        .arg(path));
    }
    if (headSequence < m_head) {
        return fail(QStringLiteral("Cannot move the head of %1 back from %2 to %3; save the "
                                   "whole book with a new epoch instead.")
                        .arg(path)
                        .arg(m_head)
                        .arg(headSequence));
    }
    for (const BookChange &change : changes) {
        if (change.sequence <= m_head || change.sequence > headSequence) {
            return fail(QStringLiteral("Cannot commit change %1 to %2: it is outside the batch "
                                       "after sequence %3 up to %4.")
                            .arg(change.sequence)
                            .arg(path)
                            .arg(m_head)
                            .arg(headSequence));
        }
    }

    m_error.clear();
    m_mismatch = false;
    bool ok = m_db.transaction();
    for (int i = 0; ok && i < changes.size(); ++i)
        ok = applyChange(changes.at(i));
    for (int i = 0; ok && i < audit.size(); ++i)
        ok = recordAudit(audit.at(i));
    ok = ok && writeHead(headSequence);

    if (!finishTransaction(ok, QStringLiteral("the changes up to sequence %1").arg(headSequence))) {
        m_needsFullSave = true;
        return false;
    }
    m_head = headSequence;
    return true;
}

bool BookStore::markCleanShutdown()
{
    if (!checkUsable("mark a clean shutdown"))
        return false;
    QSqlQuery query(m_db);
    if (!query.exec(QStringLiteral("UPDATE feed_state SET clean_shutdown = 1 WHERE id = 1"))) {
        return fail(QStringLiteral("Cannot record the clean shutdown in %1 (%2); the next start "
                                   "will report a crash, but no state is lost.")
                        .arg(QDir::toNativeSeparators(m_path), sqlError(query.lastError())));
    }
    return true;
}

std::optional<QVector<AuditEntry>> BookStore::queryAudit(
    const AuditFilter &filter, QString *error) const
{
    if (!isOpen() || QThread::currentThread() != m_thread) {
        *error = QStringLiteral("Cannot read the audit trail: no OddsDesk database is open on "
                                "this thread.");
        return std::nullopt;
    }

    const bool byText = !filter.text.isEmpty();
    QString sql = QStringLiteral(
        "SELECT a.id, a.time_ms, a.user_name, a.source, a.market_id, a.selection_id, a.field,"
        " a.old_value, a.new_value, a.bulk_id, a.sequence");
    if (byText) {
        sql += QStringLiteral(
            ", m.name, e.name, s.name FROM audit a"
            " LEFT JOIN markets m ON m.id = a.market_id"
            " LEFT JOIN events e ON e.id = m.event_id"
            " LEFT JOIN selections s ON s.market_id = a.market_id AND s.id = a.selection_id");
    } else {
        sql += QStringLiteral(" FROM audit a");
    }
    QStringList where;
    QVariantList values;
    if (filter.fromMs != 0) {
        where << QStringLiteral("a.time_ms >= ?");
        values << filter.fromMs;
    }
    if (filter.toMs != 0) {
        where << QStringLiteral("a.time_ms < ?");
        values << filter.toMs;
    }
    if (!filter.user.isEmpty()) {
        where << QStringLiteral("a.user_name = ?");
        values << filter.user;
    }
    if (filter.marketId != 0) {
        where << QStringLiteral("a.market_id = ?");
        values << qint64(filter.marketId);
    }
    if (!where.isEmpty())
        sql += QStringLiteral(" WHERE ") + where.join(QStringLiteral(" AND "));
    // Newest first so that the limit keeps the latest; turned round at the end.
    sql += QStringLiteral(" ORDER BY a.time_ms DESC, a.id DESC");
    if (!byText && filter.limit > 0)
        sql += QStringLiteral(" LIMIT %1").arg(filter.limit);

    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    bool ok = query.prepare(sql);
    for (int i = 0; ok && i < values.size(); ++i)
        query.bindValue(i, values.at(i));
    if (!ok || !query.exec()) {
        *error = QStringLiteral("Cannot read the audit trail from %1 (%2).")
                     .arg(QDir::toNativeSeparators(m_path), sqlError(query.lastError()));
        return std::nullopt;
    }

    QVector<AuditEntry> entries;
    while (query.next()) {
        AuditEntry entry;
        entry.id = query.value(0).toLongLong();
        entry.timeMs = query.value(1).toLongLong();
        entry.user = query.value(2).toString();
        entry.source = query.value(3).toString();
        entry.marketId = quint32(query.value(4).toLongLong());
        entry.selectionId = quint32(query.value(5).toLongLong());
        entry.field = query.value(6).toString();
        entry.oldValue = query.value(7).toString();
        entry.newValue = query.value(8).toString();
        entry.bulkId = query.value(9).toLongLong();
        entry.sequence = query.value(10).toULongLong();
        if (byText) {
            const QString haystack[] = {entry.user, entry.source, entry.field, entry.oldValue,
                entry.newValue, query.value(11).toString(), query.value(12).toString(),
                query.value(13).toString()};
            const bool match = std::any_of(std::begin(haystack), std::end(haystack),
                [&](const QString &s) { return s.contains(filter.text, Qt::CaseInsensitive); });
            if (!match)
                continue;
        }
        entries.append(entry);
        if (filter.limit > 0 && entries.size() >= filter.limit)
            break;
    }
    std::reverse(entries.begin(), entries.end());
    return entries;
}

QVector<AuditEntry> BookStore::audit(const AuditFilter &filter) const
{
    QString error;
    const auto entries = queryAudit(filter, &error);
    if (!entries) {
        m_error = error;
        qCWarning(lcStore).noquote() << error;
        return {};
    }
    m_error.clear();
    return *entries;
}

bool BookStore::exportAuditCsv(
    const AuditFilter &filter, const QString &path, QString *error, int *written) const
{
    QString reason;
    const auto entries = queryAudit(filter, &reason);
    auto failed = [&](const QString &message) {
        if (error)
            *error = message;
        qCWarning(lcStore).noquote() << message;
        return false;
    };
    if (!entries)
        return failed(reason);

    const QString nativePath = QDir::toNativeSeparators(path);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        return failed(QStringLiteral("Cannot write the audit trail to %1 (%2); choose a folder "
                                     "you can write to.")
                          .arg(nativePath, file.errorString()));
    }
    const QString crlf = QStringLiteral("\r\n");
    QString text = QStringLiteral("id,time_ms,time_utc,user,source,market_id,selection_id,field,"
                                  "old_value,new_value,bulk_id,sequence")
        + crlf;
    for (const AuditEntry &e : *entries) {
        const QStringList fields = {QString::number(e.id), QString::number(e.timeMs),
            QDateTime::fromMSecsSinceEpoch(e.timeMs).toUTC().toString(Qt::ISODateWithMs),
            csvField(e.user), csvField(e.source), QString::number(e.marketId),
            QString::number(e.selectionId), csvField(e.field), csvField(e.oldValue),
            csvField(e.newValue), QString::number(e.bulkId), QString::number(e.sequence)};
        text += fields.join(QLatin1Char(',')) + crlf;
    }
    file.write(text.toUtf8());
    if (!file.commit()) {
        return failed(QStringLiteral("Cannot write the audit trail to %1 (%2); check the free "
                                     "disk space or choose another folder.")
                          .arg(nativePath, file.errorString()));
    }
    if (error)
        error->clear();
    if (written)
        *written = int(entries->size());
    return true;
}

} // namespace OddsDesk
