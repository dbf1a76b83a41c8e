#include "book.h"
#include "demobook.h"
#include "ladder.h"
#include "price.h"

#include <QtTest>

using namespace OddsDesk;

class tst_Book : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsePrice_data();
    void parsePrice();
    void exchangeSteps_data();
    void exchangeSteps();
    void bookmakerLadderIsUsualFractions();
    void formatOdds_data();
    void formatOdds();
    void margin();
    void applyChanges();
    void applyAllIsApplyOneByOne_data();
    void applyAllIsApplyOneByOne();
};

void tst_Book::parsePrice_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<uint>("price");
    QTest::addColumn<QString>("errorContains");

    QTest::newRow("two decimals") << "1.57" << 157u << "";
    QTest::newRow("one decimal") << "7.5" << 750u << "";
    QTest::newRow("whole number") << "12" << 1200u << "";
    QTest::newRow("shortest") << "1.01" << 101u << "";
    QTest::newRow("longest") << "1000" << 100000u << "";
    QTest::newRow("spaces trimmed") << "  3.90 " << 390u << "";
    QTest::newRow("three decimals") << "2.505" << 0u << "more than two decimals";
    QTest::newRow("below 1.01") << "1.00" << 0u << "below 1.01";
    QTest::newRow("above 1000") << "1000.01" << 0u << "above 1000";
    QTest::newRow("huge") << "99999999999999999999" << 0u << "above 1000";
    QTest::newRow("not a number") << "abc" << 0u << "not a price";
    QTest::newRow("negative") << "-2.0" << 0u << "not a price";
    QTest::newRow("two points") << "2.0.1" << 0u << "not a price";
    QTest::newRow("empty") << "" << 0u << "Enter a price";
    QTest::newRow("lone point") << "." << 0u << "not a price";
    QTest::newRow("arabic digits") << QString::fromUtf8("\u0662.\u0665") << 0u << "not a price";
}

void tst_Book::parsePrice()
{
    QFETCH(QString, text);
    QFETCH(uint, price);
    QFETCH(QString, errorContains);

    const PriceParseResult result = OddsDesk::parsePrice(text);
    if (errorContains.isEmpty()) {
        QVERIFY2(result.ok(), qPrintable(result.error));
        QCOMPARE(result.price, price);
    } else {
        QVERIFY(!result.ok());
        QVERIFY2(result.error.contains(errorContains), qPrintable(result.error));
    }
}

void tst_Book::exchangeSteps_data()
{
    QTest::addColumn<uint>("from");
    QTest::addColumn<int>("ticks");
    QTest::addColumn<uint>("to");

    QTest::newRow("7.50 between steps, up") << 750u << 1 << 760u;
    QTest::newRow("7.50 between steps, down") << 750u << -1 << 740u;
    QTest::newRow("2.03 down") << 203u << -1 << 202u;
    QTest::newRow("2.03 up") << 203u << 1 << 204u;
    QTest::newRow("1.99 up crosses band") << 199u << 1 << 200u;
    QTest::newRow("2.00 up") << 200u << 1 << 202u;
    QTest::newRow("five ticks from 3.00") << 300u << 5 << 325u;
    QTest::newRow("clamped at 1.01") << 101u << -1 << 101u;
    QTest::newRow("clamped at 1000") << 100000u << 3 << 100000u;
    QTest::newRow("990 up to 1000") << 99000u << 1 << 100000u;
}

void tst_Book::exchangeSteps()
{
    QFETCH(uint, from);
    QFETCH(int, ticks);
    QFETCH(uint, to);
    QCOMPARE(Ladder::exchange().step(from, ticks), to);
}

void tst_Book::bookmakerLadderIsUsualFractions()
{
    const Ladder &ladder = Ladder::bookmaker();
    QCOMPARE(ladder.step(200, 1), 210u); // evens -> 11/10
    QCOMPARE(ladder.step(200, -1), 191u); // evens -> 10/11
    QCOMPARE(ladder.step(750, 1), 800u); // 13/2 -> 7/1
    QVERIFY(std::is_sorted(ladder.steps().cbegin(), ladder.steps().cend()));
}

void tst_Book::formatOdds_data()
{
    QTest::addColumn<uint>("price");
    QTest::addColumn<int>("display");
    QTest::addColumn<QString>("text");

    QTest::newRow("decimal") << 750u << int(OddsDisplay::Decimal) << "7.50";
    QTest::newRow("fraction 13/2") << 750u << int(OddsDisplay::Fractional) << "13/2";
    QTest::newRow("fraction evens") << 200u << int(OddsDisplay::Fractional) << "evens";
    QTest::newRow("fraction 4/7") << 157u << int(OddsDisplay::Fractional) << "4/7";
    QTest::newRow("american against") << 750u << int(OddsDisplay::American) << "+650";
    QTest::newRow("american on") << 157u << int(OddsDisplay::American) << "-175";
}

void tst_Book::formatOdds()
{
    QFETCH(uint, price);
    QFETCH(int, display);
    QFETCH(QString, text);
    QCOMPARE(OddsDesk::formatOdds(price, OddsDisplay(display)), text);
}

void tst_Book::margin()
{
    MarketInfo market;
    market.selections = {{1, "Home", 157, false}, {2, "Draw", 390, false}, {3, "Away", 750, false}};
    QCOMPARE(QString::number(marginPercent(market), 'f', 1), QStringLiteral("102.7"));
}

void tst_Book::applyChanges()
{
    BookData data;
    data.events = {EventInfo {1, "A v B", "Test", "A", "B", 0}};
    MarketInfo market;
    market.id = 10;
    market.eventId = 1;
    market.name = "Match Odds";
    market.selections = {{100, "A", 200, false}, {101, "B", 200, false}};
    data.markets = {market};

    Book book;
    book.reset(data);
    BookChange change;
    change.kind = BookChange::Kind::Price;
    change.marketId = 10;
    change.selectionId = 101;
    change.price = 250;
    change.sequence = 7;
    QVERIFY(book.apply(change));
    QCOMPARE(book.market(10)->selection(101)->price, 250u);
    QCOMPARE(book.market(10)->lastSequence, 7u);
    QCOMPARE(book.marketOfSelection(101)->id, 10u);

    change.selectionId = 999;
    QVERIFY(!book.apply(change));

    Book other;
    other.reset(data);
    QVERIFY(book != other);
}

void tst_Book::applyAllIsApplyOneByOne_data()
{
    QTest::addColumn<int>("count");
    QTest::addColumn<quint32>("seed");

    // Shorter than the distance applyAll() looks ahead, about that distance, and far longer.
    QTest::newRow("one") << 1 << 11u;
    QTest::newRow("seven") << 7 << 12u;
    QTest::newRow("nine") << 9 << 13u;
    QTest::newRow("a flush") << 40 << 14u;
    QTest::newRow("a big flush") << 3000 << 15u;
}

void tst_Book::applyAllIsApplyOneByOne()
{
    QFETCH(int, count);
    QFETCH(quint32, seed);

    const BookData data = generateDemoBook(seed, 40);
    QVERIFY(!data.markets.isEmpty());
    QRandomGenerator random(seed);
    quint32 nextMarketId = 0;
    for (const MarketInfo &m : data.markets)
        nextMarketId = qMax(nextMarketId, m.id + 1);

    // Every kind of change, some naming markets or selections the book lacks, and markets
    // added in the middle (which move the book's markets while later ones are looked ahead).
    BookChanges changes;
    QVector<quint32> addedSelections;
    for (int i = 0; i < count; ++i) {
        BookChange change;
        change.sequence = quint64(i + 1);
        change.wallTimeMs = 1000 + i;
        const MarketInfo &market
            = data.markets.at(int(random.bounded(quint32(data.markets.size()))));
        change.marketId = market.id;
        const quint32 roll = random.bounded(100u);
        if (roll < 70) {
            change.kind = BookChange::Kind::Price;
            change.selectionId
                = market.selections.at(int(random.bounded(quint32(market.selections.size())))).id;
            change.price = 101 + random.bounded(1000u);
        } else if (roll < 76) {
            change.kind = BookChange::Kind::Status;
            change.status = MarketStatus(1 + random.bounded(3u));
        } else if (roll < 79) {
            change.kind = BookChange::Kind::Winner;
            change.selectionId = market.selections.constFirst().id;
        } else if (roll < 85) {
            change.kind = BookChange::Kind::MarketAdded;
            change.market = market;
            change.market.id = nextMarketId++;
            change.market.selections = {{9000000 + quint32(i), "Yes", 190, false}};
            change.marketId = change.market.id;
            addedSelections.append(9000000 + quint32(i));
        } else if (roll < 90 && !addedSelections.isEmpty()) {
            // A price of a market added earlier in this same list.
            change.kind = BookChange::Kind::Price;
            change.marketId = nextMarketId - 1;
            change.selectionId = addedSelections.constLast();
            change.price = 333;
        } else if (roll < 95) {
            change.kind = BookChange::Kind::Price;
            change.marketId = 0xfffffff0; // no such market
            change.selectionId = 1;
            change.price = 200;
        } else {
            change.kind = BookChange::Kind::Price;
            change.selectionId = 0xfffffff0; // no such selection in the market
            change.price = 200;
        }
        changes.append(change);
    }

    Book oneByOne;
    oneByOne.reset(data);
    QVector<quint64> applied;
    for (const BookChange &change : std::as_const(changes)) {
        if (oneByOne.apply(change))
            applied.append(change.sequence);
    }
    QVERIFY(applied.size() < changes.size() || count < 20);

    Book all;
    all.reset(data);
    BookChanges kept = changes;
    all.applyAll(&kept);

    QVector<quint64> keptSequences;
    for (const BookChange &change : std::as_const(kept))
        keptSequences.append(change.sequence);
    QCOMPARE(keptSequences, applied);
    QVERIFY(all == oneByOne);
    // What == leaves out: the sequence and time of each market's last change.
    QCOMPARE(all.marketCount(), oneByOne.marketCount());
    for (const MarketInfo &market : all.markets()) {
        QCOMPARE(market.lastSequence, oneByOne.market(market.id)->lastSequence);
        QCOMPARE(market.lastChangeMs, oneByOne.market(market.id)->lastChangeMs);
    }
    // The changes kept are those of the list, whole: a market added keeps its market.
    for (const BookChange &change : std::as_const(kept)) {
        if (change.kind == BookChange::Kind::MarketAdded)
            QCOMPARE(change.market.id, change.marketId);
    }
}

QTEST_GUILESS_MAIN(tst_Book)
#include "tst_book.moc"
