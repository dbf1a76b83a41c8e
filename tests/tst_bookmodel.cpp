#include "bookfiltermodel.h"
#include "bookmodel.h"
#include "engine.h"
#include "footballdataimporter.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QtTest>

#include <memory>

using namespace OddsDesk;

namespace {

constexpr qint64 AugustTenth2018 = 1533927600000; // 2018-08-10 19:00 UTC
constexpr qint64 OneDayMs = 24 * 3600 * 1000;
// Long enough for a command to cross to the engine and any change to come back: the feed
// flushes every 10 ms and the UI batch leaves within 50 ms.
constexpr int QuietMs = 300;

SelectionInfo selection(quint32 id, const QString &name, Price price)
{
    return SelectionInfo {id, name, price, false};
}

MarketInfo market(quint32 id, quint32 eventId, const QString &name, const QString &kind,
    const QVector<SelectionInfo> &selections)
{
    MarketInfo m;
    m.id = id;
    m.eventId = eventId;
    m.name = name;
    m.kind = kind;
    m.selections = selections;
    return m;
}

// Two matches, listed out of kick-off order so the grid has to sort them.
BookData smallBook()
{
    BookData book;
    book.events = {
        EventInfo {2, "Fulham v Crystal Palace", "English Premier League 2018/19", "Fulham",
            "Crystal Palace", AugustTenth2018 + OneDayMs},
        EventInfo {1, "Man United v Leicester", "English Premier League 2018/19", "Man United",
            "Leicester", AugustTenth2018},
    };
    book.markets = {
        market(20, 2, "Match Odds", "1x2",
            {selection(200, "Fulham", 250), selection(201, "Draw", 340),
                selection(202, "Crystal Palace", 300)}),
        market(10, 1, "Match Odds", "1x2",
            {selection(100, "Man United", 157), selection(101, "Draw", 390),
                selection(102, "Leicester", 750)}),
        market(11, 1, "Over/Under 2.5 Goals", "ou25",
            {selection(110, "Over 2.5", 203), selection(111, "Under 2.5", 185)}),
    };
    return book;
}

EngineConfig testConfig()
{
    EngineConfig config;
    config.server.port = 0; // any free port
    return config;
}

} // namespace

class tst_BookModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void rowsInBookOrder();
    void cells_data();
    void cells();
    void oddsDisplay_data();
    void oddsDisplay();
    void engineChangeUpdatesOnlyItsCells();
    void statusChange();
    void setData_data();
    void setData();
    void movedPriceIsRefusedByTheEngine();
    void stepPrice_data();
    void stepPrice();
    void filter_data();
    void filter();
    void loadBookResets();
    void newMarketsInsertedOncePerBatch();
    void bigBatchIsOneSignal();
    void realSeasonFirstMatch();

private:
    QModelIndex cell(quint32 marketId, int column) const;
    QString text(quint32 marketId, int column) const;

    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<BookModel> m_model;
    std::unique_ptr<BookFilterModel> m_proxy;
    std::unique_ptr<QAbstractItemModelTester> m_modelTester;
    std::unique_ptr<QAbstractItemModelTester> m_proxyTester;
};

void tst_BookModel::init()
{
    m_engine = std::make_unique<Engine>(testConfig());
    m_model = std::make_unique<BookModel>(m_engine.get());
    m_proxy = std::make_unique<BookFilterModel>();
    m_proxy->setBookModel(m_model.get());
    m_modelTester = std::make_unique<QAbstractItemModelTester>(
        m_model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    m_proxyTester = std::make_unique<QAbstractItemModelTester>(
        m_proxy.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);

    QSignalSpy started(m_engine.get(), &Engine::started);
    m_engine->start(smallBook());
    QTRY_COMPARE(started.count(), 1);
    QTRY_COMPARE(m_model->rowCount(), 3);
}

void tst_BookModel::cleanup()
{
    m_proxyTester.reset();
    m_modelTester.reset();
    m_proxy.reset();
    m_model.reset();
    m_engine.reset();
}

QModelIndex tst_BookModel::cell(quint32 marketId, int column) const
{
    return m_model->index(m_model->rowOfMarket(marketId), column);
}

QString tst_BookModel::text(quint32 marketId, int column) const
{
    return cell(marketId, column).data().toString();
}

void tst_BookModel::rowsInBookOrder()
{
    QCOMPARE(m_model->columnCount(), int(BookModel::ColumnCount));
    QCOMPARE(m_model->marketAt(0)->id, 10u);
    QCOMPARE(m_model->marketAt(1)->id, 11u);
    QCOMPARE(m_model->marketAt(2)->id, 20u);
    QCOMPARE(m_proxy->index(0, BookModel::EventColumn).data().toString(),
        QStringLiteral("Man United v Leicester"));
    QCOMPARE(m_proxy->index(2, BookModel::EventColumn).data().toString(),
        QStringLiteral("Fulham v Crystal Palace"));
}

void tst_BookModel::cells_data()
{
    QTest::addColumn<uint>("marketId");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("text");

    QTest::newRow("event") << 10u << int(BookModel::EventColumn) << "Man United v Leicester";
    QTest::newRow("market") << 11u << int(BookModel::MarketColumn) << "Over/Under 2.5 Goals";
    QTest::newRow("status") << 10u << int(BookModel::StatusColumn) << "Open";
    QTest::newRow("first selection") << 10u << int(BookModel::Selection1Column) << "Man United";
    QTest::newRow("first price") << 10u << int(BookModel::Price1Column) << "1.57";
    QTest::newRow("third price") << 10u << int(BookModel::Price3Column) << "7.50";
    QTest::newRow("1x2 margin") << 10u << int(BookModel::MarginColumn) << "102.7 %";
    QTest::newRow("two-way margin") << 11u << int(BookModel::MarginColumn) << "103.3 %";
    QTest::newRow("no third selection") << 11u << int(BookModel::Selection3Column) << "";
    QTest::newRow("no third price") << 11u << int(BookModel::Price3Column) << "";
    QTest::newRow("never changed") << 10u << int(BookModel::SequenceColumn) << "";
}

void tst_BookModel::cells()
{
    QFETCH(uint, marketId);
    QFETCH(int, column);
    QFETCH(QString, text);
    QCOMPARE(this->text(marketId, column), text);
}

void tst_BookModel::oddsDisplay_data()
{
    QTest::addColumn<int>("display");
    QTest::addColumn<QString>("home");
    QTest::addColumn<QString>("away");

    QTest::newRow("decimal") << int(OddsDisplay::Decimal) << "1.57"
                             << "7.50";
    QTest::newRow("fractional") << int(OddsDisplay::Fractional) << "4/7"
                                << "13/2";
    QTest::newRow("american") << int(OddsDisplay::American) << "-175"
                              << "+650";
}

void tst_BookModel::oddsDisplay()
{
    QFETCH(int, display);
    QFETCH(QString, home);
    QFETCH(QString, away);

    QSignalSpy reset(m_model.get(), &QAbstractItemModel::modelReset);
    m_model->setOddsDisplay(OddsDisplay(display));
    QCOMPARE(text(10, BookModel::Price1Column), home);
    QCOMPARE(text(10, BookModel::Price3Column), away);
    // Editing always starts from the decimal price, which is what the editor reads back.
    QCOMPARE(
        cell(10, BookModel::Price1Column).data(Qt::EditRole).toString(), QStringLiteral("1.57"));
    QCOMPARE(reset.count(), 0);
}

void tst_BookModel::engineChangeUpdatesOnlyItsCells()
{
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    QSignalSpy reset(m_model.get(), &QAbstractItemModel::modelReset);
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    const int row = m_model->rowOfMarket(10);

    m_engine->setPrice(101, 400, 390);
    QTRY_COMPARE(text(10, BookModel::Price2Column), QStringLiteral("4.00"));
    QCOMPARE(text(10, BookModel::MarginColumn), QStringLiteral("102.0 %"));
    QVERIFY(!text(10, BookModel::SequenceColumn).isEmpty());
    QVERIFY(!text(10, BookModel::LastChangeColumn).isEmpty());

    QCOMPARE(reset.count(), 0);
    QCOMPARE(inserted.count(), 0);
    QVERIFY(changed.count() >= 2);
    for (const QList<QVariant> &signal : std::as_const(changed)) {
        const auto topLeft = signal.at(0).value<QModelIndex>();
        const auto bottomRight = signal.at(1).value<QModelIndex>();
        const auto roles = signal.at(2).value<QList<int>>();
        QVERIFY(!roles.isEmpty()); // never "everything" for a price tick
        if (roles == QList<int> {Qt::BackgroundRole})
            continue; // the price cell's highlight fading
        QCOMPARE(topLeft.row(), row);
        QCOMPARE(bottomRight.row(), row);
        const bool priceCell = topLeft.column() == BookModel::Price2Column
            && bottomRight.column() == BookModel::Price2Column;
        const bool trailing = topLeft.column() >= BookModel::MarginColumn;
        QVERIFY2(priceCell || trailing,
            qPrintable(QStringLiteral("columns %1 to %2 changed")
                           .arg(topLeft.column())
                           .arg(bottomRight.column())));
    }
}

void tst_BookModel::statusChange()
{
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    m_engine->setStatus(10, MarketStatus::Suspended);
    QTRY_COMPARE(text(10, BookModel::StatusColumn), QStringLiteral("Suspended"));
    QVERIFY(cell(10, BookModel::Price1Column).flags() & Qt::ItemIsEditable);
    for (const QList<QVariant> &signal : std::as_const(changed))
        QVERIFY(signal.at(0).value<QModelIndex>().column() >= BookModel::StatusColumn);

    m_engine->setStatus(10, MarketStatus::Closed);
    QTRY_COMPARE(text(10, BookModel::StatusColumn), QStringLiteral("Closed"));
    QVERIFY(!(cell(10, BookModel::Price1Column).flags() & Qt::ItemIsEditable));
    QSignalSpy refused(m_model.get(), &BookModel::editRefused);
    QVERIFY(!m_model->toggleMarketSuspended(cell(10, BookModel::StatusColumn)));
    QCOMPARE(refused.count(), 1);
}

void tst_BookModel::setData_data()
{
    QTest::addColumn<QString>("typed");
    QTest::addColumn<QString>("shown"); // what the cell shows after the engine answers
    QTest::addColumn<QString>("refusal"); // part of the sentence, or empty when accepted

    QTest::newRow("two decimals") << "4.20"
                                  << "4.20"
                                  << "";
    QTest::newRow("whole number") << "4"
                                  << "4.00"
                                  << "";
    QTest::newRow("spaces around") << " 3.95 "
                                   << "3.95"
                                   << "";
    QTest::newRow("three decimals") << "2.505"
                                    << "3.90"
                                    << "more than two decimals";
    QTest::newRow("letters") << "abc"
                             << "3.90"
                             << "not a price";
    QTest::newRow("below 1.01") << "0.5"
                                << "3.90"
                                << "below 1.01";
    QTest::newRow("above 1000") << "1000.5"
                                << "3.90"
                                << "above 1000";
    QTest::newRow("empty") << ""
                           << "3.90"
                           << "Enter a price";
}

void tst_BookModel::setData()
{
    QFETCH(QString, typed);
    QFETCH(QString, shown);
    QFETCH(QString, refusal);

    QSignalSpy refused(m_model.get(), &BookModel::editRefused);
    QSignalSpy engineChanged(m_engine.get(), &Engine::bookChanged);
    const QModelIndex draw = m_proxy->mapFromSource(cell(10, BookModel::Price2Column));
    QCOMPARE(draw.data(Qt::EditRole).toString(), QStringLiteral("3.90"));

    const bool accepted = m_proxy->setData(draw, typed, Qt::EditRole);
    QCOMPARE(accepted, refusal.isEmpty());
    if (refusal.isEmpty()) {
        QTRY_COMPARE(draw.data().toString(), shown);
        QCOMPARE(refused.count(), 0);
    } else {
        QCOMPARE(refused.count(), 1);
        const QString sentence = refused.at(0).at(0).toString();
        QVERIFY2(sentence.contains(refusal), qPrintable(sentence));
        QTest::qWait(QuietMs);
        QCOMPARE(engineChanged.count(), 0); // nothing was sent
        QCOMPARE(draw.data().toString(), shown);
    }
}

void tst_BookModel::movedPriceIsRefusedByTheEngine()
{
    QSignalSpy refused(m_model.get(), &BookModel::editRefused);
    QSignalSpy engineChanged(m_engine.get(), &Engine::bookChanged);
    // The trader saw 3.80, but the price is 3.90 by now.
    QVERIFY(m_model->submitPrice(cell(10, BookModel::Price2Column), QStringLiteral("4.00"), 380));
    QTRY_COMPARE(refused.count(), 1);
    QVERIFY2(refused.at(0).at(0).toString().contains(QStringLiteral("moved")),
        qPrintable(refused.at(0).at(0).toString()));
    QCOMPARE(engineChanged.count(), 0);
    QCOMPARE(text(10, BookModel::Price2Column), QStringLiteral("3.90"));
}

void tst_BookModel::stepPrice_data()
{
    QTest::addColumn<int>("display");
    QTest::addColumn<int>("ticks");
    QTest::addColumn<QString>("shown");

    QTest::newRow("exchange ladder up") << int(OddsDisplay::Decimal) << 1 << "3.95";
    QTest::newRow("exchange ladder down") << int(OddsDisplay::Decimal) << -1 << "3.85";
    QTest::newRow("exchange ladder two up") << int(OddsDisplay::Decimal) << 2 << "4.00";
    QTest::newRow("bookmakers' ladder up") << int(OddsDisplay::Fractional) << 1 << "3/1";
    QTest::newRow("bookmakers' ladder down") << int(OddsDisplay::Fractional) << -1 << "11/4";
}

void tst_BookModel::stepPrice()
{
    QFETCH(int, display);
    QFETCH(int, ticks);
    QFETCH(QString, shown);

    m_model->setOddsDisplay(OddsDisplay(display));
    QVERIFY(m_model->stepPrice(cell(10, BookModel::Price2Column), ticks));
    QTRY_COMPARE(text(10, BookModel::Price2Column), shown);
}

void tst_BookModel::filter_data()
{
    QTest::addColumn<QString>("filter");
    QTest::addColumn<QList<uint>>("markets"); // in view order

    QTest::newRow("none") << "" << QList<uint> {10, 11, 20};
    QTest::newRow("event name") << "united" << QList<uint> {10, 11};
    QTest::newRow("case does not matter") << "DRAW" << QList<uint> {10, 20};
    QTest::newRow("market name") << "over/under" << QList<uint> {11};
    QTest::newRow("selection name") << "palace" << QList<uint> {20};
    QTest::newRow("every word must match") << "leicester draw" << QList<uint> {10};
    QTest::newRow("extra spaces") << "  fulham   " << QList<uint> {20};
    QTest::newRow("nothing matches") << "arsenal" << QList<uint> {};
}

void tst_BookModel::filter()
{
    QFETCH(QString, filter);
    QFETCH(QList<uint>, markets);

    m_proxy->setFilterText(filter);
    QList<uint> shown;
    for (int row = 0; row < m_proxy->rowCount(); ++row)
        shown << m_proxy->index(row, 0).data(BookModel::MarketIdRole).toUInt();
    QCOMPARE(shown, markets);
}

void tst_BookModel::loadBookResets()
{
    QSignalSpy reset(m_model.get(), &QAbstractItemModel::modelReset);
    const QString oldEpoch = m_model->epoch();
    BookData other;
    other.events = {EventInfo {7, "Arsenal v Chelsea", "Test", "Arsenal", "Chelsea", 0}};
    other.markets = {market(70, 7, "Match Odds", "1x2",
        {selection(700, "Arsenal", 210), selection(701, "Draw", 340),
            selection(702, "Chelsea", 360)})};
    m_engine->loadBook(other);
    QTRY_COMPARE(m_model->rowCount(), 1);
    QCOMPARE(reset.count(), 1);
    QVERIFY(m_model->epoch() != oldEpoch);
    QCOMPARE(text(70, BookModel::EventColumn), QStringLiteral("Arsenal v Chelsea"));
}

void tst_BookModel::newMarketsInsertedOncePerBatch()
{
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy reset(m_model.get(), &QAbstractItemModel::modelReset);

    BookChanges changes;
    BookChange event;
    event.kind = BookChange::Kind::EventAdded;
    event.sequence = 101;
    event.event = EventInfo {
        3, "Arsenal v Chelsea", "Test", "Arsenal", "Chelsea", AugustTenth2018 + 2 * OneDayMs};
    BookChange arsenal;
    arsenal.kind = BookChange::Kind::MarketAdded;
    arsenal.sequence = 102;
    arsenal.marketId = 30;
    arsenal.market = market(30, 3, "Match Odds", "1x2",
        {selection(300, "Arsenal", 210), selection(301, "Draw", 340),
            selection(302, "Chelsea", 360)});
    BookChange united;
    united.kind = BookChange::Kind::MarketAdded;
    united.sequence = 103;
    united.marketId = 12;
    united.market = market(12, 1, "Both Teams To Score", "btts",
        {selection(120, "Yes", 180), selection(121, "No", 195)});
    BookChange price; // a change to a market added in the same batch
    price.kind = BookChange::Kind::Price;
    price.sequence = 104;
    price.marketId = 30;
    price.selectionId = 300;
    price.price = 220;
    changes << event << arsenal << united << price;
    m_model->applyChanges(changes);

    QCOMPARE(reset.count(), 0);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 3);
    QCOMPARE(inserted.at(0).at(2).toInt(), 4);
    QCOMPARE(m_model->rowCount(), 5);
    QCOMPARE(text(30, BookModel::Price1Column), QStringLiteral("2.20"));
    QCOMPARE(text(30, BookModel::SequenceColumn), QStringLiteral("104"));

    // The view keeps event order: the new United market sits with its event.
    QList<uint> order;
    for (int row = 0; row < m_proxy->rowCount(); ++row)
        order << m_proxy->index(row, 0).data(BookModel::MarketIdRole).toUInt();
    QCOMPARE(order, (QList<uint> {10, 11, 12, 20, 30}));
}

void tst_BookModel::bigBatchIsOneSignal()
{
    BookData book;
    book.events = {EventInfo {1, "Big v Book", "Test", "Big", "Book", 0}};
    for (quint32 i = 0; i < 40; ++i) {
        book.markets << market(1000 + i, 1, QStringLiteral("Market %1").arg(i), "win",
            {selection(10000 + 2 * i, "Yes", 200), selection(10001 + 2 * i, "No", 200)});
    }
    BookModel model(nullptr);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.resetBook(book, 0, QStringLiteral("test"));

    BookChanges changes;
    for (quint32 i = 0; i < 30; ++i) {
        BookChange change;
        change.sequence = i + 1;
        change.marketId = 1000 + i;
        change.selectionId = 10000 + 2 * i;
        change.price = 210;
        changes << change;
    }
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.applyChanges(changes);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).value<QModelIndex>(), model.index(0, 0));
    QCOMPARE(changed.at(0).at(1).value<QModelIndex>(), model.index(39, BookModel::ColumnCount - 1));
    QCOMPARE(model.index(29, BookModel::Price1Column).data().toString(), QStringLiteral("2.10"));
}

void tst_BookModel::realSeasonFirstMatch()
{
    const QString path = QStringLiteral(ODDSDESK_SHARED_DATA_DIR)
        + QStringLiteral("/football-data_E0_2018-19.csv");
    if (!QFile::exists(path))
        QSKIP("the real season file is not available");
    const ImportReport report = importFootballData(path);
    QVERIFY2(report.ok(), qPrintable(report.error));

    m_engine->loadBook(report.book);
    QTRY_COMPARE(m_model->rowCount(), int(report.book.markets.size()));
    QCOMPARE(m_proxy->index(0, BookModel::EventColumn).data().toString(),
        QStringLiteral("Man United v Leicester"));
    QCOMPARE(
        m_proxy->index(0, BookModel::MarketColumn).data().toString(), QStringLiteral("Match Odds"));
    QCOMPARE(
        m_proxy->index(0, BookModel::MarginColumn).data().toString(), QStringLiteral("102.7 %"));
}

QTEST_MAIN(tst_BookModel)
#include "tst_bookmodel.moc"
