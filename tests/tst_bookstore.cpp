#include "book.h"
#include "bookstore.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStorageInfo>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <algorithm>
#include <cstdio>

using namespace OddsDesk;

namespace {

// The suite runs its own binary with one of these to play a second console.
const char CrashChildArgument[] = "--crash-child";
const char HoldChildArgument[] = "--hold-store";

// Each batch of the crashing child moves the head by this many sequences, so every head it
// can leave behind is a multiple of it.
constexpr int CrashChangesPerBatch = 4;
// The crashing child stops on its own after this long, so the suite ends even if the kill
// never comes; the kill windows below all fall well inside it.
constexpr int CrashChildLifetimeMs = 4000;
constexpr int CrashChildMaxBatches = 1000000;
constexpr int CrashBookMarkets = 40;
// The holding child gives up after this long: longer than any lock test needs.
constexpr int HoldChildLifetimeMs = 10000;
constexpr int HoldChildPollMs = 50;
// Opening includes an integrity check of the file; a loaded machine may be slow to start.
constexpr int ChildStartTimeoutMs = 10000;
constexpr int ChildExitTimeoutMs = 5000;

// The measurement asked for: a flush of ten changes, two hundred times.
constexpr int LatencyCommits = 200;
constexpr int LatencyChangesPerBatch = 10;
constexpr int LatencyBookMarkets = 100;

constexpr qint64 AuditBaseMs = 1700000000000;

QByteArray readAll(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QByteArray();
    return file.readAll();
}

bool writeAll(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate)
        && file.write(bytes) == bytes.size();
}

QStringList entries(const QString &directory)
{
    return QDir(directory).entryList(
        QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

SelectionInfo makeSelection(quint32 id, const QString &name, Price price, bool winner = false)
{
    SelectionInfo s;
    s.id = id;
    s.name = name;
    s.price = price;
    s.winner = winner;
    return s;
}

MarketInfo makeMarket(quint32 id, quint32 eventId, const QString &name, MarketStatus status,
    const QVector<SelectionInfo> &selections)
{
    MarketInfo m;
    m.id = id;
    m.eventId = eventId;
    m.name = name;
    m.kind = QStringLiteral("1X2");
    m.status = status;
    m.selections = selections;
    m.lastSequence = 7 + id;
    m.lastChangeMs = AuditBaseMs + id;
    return m;
}

EventInfo makeEvent(
    quint32 id, const QString &home, const QString &away, const QString &competition)
{
    EventInfo e;
    e.id = id;
    e.home = home;
    e.away = away;
    e.name = home + QStringLiteral(" v ") + away;
    e.competition = competition;
    e.startTimeMs = AuditBaseMs + 86400000LL * id;
    return e;
}

// A small book with the names that break careless encodings.
BookData sampleBook()
{
    BookData book;
    book.events = {makeEvent(1, QStringLiteral("Beşiktaş"), QStringLiteral("Galatasaray"),
                       QStringLiteral("Süper Lig")),
        makeEvent(2, QStringLiteral("Bodø/Glimt"), QStringLiteral("Molde"),
            QStringLiteral("Eliteserien")),
        makeEvent(3, QStringLiteral("Ñublense"), QStringLiteral("Colo-Colo \"CC\", Santiago"),
            QStringLiteral("Primera División"))};
    book.markets = {
        makeMarket(11, 1, QStringLiteral("Match Odds"), MarketStatus::Open,
            {makeSelection(111, QStringLiteral("Beşiktaş"), 210),
                makeSelection(112, QStringLiteral("Draw"), 340),
                makeSelection(113, QStringLiteral("Galatasaray"), 330)}),
        makeMarket(12, 1, QStringLiteral("Over/Under 2.5"), MarketStatus::Suspended,
            {makeSelection(121, QStringLiteral("Over 2.5"), 190),
                makeSelection(122, QStringLiteral("Under 2.5"), 195)}),
        makeMarket(21, 2, QStringLiteral("Match Odds"), MarketStatus::Open,
            {makeSelection(211, QStringLiteral("Bodø/Glimt"), 180),
                makeSelection(212, QStringLiteral("Draw"), 400),
                makeSelection(213, QStringLiteral("Molde"), 450)}),
        makeMarket(31, 3, QStringLiteral("Match Odds"), MarketStatus::Closed,
            {makeSelection(311, QStringLiteral("Ñublense"), 250, true),
                makeSelection(312, QStringLiteral("Draw"), 310),
                makeSelection(313, QStringLiteral("Colo-Colo"), 290)}),
    };
    // A market listed before its id order: the stored order must be the book's, not the ids'.
    book.markets.prepend(makeMarket(5, 3, QStringLiteral("Both Teams To Score"), MarketStatus::Open,
        {makeSelection(51, QStringLiteral("Sí"), 185),
            makeSelection(52, QStringLiteral("No"), 195)}));
    return book;
}

// A plain book of many markets for the crash and latency runs.
BookData generatedBook(int markets)
{
    BookData book;
    for (int i = 0; i < markets; ++i) {
        const quint32 eventId = quint32(1 + i / 3);
        if (i % 3 == 0) {
            book.events.append(makeEvent(eventId, QStringLiteral("Home %1").arg(eventId),
                QStringLiteral("Away %1").arg(eventId), QStringLiteral("League")));
        }
        const quint32 id = quint32(1000 + i);
        book.markets.append(
            makeMarket(id, eventId, QStringLiteral("Market %1").arg(id), MarketStatus::Open,
                {makeSelection(id * 10 + 1, QStringLiteral("Home"), 200),
                    makeSelection(id * 10 + 2, QStringLiteral("Draw"), 340),
                    makeSelection(id * 10 + 3, QStringLiteral("Away"), 400)}));
    }
    return book;
}

BookChange priceChange(quint64 sequence, quint32 marketId, quint32 selectionId, Price price)
{
    BookChange c;
    c.kind = BookChange::Kind::Price;
    c.sequence = sequence;
    c.marketId = marketId;
    c.selectionId = selectionId;
    c.price = price;
    c.wallTimeMs = AuditBaseMs + qint64(sequence) * 10;
    return c;
}

BookChange statusChange(quint64 sequence, quint32 marketId, MarketStatus status)
{
    BookChange c;
    c.kind = BookChange::Kind::Status;
    c.sequence = sequence;
    c.marketId = marketId;
    c.status = status;
    c.wallTimeMs = AuditBaseMs + qint64(sequence) * 10;
    return c;
}

BookChange winnerChange(quint64 sequence, quint32 marketId, quint32 selectionId)
{
    BookChange c = priceChange(sequence, marketId, selectionId, 0);
    c.kind = BookChange::Kind::Winner;
    return c;
}

BookChange marketAdded(quint64 sequence, const MarketInfo &market)
{
    BookChange c;
    c.kind = BookChange::Kind::MarketAdded;
    c.sequence = sequence;
    c.marketId = market.id;
    c.market = market;
    c.wallTimeMs = AuditBaseMs + qint64(sequence) * 10;
    return c;
}

BookChange eventAdded(quint64 sequence, const EventInfo &event)
{
    BookChange c;
    c.kind = BookChange::Kind::EventAdded;
    c.sequence = sequence;
    c.event = event;
    c.wallTimeMs = AuditBaseMs + qint64(sequence) * 10;
    return c;
}

// One audit line per change, the way the desk would record it.
QVector<AuditEntry> auditFor(const BookChanges &changes, const QString &user)
{
    QVector<AuditEntry> out;
    for (const BookChange &c : changes) {
        AuditEntry e;
        e.timeMs = c.wallTimeMs;
        e.user = user;
        e.source = QStringLiteral("simulator");
        e.marketId = c.marketId;
        e.selectionId = c.selectionId;
        e.sequence = c.sequence;
        switch (c.kind) {
        case BookChange::Kind::Price:
            e.field = QStringLiteral("price");
            e.newValue = formatDecimal(c.price);
            break;
        case BookChange::Kind::Status:
            e.field = QStringLiteral("status");
            e.newValue = statusName(c.status);
            break;
        case BookChange::Kind::Winner:
            e.field = QStringLiteral("winner");
            break;
        case BookChange::Kind::MarketAdded:
            e.field = QStringLiteral("market");
            e.newValue = c.market.name;
            break;
        case BookChange::Kind::EventAdded:
            e.field = QStringLiteral("event");
            e.newValue = c.event.name;
            break;
        }
        out.append(e);
    }
    return out;
}

// The crashing child's next batch after \a head, applied to \a book as it is made. The same
// function replays the batches in the parent, so both sides agree on every head's book.
BookChanges nextCrashBatch(Book *book, quint64 head)
{
    BookChanges changes;
    const auto &markets = book->markets();
    for (int j = 0; j < CrashChangesPerBatch; ++j) {
        const quint64 sequence = head + 1 + quint64(j);
        const MarketInfo &m = markets.at(int((sequence * 7) % quint64(markets.size())));
        BookChange change;
        if (sequence % 5 == 0) {
            const MarketStatus next
                = m.status == MarketStatus::Open ? MarketStatus::Suspended : MarketStatus::Open;
            change = statusChange(sequence, m.id, next);
        } else {
            const SelectionInfo &s = m.selections.at(int(sequence % 3));
            change = priceChange(sequence, m.id, s.id, Price(150 + sequence % 500));
        }
        book->apply(change);
        changes.append(change);
    }
    return changes;
}

void compareMarketStamps(const BookData &stored, const Book &expected)
{
    for (const MarketInfo &m : stored.markets) {
        const MarketInfo *e = expected.market(m.id);
        QVERIFY2(e, qPrintable(QStringLiteral("market %1").arg(m.id)));
        QCOMPARE(m.lastSequence, e->lastSequence);
        QCOMPARE(m.lastChangeMs, e->lastChangeMs);
    }
}

// Events and markets in the same order, every field equal.
void compareBooks(const BookData &stored, const BookData &expected)
{
    QCOMPARE(stored.events.size(), expected.events.size());
    for (int i = 0; i < stored.events.size(); ++i)
        QVERIFY2(stored.events.at(i) == expected.events.at(i), qPrintable(QString::number(i)));
    QCOMPARE(stored.markets.size(), expected.markets.size());
    for (int i = 0; i < stored.markets.size(); ++i) {
        const MarketInfo &s = stored.markets.at(i);
        const MarketInfo &e = expected.markets.at(i);
        QVERIFY2(s == e, qPrintable(QStringLiteral("market %1 at %2").arg(e.id).arg(i)));
        QCOMPARE(s.lastSequence, e.lastSequence);
        QCOMPARE(s.lastChangeMs, e.lastChangeMs);
    }
}

// An RFC 4180 reader that is strict about CRLF between records.
QList<QStringList> parseCsv(const QString &text)
{
    QList<QStringList> rows;
    QStringList row;
    QString field;
    bool quoted = false;
    for (int i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (quoted) {
            if (c == QLatin1Char('"') && i + 1 < text.size()
                && text.at(i + 1) == QLatin1Char('"')) {
                field += c;
                ++i;
            } else if (c == QLatin1Char('"')) {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == QLatin1Char('"')) {
            quoted = true;
        } else if (c == QLatin1Char(',')) {
            row << field;
            field.clear();
        } else if (c == QLatin1Char('\r') && i + 1 < text.size()
            && text.at(i + 1) == QLatin1Char('\n')) {
            row << field;
            rows << row;
            field.clear();
            row.clear();
            ++i;
        } else {
            field += c;
        }
    }
    if (!field.isEmpty() || !row.isEmpty()) {
        row << field;
        rows << row;
    }
    return rows;
}

// The audit sample: times, users, markets and values for the filters to tell apart.
QVector<AuditEntry> auditSample()
{
    auto entry = [](qint64 offsetMs, const QString &user, const QString &source, quint32 market,
                     quint32 selection, const QString &field, const QString &oldValue,
                     const QString &newValue, qint64 bulkId, quint64 sequence) {
        AuditEntry e;
        e.timeMs = AuditBaseMs + offsetMs;
        e.user = user;
        e.source = source;
        e.marketId = market;
        e.selectionId = selection;
        e.field = field;
        e.oldValue = oldValue;
        e.newValue = newValue;
        e.bulkId = bulkId;
        e.sequence = sequence;
        return e;
    };
    const QString anna = QStringLiteral("anna");
    const QString ben = QStringLiteral("ben");
    const QString zoe = QStringLiteral("Zoë");
    const QString desk = QStringLiteral("desk");
    const QString price = QStringLiteral("price");
    return {
        entry(0, anna, desk, 11, 111, price, QStringLiteral("2.10"), QStringLiteral("2.20"), 0, 1),
        entry(
            1000, ben, desk, 12, 121, price, QStringLiteral("3.00"), QStringLiteral("3.50"), 0, 2),
        entry(2000, anna, QStringLiteral("import"), 11, 0, QStringLiteral("status"),
            QStringLiteral("open"), QStringLiteral("suspended"), 0, 3),
        entry(
            3000, zoe, desk, 21, 211, price, QStringLiteral("1.80"), QStringLiteral("1.75"), 7, 4),
        entry(
            3000, zoe, desk, 21, 212, price, QStringLiteral("4.00"), QStringLiteral("4.20"), 7, 5),
        entry(4000, ben, QStringLiteral("replay"), 0, 0, QStringLiteral("event"), QString(),
            QStringLiteral("Beşiktaş JK v Galatasaray SK"), 0, 6),
        entry(5000, anna, desk, 12, 122, QStringLiteral("winner"), QString(),
            QStringLiteral("Under, \"void\"\r\nsettled by hand"), 0, 7),
    };
}

// A database with the sample book and audit trail, closed again.
bool makeAuditStore(const QString &directory)
{
    BookStore store;
    return store.open(directory) && store.saveBook(sampleBook(), QStringLiteral("audit"), 0)
        && store.commitBatch({}, 7, auditSample());
}

int runCrashChild(const QString &directory)
{
    BookStore store;
    if (!store.open(directory)) {
        std::fprintf(stderr, "%s\n", qPrintable(store.errorString()));
        return 2;
    }
    const std::optional<StoredState> state = store.load();
    if (!state) {
        std::fprintf(stderr, "no stored book: %s\n", qPrintable(store.errorString()));
        return 2;
    }
    Book book;
    book.reset(state->book);
    quint64 head = state->headSequence;
    QElapsedTimer lifetime;
    lifetime.start();
    for (int i = 0; i < CrashChildMaxBatches && lifetime.elapsed() < CrashChildLifetimeMs; ++i) {
        const BookChanges changes = nextCrashBatch(&book, head);
        const quint64 next = head + CrashChangesPerBatch;
        if (!store.commitBatch(changes, next, auditFor(changes, QStringLiteral("crash")))) {
            std::fprintf(stderr, "%s\n", qPrintable(store.errorString()));
            return 3;
        }
        head = next;
        std::printf("committed %llu\n", static_cast<unsigned long long>(head));
        std::fflush(stdout);
    }
    return 0;
}

int runHoldChild(const QString &directory)
{
    BookStore store;
    if (!store.open(directory)) {
        std::fprintf(stderr, "%s\n", qPrintable(store.errorString()));
        return 2;
    }
    std::printf("open\n");
    std::fflush(stdout);
    for (int waited = 0; waited < HoldChildLifetimeMs; waited += HoldChildPollMs)
        QThread::msleep(HoldChildPollMs);
    return 0;
}

// Starts this binary as a second console on \a directory; collects what it prints.
class Child
{
public:
    Child(const char *role, const QString &directory)
    {
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput, &m_process,
            [this] { m_out += m_process.readAllStandardOutput(); });
        m_process.setProgram(QCoreApplication::applicationFilePath());
        m_process.setArguments({QString::fromLatin1(role), directory});
        m_process.start();
    }
    ~Child()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(ChildExitTimeoutMs);
        }
    }

    QProcess &process() { return m_process; }
    QByteArray output()
    {
        m_out += m_process.readAllStandardOutput();
        return m_out;
    }
    QString errors() { return QString::fromLocal8Bit(m_process.readAllStandardError()); }
    bool hasLine() { return output().contains('\n'); }

    /// Sends SIGKILL and reaps the child.
    bool killNow()
    {
        m_process.kill();
        return m_process.waitForFinished(ChildExitTimeoutMs);
    }

private:
    QProcess m_process;
    QByteArray m_out;
};

} // namespace

class tst_BookStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void newDatabase();
    void roundTripKeepsNamesAndOrder();
    void commitBatchApplies_data();
    void commitBatchApplies();
    void failedBatchChangesNothingAndBlocksUntilSaved();
    void batchOutsideTheHeadIsRefused();
    void cleanShutdownIsRemembered();
    void auditFilter_data();
    void auditFilter();
    void exportAuditCsv();
    void exportToUnwritablePathFails();
    void directoryThatIsAFileRefused_data();
    void directoryThatIsAFileRefused();
    void lockedDirectoryRefused_data();
    void lockedDirectoryRefused();
    void staleLockOfKilledConsoleIsTakenOver();
    void damagedFileRefusedAndUntouched_data();
    void damagedFileRefusedAndUntouched();
    void newerSchemaRefusedAndUntouched();
    void otherThreadRefused();
    void killedConsoleLosesNoCommit_data();
    void killedConsoleLosesNoCommit();
    void commitLatency();
};

void tst_BookStore::newDatabase()
{
    QTemporaryDir temp;
    const QString directory = temp.filePath(QStringLiteral("not/yet/there"));
    BookStore store;
    QVERIFY2(store.open(directory), qPrintable(store.errorString()));
    QCOMPARE(store.path(), QDir(directory).absoluteFilePath(QStringLiteral("oddsdesk.sqlite")));
    QVERIFY(!store.load());
    QVERIFY2(store.errorString().isEmpty(), qPrintable(store.errorString()));
    QVERIFY(!store.commitBatch({}, 1, {}));
    QVERIFY2(store.errorString().contains(QLatin1String("save the whole book first")),
        qPrintable(store.errorString()));
    store.close();

    // An empty file is a database that was never written.
    QTemporaryDir emptyTemp;
    QVERIFY(writeAll(emptyTemp.filePath(BookStore::fileName()), QByteArray()));
    BookStore empty;
    QVERIFY2(empty.open(emptyTemp.path()), qPrintable(empty.errorString()));
    QVERIFY(!empty.load());
}

void tst_BookStore::roundTripKeepsNamesAndOrder()
{
    QTemporaryDir temp;
    const BookData book = sampleBook();
    const quint64 head = 5000000000ULL; // past 32 bits
    {
        BookStore store;
        QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
        QVERIFY2(store.saveBook(generatedBook(5), QStringLiteral("first"), 3),
            qPrintable(store.errorString()));
        QVERIFY2(store.saveBook(book, QStringLiteral("épôque-1"), head),
            qPrintable(store.errorString()));
    }
    BookStore store;
    QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
    const std::optional<StoredState> state = store.load();
    QVERIFY2(state, qPrintable(store.errorString()));
    QCOMPARE(state->epoch, QStringLiteral("épôque-1"));
    QCOMPARE(state->headSequence, head);
    QVERIFY(!state->cleanShutdown);
    compareBooks(state->book, book);
    QCOMPARE(state->book.events.at(0).home, QStringLiteral("Beşiktaş"));
    QCOMPARE(state->book.events.at(1).home, QStringLiteral("Bodø/Glimt"));
}

void tst_BookStore::commitBatchApplies_data()
{
    QTest::addColumn<BookChanges>("changes");

    const BookData book = sampleBook();
    MarketInfo added = makeMarket(41, 2, QStringLiteral("Correct Score"), MarketStatus::Open,
        {makeSelection(411, QStringLiteral("1-0"), 700),
            makeSelection(412, QStringLiteral("0-0"), 900)});
    MarketInfo replaced = book.markets.at(3); // market 21, Bodø/Glimt v Molde
    replaced.name = QStringLiteral("Match Odds (Bodø)");
    replaced.status = MarketStatus::Suspended;
    replaced.selections = {makeSelection(214, QStringLiteral("Bodø/Glimt or Draw"), 125)};
    EventInfo newEvent = makeEvent(
        4, QStringLiteral("Tromsø"), QStringLiteral("Rosenborg"), QStringLiteral("Eliteserien"));
    EventInfo renamed = book.events.at(0);
    renamed.name = QStringLiteral("Beşiktaş JK v Galatasaray SK");
    renamed.startTimeMs += 3600000;

    QTest::newRow("price") << BookChanges {priceChange(101, 11, 112, 355)};
    QTest::newRow("two prices in one market")
        << BookChanges {priceChange(101, 11, 111, 205), priceChange(103, 11, 113, 345)};
    QTest::newRow("status") << BookChanges {statusChange(101, 11, MarketStatus::Suspended)};
    QTest::newRow("reopen") << BookChanges {statusChange(101, 12, MarketStatus::Open)};
    QTest::newRow("winner") << BookChanges {winnerChange(101, 21, 213)};
    QTest::newRow("market added") << BookChanges {marketAdded(101, added)};
    QTest::newRow("market replaced") << BookChanges {marketAdded(101, replaced)};
    QTest::newRow("event added") << BookChanges {eventAdded(101, newEvent)};
    QTest::newRow("event replaced") << BookChanges {eventAdded(101, renamed)};
    QTest::newRow("every kind in one batch") << BookChanges {eventAdded(101, newEvent),
        marketAdded(102, added), priceChange(103, 41, 411, 650),
        statusChange(104, 41, MarketStatus::Suspended), priceChange(105, 21, 211, 175),
        winnerChange(106, 31, 312), marketAdded(107, replaced), priceChange(108, 21, 214, 130),
        eventAdded(110, renamed)};
}

void tst_BookStore::commitBatchApplies()
{
    QFETCH(BookChanges, changes);

    QTemporaryDir temp;
    Book expected;
    expected.reset(sampleBook());
    for (const BookChange &change : changes)
        QVERIFY(expected.apply(change));
    const quint64 head = changes.last().sequence + 1; // a conflated-away change at the end
    {
        BookStore store;
        QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
        QVERIFY2(store.saveBook(sampleBook(), QStringLiteral("e"), 100),
            qPrintable(store.errorString()));
        QVERIFY2(store.commitBatch(changes, head, auditFor(changes, QStringLiteral("anna"))),
            qPrintable(store.errorString()));
    }
    BookStore store;
    QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
    const std::optional<StoredState> state = store.load();
    QVERIFY2(state, qPrintable(store.errorString()));
    QCOMPARE(state->headSequence, head);
    compareBooks(state->book, expected.toData());

    AuditFilter all;
    const QVector<AuditEntry> audit = store.audit(all);
    QCOMPARE(audit.size(), changes.size());
    for (int i = 0; i < audit.size(); ++i) {
        QCOMPARE(audit.at(i).sequence, changes.at(i).sequence);
        QCOMPARE(audit.at(i).user, QStringLiteral("anna"));
        QVERIFY(audit.at(i).id > 0);
    }
}

void tst_BookStore::failedBatchChangesNothingAndBlocksUntilSaved()
{
    QTemporaryDir temp;
    BookStore store;
    QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
    QVERIFY2(
        store.saveBook(sampleBook(), QStringLiteral("e"), 10), qPrintable(store.errorString()));

    const BookChanges bad = {priceChange(11, 11, 111, 500), priceChange(12, 11, 999, 500)};
    QVERIFY(!store.commitBatch(bad, 12, auditFor(bad, QStringLiteral("anna"))));
    QVERIFY2(store.errorString().contains(QLatin1String("selection 999 of market 11")),
        qPrintable(store.errorString()));
    QVERIFY2(store.errorString().contains(store.path()), qPrintable(store.errorString()));
    QVERIFY2(store.errorString().contains(QLatin1String("save the whole book again")),
        qPrintable(store.errorString()));

    // The stored book now lags the feed: nothing more until the whole book is saved.
    const BookChanges good = {priceChange(13, 12, 121, 250)};
    QVERIFY(!store.commitBatch(good, 13, {}));
    QVERIFY2(store.errorString().contains(QLatin1String("an earlier batch failed")),
        qPrintable(store.errorString()));

    std::optional<StoredState> state = store.load();
    QVERIFY(state);
    QCOMPARE(state->headSequence, quint64(10));
    QCOMPARE(state->book.markets.at(1).selections.at(0).price, Price(210));
    QVERIFY(store.audit(AuditFilter {}).isEmpty());

    QVERIFY2(
        store.saveBook(sampleBook(), QStringLiteral("e2"), 12), qPrintable(store.errorString()));
    QVERIFY2(store.commitBatch(good, 13, {}), qPrintable(store.errorString()));
    state = store.load();
    QVERIFY(state);
    QCOMPARE(state->headSequence, quint64(13));
    QCOMPARE(state->book.markets.at(2).selections.at(0).price, Price(250));
}

void tst_BookStore::batchOutsideTheHeadIsRefused()
{
    QTemporaryDir temp;
    BookStore store;
    QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
    QVERIFY2(
        store.saveBook(sampleBook(), QStringLiteral("e"), 10), qPrintable(store.errorString()));

    QVERIFY(!store.commitBatch({}, 9, {}));
    QVERIFY2(store.errorString().contains(QLatin1String("back from 10 to 9")),
        qPrintable(store.errorString()));
    QVERIFY(!store.commitBatch({priceChange(10, 11, 111, 300)}, 11, {}));
    QVERIFY(!store.commitBatch({priceChange(12, 11, 111, 300)}, 11, {}));
    // Refusals before the transaction lose nothing: the next batch goes through.
    QVERIFY2(store.commitBatch({priceChange(11, 11, 111, 300)}, 11, {}),
        qPrintable(store.errorString()));
}

void tst_BookStore::cleanShutdownIsRemembered()
{
    QTemporaryDir temp;
    {
        BookStore store;
        QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
        QVERIFY2(
            store.saveBook(sampleBook(), QStringLiteral("e"), 1), qPrintable(store.errorString()));
        store.markCleanShutdown();
        QVERIFY2(store.errorString().isEmpty(), qPrintable(store.errorString()));
    }
    {
        BookStore store;
        QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
        const std::optional<StoredState> state = store.load();
        QVERIFY(state);
        QVERIFY(state->cleanShutdown);
        // This session ends without saying so, like a crash.
    }
    {
        BookStore store;
        QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
        const std::optional<StoredState> state = store.load();
        QVERIFY(state);
        QVERIFY(!state->cleanShutdown);
        store.markCleanShutdown();
        // A write after the mark clears it: the stop was not the end after all.
        QVERIFY2(store.commitBatch({priceChange(2, 11, 111, 300)}, 2, {}),
            qPrintable(store.errorString()));
    }
    BookStore store;
    QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
    const std::optional<StoredState> state = store.load();
    QVERIFY(state);
    QVERIFY(!state->cleanShutdown);
    QCOMPARE(state->headSequence, quint64(2));
}

void tst_BookStore::auditFilter_data()
{
    QTest::addColumn<qint64>("fromOffsetMs"); // -1: no bound
    QTest::addColumn<qint64>("toOffsetMs");
    QTest::addColumn<QString>("user");
    QTest::addColumn<uint>("marketId");
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("limit");
    QTest::addColumn<QList<int>>("sequences");

    const QString none;
    QTest::newRow("everything") << -1LL << -1LL << none << 0u << none << 1000
                                << QList<int> {1, 2, 3, 4, 5, 6, 7};
    QTest::newRow("no limit") << -1LL << -1LL << none << 0u << none << 0
                              << QList<int> {1, 2, 3, 4, 5, 6, 7};
    QTest::newRow("user") << -1LL << -1LL << QStringLiteral("anna") << 0u << none << 1000
                          << QList<int> {1, 3, 7};
    QTest::newRow("user with an accent")
        << -1LL << -1LL << QStringLiteral("Zoë") << 0u << none << 1000 << QList<int> {4, 5};
    QTest::newRow("user is exact")
        << -1LL << -1LL << QStringLiteral("Anna") << 0u << none << 1000 << QList<int> {};
    QTest::newRow("market") << -1LL << -1LL << none << 11u << none << 1000 << QList<int> {1, 3};
    QTest::newRow("user and market")
        << -1LL << -1LL << QStringLiteral("anna") << 12u << none << 1000 << QList<int> {7};
    QTest::newRow("from is inclusive")
        << 3000LL << -1LL << none << 0u << none << 1000 << QList<int> {4, 5, 6, 7};
    QTest::newRow("to is exclusive")
        << -1LL << 3000LL << none << 0u << none << 1000 << QList<int> {1, 2, 3};
    QTest::newRow("window") << 1000LL << 4000LL << none << 0u << none << 1000
                            << QList<int> {2, 3, 4, 5};
    QTest::newRow("text in a new value")
        << -1LL << -1LL << none << 0u << QStringLiteral("suspend") << 1000 << QList<int> {3};
    QTest::newRow("text in an old value")
        << -1LL << -1LL << none << 0u << QStringLiteral("4.00") << 1000 << QList<int> {5};
    QTest::newRow("text ignores case beyond ASCII")
        << -1LL << -1LL << none << 0u << QStringLiteral("BEŞIKTAŞ JK") << 1000 << QList<int> {6};
    QTest::newRow("text in the market's event name")
        << -1LL << -1LL << none << 0u << QStringLiteral("bodø/glimt v") << 1000
        << QList<int> {4, 5};
    QTest::newRow("text in the selection name")
        << -1LL << -1LL << none << 0u << QStringLiteral("over 2.5") << 1000 << QList<int> {2};
    QTest::newRow("text in the source")
        << -1LL << -1LL << none << 0u << QStringLiteral("REPLAY") << 1000 << QList<int> {6};
    QTest::newRow("limit keeps the newest")
        << -1LL << -1LL << none << 0u << none << 2 << QList<int> {6, 7};
    QTest::newRow("text and limit")
        << -1LL << -1LL << none << 0u << QStringLiteral("desk") << 3 << QList<int> {4, 5, 7};
    QTest::newRow("text and market and window")
        << 0LL << 5000LL << none << 21u << QStringLiteral("4.2") << 1000 << QList<int> {5};
    QTest::newRow("nothing matches")
        << -1LL << -1LL << none << 0u << QStringLiteral("Rosenborg") << 1000 << QList<int> {};
}

void tst_BookStore::auditFilter()
{
    QFETCH(qint64, fromOffsetMs);
    QFETCH(qint64, toOffsetMs);
    QFETCH(QString, user);
    QFETCH(uint, marketId);
    QFETCH(QString, text);
    QFETCH(int, limit);
    QFETCH(QList<int>, sequences);

    QTemporaryDir temp;
    QVERIFY(makeAuditStore(temp.path()));
    BookStore store;
    QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));

    AuditFilter filter;
    filter.fromMs = fromOffsetMs < 0 ? 0 : AuditBaseMs + fromOffsetMs;
    filter.toMs = toOffsetMs < 0 ? 0 : AuditBaseMs + toOffsetMs;
    filter.user = user;
    filter.marketId = marketId;
    filter.text = text;
    filter.limit = limit;
    const QVector<AuditEntry> found = store.audit(filter);
    QVERIFY2(store.errorString().isEmpty(), qPrintable(store.errorString()));
    QList<int> got;
    for (const AuditEntry &e : found)
        got << int(e.sequence);
    QCOMPARE(got, sequences);
}

void tst_BookStore::exportAuditCsv()
{
    QTemporaryDir temp;
    QVERIFY(makeAuditStore(temp.path()));
    BookStore store;
    QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));

    const QString csvPath = temp.filePath(QStringLiteral("audit, Zoë's copy.csv"));
    QString error = QStringLiteral("stale");
    QVERIFY2(store.exportAuditCsv(AuditFilter {}, csvPath, &error), qPrintable(error));
    QVERIFY(error.isEmpty());

    const QByteArray bytes = readAll(csvPath);
    QVERIFY(bytes.endsWith("\r\n"));
    QVERIFY(bytes.contains("Zo\xc3\xab")); // UTF-8
    QVERIFY(bytes.contains("\"Under, \"\"void\"\"\r\nsettled by hand\""));
    const QList<QStringList> rows = parseCsv(QString::fromUtf8(bytes));
    const QStringList header
        = {QStringLiteral("id"), QStringLiteral("time_ms"), QStringLiteral("time_utc"),
            QStringLiteral("user"), QStringLiteral("source"), QStringLiteral("market_id"),
            QStringLiteral("selection_id"), QStringLiteral("field"), QStringLiteral("old_value"),
            QStringLiteral("new_value"), QStringLiteral("bulk_id"), QStringLiteral("sequence")};
    QVERIFY(!rows.isEmpty());
    QCOMPARE(rows.first(), header);

    const QVector<AuditEntry> expected = store.audit(AuditFilter {});
    QCOMPARE(rows.size() - 1, expected.size());
    for (int i = 0; i < expected.size(); ++i) {
        const QStringList &row = rows.at(i + 1);
        const AuditEntry &e = expected.at(i);
        QCOMPARE(row.size(), header.size());
        QCOMPARE(row.at(0).toLongLong(), e.id);
        QCOMPARE(row.at(1).toLongLong(), e.timeMs);
        QCOMPARE(QDateTime::fromString(row.at(2), Qt::ISODateWithMs).toMSecsSinceEpoch(), e.timeMs);
        QVERIFY2(row.at(2).endsWith(QLatin1Char('Z')), qPrintable(row.at(2)));
        QCOMPARE(row.at(3), e.user);
        QCOMPARE(row.at(4), e.source);
        QCOMPARE(row.at(5).toUInt(), e.marketId);
        QCOMPARE(row.at(6).toUInt(), e.selectionId);
        QCOMPARE(row.at(7), e.field);
        QCOMPARE(row.at(8), e.oldValue);
        QCOMPARE(row.at(9), e.newValue);
        QCOMPARE(row.at(10).toLongLong(), e.bulkId);
        QCOMPARE(row.at(11).toULongLong(), e.sequence);
    }
    QCOMPARE(rows.at(4).at(3), QStringLiteral("Zoë"));

    // The filter applies to the export as well.
    AuditFilter bens;
    bens.user = QStringLiteral("ben");
    QVERIFY2(store.exportAuditCsv(bens, csvPath, nullptr), "export by user");
    const QList<QStringList> benRows = parseCsv(QString::fromUtf8(readAll(csvPath)));
    QCOMPARE(benRows.size(), 3);
    QCOMPARE(benRows.at(1).at(11), QStringLiteral("2"));
    QCOMPARE(benRows.at(2).at(9), QStringLiteral("Beşiktaş JK v Galatasaray SK"));
}

void tst_BookStore::exportToUnwritablePathFails()
{
    QTemporaryDir temp;
    QVERIFY(makeAuditStore(temp.path()));
    BookStore store;
    QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
    // A regular file where a folder should be: no permission trick that root would ignore.
    QVERIFY(writeAll(temp.filePath(QStringLiteral("plain")), "x"));
    const QString csvPath = temp.filePath(QStringLiteral("plain/audit.csv"));
    QString error;
    QVERIFY(!store.exportAuditCsv(AuditFilter {}, csvPath, &error));
    QVERIFY2(error.contains(QDir::toNativeSeparators(csvPath)), qPrintable(error));
    QVERIFY2(error.contains(QLatin1String("choose")), qPrintable(error));
}

void tst_BookStore::directoryThatIsAFileRefused_data()
{
    QTest::addColumn<QString>("directory"); // under the temporary folder, which holds "plain"
    QTest::addColumn<QString>("message"); // with <dir> and <file> for the two paths

    QTest::newRow("the directory itself")
        << "plain"
        << "The data directory <dir> is a file, not a folder; choose another --data "
           "directory.";
    QTest::newRow("one of the folders it would be made in")
        << "plain/sub/data"
        << "Cannot create the data directory <dir>: <file> is a file, not a folder; choose "
           "another --data directory.";
}

// A file where the data directory should be is named as such, not blamed on permissions
// that have nothing to do with it.
void tst_BookStore::directoryThatIsAFileRefused()
{
    QFETCH(QString, directory);
    QFETCH(QString, message);

    QTemporaryDir temp;
    const QString file = temp.filePath(QStringLiteral("plain"));
    QVERIFY(writeAll(file, "x"));
    const QString path = temp.filePath(directory);
    BookStore store;
    QVERIFY(!store.open(path));
    QCOMPARE(store.errorString(),
        message.replace(QStringLiteral("<dir>"), QDir::toNativeSeparators(path))
            .replace(QStringLiteral("<file>"), QDir::toNativeSeparators(file)));
    QVERIFY(!store.isOpen());
    QCOMPARE(readAll(file), QByteArray("x"));
}

void tst_BookStore::lockedDirectoryRefused_data()
{
    QTest::addColumn<bool>("otherProcess");
    QTest::newRow("a second store in this process") << false;
    QTest::newRow("another console") << true;
}

void tst_BookStore::lockedDirectoryRefused()
{
    QFETCH(bool, otherProcess);

    QTemporaryDir temp;
    BookStore first;
    std::unique_ptr<Child> child;
    qint64 holderPid = QCoreApplication::applicationPid();
    if (otherProcess) {
        child = std::make_unique<Child>(HoldChildArgument, temp.path());
        QVERIFY(child->process().waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(
            child->hasLine() || child->process().state() == QProcess::NotRunning,
            ChildStartTimeoutMs);
        QVERIFY2(child->output().startsWith("open\n"), qPrintable(child->errors()));
        holderPid = child->process().processId();
    } else {
        QVERIFY2(first.open(temp.path()), qPrintable(first.errorString()));
    }

    BookStore second;
    QVERIFY(!second.open(temp.path()));
    const QString expected = QStringLiteral("%1 is in use by another OddsDesk console (pid %2); "
                                            "close it or choose another --data directory")
                                 .arg(QDir::toNativeSeparators(second.path()))
                                 .arg(holderPid);
    QVERIFY2(second.errorString().contains(expected), qPrintable(second.errorString()));
    QVERIFY(!second.isOpen());

    // Once the holder lets go, the directory is free.
    if (child)
        QVERIFY(child->killNow());
    first.close();
    QVERIFY2(second.open(temp.path()), qPrintable(second.errorString()));
}

void tst_BookStore::staleLockOfKilledConsoleIsTakenOver()
{
    QTemporaryDir temp;
    {
        Child child(HoldChildArgument, temp.path());
        QVERIFY(child.process().waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(child.hasLine() || child.process().state() == QProcess::NotRunning,
            ChildStartTimeoutMs);
        QVERIFY2(child.output().startsWith("open\n"), qPrintable(child.errors()));
        QVERIFY(child.killNow());
        QCOMPARE(child.process().exitStatus(), QProcess::CrashExit);
    }
    const QString lockPath = temp.filePath(BookStore::fileName() + QStringLiteral(".lock"));
    QVERIFY2(QFileInfo::exists(lockPath), "the killed console leaves its lock file behind");

    BookStore store;
    QElapsedTimer timer;
    timer.start();
    QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
    QVERIFY2(timer.elapsed() < ChildStartTimeoutMs, "a stale lock must not make open() wait");
}

void tst_BookStore::damagedFileRefusedAndUntouched_data()
{
    QTest::addColumn<QByteArray>("bytes");

    QByteArray garbage(64 * 1024, Qt::Uninitialized);
    QRandomGenerator random(20240501);
    for (char &c : garbage)
        c = char(random.bounded(256));
    QTest::newRow("garbage") << garbage;
    QTest::newRow("a text file") << QByteArray("id,price\r\n1,2.50\r\n").repeated(50);

    // A real database of ours, cut or scribbled on.
    QTemporaryDir temp;
    QByteArray valid;
    {
        BookStore store;
        QVERIFY(store.open(temp.path()));
        QVERIFY(store.saveBook(generatedBook(300), QStringLiteral("e"), 1));
        QVERIFY(store.commitBatch({}, 7, auditSample()));
    }
    valid = readAll(temp.filePath(BookStore::fileName()));
    QVERIFY(valid.size() > 16 * 4096);
    QTest::newRow("cut to half") << valid.left(valid.size() / 2);
    QTest::newRow("cut inside the first page") << valid.left(1000);
    QTest::newRow("only the header") << valid.left(100);
    QTest::newRow("cut inside the header") << valid.left(40);
    QByteArray scribbled = valid;
    const int pageSize = 4096;
    for (int page = 2; page < 6; ++page)
        scribbled.replace(page * pageSize, pageSize, QByteArray(pageSize, '\xA5'));
    QTest::newRow("pages overwritten") << scribbled;

    // A sound SQLite database of some other program.
    const QString otherPath = temp.filePath(QStringLiteral("other.sqlite"));
    {
        QSqlDatabase db
            = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("other"));
        db.setDatabaseName(otherPath);
        QVERIFY(db.open());
        QSqlQuery query(db);
        QVERIFY(query.exec(QStringLiteral("CREATE TABLE meta (key TEXT, value TEXT)")));
        QVERIFY(query.exec(QStringLiteral("INSERT INTO meta VALUES ('schema_version', '1')")));
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("other"));
    QTest::newRow("another program's SQLite database") << readAll(otherPath);
}

void tst_BookStore::damagedFileRefusedAndUntouched()
{
    QFETCH(QByteArray, bytes);

    QTemporaryDir temp;
    const QString path = temp.filePath(BookStore::fileName());
    QVERIFY(writeAll(path, bytes));
    const QStringList before = entries(temp.path());
    {
        BookStore store;
        QVERIFY(!store.open(temp.path()));
        const QString error = store.errorString();
        QVERIFY2(error.startsWith(QDir::toNativeSeparators(path)), qPrintable(error));
        QVERIFY2(error.contains(QLatin1String("is not an OddsDesk database or is damaged")),
            qPrintable(error));
        QVERIFY2(error.contains(QLatin1String("move it aside or choose another --data directory")),
            qPrintable(error));
        QVERIFY(!store.isOpen());
        QVERIFY(!store.load());
    }
    QCOMPARE(readAll(path), bytes);
    QCOMPARE(entries(temp.path()), before);
}

void tst_BookStore::newerSchemaRefusedAndUntouched()
{
    QTemporaryDir temp;
    const QString path = temp.filePath(BookStore::fileName());
    QVERIFY(makeAuditStore(temp.path()));
    {
        QSqlDatabase db
            = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("newer"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery query(db);
        QVERIFY(query.exec(QStringLiteral("UPDATE meta SET value = '%1' WHERE key = "
                                          "'schema_version'")
                               .arg(BookStore::schemaVersion() + 1)));
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("newer"));
    const QByteArray bytes = readAll(path);
    const QStringList before = entries(temp.path());

    BookStore store;
    QVERIFY(!store.open(temp.path()));
    const QString expected = QStringLiteral("%1 was written by a newer OddsDesk (schema version "
                                            "%2; this one reads up to %3); run that newer "
                                            "version or choose another --data directory")
                                 .arg(QDir::toNativeSeparators(path))
                                 .arg(BookStore::schemaVersion() + 1)
                                 .arg(BookStore::schemaVersion());
    QVERIFY2(store.errorString().contains(expected), qPrintable(store.errorString()));
    store.close();
    QCOMPARE(readAll(path), bytes);
    QCOMPARE(entries(temp.path()), before);
}

void tst_BookStore::otherThreadRefused()
{
    QTemporaryDir temp;
    BookStore store;
    QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
    QVERIFY2(store.saveBook(sampleBook(), QStringLiteral("e"), 1), qPrintable(store.errorString()));

    bool committed = true;
    std::unique_ptr<QThread> thread(QThread::create(
        [&] { committed = store.commitBatch({priceChange(2, 11, 111, 300)}, 2, {}); }));
    thread->start();
    QVERIFY(thread->wait(ChildExitTimeoutMs));
    QVERIFY(!committed);
    QVERIFY2(
        store.errorString().contains(QLatin1String("thread")), qPrintable(store.errorString()));
    QCOMPARE(store.load()->headSequence, quint64(1));
}

void tst_BookStore::killedConsoleLosesNoCommit_data()
{
    QTest::addColumn<int>("fromMs");
    QTest::addColumn<int>("toMs");

    // After the child's first commit, the kill lands at a random moment in this window.
    QTest::newRow("early") << 0 << 150;
    QTest::newRow("a little later") << 150 << 700;
    QTest::newRow("late") << 700 << 2500;
}

void tst_BookStore::killedConsoleLosesNoCommit()
{
    QFETCH(int, fromMs);
    QFETCH(int, toMs);

    QTemporaryDir temp;
    const BookData initial = generatedBook(CrashBookMarkets);
    {
        BookStore store;
        QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
        QVERIFY2(
            store.saveBook(initial, QStringLiteral("crash"), 0), qPrintable(store.errorString()));
    }

    quint64 lastPrinted = 0;
    {
        Child child(CrashChildArgument, temp.path());
        QVERIFY(child.process().waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(child.hasLine() || child.process().state() == QProcess::NotRunning,
            ChildStartTimeoutMs);
        QVERIFY2(child.output().startsWith("committed "), qPrintable(child.errors()));

        const int delayMs = int(QRandomGenerator::global()->bounded(fromMs, toMs));
        QTest::qWait(delayMs);
        QVERIFY2(child.process().state() == QProcess::Running, qPrintable(child.errors()));
        QVERIFY(child.killNow());
        QCOMPARE(child.process().exitStatus(), QProcess::CrashExit);

        // Only whole lines count: the kill may cut the last one.
        QList<QByteArray> lines = child.output().split('\n');
        lines.removeLast();
        QVERIFY(!lines.isEmpty());
        bool ok = false;
        lastPrinted = lines.last().mid(int(qstrlen("committed "))).toULongLong(&ok);
        QVERIFY2(ok, lines.last().constData());
        qInfo("killed after %d ms, %lld batches printed, the last at head %llu", delayMs,
            qint64(lines.size()), static_cast<unsigned long long>(lastPrinted));
    }

    BookStore store;
    QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
    const std::optional<StoredState> state = store.load();
    QVERIFY2(state, qPrintable(store.errorString()));
    QVERIFY(!state->cleanShutdown);
    QCOMPARE(state->epoch, QStringLiteral("crash"));
    // Either the last commit the child saw return, or one it made durable but had not yet
    // printed; nothing older, nothing half.
    const quint64 head = state->headSequence;
    qInfo("stored head %llu: %s", static_cast<unsigned long long>(head),
        head == lastPrinted ? "the last printed commit" : "one commit past the last printed");
    QVERIFY2(head == lastPrinted || head == lastPrinted + CrashChangesPerBatch,
        qPrintable(QStringLiteral("stored head %1, last printed %2").arg(head).arg(lastPrinted)));

    Book expected;
    expected.reset(initial);
    quint64 replayed = 0;
    while (replayed < head) {
        nextCrashBatch(&expected, replayed);
        replayed += CrashChangesPerBatch;
    }
    QCOMPARE(replayed, head);
    Book stored;
    stored.reset(state->book);
    QVERIFY(stored == expected);
    compareMarketStamps(state->book, expected);

    // The audit trail moved with the head, entry for entry.
    AuditFilter all;
    all.limit = 0;
    const QVector<AuditEntry> audit = store.audit(all);
    QCOMPARE(quint64(audit.size()), head);
    QCOMPARE(audit.last().sequence, head);
}

void tst_BookStore::commitLatency()
{
    struct Mode
    {
        BookStore::Durability durability;
        const char *name;
        double medianMs = 0;
        double p90Ms = 0;
    };
    Mode modes[] = {
        {BookStore::Durability::Full, "WAL+FULL"}, {BookStore::Durability::Normal, "WAL+NORMAL"}};
    QString fileSystem;

    for (Mode &mode : modes) {
        QTemporaryDir temp;
        fileSystem = QString::fromLatin1(QStorageInfo(temp.path()).fileSystemType());
        BookStore store(mode.durability);
        QVERIFY2(store.open(temp.path()), qPrintable(store.errorString()));
        const BookData book = generatedBook(LatencyBookMarkets);
        QVERIFY2(store.saveBook(book, QStringLiteral("bench"), 0), qPrintable(store.errorString()));

        QVector<qint64> nanos;
        quint64 head = 0;
        for (int i = 0; i < LatencyCommits; ++i) {
            BookChanges changes;
            for (int j = 0; j < LatencyChangesPerBatch; ++j) {
                const MarketInfo &m
                    = book.markets.at((i * LatencyChangesPerBatch + j) % book.markets.size());
                changes.append(priceChange(head + 1 + quint64(j), m.id, m.selections.at(j % 3).id,
                    Price(200 + (i + j) % 300)));
            }
            const QVector<AuditEntry> audit = auditFor(changes, QStringLiteral("bench"));
            head += LatencyChangesPerBatch;
            QElapsedTimer timer;
            timer.start();
            const bool ok = store.commitBatch(changes, head, audit);
            nanos.append(timer.nsecsElapsed());
            QVERIFY2(ok, qPrintable(store.errorString()));
        }
        std::sort(nanos.begin(), nanos.end());
        mode.medianMs = nanos.at(nanos.size() / 2) / 1e6;
        mode.p90Ms = nanos.at(nanos.size() * 9 / 10) / 1e6;
    }

    qInfo("commitBatch of %d changes with their audit entries, %d commits on %s:",
        LatencyChangesPerBatch, LatencyCommits, qPrintable(fileSystem));
    for (const Mode &mode : modes) {
        qInfo("  %-10s median %.3f ms, 90th percentile %.3f ms", mode.name, mode.medianMs,
            mode.p90Ms);
    }
}

int main(int argc, char *argv[])
{
    if (argc == 3 && qstrcmp(argv[1], CrashChildArgument) == 0) {
        QCoreApplication app(argc, argv);
        return runCrashChild(QString::fromLocal8Bit(argv[2]));
    }
    if (argc == 3 && qstrcmp(argv[1], HoldChildArgument) == 0) {
        QCoreApplication app(argc, argv);
        return runHoldChild(QString::fromLocal8Bit(argv[2]));
    }
    QCoreApplication app(argc, argv);
    QTEST_SET_MAIN_SOURCE_PATH
    tst_BookStore test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_bookstore.moc"
