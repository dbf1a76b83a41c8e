#include "book.h"
#include "footballdataimporter.h"
#include "price.h"

#include <QDateTime>
#include <QRegularExpression>
#include <QTimeZone>
#include <QtTest>

using namespace OddsDesk;

namespace {

const QString RealFile = QStringLiteral(ODDSDESK_SHARED_DATA_DIR "/football-data_E0_2018-19.csv");

// A minimal season file: the columns the importer needs, in football-data's order.
const QByteArray Header = "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,B365H,B365D,B365A,BbAv>2.5,"
                          "BbAv<2.5\n";
const QByteArray GoodRow = "E0,10/08/2018,Man United,Leicester,2,1,1.57,3.9,7.5,2.03,1.79\n";
const QByteArray SecondRow = "E0,11/08/2018,Bournemouth,Cardiff,2,0,1.9,3.6,4.5,1.98,1.83\n";

// The minimal file with a good row (line 2), then \a line as line 3.
QByteArray afterGoodRow(const char *line)
{
    return Header + GoodRow + line + '\n';
}

// "1.57/3.90/7.50": a market's prices as the desk shows them.
QString pricesOf(const MarketInfo &market)
{
    QStringList prices;
    for (const SelectionInfo &s : market.selections)
        prices << formatDecimal(s.price);
    return prices.join(QLatin1Char('/'));
}

QString issuesOf(const ImportReport &report)
{
    QStringList lines;
    for (const ImportIssue &issue : report.issues)
        lines << QStringLiteral("line %1: %2").arg(issue.line).arg(issue.reason);
    return lines.join(QLatin1Char('\n'));
}

qint64 utcMs(int year, int month, int day, int hour, int minute)
{
    return QDateTime(QDate(year, month, day), QTime(hour, minute), QTimeZone::utc())
        .toMSecsSinceEpoch();
}

} // namespace

class tst_FootballDataImporter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readsWellFormedInput_data();
    void readsWellFormedInput();
    void reportsBadRows_data();
    void reportsBadRows();
    void refusesBadFiles_data();
    void refusesBadFiles();
    void refusesFilesWithoutEvents_data();
    void refusesFilesWithoutEvents();
    void kickOffTimes_data();
    void kickOffTimes();
    void realFile();
    void realFileEveryBookmaker_data();
    void realFileEveryBookmaker();
    void realFileWhateverTheLineEnds();
    void idsAreSequentialPerKind();
};

void tst_FootballDataImporter::readsWellFormedInput_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("path"); // when set, the file is imported instead of content
    QTest::addColumn<QString>("bookmaker");
    QTest::addColumn<int>("events");
    QTest::addColumn<QString>("firstEvent");
    QTest::addColumn<QString>("firstPrices"); // the first event's 1X2 market

    const QString b365 = QStringLiteral("B365");
    const QString none;
    const QString first = QStringLiteral("Man United v Leicester");
    const QString prices = QStringLiteral("1.57/3.90/7.50");

    QTest::newRow("plain LF") << Header + GoodRow + SecondRow << none << b365 << 2 << first
                              << prices;
    QTest::newRow("byte order mark")
        << QByteArray("\xEF\xBB\xBF") + Header + GoodRow << none << b365 << 1 << first << prices;
    QByteArray crlf = Header + GoodRow + SecondRow;
    crlf.replace("\n", "\r\n");
    QTest::newRow("CRLF") << crlf << none << b365 << 2 << first << prices;
    QTest::newRow("no line end after the last row")
        << Header + GoodRow.chopped(1) << none << b365 << 1 << first << prices;
    QTest::newRow("blank trailing lines") << Header + GoodRow + "\n\r\n,,,,,,,,,,\n\n"
                                          << none << b365 << 1 << first << prices;
    QTest::newRow("quoted fields")
        << Header
            + "\"E0\",\"10/08/2018\",\"Man United\",\"Leicester, \"\"the Foxes\"\"\",2,1,"
              "\"1.57\",3.9,7.5,2.03,1.79\n"
        << none << b365 << 1 << QStringLiteral("Man United v Leicester, \"the Foxes\"") << prices;
    const QByteArray nonAsciiRow
        = QStringLiteral("T1,10/08/2018,Beşiktaş,Bodø/Glimt,2,1,1.57,3.9,7.5,2.03,1.79\n").toUtf8();
    QTest::newRow("non-ASCII names") << Header + nonAsciiRow << none << b365 << 1
                                     << QStringLiteral("Beşiktaş v Bodø/Glimt") << prices;
    QTest::newRow("columns in another order")
        << QByteArray("B365A,AwayTeam,BbAv<2.5,B365D,Date,HomeTeam,BbAv>2.5,B365H,Div\n"
                      "7.5,Leicester,1.79,3.9,10/08/2018,Man United,2.03,1.57,E0\n")
        << none << b365 << 1 << first << prices;
    QTest::newRow("newer over/under names")
        << QByteArray("Div,Date,Time,HomeTeam,AwayTeam,B365H,B365D,B365A,Avg>2.5,Avg<2.5\n"
                      "E0,09/08/2019,20:00,Liverpool,Norwich,1.14,10,19,1.4,3.03\n")
        << none << b365 << 1 << QStringLiteral("Liverpool v Norwich")
        << QStringLiteral("1.14/10.00/19.00");
    QTest::newRow("older team column names")
        << QByteArray("Div,Date,HT,AT,B365H,B365D,B365A,BbAv>2.5,BbAv<2.5\n"
                      "E0,10/08/18,Man United,Leicester,1.57,3.9,7.5,2.03,1.79\n")
        << none << b365 << 1 << first << prices;
    QTest::newRow("trailing empty fields beyond the header") << Header + GoodRow.chopped(1)
            + ",,\n" << none << b365 << 1 << first << prices;
    QTest::newRow("the same match on another day (a replay)")
        << Header + GoodRow + "E0,21/08/2018,Man United,Leicester,1,1,1.6,3.8,7.0,2.0,1.8\n"
        << none << b365 << 2 << first << prices;
    QTest::newRow("the same teams in another division")
        << Header + GoodRow + "EC,10/08/2018,Man United,Leicester,1,1,1.6,3.8,7.0,2.0,1.8\n"
        << none << b365 << 2 << first << prices;
    QTest::newRow("real file, another bookmaker")
        << QByteArray() << RealFile << QStringLiteral("PS") << 380 << first
        << QStringLiteral("1.58/3.93/7.50");
}

void tst_FootballDataImporter::readsWellFormedInput()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, path);
    QFETCH(QString, bookmaker);
    QFETCH(int, events);
    QFETCH(QString, firstEvent);
    QFETCH(QString, firstPrices);

    const ImportReport report = path.isEmpty()
        ? importFootballData(content, QStringLiteral("season.csv"), bookmaker)
        : importFootballData(path, bookmaker);
    QVERIFY2(report.ok(), qPrintable(report.error));
    QVERIFY2(report.issues.isEmpty(), qPrintable(issuesOf(report)));
    QCOMPARE(report.rowsRead, events);
    QCOMPARE(report.book.events.size(), events);
    QCOMPARE(report.book.markets.size(), events * 2);

    const EventInfo &event = report.book.events.first();
    QCOMPARE(event.name, firstEvent);
    const MarketInfo &market = report.book.markets.first();
    QCOMPARE(market.kind, QStringLiteral("1x2"));
    QCOMPARE(pricesOf(market), firstPrices);
    QCOMPARE(market.selections.at(0).name, event.home);
    QCOMPARE(market.selections.at(2).name, event.away);
}

void tst_FootballDataImporter::reportsBadRows_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<int>("events");
    QTest::addColumn<int>("markets");
    QTest::addColumn<int>("issueLine");
    QTest::addColumn<QString>("issueContains");
    QTest::addColumn<bool>("rowKept"); // the issue is a warning: the row is in the book

    // The good row is line 2; the bad one after it is line 3.
    QTest::newRow("garbled price")
        << afterGoodRow("E0,11/08/2018,Bournemouth,Cardiff,2,0,1.9x,3.6,4.5,1.98,1.83") << 1 << 2
        << 3 << "home price (B365H) is refused" << false;
    QTest::newRow("three-decimal price")
        << afterGoodRow("E0,11/08/2018,Bournemouth,Cardiff,2,0,1.9,3.625,4.5,1.98,1.83") << 1 << 2
        << 3 << "more than two decimals" << false;
    QTest::newRow("price below 1.01")
        << afterGoodRow("E0,11/08/2018,Bournemouth,Cardiff,2,0,1.9,3.6,1.00,1.98,1.83") << 1 << 2
        << 3 << "below 1.01" << false;
    QTest::newRow("missing price")
        << afterGoodRow("E0,11/08/2018,Bournemouth,Cardiff,2,0,1.9,,4.5,1.98,1.83") << 1 << 2 << 3
        << "draw price (B365D) is missing" << false;
    QTest::newRow("bad date") << afterGoodRow(
        "E0,31/02/2019,Bournemouth,Cardiff,2,0,1.9,3.6,4.5,1.98,1.83")
                              << 1 << 2 << 3 << "31/02/2019" << false;
    QTest::newRow("date in another format")
        << afterGoodRow("E0,2018-08-11,Bournemouth,Cardiff,2,0,1.9,3.6,4.5,1.98,1.83") << 1 << 2
        << 3 << "dd/mm/yyyy" << false;
    QTest::newRow("missing team") << afterGoodRow(
        "E0,11/08/2018,,Cardiff,2,0,1.9,3.6,4.5,1.98,1.83")
                                  << 1 << 2 << 3 << "home team is missing" << false;
    QTest::newRow("same team twice")
        << afterGoodRow("E0,11/08/2018,Cardiff,Cardiff,2,0,1.9,3.6,4.5,1.98,1.83") << 1 << 2 << 3
        << "both \"Cardiff\"" << false;
    QTest::newRow("missing division")
        << afterGoodRow(",11/08/2018,Bournemouth,Cardiff,2,0,1.9,3.6,4.5,1.98,1.83") << 1 << 2 << 3
        << "division (Div) is missing" << false;
    QTest::newRow("short row") << afterGoodRow("E0,11/08/2018,Bournemouth,Cardiff,2,0,1.9,3.6") << 1
                               << 2 << 3 << "8 fields where the header has 11" << false;
    QTest::newRow("long row") << afterGoodRow(
        "E0,11/08/2018,Bournemouth,Cardiff,2,0,1.9,3.6,4.5,1.98,1.83,9")
                              << 1 << 2 << 3 << "12 fields where the header has 11" << false;
    QTest::newRow("over/under missing: 1X2 kept")
        << afterGoodRow("E0,11/08/2018,Bournemouth,Cardiff,2,0,1.9,3.6,4.5,,1.83") << 2 << 3 << 3
        << "without its over/under 2.5 market: the over 2.5 price (BbAv>2.5) is missing" << true;
    QTest::newRow("over/under garbled: 1X2 kept")
        << afterGoodRow("E0,11/08/2018,Bournemouth,Cardiff,2,0,1.9,3.6,4.5,1.98,1.835") << 2 << 3
        << 3 << "under 2.5 price (BbAv<2.5) is refused" << true;
    QTest::newRow("over/under missing on the first row: 1X2 kept")
        << Header + "E0,10/08/2018,Man United,Leicester,2,1,1.57,3.9,7.5,2.03,\n" + SecondRow << 2
        << 3 << 2 << "Imported without its over/under 2.5 market" << true;
    QTest::newRow("line break inside quotes counts for line numbers")
        << Header + "E0,10/08/2018,\"Man\nUnited\",Leicester,2,1,1.57,3.9,7.5,2.03,1.79\n"
            + "E0,11/08/2018,Bournemouth,,2,0,1.9,3.6,4.5,1.98,1.83\n"
        << 1 << 2 << 4 << "away team is missing" << false;
    QTest::newRow("bad kick-off time")
        << QByteArray("Div,Date,Time,HomeTeam,AwayTeam,B365H,B365D,B365A,Avg>2.5,Avg<2.5\n"
                      "E0,10/08/2018,20:00,Man United,Leicester,1.57,3.9,7.5,2.03,1.79\n"
                      "E0,11/08/2018,25:00,Bournemouth,Cardiff,1.9,3.6,4.5,1.98,1.83\n")
        << 1 << 2 << 3 << "kick-off time \"25:00\"" << false;
    QTest::newRow("the same match twice: the second left out")
        << afterGoodRow("E0,10/08/2018,Man United,Leicester,2,1,1.6,3.8,7.0,2.0,1.8") << 1 << 2 << 3
        << "Man United v Leicester on 10/08/2018 is already on line 2" << false;
    // Prices no desk offers are imported as they are, with a warning to check them.
    QTest::newRow("1X2 margin far above any desk's: kept, with a warning")
        << afterGoodRow("E0,11/08/2018,Bournemouth,Cardiff,2,0,1.01,1.01,1.01,1.98,1.83") << 2 << 4
        << 3
        << "Bournemouth v Cardiff: the 1X2 prices make a margin of 297.0 %, outside 90 % "
           "to 120 %"
        << true;
    QTest::newRow("over/under far under 100 %: kept, with a warning")
        << afterGoodRow("E0,11/08/2018,Bournemouth,Cardiff,2,0,1.9,3.6,4.5,2.5,2.5") << 2 << 4 << 3
        << "the over/under prices make a margin of 80.0 %" << true;
    QTest::newRow("no over/under columns: one issue on the header")
        << QByteArray("Div,Date,HomeTeam,AwayTeam,B365H,B365D,B365A\n"
                      "E0,10/08/2018,Man United,Leicester,1.57,3.9,7.5\n")
        << 1 << 1 << 1 << "no over/under 2.5 prices" << true;
}

void tst_FootballDataImporter::reportsBadRows()
{
    QFETCH(QByteArray, content);
    QFETCH(int, events);
    QFETCH(int, markets);
    QFETCH(int, issueLine);
    QFETCH(QString, issueContains);
    QFETCH(bool, rowKept);

    const ImportReport report
        = importFootballData(content, QStringLiteral("season.csv"), QStringLiteral("B365"));
    QVERIFY2(report.ok(), qPrintable(report.error));
    QCOMPARE(report.book.events.size(), events);
    QCOMPARE(report.book.markets.size(), markets);
    QVERIFY(!report.issues.isEmpty());
    QCOMPARE(report.issues.first().line, issueLine);
    QVERIFY2(report.issues.first().reason.contains(issueContains),
        qPrintable(report.issues.first().reason));
    // A row in the book is not reported as skipped.
    QCOMPARE(report.issues.first().kind,
        rowKept ? ImportIssue::Kind::Warning : ImportIssue::Kind::Skipped);
    QCOMPARE(report.issues.first().isSkipped(), !rowKept);
    QCOMPARE(report.book.events.first().name, QStringLiteral("Man United v Leicester"));
}

void tst_FootballDataImporter::refusesBadFiles_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("path"); // when set, the file is imported instead of content
    QTest::addColumn<QString>("bookmaker");
    QTest::addColumn<QString>("errorContains");

    const QString b365 = QStringLiteral("B365");
    const QString none;

    QTest::newRow("missing column")
        << QByteArray("Div,Date,HomeTeam,AwayTeam,B365H,B365D,BbAv>2.5,BbAv<2.5\n"
                      "E0,10/08/2018,Man United,Leicester,1.57,3.9,2.03,1.79\n")
        << none << b365 << "has no B365 prices: its header lacks B365A";
    QTest::newRow("missing team column")
        << QByteArray("Div,Date,HomeTeam,B365H,B365D,B365A\nE0,10/08/2018,Man United,1.5,4,7\n")
        << none << b365 << "has no AwayTeam column";
    QTest::newRow("bookmaker the file lacks")
        << Header + GoodRow << none << QStringLiteral("PS") << "choose one it has: B365";
    QTest::newRow("bookmaker nobody knows") << Header + GoodRow << none << QStringLiteral("XYZ")
                                            << "not a bookmaker the importer knows";
    QTest::newRow("empty file") << QByteArray() << none << b365 << "is empty";
    QTest::newRow("only blank lines") << QByteArray("\n\r\n\n") << none << b365 << "is empty";
    QTest::newRow("quote never closed")
        << afterGoodRow("E0,11/08/2018,\"Bournemouth,Cardiff,2,0,1.9,3.6,4.5,1.98,1.83") << none
        << b365 << "past line 3";
    QTest::newRow("not UTF-8") << Header
            + QByteArray("T1,10/08/2018,Be\xfeikta\xfe,Galata,2,1,1.57,3.9,7.5,2.03,1.79\n")
                               << none << b365 << "is not UTF-8";
    const QString missingPath = QDir::temp().filePath(QStringLiteral("no-such-season.csv"));
    QTest::newRow("nonexistent path") << QByteArray() << missingPath << b365 << "Could not open";
}

void tst_FootballDataImporter::refusesBadFiles()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, path);
    QFETCH(QString, bookmaker);
    QFETCH(QString, errorContains);

    // The refusal is the caller's to show: nothing is logged at warning (the test fails on
    // an unexpected warning), so that a console's stderr says it once.
    QTest::failOnWarning(QRegularExpression(QStringLiteral(".")));
    const ImportReport report = path.isEmpty()
        ? importFootballData(content, QStringLiteral("season.csv"), bookmaker)
        : importFootballData(path, bookmaker);
    QVERIFY(!report.ok());
    QVERIFY2(report.error.contains(errorContains), qPrintable(report.error));
    // The sentence names the file, and nothing of it was imported.
    QVERIFY2(report.error.contains(path.isEmpty() ? QStringLiteral("season.csv") : path),
        qPrintable(report.error));
    QVERIFY(report.book.events.isEmpty());
    QVERIFY(report.book.markets.isEmpty());
    QVERIFY(report.issues.isEmpty());
    QCOMPARE(report.rowsRead, 0);
}

void tst_FootballDataImporter::refusesFilesWithoutEvents_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<int>("rowsRead");
    QTest::addColumn<QString>("errorContains");

    QTest::newRow("header alone") << Header << 0 << "has a header but no match rows";
    QTest::newRow("header and blank lines") << Header + "\n\r\n" << 0 << "no match rows";
    QTest::newRow("only an unreadable row")
        << Header + "E0,xx/08/2018,A,B,2,1,2,3,4,1.9,1.9\n"
        << 1 << "its only row could not be read. Line 2: The date \"xx/08/2018\"";
    QTest::newRow("only unreadable rows")
        << Header + "E0,10/08/2018,,Leicester,2,1,1.57,3.9,7.5,2.03,1.79\n"
            + "E0,11/08/2018,Bournemouth,Cardiff,2,0,1.9,3.6,x,1.98,1.83\n"
        << 2 << "none of its 2 rows could be read. Line 2:";
    QTest::newRow("no over/under columns, only an unreadable row") << QByteArray(
        "Div,Date,HomeTeam,AwayTeam,B365H,B365D,B365A\n"
        "E0,10/08/2018,Man United,,1.57,3.9,7.5\n") << 1 << "Line 2: The away team is missing.";
}

// A file that yields no event would replace the book with nothing: it is refused like an
// unreadable one, with each skipped row still listed.
void tst_FootballDataImporter::refusesFilesWithoutEvents()
{
    QFETCH(QByteArray, content);
    QFETCH(int, rowsRead);
    QFETCH(QString, errorContains);

    QTest::failOnWarning(QRegularExpression(QStringLiteral(".")));
    const ImportReport report
        = importFootballData(content, QStringLiteral("season.csv"), QStringLiteral("B365"));
    QVERIFY(!report.ok());
    QVERIFY2(report.error.contains(errorContains), qPrintable(report.error));
    QVERIFY2(report.error.contains(QStringLiteral("season.csv")), qPrintable(report.error));
    QVERIFY(report.book.events.isEmpty());
    QVERIFY(report.book.markets.isEmpty());
    QCOMPARE(report.rowsRead, rowsRead);
    QVERIFY(report.issues.size() >= rowsRead);
}

void tst_FootballDataImporter::kickOffTimes_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<qint64>("startTimeMs");
    QTest::addColumn<QString>("competition");

    QTest::newRow("summer, no Time column: 15:00 BST")
        << Header + GoodRow << utcMs(2018, 8, 10, 14, 0)
        << QStringLiteral("English Premier League 2018/19");
    QTest::newRow("winter, no Time column: 15:00 GMT")
        << Header + "E0,15/12/2018,Man United,Leicester,2,1,1.57,3.9,7.5,2.03,1.79\n"
        << utcMs(2018, 12, 15, 15, 0) << QStringLiteral("English Premier League 2018/19");
    QTest::newRow("spring: season started the year before")
        << Header + "E0,06/04/2019,Man United,Leicester,2,1,1.57,3.9,7.5,2.03,1.79\n"
        << utcMs(2019, 4, 6, 14, 0) << QStringLiteral("English Premier League 2018/19");
    QTest::newRow("two-digit year")
        << Header + "E0,10/08/18,Man United,Leicester,2,1,1.57,3.9,7.5,2.03,1.79\n"
        << utcMs(2018, 8, 10, 14, 0) << QStringLiteral("English Premier League 2018/19");
    QTest::newRow("1990s two-digit year")
        << Header + "E0,19/08/95,Man United,Leicester,2,1,1.57,3.9,7.5,2.03,1.79\n"
        << utcMs(1995, 8, 19, 14, 0) << QStringLiteral("English Premier League 1995/96");
    QTest::newRow("Time column, evening")
        << QByteArray("Div,Date,Time,HomeTeam,AwayTeam,B365H,B365D,B365A,Avg>2.5,Avg<2.5\n"
                      "E0,09/08/2019,20:00,Liverpool,Norwich,1.14,10,19,1.4,3.03\n")
        << utcMs(2019, 8, 9, 19, 0) << QStringLiteral("English Premier League 2019/20");
    QTest::newRow("Time column, winter")
        << QByteArray("Div,Date,Time,HomeTeam,AwayTeam,B365H,B365D,B365A\n"
                      "SP1,26/01/2020,17:30,Sevilla,Granada,1.6,3.8,6\n")
        << utcMs(2020, 1, 26, 17, 30) << QStringLiteral("Spanish La Liga 2019/20");
    QTest::newRow("unknown division kept as its code")
        << QByteArray("Div,Date,HomeTeam,AwayTeam,B365H,B365D,B365A\n"
                      "X9,10/08/2018,Alpha,Beta,1.6,3.8,6\n")
        << utcMs(2018, 8, 10, 14, 0) << QStringLiteral("X9 2018/19");
}

void tst_FootballDataImporter::kickOffTimes()
{
    QFETCH(QByteArray, content);
    QFETCH(qint64, startTimeMs);
    QFETCH(QString, competition);

    const ImportReport report
        = importFootballData(content, QStringLiteral("season.csv"), QStringLiteral("B365"));
    QVERIFY2(report.ok(), qPrintable(report.error));
    QCOMPARE(report.book.events.size(), 1);
    QCOMPARE(report.book.events.first().startTimeMs, startTimeMs);
    QCOMPARE(report.book.events.first().competition, competition);
}

void tst_FootballDataImporter::realFile()
{
    const ImportReport report = importFootballData(RealFile);
    QVERIFY2(report.ok(), qPrintable(report.error));
    QVERIFY2(report.issues.isEmpty(), qPrintable(issuesOf(report)));
    QCOMPARE(report.rowsRead, 380);
    QCOMPARE(report.book.events.size(), 380);
    QCOMPARE(report.book.markets.size(), 760);

    const EventInfo &event = report.book.events.first();
    QCOMPARE(event.id, 1u);
    QCOMPARE(event.name, QStringLiteral("Man United v Leicester"));
    QCOMPARE(event.home, QStringLiteral("Man United"));
    QCOMPARE(event.away, QStringLiteral("Leicester"));
    QCOMPARE(event.competition, QStringLiteral("English Premier League 2018/19"));
    QCOMPARE(event.startTimeMs, utcMs(2018, 8, 10, 14, 0)); // 15:00 BST

    const MarketInfo &matchOdds = report.book.markets.at(0);
    QCOMPARE(matchOdds.eventId, event.id);
    QCOMPARE(matchOdds.name, QStringLiteral("Match Odds"));
    QCOMPARE(matchOdds.kind, QStringLiteral("1x2"));
    QCOMPARE(matchOdds.status, MarketStatus::Open);
    QCOMPARE(matchOdds.selections.size(), 3);
    QCOMPARE(matchOdds.selections.at(0).name, QStringLiteral("Man United"));
    QCOMPARE(matchOdds.selections.at(1).name, QStringLiteral("Draw"));
    QCOMPARE(matchOdds.selections.at(2).name, QStringLiteral("Leicester"));
    QCOMPARE(pricesOf(matchOdds), QStringLiteral("1.57/3.90/7.50"));
    QCOMPARE(matchOdds.selections.at(2).price, 750u);
    QCOMPARE(QString::number(marginPercent(matchOdds), 'f', 1), QStringLiteral("102.7"));

    const MarketInfo &overUnder = report.book.markets.at(1);
    QCOMPARE(overUnder.eventId, event.id);
    QCOMPARE(overUnder.name, QStringLiteral("Over/Under 2.5 Goals"));
    QCOMPARE(overUnder.kind, QStringLiteral("ou25"));
    QCOMPARE(overUnder.status, MarketStatus::Open);
    QCOMPARE(overUnder.selections.size(), 2);
    QCOMPARE(overUnder.selections.at(0).name, QStringLiteral("Over 2.5"));
    QCOMPARE(overUnder.selections.at(1).name, QStringLiteral("Under 2.5"));
    QCOMPARE(pricesOf(overUnder), QStringLiteral("2.03/1.79"));

    const EventInfo &last = report.book.events.last();
    QCOMPARE(last.competition, event.competition);
    QCOMPARE(last.startTimeMs, utcMs(2019, 5, 12, 14, 0)); // the final day, still BST
    for (const MarketInfo &market : report.book.markets) {
        QCOMPARE(market.status, MarketStatus::Open);
        for (const SelectionInfo &s : market.selections)
            QVERIFY(isValidPrice(s.price));
    }
}

void tst_FootballDataImporter::realFileEveryBookmaker_data()
{
    QTest::addColumn<QString>("bookmaker");
    QTest::addColumn<bool>("inFile"); // the 2018/19 file carries this bookmaker's columns

    const QStringList older = {QStringLiteral("Avg"), QStringLiteral("Max")};
    for (const QString &bookmaker : footballDataBookmakers())
        QTest::newRow(qPrintable(bookmaker)) << bookmaker << !older.contains(bookmaker);
}

void tst_FootballDataImporter::realFileEveryBookmaker()
{
    QFETCH(QString, bookmaker);
    QFETCH(bool, inFile);

    const ImportReport report = importFootballData(RealFile, bookmaker);
    if (!inFile) {
        QVERIFY(!report.ok());
        QVERIFY2(report.error.contains(bookmaker + QLatin1Char('H')), qPrintable(report.error));
        QVERIFY2(report.error.contains(QStringLiteral("choose one it has: B365")),
            qPrintable(report.error));
        return;
    }
    QVERIFY2(report.ok(), qPrintable(report.error));
    QVERIFY2(report.issues.isEmpty(), qPrintable(issuesOf(report)));
    QCOMPARE(report.book.events.size(), 380);
    QCOMPARE(report.book.markets.size(), 760);
}

void tst_FootballDataImporter::realFileWhateverTheLineEnds()
{
    QFile file(RealFile);
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.errorString()));
    const QByteArray original = file.readAll();
    QVERIFY(original.contains("\r\n")); // the published file has CRLF line ends
    QByteArray lf = original;
    lf.replace("\r\n", "\n");

    const ImportReport fromFile = importFootballData(RealFile);
    const ImportReport fromLf
        = importFootballData(lf, QStringLiteral("lf.csv"), QStringLiteral("B365"));
    const ImportReport fromBomLf = importFootballData(
        QByteArray("\xEF\xBB\xBF") + lf, QStringLiteral("bom.csv"), QStringLiteral("B365"));
    QVERIFY2(fromLf.ok(), qPrintable(fromLf.error));
    QVERIFY2(fromBomLf.ok(), qPrintable(fromBomLf.error));
    QVERIFY(fromLf.book.events == fromFile.book.events);
    QVERIFY(fromLf.book.markets == fromFile.book.markets);
    QVERIFY(fromBomLf.book.events == fromFile.book.events);
    QVERIFY(fromBomLf.book.markets == fromFile.book.markets);
}

void tst_FootballDataImporter::idsAreSequentialPerKind()
{
    // The second row has no over/under market, so the third row's markets follow directly.
    const QByteArray content = Header + GoodRow
        + "E0,11/08/2018,Bournemouth,Cardiff,2,0,1.9,3.6,4.5,,\n"
        + "E0,11/08/2018,Fulham,Crystal Palace,0,2,2.5,3.4,2.9,1.95,1.87\n";
    const ImportReport report
        = importFootballData(content, QStringLiteral("season.csv"), QStringLiteral("B365"));
    QVERIFY2(report.ok(), qPrintable(report.error));

    QCOMPARE(report.book.events.size(), 3);
    for (int i = 0; i < report.book.events.size(); ++i)
        QCOMPARE(report.book.events.at(i).id, quint32(i + 1));

    QCOMPARE(report.book.markets.size(), 5);
    const QList<quint32> eventOfMarket = {1, 1, 2, 3, 3};
    quint32 nextSelection = 1;
    for (int i = 0; i < report.book.markets.size(); ++i) {
        const MarketInfo &market = report.book.markets.at(i);
        QCOMPARE(market.id, quint32(i + 1));
        QCOMPARE(market.eventId, eventOfMarket.at(i));
        for (const SelectionInfo &s : market.selections)
            QCOMPARE(s.id, nextSelection++);
    }
    QCOMPARE(nextSelection - 1, 13u); // 3 + 2 + 3 + 3 + 2
}

QTEST_GUILESS_MAIN(tst_FootballDataImporter)
#include "tst_footballdataimporter.moc"
