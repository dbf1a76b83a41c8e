#include "book.h"
#include "demobook.h"
#include "ladder.h"
#include "price.h"

#include <QDateTime>
#include <QSet>
#include <QTimeZone>
#include <QtTest>

using namespace OddsDesk;

namespace {

const QDate FirstDay(2030, 3, 1);

qint64 dayStartMs(const QDate &day)
{
    return QDateTime(day, QTime(0, 0), QTimeZone::utc()).toMSecsSinceEpoch();
}

} // namespace

class tst_DemoBook : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void shape_data();
    void shape();
    void sameSeedSameBook();
    void otherSeedOtherBook();
    void pricesAreValidOnTheLadderWithRealMargins_data();
    void pricesAreValidOnTheLadderWithRealMargins();
    void looksLikeARealBook();
    void fixturesAreBelievable();
    void defaultStartsTomorrow();
};

void tst_DemoBook::shape_data()
{
    QTest::addColumn<int>("eventCount");
    QTest::addColumn<int>("expectedEvents");

    QTest::newRow("none") << 0 << 0;
    QTest::newRow("negative") << -5 << 0;
    QTest::newRow("one") << 1 << 1;
    QTest::newRow("default size") << 120 << 120;
    QTest::newRow("more than a season's cycle") << 1500 << 1500;
}

void tst_DemoBook::shape()
{
    QFETCH(int, eventCount);
    QFETCH(int, expectedEvents);

    const BookData book = generateDemoBook(7, eventCount, FirstDay);
    QCOMPARE(book.events.size(), expectedEvents);
    QCOMPARE(book.markets.size(), expectedEvents * 2);

    quint32 nextSelection = 1;
    for (int i = 0; i < book.events.size(); ++i) {
        const EventInfo &event = book.events.at(i);
        QCOMPARE(event.id, quint32(i + 1));
        QCOMPARE(event.name, event.home + QStringLiteral(" v ") + event.away);
        QVERIFY(!event.home.isEmpty());
        QVERIFY(!event.away.isEmpty());
        QVERIFY(event.home != event.away);
        QVERIFY(!event.competition.isEmpty());

        const MarketInfo &matchOdds = book.markets.at(2 * i);
        QCOMPARE(matchOdds.id, quint32(2 * i + 1));
        QCOMPARE(matchOdds.eventId, event.id);
        QCOMPARE(matchOdds.name, QStringLiteral("Match Odds"));
        QCOMPARE(matchOdds.kind, QStringLiteral("1x2"));
        QCOMPARE(matchOdds.status, MarketStatus::Open);
        QCOMPARE(matchOdds.selections.size(), 3);
        QCOMPARE(matchOdds.selections.at(0).name, event.home);
        QCOMPARE(matchOdds.selections.at(1).name, QStringLiteral("Draw"));
        QCOMPARE(matchOdds.selections.at(2).name, event.away);

        const MarketInfo &overUnder = book.markets.at(2 * i + 1);
        QCOMPARE(overUnder.id, quint32(2 * i + 2));
        QCOMPARE(overUnder.eventId, event.id);
        QCOMPARE(overUnder.name, QStringLiteral("Over/Under 2.5 Goals"));
        QCOMPARE(overUnder.kind, QStringLiteral("ou25"));
        QCOMPARE(overUnder.status, MarketStatus::Open);
        QCOMPARE(overUnder.selections.size(), 2);
        QCOMPARE(overUnder.selections.at(0).name, QStringLiteral("Over 2.5"));
        QCOMPARE(overUnder.selections.at(1).name, QStringLiteral("Under 2.5"));

        for (const MarketInfo *market : {&matchOdds, &overUnder}) {
            for (const SelectionInfo &s : market->selections) {
                QCOMPARE(s.id, nextSelection++);
                QVERIFY(!s.winner);
            }
        }
    }
}

void tst_DemoBook::sameSeedSameBook()
{
    const BookData a = generateDemoBook(42, 120, FirstDay);
    const BookData b = generateDemoBook(42, 120, FirstDay);
    QVERIFY(a.events == b.events);
    QVERIFY(a.markets == b.markets);

    Book bookA;
    bookA.reset(a);
    Book bookB;
    bookB.reset(b);
    QVERIFY(bookA == bookB);
}

void tst_DemoBook::otherSeedOtherBook()
{
    const BookData a = generateDemoBook(1, 120, FirstDay);
    const BookData b = generateDemoBook(2, 120, FirstDay);
    QVERIFY(!(a.markets == b.markets));
    QVERIFY(!(a.events == b.events));
}

void tst_DemoBook::pricesAreValidOnTheLadderWithRealMargins_data()
{
    QTest::addColumn<uint>("seed");
    for (const uint seed : {0u, 1u, 2u, 3u, 99u, 12345u, 0xFFFFFFFFu})
        QTest::newRow(qPrintable(QStringLiteral("seed %1").arg(seed))) << seed;
}

void tst_DemoBook::pricesAreValidOnTheLadderWithRealMargins()
{
    QFETCH(uint, seed);

    const BookData book = generateDemoBook(seed, 300, FirstDay);
    for (const MarketInfo &market : book.markets) {
        for (const SelectionInfo &s : market.selections) {
            QVERIFY2(isValidPrice(s.price), qPrintable(formatDecimal(s.price)));
            QVERIFY2(Ladder::exchange().isOnLadder(s.price), qPrintable(formatDecimal(s.price)));
        }
        const double margin = marginPercent(market);
        QVERIFY2(margin >= 103.0 && margin <= 107.0,
            qPrintable(QStringLiteral("market %1 has a margin of %2 %")
                           .arg(market.id)
                           .arg(margin, 0, 'f', 2)));
    }
}

void tst_DemoBook::looksLikeARealBook()
{
    const BookData book = generateDemoBook();

    // Favourites and outsiders, not a book of coin tosses.
    Price shortest = MaxPrice;
    Price longest = MinPrice;
    int homeFavourites = 0;
    int awayFavourites = 0;
    for (const MarketInfo &market : book.markets) {
        if (market.kind != QStringLiteral("1x2"))
            continue;
        const Price home = market.selections.at(0).price;
        const Price draw = market.selections.at(1).price;
        const Price away = market.selections.at(2).price;
        for (const Price price : {home, away}) {
            shortest = qMin(shortest, price);
            longest = qMax(longest, price);
        }
        QVERIFY2(draw >= 300 && draw <= 1000, qPrintable(formatDecimal(draw)));
        homeFavourites += home < away ? 1 : 0;
        awayFavourites += away < home ? 1 : 0;
    }
    QVERIFY2(shortest <= 150, qPrintable(formatDecimal(shortest)));
    QVERIFY2(longest >= 600, qPrintable(formatDecimal(longest)));
    QVERIFY(homeFavourites > awayFavourites); // home advantage
    QVERIFY(awayFavourites > 0);

    // Several leagues, and names a Latin-1 or ASCII shortcut would break.
    QSet<QString> competitions;
    bool nonAscii = false;
    for (const EventInfo &event : book.events) {
        competitions.insert(event.competition);
        for (const QChar c : event.name)
            nonAscii = nonAscii || c.unicode() > 0x7f;
    }
    QVERIFY(competitions.size() >= 3);
    QVERIFY(nonAscii);
}

void tst_DemoBook::fixturesAreBelievable()
{
    const BookData book = generateDemoBook(5, 400, FirstDay);

    QSet<QString> clubDays; // a club plays at most once a day
    QSet<QString> pairings; // and meets the same opponent at home once per cycle
    qint64 previous = 0;
    for (const EventInfo &event : book.events) {
        QVERIFY(event.startTimeMs >= dayStartMs(FirstDay));
        QVERIFY(event.startTimeMs < dayStartMs(FirstDay.addDays(120)));
        QVERIFY(event.startTimeMs >= previous); // chronological
        previous = event.startTimeMs;

        const QDate day
            = QDateTime::fromMSecsSinceEpoch(event.startTimeMs, QTimeZone::utc()).date();
        for (const QString &club : {event.home, event.away}) {
            const QString key = club + QLatin1Char('@') + day.toString(Qt::ISODate);
            QVERIFY2(!clubDays.contains(key), qPrintable(key));
            clubDays.insert(key);
        }
    }

    const BookData shortBook = generateDemoBook(5, 60, FirstDay);
    for (const EventInfo &event : shortBook.events) {
        QVERIFY2(!pairings.contains(event.name), qPrintable(event.name));
        pairings.insert(event.name);
    }
}

void tst_DemoBook::defaultStartsTomorrow()
{
    const QDate today = QDateTime::currentDateTimeUtc().date();
    const BookData book = generateDemoBook();
    QCOMPARE(book.events.size(), 120);
    QCOMPARE(book.markets.size(), 240);
    // Between today and the day after tomorrow, in case the test runs across midnight.
    QVERIFY(book.events.first().startTimeMs >= dayStartMs(today.addDays(1)));
    QVERIFY(book.events.first().startTimeMs < dayStartMs(today.addDays(3)));
}

QTEST_GUILESS_MAIN(tst_DemoBook)
#include "tst_demobook.moc"
