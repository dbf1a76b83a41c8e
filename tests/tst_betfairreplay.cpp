// The Betfair stream replay on the real greyhound recording: the parser's ladders and book
// terms, bad lines, and the replay through a feed and its server to a client over loopback.

#include "betfairreplay.h"
#include "betfairstream.h"
#include "book.h"
#include "feed.h"
#include "feedclient.h"
#include "server.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimeZone>
#include <QtTest>

#include <map>
#include <memory>

using namespace OddsDesk;

namespace {

const QString StreamFile
    = QStringLiteral(ODDSDESK_SHARED_DATA_DIR "/betfair_stream_greyhound_WIN_1.197931750.jsonl");
const QString CatalogueFile
    = QStringLiteral(ODDSDESK_SHARED_DATA_DIR "/betfair_catalogue_1.197931750.json");
const QString MarketId = QStringLiteral("1.197931750");

// Where the corrupt rows go in the copies of the recording: well inside the open market.
constexpr int CorruptLine = 50;

// 1000 times the recorded pace: the recording's 323 s take a third of a second.
constexpr double FastSpeed = 1000;

// What the recording says, worked out here with a fold of our own over the JSON, so the
// parser is checked against something it did not compute.
struct Expected
{
    QByteArrayList lines;
    QVector<qint64> runners; // in the first definition's order
    QHash<qint64, QString> names; // from the catalogue
    int suspendLine = 0; // the first line whose definition says SUSPENDED
    int closeLine = 0;
    qint64 winner = 0;
    QVector<QHash<qint64, Price>> bestBacks; // [i]: each runner's best back after line i + 1
};

Expected readRecording()
{
    Expected expected;
    QFile file(StreamFile);
    if (!file.open(QIODevice::ReadOnly))
        return expected;
    expected.lines = file.readAll().trimmed().split('\n');

    QHash<qint64, std::map<qint64, double>> ladders; // runner -> hundredths -> size
    for (int i = 0; i < expected.lines.size(); ++i) {
        const QJsonObject message = QJsonDocument::fromJson(expected.lines.at(i)).object();
        for (const QJsonValue &mcValue : message.value(QLatin1String("mc")).toArray()) {
            const QJsonObject mc = mcValue.toObject();
            if (mc.value(QLatin1String("img")).toBool())
                ladders.clear();
            const QJsonObject definition = mc.value(QLatin1String("marketDefinition")).toObject();
            const QString status = definition.value(QLatin1String("status")).toString();
            if (status == QLatin1String("SUSPENDED") && expected.suspendLine == 0)
                expected.suspendLine = i + 1;
            if (status == QLatin1String("CLOSED") && expected.closeLine == 0)
                expected.closeLine = i + 1;
            for (const QJsonValue &r : definition.value(QLatin1String("runners")).toArray()) {
                const qint64 id = r.toObject().value(QLatin1String("id")).toInteger();
                if (!expected.runners.contains(id))
                    expected.runners.append(id);
                if (r.toObject().value(QLatin1String("status")).toString() == "WINNER")
                    expected.winner = id;
            }
            for (const QJsonValue &rcValue : mc.value(QLatin1String("rc")).toArray()) {
                const QJsonObject rc = rcValue.toObject();
                auto &ladder = ladders[rc.value(QLatin1String("id")).toInteger()];
                for (const QJsonValue &level : rc.value(QLatin1String("atb")).toArray()) {
                    const qint64 price = qRound64(level.toArray().at(0).toDouble() * 100);
                    const double size = level.toArray().at(1).toDouble();
                    if (size == 0)
                        ladder.erase(price);
                    else
                        ladder[price] = size;
                }
            }
        }
        QHash<qint64, Price> best;
        for (auto it = ladders.cbegin(); it != ladders.cend(); ++it) {
            if (!it->empty())
                best.insert(it.key(), Price(it->rbegin()->first));
        }
        expected.bestBacks.append(best);
    }

    QFile catalogueFile(CatalogueFile);
    if (catalogueFile.open(QIODevice::ReadOnly)) {
        const QJsonObject catalogue = QJsonDocument::fromJson(catalogueFile.readAll()).object();
        for (const QJsonValue &r : catalogue.value(QLatin1String("runners")).toArray()) {
            expected.names.insert(r.toObject().value(QLatin1String("selectionId")).toInteger(),
                r.toObject().value(QLatin1String("runnerName")).toString());
        }
    }
    return expected;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// The recording with \a extra inserted so that it becomes line \a line.
QByteArrayList withLine(const QByteArrayList &lines, int line, const QByteArray &extra)
{
    QByteArrayList out = lines;
    out.insert(line - 1, extra);
    return out;
}

bool writeLines(const QString &path, const QByteArrayList &lines)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    return file.write(lines.join('\n') + '\n') > 0;
}

// Adds a field nobody knows to every object of \a value, at every depth.
QJsonValue withUnknownFields(const QJsonValue &value)
{
    if (value.isArray()) {
        QJsonArray array;
        for (const QJsonValue &item : value.toArray())
            array.append(withUnknownFields(item));
        return array;
    }
    if (!value.isObject())
        return value;
    QJsonObject object;
    const QJsonObject original = value.toObject();
    for (auto it = original.begin(); it != original.end(); ++it)
        object.insert(it.key(), withUnknownFields(it.value()));
    object.insert(QLatin1String("futureField"),
        QJsonObject {{QLatin1String("nested"), QJsonArray {1, "two", QJsonObject {}}}});
    return object;
}

// One update as text, to compare whole sequences of them readably.
QString describe(const BetfairUpdate &u)
{
    switch (u.kind) {
    case BetfairUpdate::Kind::EventDefined:
        return QStringLiteral("event %1 %2 / %3 @%4")
            .arg(u.event.id)
            .arg(u.event.name, u.event.competition)
            .arg(u.event.startTimeMs);
    case BetfairUpdate::Kind::MarketDefined: {
        QStringList selections;
        for (const SelectionInfo &s : u.market.selections) {
            selections << QStringLiteral("%1 %2 %3%4")
                              .arg(s.id)
                              .arg(s.name, formatDecimal(s.price),
                                  s.winner ? QStringLiteral(" winner") : QString());
        }
        return QStringLiteral("market %1 of %2 %3 (%4) %5: %6")
            .arg(u.market.id)
            .arg(u.market.eventId)
            .arg(u.market.name, u.market.kind, statusName(u.market.status),
                selections.join(QStringLiteral(", ")));
    }
    case BetfairUpdate::Kind::Price:
        return QStringLiteral("price %1 %2").arg(u.selectionId).arg(formatDecimal(u.price));
    case BetfairUpdate::Kind::Status:
        return QStringLiteral("status %1 %2").arg(u.marketId).arg(statusName(u.status));
    case BetfairUpdate::Kind::Winner:
        return QStringLiteral("winner %1 %2").arg(u.marketId).arg(u.selectionId);
    }
    return {};
}

QStringList describe(const QVector<BetfairUpdate> &updates)
{
    QStringList out;
    for (const BetfairUpdate &u : updates)
        out << describe(u);
    return out;
}

// Every line's updates, in order, as text.
QVector<QStringList> parseAll(const QByteArrayList &lines, const QByteArray &catalogue)
{
    BetfairStream stream;
    if (!catalogue.isEmpty())
        stream.setCatalogue(catalogue);
    QVector<QStringList> out;
    for (const QByteArray &line : lines)
        out.append(describe(stream.feed(line).updates));
    return out;
}

BookData footballBook()
{
    BookData book;
    book.events.append(EventInfo {1, QStringLiteral("Man United v Leicester"),
        QStringLiteral("English Premier League 2018/19"), QStringLiteral("Man United"),
        QStringLiteral("Leicester"), 1533927600000});
    MarketInfo market;
    market.id = 1;
    market.eventId = 1;
    market.name = QStringLiteral("Match Odds");
    market.kind = QStringLiteral("1x2");
    market.selections = {{1, QStringLiteral("Man United"), 157, false},
        {2, QStringLiteral("Draw"), 390, false}, {3, QStringLiteral("Leicester"), 750, false}};
    book.markets.append(market);
    return book;
}

} // namespace

class tst_BetfairReplay : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void betfairPrice_data();
    void betfairPrice();
    void idsAndNamesComeFromTheCatalogue();
    void namesWithoutACatalogue();
    void ladderFollowsTheRecording();
    void pricesBeforeTheSuspensionAreTheBestBacks();
    void suspendsThenClosesWithTheWinner();
    void unknownFieldsAreIgnored();
    void corruptLineIsSkipped_data();
    void corruptLineIsSkipped();
    void badFilesAreRefusedWithASentence_data();
    void badFilesAreRefusedWithASentence();

    void clientSeesEveryStep_data();
    void clientSeesEveryStep();
    void corruptLineDoesNotStopTheReplay();
    void recordedPaceIsKept();
    void fullSpeedLetsTheEngineServe();

private:
    Expected m_expected;
    QByteArray m_catalogue;
};

void tst_BetfairReplay::initTestCase()
{
    m_expected = readRecording();
    m_catalogue = readFile(CatalogueFile);
    QVERIFY2(!m_expected.lines.isEmpty(), qPrintable(StreamFile + " cannot be read"));
    QVERIFY2(!m_catalogue.isEmpty(), qPrintable(CatalogueFile + " cannot be read"));
    // What the data's README says the recording holds.
    QCOMPARE(m_expected.lines.size(), 166);
    QCOMPARE(m_expected.runners.size(), 6);
    QVERIFY(m_expected.suspendLine > 1);
    QVERIFY(m_expected.closeLine > m_expected.suspendLine);
    QVERIFY(m_expected.winner != 0);
}

void tst_BetfairReplay::betfairPrice_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<uint>("price");
    QTest::addColumn<QString>("error");

    QTest::newRow("shortest") << 1.01 << 101u << QString();
    QTest::newRow("hundredths") << 3.45 << 345u << QString();
    QTest::newRow("tenths") << 12.5 << 1250u << QString();
    QTest::newRow("binary noise of 8.8") << 8.8 << 880u << QString();
    QTest::newRow("1.53") << 1.53 << 153u << QString();
    QTest::newRow("longest") << 1000.0 << 100000u << QString();
    QTest::newRow("thousandths") << 3.455 << 0u << QStringLiteral("3.455 is not a whole number");
    QTest::newRow("evens and below") << 1.0 << 0u << QStringLiteral("outside 1.01 to 1000");
    QTest::newRow("above 1000") << 1010.0 << 0u << QStringLiteral("outside 1.01 to 1000");
    QTest::newRow("negative") << -2.0 << 0u << QStringLiteral("outside 1.01 to 1000");
    QTest::newRow("infinite") << qInf() << 0u << QStringLiteral("finite");
    // Found by the fuzzer: a price too large for any integer (undefined behaviour before).
    QTest::newRow("1.8e94") << 1.81111e94 << 0u << QStringLiteral("outside 1.01 to 1000");
    QTest::newRow("-1.8e94") << -1.81111e94 << 0u << QStringLiteral("outside 1.01 to 1000");
}

void tst_BetfairReplay::betfairPrice()
{
    QFETCH(double, value);
    QFETCH(uint, price);
    QFETCH(QString, error);

    const PriceParseResult result = OddsDesk::betfairPrice(value);
    if (error.isEmpty()) {
        QVERIFY2(result.ok(), qPrintable(result.error));
        QCOMPARE(result.price, Price(price));
    } else {
        QVERIFY(!result.ok());
        QVERIFY2(result.error.contains(error), qPrintable(result.error));
    }
}

void tst_BetfairReplay::idsAndNamesComeFromTheCatalogue()
{
    BetfairStream stream;
    QCOMPARE(stream.setCatalogue(m_catalogue), QString());
    const BetfairLineResult first = stream.feed(m_expected.lines.first());
    QVERIFY2(first.ok(), qPrintable(first.error));
    QCOMPARE(first.line, 1);
    QCOMPARE(first.publishTimeMs, 1650392673420);
    QCOMPARE(first.updates.size(), 2);

    const BetfairUpdate &eventUpdate = first.updates.at(0);
    QCOMPARE(eventUpdate.kind, BetfairUpdate::Kind::EventDefined);
    const EventInfo &event = eventUpdate.event;
    QCOMPARE(event.id, BetfairIdBase);
    QVERIFY2(event.name.endsWith(QLatin1String(" Sheffield")), qPrintable(event.name));
    if (QTimeZone(QByteArrayLiteral("Europe/London")).isValid())
        QCOMPARE(event.name, QStringLiteral("19:26 Sheffield")); // 18:26 UTC in summer time
    QCOMPARE(event.competition, QStringLiteral("Sheffield 19th Apr"));
    QCOMPARE(event.startTimeMs,
        QDateTime::fromString(QStringLiteral("2022-04-19T18:26:00.000Z"), Qt::ISODateWithMs)
            .toMSecsSinceEpoch());

    const BetfairUpdate &marketUpdate = first.updates.at(1);
    QCOMPARE(marketUpdate.kind, BetfairUpdate::Kind::MarketDefined);
    const MarketInfo &market = marketUpdate.market;
    QCOMPARE(market.id, BetfairIdBase);
    QCOMPARE(market.eventId, BetfairIdBase);
    QCOMPARE(market.name, QStringLiteral("OR 280m"));
    QCOMPARE(market.kind, QStringLiteral("win"));
    QCOMPARE(market.status, MarketStatus::Open);
    QCOMPARE(market.selections.size(), m_expected.runners.size());
    for (int i = 0; i < m_expected.runners.size(); ++i) {
        const qint64 runner = m_expected.runners.at(i);
        const SelectionInfo &selection = market.selections.at(i);
        QCOMPARE(selection.id, BetfairIdBase + quint32(i));
        QCOMPARE(stream.bookSelectionId(MarketId, runner), selection.id);
        QCOMPARE(selection.name, m_expected.names.value(runner));
        QCOMPARE(selection.price, m_expected.bestBacks.first().value(runner));
        QVERIFY(!selection.winner);
    }
    QCOMPARE(market.selections.first().name, QStringLiteral("1. Paradise Mission"));
    QCOMPARE(stream.bookMarketId(MarketId), BetfairIdBase);
    QCOMPARE(stream.bookEventId(MarketId), BetfairIdBase);
    QCOMPARE(stream.bookMarketId(QStringLiteral("1.1")), 0u);

    // Another base moves every id with it.
    BetfairStream other(0x50000000);
    const BetfairLineResult moved = other.feed(m_expected.lines.first());
    QCOMPARE(moved.updates.at(1).market.id, 0x50000000u);
    QCOMPARE(moved.updates.at(1).market.selections.at(5).id, 0x50000005u);
}

void tst_BetfairReplay::namesWithoutACatalogue()
{
    BetfairStream stream;
    const BetfairLineResult first = stream.feed(m_expected.lines.first());
    QVERIFY2(first.ok(), qPrintable(first.error));
    const MarketInfo &market = first.updates.at(1).market;
    QCOMPARE(market.name, QStringLiteral("WIN"));
    QCOMPARE(market.selections.first().name, QStringLiteral("Selection 44331354"));
    QVERIFY2(first.updates.at(0).event.name.endsWith(QLatin1String(" Sheffield")),
        qPrintable(first.updates.at(0).event.name));
}

void tst_BetfairReplay::ladderFollowsTheRecording()
{
    BetfairStream stream;
    for (int i = 0; i < m_expected.lines.size(); ++i) {
        const BetfairLineResult result = stream.feed(m_expected.lines.at(i));
        QVERIFY2(result.ok(), qPrintable(result.error));
        const BetfairMarketState *state = stream.market(MarketId);
        QVERIFY(state);
        for (const qint64 runner : std::as_const(m_expected.runners)) {
            const Price best = state->runners.value(runner).bestBack();
            if (best != m_expected.bestBacks.at(i).value(runner)) {
                QFAIL(qPrintable(QStringLiteral("line %1, runner %2: %3, the fold says %4")
                                     .arg(i + 1)
                                     .arg(runner)
                                     .arg(formatDecimal(best),
                                         formatDecimal(m_expected.bestBacks.at(i).value(runner)))));
            }
        }
    }
    QCOMPARE(stream.linesFed(), m_expected.lines.size());
    // The suspension clears every ladder.
    for (const qint64 runner : std::as_const(m_expected.runners))
        QCOMPARE(stream.market(MarketId)->runners.value(runner).bestBack(), 0u);
}

void tst_BetfairReplay::pricesBeforeTheSuspensionAreTheBestBacks()
{
    BetfairStream stream;
    QHash<quint32, Price> book; // what the updates told the book, by our selection id
    for (int i = 0; i < m_expected.lines.size(); ++i) {
        const BetfairLineResult result = stream.feed(m_expected.lines.at(i));
        QVERIFY2(result.ok(), qPrintable(result.error));
        for (const BetfairUpdate &update : result.updates) {
            if (update.kind == BetfairUpdate::Kind::MarketDefined) {
                for (const SelectionInfo &s : update.market.selections)
                    book.insert(s.id, s.price);
            } else if (update.kind == BetfairUpdate::Kind::Price) {
                book.insert(update.selectionId, update.price);
            } else if (update.kind == BetfairUpdate::Kind::Status
                && update.status == MarketStatus::Suspended) {
                QCOMPARE(result.line, m_expected.suspendLine);
                // The state the line before left, seen by the fold.
                const QHash<qint64, Price> &before = m_expected.bestBacks.at(i - 1);
                for (const qint64 runner : std::as_const(m_expected.runners)) {
                    QVERIFY(before.value(runner) != 0);
                    QCOMPARE(
                        book.value(stream.bookSelectionId(MarketId, runner)), before.value(runner));
                }
                return;
            }
        }
    }
    QFAIL("the recording never suspended");
}

void tst_BetfairReplay::suspendsThenClosesWithTheWinner()
{
    BetfairStream stream;
    QCOMPARE(stream.setCatalogue(m_catalogue), QString());
    QStringList steps;
    for (const QByteArray &line : std::as_const(m_expected.lines)) {
        const BetfairLineResult result = stream.feed(line);
        for (const BetfairUpdate &update : result.updates) {
            if (update.kind == BetfairUpdate::Kind::Status) {
                steps << QStringLiteral("%1 at line %2")
                             .arg(statusName(update.status))
                             .arg(result.line);
            } else if (update.kind == BetfairUpdate::Kind::Winner) {
                steps << QStringLiteral("winner %1 at line %2")
                             .arg(update.selectionId)
                             .arg(result.line);
            } else if (update.kind != BetfairUpdate::Kind::Price) {
                steps << describe(update).section(QLatin1Char(' '), 0, 0);
            }
        }
    }
    const quint32 winner = stream.bookSelectionId(MarketId, m_expected.winner);
    QCOMPARE(steps,
        QStringList({QStringLiteral("event"), QStringLiteral("market"),
            QStringLiteral("suspended at line %1").arg(m_expected.suspendLine),
            QStringLiteral("closed at line %1").arg(m_expected.closeLine),
            QStringLiteral("winner %1 at line %2").arg(winner).arg(m_expected.closeLine)}));
    QCOMPARE(m_expected.names.value(m_expected.winner), QStringLiteral("2. Sandwood Jet"));
}

void tst_BetfairReplay::unknownFieldsAreIgnored()
{
    QByteArrayList extended;
    for (const QByteArray &line : std::as_const(m_expected.lines)) {
        const QJsonValue value = withUnknownFields(QJsonDocument::fromJson(line).object());
        extended << QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
    }
    QVERIFY(extended.first().contains("futureField"));
    const QVector<QStringList> plain = parseAll(m_expected.lines, m_catalogue);
    const QVector<QStringList> withExtras = parseAll(extended, m_catalogue);
    QCOMPARE(withExtras, plain);
}

void tst_BetfairReplay::corruptLineIsSkipped_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("reason");

    QTest::newRow("garbage") << QByteArray("garbage") << QStringLiteral("not valid JSON");
    QTest::newRow("cut short") << QByteArray(R"({"op":"mcm","pt":1650392700000,"mc":[{"id":)")
                               << QStringLiteral("not valid JSON");
    QTest::newRow("a list, not a message")
        << QByteArray("[1,2]") << QStringLiteral("not a JSON object");
    QTest::newRow("publish time as text")
        << QByteArray(R"({"op":"mcm","pt":"soon","mc":[]})") << QStringLiteral("\"pt\"");
    QTest::newRow("market changes not a list")
        << QByteArray(R"({"op":"mcm","pt":1650392700000,"mc":{}})") << QStringLiteral("\"mc\"");
    QTest::newRow("selection id as text")
        << QByteArray(R"({"op":"mcm","pt":1650392700000,"mc":[{"id":"1.197931750",)"
                      R"("rc":[{"id":"six","atb":[[5,1]]}]}]})")
        << QStringLiteral("runner change 1 has no numeric \"id\"");
    QTest::newRow("level not a pair")
        << QByteArray(R"({"op":"mcm","pt":1650392700000,"mc":[{"id":"1.197931750",)"
                      R"("rc":[{"id":44331354,"atb":[[5]]}]}]})")
        << QStringLiteral("level 1 of \"atb\" is not a [price, size] pair");
    QTest::newRow("price above 1000")
        << QByteArray(R"({"op":"mcm","pt":1650392700000,"mc":[{"id":"1.197931750",)"
                      R"("rc":[{"id":44331354,"atl":[[1010,2]]}]}]})")
        << QStringLiteral("outside 1.01 to 1000");
    // The first runner's level would be its best back if any of the line were applied.
    QTest::newRow("price off the ladder after a good one")
        << QByteArray(R"({"op":"mcm","pt":1650392700000,"mc":[{"id":"1.197931750",)"
                      R"("rc":[{"id":44331354,"atb":[[990,5]]},)"
                      R"({"id":37947503,"atb":[[3.455,2]]}]}]})")
        << QStringLiteral("Market 1.197931750: runner 37947503: level 1 of \"atb\": the price "
                          "3.455 is not a whole number of hundredths");
    QTest::newRow("status as a number")
        << QByteArray(R"({"op":"mcm","pt":1650392700000,"mc":[{"id":"1.197931750",)"
                      R"("marketDefinition":{"status":2,"runners":[]}}]})")
        << QStringLiteral("no \"status\" text");
}

void tst_BetfairReplay::corruptLineIsSkipped()
{
    QFETCH(QByteArray, line);
    QFETCH(QString, reason);

    const QByteArrayList lines = withLine(m_expected.lines, CorruptLine, line);
    BetfairStream stream;
    QCOMPARE(stream.setCatalogue(m_catalogue), QString());
    QVector<QStringList> updates;
    for (const QByteArray &text : lines) {
        const BetfairLineResult result = stream.feed(text);
        if (result.line == CorruptLine) {
            QVERIFY(!result.ok());
            QVERIFY2(result.error.contains(reason), qPrintable(result.error));
            QVERIFY(result.updates.isEmpty());
        } else {
            QVERIFY2(result.ok(), qPrintable(result.error));
            updates.append(describe(result.updates));
        }
    }
    // Every other line did what it does without the corrupt one, so none of it was applied.
    QCOMPARE(updates, parseAll(m_expected.lines, m_catalogue));
}

void tst_BetfairReplay::badFilesAreRefusedWithASentence_data()
{
    QTest::addColumn<QString>("stream");
    QTest::addColumn<QString>("catalogue");
    QTest::addColumn<QString>("error");

    QTest::newRow("no recording") << QStringLiteral("missing.jsonl") << QString()
                                  << QStringLiteral("Cannot open the Betfair stream recording");
    QTest::newRow("empty recording")
        << QStringLiteral("empty.jsonl") << QString() << QStringLiteral("holds no messages");
    QTest::newRow("no catalogue") << StreamFile << QStringLiteral("missing.json")
                                  << QStringLiteral("Cannot open the Betfair market catalogue");
    QTest::newRow("catalogue not JSON")
        << StreamFile << QStringLiteral("broken.json") << QStringLiteral("is not valid JSON");
    QTest::newRow("catalogue of something else")
        << StreamFile << QStringLiteral("other.json") << QStringLiteral("has no \"marketId\"");
    // Every line would be skipped: nothing would reach the book, so the file is refused with
    // the first line's reason, as an empty one is.
    QTest::newRow("no line is JSON")
        << QStringLiteral("garbage.jsonl") << QString()
        << QStringLiteral("none of its 2 lines is a market change the replay can use. Line 1: "
                          "The line is not valid JSON");
    QTest::newRow("its only line is no message")
        << QStringLiteral("list.jsonl") << QString()
        << QStringLiteral("its only line is not a market change the replay can use. Line 1: "
                          "The line is not a JSON object");
    QTest::newRow("connection and status messages only")
        << QStringLiteral("status.jsonl") << QString()
        << QStringLiteral("none of its 2 lines is a market change the replay can use. Line 1: "
                          "The line is a \"connection\" message, not a market change.");
    QTest::newRow("heartbeats only, after a blank line")
        << QStringLiteral("heartbeats.jsonl") << QString()
        << QStringLiteral("none of its 3 lines is a market change the replay can use. Line 2: "
                          "The market change carries no market (a heartbeat).");
}

void tst_BetfairReplay::badFilesAreRefusedWithASentence()
{
    QFETCH(QString, stream);
    QFETCH(QString, catalogue);
    QFETCH(QString, error);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(writeLines(dir.filePath(QStringLiteral("empty.jsonl")), {"", "  "}));
    QVERIFY(writeLines(dir.filePath(QStringLiteral("broken.json")), {"{\"marketId\":"}));
    QVERIFY(writeLines(dir.filePath(QStringLiteral("other.json")), {R"([{"name":"x"}])"}));
    QVERIFY(writeLines(
        dir.filePath(QStringLiteral("garbage.jsonl")), {"garbage", R"({"op":"mcm","pt":)"}));
    QVERIFY(writeLines(dir.filePath(QStringLiteral("list.jsonl")), {"[1,2]"}));
    QVERIFY(writeLines(dir.filePath(QStringLiteral("status.jsonl")),
        {R"({"op":"connection","connectionId":"002-1"})",
            R"({"op":"status","id":1,"statusCode":"SUCCESS"})"}));
    QVERIFY(writeLines(dir.filePath(QStringLiteral("heartbeats.jsonl")),
        {"", R"({"op":"mcm","id":2,"pt":1650392700000,"ct":"HEARTBEAT"})",
            R"({"op":"mcm","id":2,"pt":1650392705000,"ct":"HEARTBEAT"})"}));
    const auto inDir = [&dir](const QString &name) {
        return name.isEmpty() || name.contains(QLatin1Char('/')) ? name : dir.filePath(name);
    };

    Feed feed;
    BetfairReplay replay(&feed);
    const QString result = replay.load(inDir(stream), inDir(catalogue));
    QVERIFY2(result.contains(error), qPrintable(result));
    QVERIFY(result.endsWith(QLatin1Char('.')));
}

void tst_BetfairReplay::clientSeesEveryStep_data()
{
    QTest::addColumn<double>("speed");
    QTest::newRow("1000 times the recorded pace") << FastSpeed;
    QTest::newRow("as fast as possible") << 0.0;
}

void tst_BetfairReplay::clientSeesEveryStep()
{
    QFETCH(double, speed);

    Feed feed;
    feed.resetBook(footballBook());
    ServerConfig config;
    config.port = 0;
    // A client that falls behind its acks (this one shares its thread with the replay, on a
    // machine that may be busy) is sent what it missed as one conflated delta, where only
    // the market's latest status counts: that is tested in tst_feedserver. Here every step
    // of the recording must reach a client that keeps up.
    config.ackPaceMs = 0;
    FeedServer server(&feed, config);
    QVERIFY2(server.listen(), qPrintable(server.errorString()));

    FeedClientConfig clientConfig;
    clientConfig.url = server.url();
    FeedClient client(clientConfig);
    QSignalSpy snapshots(&client, &FeedClient::snapshotApplied);
    client.start();
    QTRY_COMPARE(snapshots.count(), 1);

    // What the client's book says about the replayed market after each delta it applies.
    QVector<MarketStatus> statuses;
    QHash<quint32, Price> pricesAtSuspension;
    connect(&client, &FeedClient::deltaApplied, this, [&](const BookChanges &, quint64) {
        const MarketInfo *market = client.book().market(BetfairIdBase);
        if (!market || (!statuses.isEmpty() && statuses.last() == market->status))
            return;
        statuses.append(market->status);
        if (market->status == MarketStatus::Suspended) {
            for (const SelectionInfo &s : market->selections)
                pricesAtSuspension.insert(s.id, s.price);
        }
    });

    BetfairReplay replay(&feed);
    QSignalSpy progress(&replay, &BetfairReplay::progress);
    QSignalSpy finished(&replay, &BetfairReplay::finished);
    QSignalSpy skipped(&replay, &BetfairReplay::lineSkipped);
    QSignalSpy refused(&replay, &BetfairReplay::changeRefused);
    QCOMPARE(replay.load(StreamFile, CatalogueFile), QString());
    QCOMPARE(replay.lineCount(), m_expected.lines.size());
    replay.start(speed);
    QVERIFY(replay.isRunning());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QVERIFY(!replay.isRunning());
    QCOMPARE(skipped.count(), 0);
    QCOMPARE(refused.count(), 0);
    QVERIFY(!progress.isEmpty());
    QCOMPARE(progress.last().at(0).toInt(), m_expected.lines.size());
    QCOMPARE(progress.last().at(1).toInt(), m_expected.lines.size());

    // Suspended, then closed, each in a delta of its own. The open market before them is
    // seen in a delta of its own only when one went out before the suspension: replayed as
    // fast as possible while the network threads are busy, every flush up to the
    // suspension may go out merged into one delta (statuses are never merged, prices are).
    const QVector<MarketStatus> suspendedThenClosed {MarketStatus::Suspended, MarketStatus::Closed};
    QTRY_VERIFY2(statuses.size() >= 2 && statuses.last() == MarketStatus::Closed, qPrintable([&] {
        QStringList seen;
        for (MarketStatus status : std::as_const(statuses))
            seen.append(QString::number(int(status)));
        const FeedClientStats stats = client.stats();
        return QStringLiteral("statuses seen after deltas: %1; snapshots %2, reconnects %3, "
                              "gaps %4, deltas %5, sequence %6 of %7")
            .arg(seen.join(QLatin1Char(',')))
            .arg(stats.snapshots)
            .arg(stats.reconnects)
            .arg(stats.gaps)
            .arg(stats.deltasApplied)
            .arg(client.lastSequence())
            .arg(feed.headSequence());
    }()));
    if (statuses.size() == 3)
        QCOMPARE(statuses.first(), MarketStatus::Open);
    QCOMPARE(statuses.mid(statuses.size() - 2), suspendedThenClosed);

    // Just before the suspension each runner was priced at its best back in the ladder.
    const QHash<qint64, Price> &before = m_expected.bestBacks.at(m_expected.suspendLine - 2);
    for (const qint64 runner : std::as_const(m_expected.runners)) {
        const quint32 id = replay.stream().bookSelectionId(MarketId, runner);
        QCOMPARE(pricesAtSuspension.value(id), before.value(runner));
    }

    QTRY_VERIFY(client.book() == feed.book());
    const MarketInfo *market = client.book().market(BetfairIdBase);
    QVERIFY(market);
    QCOMPARE(market->name, QStringLiteral("OR 280m"));
    QCOMPARE(market->status, MarketStatus::Closed);
    for (const qint64 runner : std::as_const(m_expected.runners)) {
        const SelectionInfo *s
            = market->selection(replay.stream().bookSelectionId(MarketId, runner));
        QVERIFY(s);
        QCOMPARE(s->name, m_expected.names.value(runner));
        QCOMPARE(s->winner, runner == m_expected.winner);
    }
    const EventInfo *event = client.book().event(market->eventId);
    QVERIFY(event);
    QVERIFY2(event->name.contains(QLatin1String("Sheffield")), qPrintable(event->name));

    // The football book beside it is untouched.
    QCOMPARE(client.book().eventCount(), 2);
    QCOMPARE(client.book().marketCount(), 2);
    QVERIFY(*client.book().market(1) == footballBook().markets.first());
    QCOMPARE(client.stats().gaps, 0u);
}

void tst_BetfairReplay::corruptLineDoesNotStopTheReplay()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("corrupt.jsonl"));
    QVERIFY(writeLines(path, withLine(m_expected.lines, CorruptLine, "{\"op\":\"mcm\",\"pt\":")));

    Feed clean;
    BetfairReplay reference(&clean);
    QSignalSpy referenceDone(&reference, &BetfairReplay::finished);
    QCOMPARE(reference.load(StreamFile, CatalogueFile), QString());
    reference.start(0);

    Feed feed;
    BetfairReplay replay(&feed);
    QSignalSpy skipped(&replay, &BetfairReplay::lineSkipped);
    QSignalSpy finished(&replay, &BetfairReplay::finished);
    QCOMPARE(replay.load(path, CatalogueFile), QString());
    QCOMPARE(replay.lineCount(), m_expected.lines.size() + 1);
    replay.start(FastSpeed);

    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QTRY_COMPARE(referenceDone.count(), 1);
    QCOMPARE(skipped.count(), 1);
    QCOMPARE(skipped.first().at(0).toInt(), CorruptLine);
    QVERIFY2(skipped.first().at(1).toString().contains(QLatin1String("not valid JSON")),
        qPrintable(skipped.first().at(1).toString()));
    QCOMPARE(replay.linesReplayed(), m_expected.lines.size() + 1);
    QVERIFY(feed.book() == clean.book());
    QCOMPARE(feed.book().market(BetfairIdBase)->status, MarketStatus::Closed);
}

void tst_BetfairReplay::recordedPaceIsKept()
{
    // The second line was published 1001 ms after the first.
    Feed feed;
    BetfairReplay replay(&feed);
    QCOMPARE(replay.load(StreamFile, CatalogueFile), QString());
    QElapsedTimer clock;
    clock.start();
    replay.start(1.0);
    QTRY_COMPARE(replay.linesReplayed(), 1);
    QVERIFY(feed.book().market(BetfairIdBase));
    QTest::qWait(500);
    QCOMPARE(replay.linesReplayed(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(replay.linesReplayed(), 2, 3000);
    QVERIFY2(clock.elapsed() >= 990, qPrintable(QString::number(clock.elapsed())));

    replay.stop();
    QVERIFY(!replay.isRunning());
    QTest::qWait(1200);
    QCOMPARE(replay.linesReplayed(), 2);
}

void tst_BetfairReplay::fullSpeedLetsTheEngineServe()
{
    // The recording twenty times over: each copy starts with a full image that defines the
    // market anew, so it opens again after the last copy closed it.
    constexpr int Copies = 20;
    QByteArrayList lines;
    for (int i = 0; i < Copies; ++i)
        lines += m_expected.lines;
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("long.jsonl"));
    QVERIFY(writeLines(path, lines));

    Feed feed;
    BetfairReplay replay(&feed);
    QSignalSpy progress(&replay, &BetfairReplay::progress);
    QSignalSpy finished(&replay, &BetfairReplay::finished);
    QCOMPARE(replay.load(path, CatalogueFile), QString());

    // A timer on the same thread stands for the sessions the engine serves meanwhile.
    int ticks = 0;
    QTimer other;
    connect(&other, &QTimer::timeout, this, [&ticks] { ++ticks; });
    other.start(0);
    replay.start(0);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    other.stop();

    QVERIFY2(progress.count() > 1, qPrintable(QString::number(progress.count())));
    QVERIFY2(ticks >= progress.count() - 1, qPrintable(QString::number(ticks)));
    const MarketInfo *market = feed.book().market(BetfairIdBase);
    QVERIFY(market);
    QCOMPARE(market->status, MarketStatus::Closed);
    QCOMPARE(feed.book().marketCount(), 1);
}

QTEST_GUILESS_MAIN(tst_BetfairReplay)
#include "tst_betfairreplay.moc"
