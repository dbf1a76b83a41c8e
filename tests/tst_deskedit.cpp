// The desk's edits in the engine: whole or nothing, one delta each, conflicts with what the
// trader saw, their undoing, and the audit log they leave.

#include "deskedit.h"
#include "engine.h"
#include "feed.h"
#include "feedclient.h"
#include "footballdataimporter.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace OddsDesk;

namespace {

QString seasonPath()
{
    return QStringLiteral(ODDSDESK_SHARED_DATA_DIR)
        + QStringLiteral("/football-data_E0_2018-19.csv");
}

// Whether one selection is now ahead of another it was behind.
bool reordered(const QVector<Price> &before, const QVector<Price> &after)
{
    for (int i = 0; i < before.size(); ++i) {
        for (int j = 0; j < before.size(); ++j) {
            if (before.at(i) < before.at(j) && after.at(i) > after.at(j))
                return true;
        }
    }
    return false;
}

// Whether some single step of one selection, keeping the order of the selections, would
// bring the margin closer to the target: the test of "as close as the ladder allows".
bool oneStepIsCloser(
    const QVector<Price> &before, const QVector<Price> &prices, double target, const Ladder &ladder)
{
    const double distance = std::abs(marginPercent(prices) - target);
    for (int i = 0; i < prices.size(); ++i) {
        for (int direction : {-1, 1}) {
            QVector<Price> candidate = prices;
            candidate[i] = ladder.step(prices.at(i), direction);
            if (reordered(before, candidate))
                continue;
            if (std::abs(marginPercent(candidate) - target) < distance - 1e-9)
                return true;
        }
    }
    return false;
}

} // namespace

class tst_DeskEdit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void marginToTargetOnTheRealSeason();
    void shiftWalksTheLadder();
    void wholeOrNothing();
    void staleViewIsAConflict();
    void inverseUndoes();
    void bulkMarginIsOneDelta();
    void auditNamesTheBulkAndExports();
    void importsAreInTheAuditLog();

private:
    void startEngine(
        const QString &dataDirectory = QString(), const QString &importedFrom = QString());
    EditResult submit(const DeskEdit &edit);

    ImportReport m_season;
    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<FeedClient> m_client;
};

void tst_DeskEdit::initTestCase()
{
    if (!QFile::exists(seasonPath()))
        QSKIP("the real season file is not available");
    m_season = importFootballData(seasonPath());
    QVERIFY2(m_season.ok(), qPrintable(m_season.error));
}

void tst_DeskEdit::init() { }

void tst_DeskEdit::cleanup()
{
    m_client.reset();
    m_engine.reset();
}

void tst_DeskEdit::startEngine(const QString &dataDirectory, const QString &importedFrom)
{
    EngineConfig config;
    config.server.port = 0;
    config.dataDirectory = dataDirectory;
    config.preferStoredBook = false;
    config.deskUser = QStringLiteral("trader-1");
    m_engine = std::make_unique<Engine>(config);
    QSignalSpy started(m_engine.get(), &Engine::started);
    m_engine->start(m_season.book, importedFrom);
    QTRY_COMPARE(started.count(), 1);

    FeedClientConfig client;
    client.url = m_engine->url();
    client.clientName = QStringLiteral("punter");
    m_client = std::make_unique<FeedClient>(client);
    QSignalSpy snapshot(m_client.get(), &FeedClient::snapshotApplied);
    m_client->start();
    QTRY_COMPARE(snapshot.count(), 1);
}

EditResult tst_DeskEdit::submit(const DeskEdit &edit)
{
    QSignalSpy finished(m_engine.get(), &Engine::editFinished);
    const quint64 id = m_engine->submitEdit(edit);
    if (!finished.wait(5000))
        return EditResult {};
    const auto result = finished.constFirst().constFirst().value<EditResult>();
    return result.requestId == id ? result : EditResult {};
}

void tst_DeskEdit::marginToTargetOnTheRealSeason()
{
    // The first match, Man United v Leicester at 1.57 / 3.90 / 7.50: 102.7 %.
    const MarketInfo &first = m_season.book.markets.constFirst();
    QCOMPARE(QString::number(OddsDesk::marginPercent(first), 'f', 1), QStringLiteral("102.7"));

    for (LadderKind kind : {LadderKind::Exchange, LadderKind::Bookmaker}) {
        const Ladder &ladder = Ladder::of(kind);
        for (const double target : {100.0, 105.0, 110.0, 120.0}) {
            for (int m = 0; m < 40; ++m) {
                const MarketInfo &market = m_season.book.markets.at(m);
                const QVector<Price> prices = pricesForMargin(market, target, ladder);
                QCOMPARE(prices.size(), market.selections.size());
                for (Price p : prices) {
                    QVERIFY(isValidPrice(p));
                    QVERIFY2(ladder.isOnLadder(p), qPrintable(formatDecimal(p)));
                }
                QVector<Price> before;
                for (const SelectionInfo &s : market.selections)
                    before.append(s.price);
                QVERIFY2(!oneStepIsCloser(before, prices, target, ladder),
                    qPrintable(QStringLiteral("%1 at %2 %").arg(market.name).arg(target)));
                QVERIFY(!reordered(before, prices)); // the favourite stays the favourite
            }
        }
    }
    // Near 7.50 one exchange tick is a fifth of a point of margin: the ladder allows that.
    const QVector<Price> at105 = pricesForMargin(first, 105.0, Ladder::exchange());
    QVERIFY2(std::abs(marginPercent(at105) - 105.0) < 0.2,
        qPrintable(QString::number(marginPercent(at105))));
}

void tst_DeskEdit::shiftWalksTheLadder()
{
    const MarketInfo &first = m_season.book.markets.constFirst();
    QCOMPARE(shiftedPrices(first, 1, Ladder::exchange()), (QVector<Price> {158, 395, 760}));
    QCOMPARE(shiftedPrices(first, -2, Ladder::exchange()), (QVector<Price> {155, 380, 720}));
}

void tst_DeskEdit::wholeOrNothing()
{
    startEngine();
    const MarketInfo &first = m_season.book.markets.at(0);
    const MarketInfo &second = m_season.book.markets.at(2);
    QSignalSpy deltas(m_client.get(), &FeedClient::deltaApplied);

    // The second change is invalid, so the first is not applied either.
    DeskEdit bad;
    bad.prices = {{first.selections.at(0).id, 160, first.selections.at(0).price},
        {second.selections.at(0).id, 100000 + 1, second.selections.at(0).price}};
    const EditResult refused = submit(bad);
    QVERIFY(!refused.applied);
    QVERIFY2(
        refused.error.contains(QStringLiteral("outside 1.01 to 1000")), qPrintable(refused.error));

    DeskEdit unknown;
    unknown.prices = {{first.selections.at(0).id, 160, 0}};
    unknown.statuses = {{999999, MarketStatus::Suspended, MarketStatus::Unknown}};
    QVERIFY(submit(unknown).error.contains(QStringLiteral("no market 999999")));

    QTest::qWait(200);
    QCOMPARE(deltas.count(), 0);
    QCOMPARE(m_client->book().market(first.id)->selections.at(0).price, Price(157));
}

void tst_DeskEdit::staleViewIsAConflict()
{
    startEngine();
    const MarketInfo &first = m_season.book.markets.at(0);
    const quint32 draw = first.selections.at(1).id;
    // Someone else moves the draw from 3.90 to 4.00.
    m_engine->setPrice(draw, 400, 390);
    QSignalSpy deltas(m_client.get(), &FeedClient::deltaApplied);
    QTRY_COMPARE(deltas.count(), 1);

    // The trader, still looking at 3.90, sets 4.20 and suspends the over/under market.
    const MarketInfo &overUnder = m_season.book.markets.at(1);
    DeskEdit edit;
    edit.prices = {{draw, 420, 390}};
    edit.statuses = {{overUnder.id, MarketStatus::Suspended, MarketStatus::Open}};
    const EditResult result = submit(edit);
    QVERIFY(!result.applied);
    QVERIFY(result.error.isEmpty());
    QCOMPARE(result.conflicts.size(), 1);
    const EditConflict &c = result.conflicts.constFirst();
    QCOMPARE(c.selectionId, draw);
    QCOMPARE(c.selectionName, QStringLiteral("Draw"));
    QCOMPARE(c.seenPrice, Price(390));
    QCOMPARE(c.currentPrice, Price(400));
    QCOMPARE(c.wantedPrice, Price(420));
    QTest::qWait(200);
    QCOMPARE(deltas.count(), 1); // nothing of the edit went out
    QCOMPARE(m_client->book().market(overUnder.id)->status, MarketStatus::Open);

    // Having seen both, the trader keeps theirs: the same edit against 4.00 goes through.
    edit.prices.first().seen = c.currentPrice;
    QVERIFY(submit(edit).applied);
    QTRY_COMPARE(m_client->book().market(first.id)->selection(draw)->price, Price(420));
    QCOMPARE(m_client->book().market(overUnder.id)->status, MarketStatus::Suspended);
}

void tst_DeskEdit::inverseUndoes()
{
    startEngine();
    const MarketInfo &first = m_season.book.markets.at(0);
    DeskEdit edit;
    edit.description = QStringLiteral("Shift 1 market up 1 tick");
    const QVector<Price> shifted = shiftedPrices(first, 1, Ladder::exchange());
    for (int i = 0; i < shifted.size(); ++i)
        edit.prices.append(
            {first.selections.at(i).id, shifted.at(i), first.selections.at(i).price});
    edit.prices.append({first.selections.at(0).id, shifted.at(0), 0}); // already set: no change
    const EditResult done = submit(edit);
    QVERIFY(done.applied);
    QCOMPARE(done.done.prices.size(), 3);
    QVERIFY(done.bulkId != 0);
    QCOMPARE(done.lastSequence - done.firstSequence, quint64(2));

    const EditResult undone = submit(done.done.inverse());
    QVERIFY(undone.applied);
    QTRY_COMPARE(m_client->lastSequence(), undone.lastSequence);
    for (const SelectionInfo &s : first.selections)
        QCOMPARE(m_client->book().market(first.id)->selection(s.id)->price, s.price);

    // Undoing twice meets the undone values: a conflict, not a silent overwrite.
    const EditResult again = submit(done.done.inverse());
    QVERIFY(!again.applied);
    QCOMPARE(again.conflicts.size(), 3);
}

void tst_DeskEdit::bulkMarginIsOneDelta()
{
    startEngine();
    QSignalSpy deltas(m_client.get(), &FeedClient::deltaApplied);
    DeskEdit edit;
    edit.description = QStringLiteral("Margin to 105 % on 10 markets");
    QVector<quint32> markets;
    QHash<quint32, QVector<Price>> before;
    for (int m = 0; m < 20; m += 2) { // ten 1X2 markets
        const MarketInfo &market = m_season.book.markets.at(m);
        for (const SelectionInfo &s : market.selections)
            before[market.id].append(s.price);
        markets.append(market.id);
        const QVector<Price> prices = pricesForMargin(market, 105.0, Ladder::exchange());
        for (int i = 0; i < prices.size(); ++i)
            edit.prices.append(
                {market.selections.at(i).id, prices.at(i), market.selections.at(i).price});
    }
    const EditResult result = submit(edit);
    QVERIFY(result.applied);
    QTRY_COMPARE(m_client->lastSequence(), result.lastSequence);
    QTest::qWait(100);
    QCOMPARE(deltas.count(), 1);
    const auto changes = deltas.constFirst().constFirst().value<BookChanges>();
    QCOMPARE(changes.size(), result.done.prices.size());
    for (quint32 id : std::as_const(markets)) {
        const MarketInfo *market = m_client->book().market(id);
        QVector<Price> prices;
        for (const SelectionInfo &s : market->selections)
            prices.append(s.price);
        QVERIFY2(!oneStepIsCloser(before.value(id), prices, 105.0, Ladder::exchange()),
            qPrintable(QString::number(OddsDesk::marginPercent(*market))));
        QVERIFY(std::abs(OddsDesk::marginPercent(*market) - 105.0) < 0.5);
    }
}

void tst_DeskEdit::auditNamesTheBulkAndExports()
{
    QTemporaryDir data;
    startEngine(data.path());
    const MarketInfo &first = m_season.book.markets.at(0);
    const MarketInfo &overUnder = m_season.book.markets.at(1);
    DeskEdit edit;
    edit.statuses = {{first.id, MarketStatus::Suspended, MarketStatus::Open},
        {overUnder.id, MarketStatus::Suspended, MarketStatus::Open}};
    const EditResult result = submit(edit);
    QVERIFY(result.applied);
    QVERIFY(result.bulkId != 0);

    AuditFilter filter;
    filter.text = QStringLiteral("suspended");
    QSignalSpy ready(m_engine.get(), &Engine::auditReady);
    const quint64 id = m_engine->requestAudit(filter);
    QTRY_COMPARE(ready.count(), 1);
    QCOMPARE(ready.constFirst().at(0).toULongLong(), id);
    const auto entries = ready.constFirst().at(1).value<QVector<AuditEntry>>();
    QCOMPARE(entries.size(), 2);
    for (const AuditEntry &e : entries) {
        QCOMPARE(e.user, QStringLiteral("trader-1"));
        QCOMPARE(e.bulkId, result.bulkId);
        QCOMPARE(e.field, QStringLiteral("status"));
        QCOMPARE(e.oldValue, QStringLiteral("open"));
        QVERIFY(e.sequence >= result.firstSequence && e.sequence <= result.lastSequence);
    }

    const QString csv = data.filePath(QStringLiteral("audit.csv"));
    QSignalSpy exported(m_engine.get(), &Engine::auditExported);
    m_engine->exportAudit(filter, csv);
    QTRY_COMPARE(exported.count(), 1);
    QCOMPARE(exported.constFirst().at(2).toString(), QString());
    QCOMPARE(exported.constFirst().at(1).toInt(), 2);
    QFile file(csv);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = file.readAll().split('\n');
    QCOMPARE(lines.size(), 4); // header, two entries, the empty tail after the last CRLF
    QVERIFY(lines.at(1).contains("trader-1"));
    m_client.reset();
    m_engine.reset(); // before the folder goes
}

QTEST_GUILESS_MAIN(tst_DeskEdit)

// An import replaces the whole book: the audit log says who did it, from which file, and
// what it replaced, at start (--import) and from the window (File > Import) alike.
void tst_DeskEdit::importsAreInTheAuditLog()
{
    QTemporaryDir data;
    startEngine(data.path(), seasonPath());
    const auto imports = [this] {
        AuditFilter filter;
        filter.text = QStringLiteral("import");
        QSignalSpy ready(m_engine.get(), &Engine::auditReady);
        m_engine->requestAudit(filter);
        if (!ready.wait(5000))
            return QVector<AuditEntry>();
        return ready.constFirst().at(1).value<QVector<AuditEntry>>();
    };
    QVector<AuditEntry> entries = imports();
    QCOMPARE(entries.size(), 1);
    const QString file = QFileInfo(seasonPath()).absoluteFilePath();
    QCOMPARE(entries.first().source, QStringLiteral("import"));
    QCOMPARE(entries.first().user, QStringLiteral("trader-1"));
    QCOMPARE(entries.first().field, QStringLiteral("book"));
    QCOMPARE(entries.first().oldValue, QString()); // a new folder: nothing was replaced
    QCOMPARE(entries.first().newValue, file + QStringLiteral(": 380 events, 760 markets"));

    BookData smaller = m_season.book;
    smaller.events.resize(1);
    smaller.markets.resize(2);
    m_engine->loadBook(smaller, QStringLiteral("/seasons/one-match.csv"));
    entries = imports();
    QCOMPARE(entries.size(), 2);
    // Oldest first: then the second import, which replaced the season.
    QCOMPARE(entries.last().oldValue, QStringLiteral("380 events, 760 markets"));
    QCOMPARE(entries.last().newValue, QStringLiteral("/seasons/one-match.csv: 1 event, 2 markets"));
    QVERIFY(entries.last().sequence >= entries.first().sequence);
    m_client.reset();
    m_engine.reset(); // before the folder goes
}

#include "tst_deskedit.moc"
