// The console binary run headless, as an operator would, with real clients: our own and
// one that shares no code with us (Python's websockets with the .proto compiled for Python).

#include "bookstore.h"
#include "feedclient.h"
#include "footballdataimporter.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>
#include <QtTest>

#include <memory>

#include <pwd.h>
#include <unistd.h>

using namespace OddsDesk;

namespace {

const QString Console = QStringLiteral(ODDSDESK_BINARY_DIR "/app/oddsdesk");
const QString Season = QStringLiteral(ODDSDESK_SHARED_DATA_DIR "/football-data_E0_2018-19.csv");
const QString Recording
    = QStringLiteral(ODDSDESK_SHARED_DATA_DIR "/betfair_stream_greyhound_WIN_1.197931750.jsonl");
const QString PythonClient = QStringLiteral(ODDSDESK_SOURCE_DIR "/tests/foreign/python_client.py");
const QString PythonProtoDir = QStringLiteral(ODDSDESK_PYTHON_PROTO_DIR);

// A headless console on a free port, stopped when the test is done with it.
class HeadlessConsole
{
public:
    explicit HeadlessConsole(const QStringList &arguments, const QString &dataDirectory = {},
        const QProcessEnvironment &environment = QProcessEnvironment::systemEnvironment())
    {
        m_process.setProgram(Console);
        m_process.setProcessEnvironment(environment);
        // Each console keeps its book in a folder of its own, gone after the test.
        m_process.setArguments(QStringList {QStringLiteral("--headless"), QStringLiteral("--port"),
                                   QStringLiteral("0"), QStringLiteral("--data"),
                                   dataDirectory.isEmpty() ? m_data.path() : dataDirectory}
            + arguments);
        m_process.start();
    }

    ~HeadlessConsole()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.terminate();
            if (!m_process.waitForFinished(5000))
                m_process.kill();
            m_process.waitForFinished(2000);
        }
    }

    /// Waits for the "listening on" line and returns its URL, or an invalid URL.
    QUrl waitForUrl(int timeoutMs = 20000)
    {
        static const QRegularExpression line(
            QStringLiteral("^listening on (ws://\\S+)$"), QRegularExpression::MultilineOption);
        return waitForLine(line, timeoutMs);
    }

    /// Waits for the "http on" line of the metrics endpoint.
    QUrl waitForHttpUrl(int timeoutMs = 20000)
    {
        static const QRegularExpression line(
            QStringLiteral("^http on (http://\\S+)$"), QRegularExpression::MultilineOption);
        return waitForLine(line, timeoutMs);
    }

    QUrl waitForLine(const QRegularExpression &line, int timeoutMs)
    {
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            m_stdout += m_process.readAllStandardOutput();
            const auto match = line.match(QString::fromUtf8(m_stdout));
            if (match.hasMatch())
                return QUrl(match.captured(1));
            if (m_process.state() == QProcess::NotRunning)
                break;
            m_process.waitForReadyRead(100);
        }
        return QUrl();
    }

    QProcess &process() { return m_process; }
    QString errors() { return QString::fromUtf8(m_process.readAllStandardError()); }

private:
    QTemporaryDir m_data;
    QProcess m_process;
    QByteArray m_stdout;
};

/// Connects a client to \a console and waits for its snapshot: the book it got, or false
/// (with the console's errors in \a why) when none came within ten seconds.
bool receiveSnapshot(HeadlessConsole &console, Book *book, QString *why)
{
    const QUrl url = console.waitForUrl();
    if (!url.isValid()) {
        *why = console.errors();
        return false;
    }
    FeedClientConfig config;
    config.url = url;
    FeedClient client(config);
    client.start();
    const bool received = QTest::qWaitFor([&client] { return client.hasBook(); }, 10000);
    if (received)
        *book = client.book();
    else
        *why = QStringLiteral("no snapshot from %1: %2").arg(url.toString(), console.errors());
    client.stop();
    return received;
}

// A season file of one match, Man United v Leicester, in \a dir; its path, or empty.
QString writeOneMatchSeason(const QTemporaryDir &dir)
{
    const QString path = dir.filePath(QStringLiteral("season.csv"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return QString();
    file.write("Div,Date,HomeTeam,AwayTeam,B365H,B365D,B365A,BbAv>2.5,BbAv<2.5\n"
               "E0,10/08/2018,Man United,Leicester,1.57,3.9,7.5,2.03,1.79\n");
    return path;
}

/// How a console given a command line it should refuse ended.
struct Refusal
{
    int exitCode = -1;
    QString errors;
    bool listened = false;
};

/// Runs a headless console with \a arguments after its own folder and free ports: a mistake
/// that were taken for a good command line would start a console, which must touch neither
/// the user's book nor the default ports.
Refusal runRefused(const QStringList &arguments)
{
    QTemporaryDir data;
    QProcess process;
    process.start(Console,
        QStringList {QStringLiteral("--headless"), QStringLiteral("--data"), data.path(),
            QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--http-port"),
            QStringLiteral("-1")}
            + arguments);
    Refusal refusal;
    if (!process.waitForFinished(20000)) {
        process.kill();
        process.waitForFinished();
        refusal.errors = QStringLiteral("still running after 20 s");
    } else {
        refusal.exitCode = process.exitCode();
        refusal.errors = QString::fromUtf8(process.readAllStandardError());
    }
    refusal.listened = process.readAllStandardOutput().contains("listening on");
    return refusal;
}

} // namespace

class tst_Headless : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void servesTheImportedSeason();
    void importListsSkippedRowsApartFromKeptOnes();
    void auditNamesTheLogin_data();
    void auditNamesTheLogin();
    void importWithoutEventsKeepsTheStoredBook_data();
    void importWithoutEventsKeepsTheStoredBook();
    void foreignClientUnderstandsTheFeed_data();
    void foreignClientUnderstandsTheFeed();
    void simulatedDeltasAreConsecutive();
    void terminationClosesWithGoingAway();
    void metricsEndpointForOperators();
    void bodyOnAGetIsRefused_data();
    void bodyOnAGetIsRefused();
    void refusalsAreCountedAndLoggedSparingly();
    void replaysTheExchangeRecording();
    void replayOfOneLineCountsOneLine();
    void replayThatCannotLoadStopsTheConsole_data();
    void replayThatCannotLoadStopsTheConsole();
    void problemsAreToldOnce_data();
    void problemsAreToldOnce();
    void killedConsoleRestartsWithWhatClientsHad();
    void tokensFromTheConsoleOpenTheFeed();
    void badCommandLine_data();
    void badCommandLine();
    void wholeNumbersAreDigits_data();
    void wholeNumbersAreDigits();
    void publishIntervalIsOffOrFromItsFirstStep_data();
    void publishIntervalIsOffOrFromItsFirstStep();
    void helpGivesThePublishIntervalRange();
    void noDisplayNeededWithoutAWindow_data();
    void noDisplayNeededWithoutAWindow();
    void everyFlagIsInTheReadme();
    void helpNamesEveryBookmaker();
    void bookmakerIsCheckedBeforeTheFile_data();
    void bookmakerIsCheckedBeforeTheFile();
    void sessionManagerArgumentIsLeftToQt();

private:
    QTemporaryDir m_files;
    QString m_keyPath; // a usable authentication key, for rows that need one
};

void tst_Headless::initTestCase()
{
    QVERIFY(m_files.isValid());
    m_keyPath = m_files.filePath(QStringLiteral("feed.key"));
    QFile key(m_keyPath);
    QVERIFY(key.open(QIODevice::WriteOnly));
    key.write(QByteArray(40, 'k'));
}

void tst_Headless::servesTheImportedSeason()
{
    HeadlessConsole console({QStringLiteral("--import"), Season});
    const QUrl url = console.waitForUrl();
    QVERIFY2(url.isValid(), qPrintable(console.errors()));
    QCOMPARE(url.host(), QStringLiteral("127.0.0.1"));

    Book book;
    QString why;
    QVERIFY2(receiveSnapshot(console, &book, &why), qPrintable(why));
    QCOMPARE(book.eventCount(), 380);
    QCOMPARE(book.marketCount(), 760);
    const EventInfo *first = book.event(1);
    QVERIFY(first);
    QCOMPARE(first->name, QStringLiteral("Man United v Leicester"));
    QVector<Price> x12;
    QVector<Price> ou;
    for (const MarketInfo &market : book.markets()) {
        if (market.eventId != first->id)
            continue;
        for (const SelectionInfo &s : market.selections)
            (market.kind == QLatin1String("1x2") ? x12 : ou).append(s.price);
    }
    QCOMPARE(x12, (QVector<Price> {157, 390, 750}));
    QCOMPARE(ou, (QVector<Price> {203, 179}));
}

// A row imported without its over/under market was not skipped, and the console does not say
// it was; the summary counts each kind, in words that agree with the count.
void tst_Headless::importListsSkippedRowsApartFromKeptOnes()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("season.csv"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("Div,Date,HomeTeam,AwayTeam,B365H,B365D,B365A,BbAv>2.5,BbAv<2.5\n"
               "E0,10/08/2018,Man United,Leicester,1.57,3.9,7.5,2.03,1.79\n"
               "E0,11/08/2018,Fulham,Crystal Palace,2.505,3.4,3,2.0,1.87\n"
               "E0,11/08/2018,Watford,Brighton,2.1,3.3,3.75,,1.75\n");
    file.close();

    HeadlessConsole console({QStringLiteral("--import"), path});
    // QVERIFY2 reads its message even when it passes: what is read here is kept.
    const bool listening = console.waitForUrl().isValid();
    QString errors = console.errors();
    QVERIFY2(listening, qPrintable(errors));
    // The import's lines come before the listening line, but on another pipe.
    QTRY_VERIFY2_WITH_TIMEOUT((errors += console.errors()).contains(QStringLiteral("imported ")),
        qPrintable(errors), 10000);
    QVERIFY2(
        errors.contains(path + QStringLiteral(":3: skipped: The home price")), qPrintable(errors));
    QVERIFY2(errors.contains(path
                 + QStringLiteral(":4: warning: Imported without its over/under "
                                  "2.5 market")),
        qPrintable(errors));
    QVERIFY2(!errors.contains(path + QStringLiteral(":4: skipped")), qPrintable(errors));
    QVERIFY2(errors.contains(QStringLiteral("imported 2 events and 3 markets from %1 (1 row "
                                            "skipped, 1 warning, listed above)")
                                 .arg(path)),
        qPrintable(errors));
}

void tst_Headless::auditNamesTheLogin_data()
{
    QTest::addColumn<QString>("user"); // empty: not set
    QTest::addColumn<QString>("logname");
    QTest::addColumn<QString>("expected");

    const passwd *entry = getpwuid(geteuid());
    QVERIFY(entry);
    QTest::newRow("USER") << "alice"
                          << "bob"
                          << "alice";
    QTest::newRow("LOGNAME, without USER") << ""
                                           << "bob"
                                           << "bob";
    QTest::newRow("neither: the password database") << ""
                                                    << "" << QString::fromLocal8Bit(entry->pw_name);
}

// The audit log names the desk's login, also where the environment does not say it (a
// container, a service): it said "desk" for a console run as root without USER.
void tst_Headless::auditNamesTheLogin()
{
    QFETCH(QString, user);
    QFETCH(QString, logname);
    QFETCH(QString, expected);

    QTemporaryDir dir;
    const QString path = writeOneMatchSeason(dir);
    QVERIFY(!path.isEmpty());

    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("USER"));
    environment.remove(QStringLiteral("LOGNAME"));
    if (!user.isEmpty())
        environment.insert(QStringLiteral("USER"), user);
    if (!logname.isEmpty())
        environment.insert(QStringLiteral("LOGNAME"), logname);
    const QString data = dir.filePath(QStringLiteral("data"));
    {
        HeadlessConsole console(
            {QStringLiteral("--http-port"), QStringLiteral("-1"), QStringLiteral("--import"), path},
            data, environment);
        QVERIFY2(console.waitForUrl().isValid(), qPrintable(console.errors()));
    }

    // The import is the audited change a console makes at start.
    BookStore store;
    QVERIFY2(store.open(data), qPrintable(store.errorString()));
    const QVector<AuditEntry> entries = store.audit(AuditFilter {});
    QCOMPARE(entries.size(), 1);
    QCOMPARE(entries.first().source, QStringLiteral("import"));
    QCOMPARE(entries.first().user, expected);
}

void tst_Headless::importWithoutEventsKeepsTheStoredBook_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("message");

    const QByteArray header = "Div,Date,HomeTeam,AwayTeam,B365H,B365D,B365A,BbAv>2.5,BbAv<2.5\n";
    QTest::newRow("only an unreadable row") << header + "E0,xx/08/2018,A,B,2,3,4,1.9,1.9\n"
                                            << "its only row could not be read";
    QTest::newRow("header alone") << header << "no match rows";
}

// An import that yields no event is refused like an unreadable file: the console does not
// start, and the book stored by an earlier import is still there on the next start.
void tst_Headless::importWithoutEventsKeepsTheStoredBook()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, message);

    QTemporaryDir data;
    {
        HeadlessConsole console({QStringLiteral("--import"), Season}, data.path());
        QVERIFY2(console.waitForUrl().isValid(), qPrintable(console.errors()));
    }

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("allbad.csv"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(content);
    file.close();
    {
        HeadlessConsole console({QStringLiteral("--import"), path}, data.path());
        QVERIFY(console.process().waitForFinished(20000));
        QCOMPARE(console.process().exitCode(), 1);
        const QString errors = console.errors();
        QVERIFY2(errors.contains(path) && errors.contains(message), qPrintable(errors));
        QVERIFY(!console.process().readAllStandardOutput().contains("listening on"));
    }

    HeadlessConsole restarted({}, data.path());
    Book book;
    QString why;
    QVERIFY2(receiveSnapshot(restarted, &book, &why), qPrintable(why));
    QCOMPARE(book.eventCount(), 380);
}

void tst_Headless::foreignClientUnderstandsTheFeed_data()
{
    QTest::addColumn<QString>("mode");
    QTest::newRow("json subprotocol") << "json";
    QTest::newRow("binary subprotocol") << "binary";
}

void tst_Headless::foreignClientUnderstandsTheFeed()
{
    QFETCH(QString, mode);
    HeadlessConsole console({QStringLiteral("--import"), Season});
    const QUrl url = console.waitForUrl();
    QVERIFY2(url.isValid(), qPrintable(console.errors()));

    QProcess python;
    python.start(QStringLiteral("/usr/bin/python3"),
        {PythonClient, url.toString(), mode, PythonProtoDir, QStringLiteral("--expect-events"),
            QStringLiteral("380"), QStringLiteral("--expect-markets"), QStringLiteral("760"),
            QStringLiteral("--first-match"), QStringLiteral("Man United v Leicester"),
            QStringLiteral("--first-1x2"), QStringLiteral("1.57,3.90,7.50"),
            QStringLiteral("--first-ou"), QStringLiteral("2.03,1.79")});
    QVERIFY(python.waitForFinished(30000));
    const QString output = QString::fromUtf8(python.readAllStandardOutput());
    const QString errors = QString::fromUtf8(python.readAllStandardError());
    QVERIFY2(python.exitCode() == 0, qPrintable(output + errors));
    QVERIFY(output.contains(QStringLiteral("\"events\": 380")));
}

void tst_Headless::simulatedDeltasAreConsecutive()
{
    HeadlessConsole console(
        {QStringLiteral("--simulate"), QStringLiteral("--simulate-rate"), QStringLiteral("400")});
    const QUrl url = console.waitForUrl();
    QVERIFY2(url.isValid(), qPrintable(console.errors()));

    QProcess python;
    python.start(QStringLiteral("/usr/bin/python3"),
        {PythonClient, url.toString(), QStringLiteral("binary"), PythonProtoDir,
            QStringLiteral("--deltas"), QStringLiteral("100")});
    QVERIFY(python.waitForFinished(30000));
    QVERIFY2(python.exitCode() == 0, qPrintable(QString::fromUtf8(python.readAllStandardError())));

    FeedClientConfig config;
    config.url = url;
    FeedClient client(config);
    QSignalSpy deltas(&client, &FeedClient::deltaApplied);
    client.start();
    QTRY_VERIFY_WITH_TIMEOUT(deltas.count() >= 100, 10000);
    QCOMPARE(client.stats().gaps, 0u);
    QCOMPARE(client.stats().duplicates, 0u);
    client.stop();
}

void tst_Headless::terminationClosesWithGoingAway()
{
    HeadlessConsole console({});
    const QUrl url = console.waitForUrl();
    QVERIFY2(url.isValid(), qPrintable(console.errors()));

    FeedClientConfig config;
    config.url = url;
    config.autoReconnect = false;
    FeedClient client(config);
    QSignalSpy closed(&client, &FeedClient::disconnected);
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(client.stats().snapshots, 1u, 10000);

    console.process().terminate(); // SIGTERM
    QTRY_COMPARE_WITH_TIMEOUT(closed.count(), 1, 10000);
    QCOMPARE(closed.first().at(0).toInt(), 1001);
    // The finished signal may already have been handled while we waited for the close.
    QTRY_COMPARE_WITH_TIMEOUT(console.process().state(), QProcess::NotRunning, 10000);
    QCOMPARE(console.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(console.process().exitCode(), 0);
}

namespace {

struct HttpAnswer
{
    int status = 0;
    QByteArray body;
    QByteArray allow; // the Allow header
};

HttpAnswer fetch(QNetworkAccessManager &network, const QUrl &url, const QByteArray &post = {})
{
    QNetworkRequest request(url);
    QNetworkReply *reply = post.isNull() ? network.get(request) : network.post(request, post);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    finished.wait(10000);
    HttpAnswer answer {reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
        reply->readAll(), reply->rawHeader("Allow")};
    reply->deleteLater();
    return answer;
}

} // namespace

void tst_Headless::metricsEndpointForOperators()
{
    HeadlessConsole console({QStringLiteral("--http-port"), QStringLiteral("0"),
        QStringLiteral("--simulate"), QStringLiteral("--simulate-rate"), QStringLiteral("200")});
    const QUrl url = console.waitForUrl();
    QVERIFY2(url.isValid(), qPrintable(console.errors()));
    const QUrl http = console.waitForHttpUrl();
    QVERIFY(http.isValid());
    QCOMPARE(http.host(), QStringLiteral("127.0.0.1"));

    std::vector<std::unique_ptr<FeedClient>> clients;
    for (int i = 0; i < 3; ++i) {
        FeedClientConfig config;
        config.url = url;
        clients.push_back(std::make_unique<FeedClient>(config));
        clients.back()->start();
    }
    for (const auto &c : clients)
        QTRY_VERIFY_WITH_TIMEOUT(c->stats().deltasApplied > 5, 10000);
    QTest::qWait(600); // two metric intervals

    QNetworkAccessManager network;
    const HttpAnswer metrics = fetch(network, http.resolved(QUrl(QStringLiteral("/metrics"))));
    QCOMPARE(metrics.status, 200);
    QVERIFY2(metrics.body.contains("oddsdesk_sessions{state=\"connected\"} 3\n"),
        metrics.body.constData());
    QVERIFY(metrics.body.contains("oddsdesk_delivery_latency_seconds_count "));
    QVERIFY(!metrics.body.contains("oddsdesk_delivery_latency_seconds_count 0\n"));

    // The format is what Prometheus' own checker accepts.
    QProcess promtool;
    promtool.start(
        QStringLiteral("promtool"), {QStringLiteral("check"), QStringLiteral("metrics")});
    QVERIFY2(promtool.waitForStarted(5000), "promtool (Debian's prometheus package) is missing");
    promtool.write(metrics.body);
    promtool.closeWriteChannel();
    QVERIFY(promtool.waitForFinished(10000));
    QVERIFY2(promtool.exitCode() == 0,
        qPrintable(
            QString::fromUtf8(promtool.readAllStandardOutput() + promtool.readAllStandardError())));

    QCOMPARE(fetch(network, http.resolved(QUrl(QStringLiteral("/healthz")))).status, 200);
    // The browser client, from the program itself, and where it finds the feed.
    const HttpAnswer page = fetch(network, http.resolved(QUrl(QStringLiteral("/"))));
    QCOMPARE(page.status, 200);
    QVERIFY(page.body.contains("<title>OddsDesk live odds</title>"));
    QVERIFY(page.body.contains("src=\"app.js\""));
    const HttpAnswer script = fetch(network, http.resolved(QUrl(QStringLiteral("/app.js"))));
    QCOMPARE(script.status, 200);
    QVERIFY(script.body.contains("oddsdesk.v1+json"));
    const HttpAnswer feed = fetch(network, http.resolved(QUrl(QStringLiteral("/feed.json"))));
    QCOMPARE(feed.status, 200);
    QCOMPARE(QJsonDocument::fromJson(feed.body).object().value(QStringLiteral("url")).toString(),
        url.toString());
    QCOMPARE(fetch(network, http.resolved(QUrl(QStringLiteral("/admin")))).status, 404);
    // A served address asked with another method is told which one it takes.
    const HttpAnswer posted
        = fetch(network, http.resolved(QUrl(QStringLiteral("/metrics"))), QByteArray("x=1"));
    QCOMPARE(posted.status, 405);
    QCOMPARE(posted.allow, QByteArray("GET"));
    const HttpAnswer postedElsewhere
        = fetch(network, http.resolved(QUrl(QStringLiteral("/admin"))), QByteArray("x=1"));
    QCOMPARE(postedElsewhere.status, 404);
    for (const auto &c : clients)
        c->stop();
}

void tst_Headless::bodyOnAGetIsRefused_data()
{
    QTest::addColumn<int>("bodyBytes");
    QTest::addColumn<QByteArray>("statusLine");
    QTest::addColumn<QByteArray>("reason");

    QTest::newRow("a few bytes") << 3 << QByteArray("HTTP/1.1 400 ")
                                 << QByteArray("a GET to this endpoint carries no body");
    QTest::newRow("far more than a slip") << 64 * 1024 << QByteArray("HTTP/1.1 413 ")
                                          << QByteArray("carry no body, and this one is too large");
}

// A GET that carries a body is refused; only a body far past any slip is called too large.
// Sent as bytes on a socket, as curl --data would: Qt's network access sends no body with a
// GET.
void tst_Headless::bodyOnAGetIsRefused()
{
    QFETCH(int, bodyBytes);
    QFETCH(QByteArray, statusLine);
    QFETCH(QByteArray, reason);

    HeadlessConsole console({QStringLiteral("--http-port"), QStringLiteral("0")});
    const QUrl http = console.waitForHttpUrl();
    QVERIFY2(http.isValid(), qPrintable(console.errors()));

    QTcpSocket socket;
    socket.connectToHost(QHostAddress(http.host()), quint16(http.port()));
    QVERIFY(socket.waitForConnected(5000));
    socket.write("GET /healthz HTTP/1.1\r\nHost: " + http.authority().toLatin1()
        + "\r\nContent-Length: " + QByteArray::number(bodyBytes) + "\r\nConnection: close\r\n\r\n"
        + QByteArray(bodyBytes, 'x'));
    QByteArray answer;
    QElapsedTimer timer;
    timer.start();
    while (!answer.contains(reason) && timer.elapsed() < 10000) {
        socket.waitForReadyRead(100);
        answer += socket.readAll();
    }
    QVERIFY2(answer.startsWith(statusLine), answer.constData());
    QVERIFY2(answer.contains(reason), answer.constData());
}

void tst_Headless::refusalsAreCountedAndLoggedSparingly()
{
    HeadlessConsole console({QStringLiteral("--http-port"), QStringLiteral("0"),
        QStringLiteral("--max-hellos-per-second-per-address"), QStringLiteral("1"),
        QStringLiteral("--max-message-bytes"), QStringLiteral("2048")});
    const QUrl url = console.waitForUrl();
    QVERIFY2(url.isValid(), qPrintable(console.errors()));
    const QUrl http = console.waitForHttpUrl();
    QVERIFY(http.isValid());

    // Forty hellos at once from one address: the burst of twenty is served, the rest refused.
    std::vector<std::unique_ptr<QWebSocket>> sockets;
    int closed = 0;
    for (int i = 0; i < 40; ++i) {
        sockets.push_back(std::make_unique<QWebSocket>());
        QWebSocket *socket = sockets.back().get();
        connect(socket, &QWebSocket::connected, socket, [socket] {
            socket->sendBinaryMessage(QByteArray("\x0a\x02\x08\x01", 4)); // hello, version 1
        });
        connect(socket, &QWebSocket::disconnected, this, [&closed] { ++closed; });
        socket->open(url);
    }
    QTRY_VERIFY_WITH_TIMEOUT(closed >= 20, 20000);
    // One that tries to write to the book, and one too large.
    QWebSocket writer;
    QSignalSpy writerClosed(&writer, &QWebSocket::disconnected);
    connect(&writer, &QWebSocket::connected, &writer,
        [&writer] { writer.sendTextMessage(QStringLiteral("{\"change\":{\"marketId\":1}}")); });
    QWebSocketHandshakeOptions json;
    json.setSubprotocols({QStringLiteral("oddsdesk.v1+json")});
    writer.open(QNetworkRequest(url), json);
    QTRY_COMPARE_WITH_TIMEOUT(writerClosed.count(), 1, 10000);
    QCOMPARE(int(writer.closeCode()), 1008);
    QWebSocket big;
    QSignalSpy bigClosed(&big, &QWebSocket::disconnected);
    connect(&big, &QWebSocket::connected, &big,
        [&big] { big.sendBinaryMessage(QByteArray(4096, 'x')); });
    big.open(url);
    QTRY_COMPARE_WITH_TIMEOUT(bigClosed.count(), 1, 10000);
    QCOMPARE(int(big.closeCode()), 1009);

    QNetworkAccessManager network;
    QByteArray body;
    QTRY_VERIFY_WITH_TIMEOUT(
        (body = fetch(network, http.resolved(QUrl(QStringLiteral("/metrics")))).body)
            .contains("oddsdesk_refusals_total{reason=\"too_big\"} 1\n"),
        10000);
    QVERIFY2(body.contains("oddsdesk_refusals_total{reason=\"not_a_client_message\"} 1\n"),
        body.constData());
    const QRegularExpression helloRate(
        QStringLiteral("oddsdesk_refusals_total\\{reason=\"hello_rate\"\\} (\\d+)\\n"));
    const QRegularExpressionMatch refused = helloRate.match(QString::fromUtf8(body));
    QVERIFY2(refused.hasMatch(), body.constData());
    QVERIFY2(refused.captured(1).toInt() >= 15, qPrintable(refused.captured(1)));

    // Twenty refused hellos, a line in the log for each second they took (one, unless the
    // machine is very slow).
    const QString log = console.errors();
    const qsizetype lines = log.count(QStringLiteral("refusing a hello"));
    QVERIFY2(lines >= 1 && lines <= 3, qPrintable(log));
    QVERIFY2(log.contains(QStringLiteral("can never change the book")), qPrintable(log));
}

void tst_Headless::replaysTheExchangeRecording()
{
    HeadlessConsole console(
        {QStringLiteral("--replay"), Recording, QStringLiteral("--speed"), QStringLiteral("200")});
    const QUrl url = console.waitForUrl();
    QVERIFY2(url.isValid(), qPrintable(console.errors()));

    FeedClientConfig config;
    config.url = url;
    FeedClient client(config);
    QList<MarketStatus> seen;
    connect(&client, &FeedClient::deltaApplied, this, [&](const BookChanges &changes) {
        for (const BookChange &c : changes) {
            if (c.kind == BookChange::Kind::Status)
                seen.append(c.status);
        }
    });
    client.start();
    // 323 recorded seconds at 200 times the pace: under two seconds.
    QTRY_VERIFY_WITH_TIMEOUT(seen.contains(MarketStatus::Closed), 15000);
    const MarketInfo *race = nullptr;
    for (const MarketInfo &m : client.book().markets()) {
        if (m.kind == QLatin1String("win"))
            race = &m;
    }
    QVERIFY(race);
    QCOMPARE(race->selections.size(), 6);
    QCOMPARE(race->status, MarketStatus::Closed);
    int winners = 0;
    for (const SelectionInfo &s : race->selections) {
        if (s.winner) {
            ++winners;
            QVERIFY2(s.name.contains(QStringLiteral("Sandwood Jet")), qPrintable(s.name));
        }
    }
    QCOMPARE(winners, 1);
    QVERIFY(seen.indexOf(MarketStatus::Suspended) < seen.indexOf(MarketStatus::Closed));
    client.stop();
}

// The console counts what it replays in words that agree with the count.
void tst_Headless::replayOfOneLineCountsOneLine()
{
    QFile recording(Recording);
    QVERIFY(recording.open(QIODevice::ReadOnly));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("stream.jsonl"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(recording.readLine()); // the market's first definition
    file.close();

    HeadlessConsole console({QStringLiteral("--http-port"), QStringLiteral("-1"),
        QStringLiteral("--replay"), path, QStringLiteral("--speed"), QStringLiteral("0")});
    // What the console wrote before it listened is kept: "replaying ... (1 line)" may be
    // among it, and errors() hands each line out once.
    const bool listening = console.waitForUrl().isValid();
    QString errors = console.errors();
    QVERIFY2(listening, qPrintable(errors));
    QTRY_VERIFY2_WITH_TIMEOUT(
        (errors += console.errors()).contains(QStringLiteral("replay finished: 1 line\n")),
        qPrintable(errors), 10000);
    QVERIFY2(errors.contains(QStringLiteral("stream.jsonl (1 line)")), qPrintable(errors));
}

void tst_Headless::replayThatCannotLoadStopsTheConsole_data()
{
    QTest::addColumn<QByteArray>("recording"); // empty: the real recording
    QTest::addColumn<QByteArray>("catalogue"); // empty: none given
    QTest::addColumn<QString>("message");

    QTest::newRow("catalogue not JSON")
        << QByteArray() << QByteArray("not a catalogue") << "cannot be used";
    QTest::newRow("recording without messages")
        << QByteArray("\n\n") << QByteArray() << "holds no messages";
    QTest::newRow("recording without a market change")
        << QByteArray("garbage\n{\"op\":\"status\"}\n") << QByteArray()
        << "none of its 2 lines is a market change the replay can use. Line 1: The line is not "
           "valid JSON";
}

// What is wrong inside a recording or its catalogue is found when the replay loads it; a
// headless console then stops as it does for a recording it cannot read, before it listens:
// a script waiting for its "listening on" line must not take it for started.
void tst_Headless::replayThatCannotLoadStopsTheConsole()
{
    QFETCH(QByteArray, recording);
    QFETCH(QByteArray, catalogue);
    QFETCH(QString, message);

    QTemporaryDir dir;
    QStringList arguments {QStringLiteral("--http-port"), QStringLiteral("-1")};
    QString recordingPath = Recording;
    if (!recording.isEmpty()) {
        recordingPath = dir.filePath(QStringLiteral("stream.jsonl"));
        QFile file(recordingPath);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(recording);
    }
    arguments << QStringLiteral("--replay") << recordingPath;
    if (!catalogue.isEmpty()) {
        const QString cataloguePath = dir.filePath(QStringLiteral("catalogue.json"));
        QFile file(cataloguePath);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(catalogue);
        arguments << QStringLiteral("--catalogue") << cataloguePath;
    }

    HeadlessConsole console(arguments);
    QVERIFY(console.process().waitForFinished(20000));
    QCOMPARE(console.process().exitCode(), 2);
    const QString errors = console.errors();
    QVERIFY2(errors.contains(message), qPrintable(errors));
    const QByteArray out = console.process().readAllStandardOutput();
    QVERIFY2(!out.contains("listening on"), out.constData());
}

void tst_Headless::problemsAreToldOnce_data()
{
    QTest::addColumn<QString>("problem"); // "store" or "replay"
    QTest::addColumn<QString>("sentence");

    QTest::newRow("a damaged database")
        << "store"
        << "oddsdesk.sqlite is not an OddsDesk database or is damaged";
    QTest::newRow("a replayed line that cannot be used") << "replay"
                                                         << "line 2 skipped";
}

// What stops the console, or what a replay leaves out, is said on standard error once: the
// store and the replay leave it to the console, which says it in its own voice. Both used to
// log it as well ("oddsdesk.engine.store: ...", "oddsdesk.engine.replay: ...").
void tst_Headless::problemsAreToldOnce()
{
    QFETCH(QString, problem);
    QFETCH(QString, sentence);

    QTemporaryDir data;
    QTemporaryDir dir;
    QStringList arguments {QStringLiteral("--http-port"), QStringLiteral("-1")};
    if (problem == QLatin1String("store")) {
        QFile database(data.filePath(QStringLiteral("oddsdesk.sqlite")));
        QVERIFY(database.open(QIODevice::WriteOnly));
        database.write(QByteArray("id,price\r\n1,2.50\r\n").repeated(50));
    } else {
        QFile recording(Recording);
        QVERIFY(recording.open(QIODevice::ReadOnly));
        const QString path = dir.filePath(QStringLiteral("stream.jsonl"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(recording.readLine() + "garbage\n");
        file.close();
        arguments << QStringLiteral("--replay") << path << QStringLiteral("--speed")
                  << QStringLiteral("0");
    }

    HeadlessConsole console(arguments, data.path());
    QString errors;
    if (problem == QLatin1String("store")) {
        QVERIFY(console.process().waitForFinished(20000));
        errors = console.errors();
        QVERIFY2(console.process().exitCode() == 1, qPrintable(errors));
    } else {
        QTRY_VERIFY2_WITH_TIMEOUT(
            (errors += console.errors())
                .contains(QStringLiteral("replay finished: 2 lines, 1 skipped, 0 changes refused")),
            qPrintable(errors), 20000);
    }
    QVERIFY2(errors.count(sentence) == 1, qPrintable(errors));
}

void tst_Headless::killedConsoleRestartsWithWhatClientsHad()
{
    QTemporaryDir data;
    Book seen;
    quint64 lastSequence = 0;
    QString firstEpoch;
    {
        HeadlessConsole console({QStringLiteral("--simulate"), QStringLiteral("--simulate-rate"),
                                    QStringLiteral("500")},
            data.path());
        const QUrl url = console.waitForUrl();
        QVERIFY2(url.isValid(), qPrintable(console.errors()));
        FeedClientConfig config;
        config.url = url;
        config.autoReconnect = false;
        FeedClient client(config);
        client.start();
        QTRY_VERIFY_WITH_TIMEOUT(client.stats().deltasApplied > 20, 10000);

        // Killed mid-burst, at a moment the test does not choose.
        QTest::qWait(200 + int(QRandomGenerator::global()->bounded(800)));
        console.process().kill();
        QTRY_VERIFY_WITH_TIMEOUT(client.state() == FeedClient::State::Closed, 10000);
        seen = client.book();
        lastSequence = client.lastSequence();
        firstEpoch = client.epoch();
        QVERIFY(lastSequence > 20);
    }

    HeadlessConsole restarted({}, data.path());
    const QUrl url = restarted.waitForUrl();
    QVERIFY2(url.isValid(), qPrintable(restarted.errors()));
    FeedClientConfig config;
    config.url = url;
    FeedClient client(config);
    client.start();
    QTRY_VERIFY_WITH_TIMEOUT(client.stats().snapshots == 1, 10000);

    // Every edit that reached the client is there. A flush is stored before it is sent, so
    // the one batch in flight at the kill (stored, sent, not yet received) may be there too:
    // at most one flush interval of simulated changes, never a gap the client missed.
    QVERIFY2(client.lastSequence() >= lastSequence,
        qPrintable(QStringLiteral("%1 < %2").arg(client.lastSequence()).arg(lastSequence)));
    // 500 changes a second flushed every 10 ms: one batch holds a handful.
    QVERIFY2(client.lastSequence() - lastSequence <= 50,
        qPrintable(QStringLiteral("%1 > %2").arg(client.lastSequence()).arg(lastSequence)));
    if (client.lastSequence() == lastSequence)
        QVERIFY(client.book() == seen);
    // Continuity could not be promised across the kill: a new epoch, sequences carry on.
    QVERIFY(client.epoch() != firstEpoch);
    client.stop();
}

void tst_Headless::tokensFromTheConsoleOpenTheFeed()
{
    QTemporaryDir dir;
    const QString keyPath = dir.filePath(QStringLiteral("feed.key"));
    QFile key(keyPath);
    QVERIFY(key.open(QIODevice::WriteOnly));
    quint32 secret[10];
    QRandomGenerator::global()->fillRange(secret); // 40 random bytes
    key.write(reinterpret_cast<const char *>(secret), sizeof(secret));
    key.close();

    QProcess issue;
    issue.start(Console,
        {QStringLiteral("--headless"), QStringLiteral("--auth-key-file"), keyPath,
            QStringLiteral("--issue-token"), QStringLiteral("alice"), QStringLiteral("--valid-for"),
            QStringLiteral("600")});
    QVERIFY(issue.waitForFinished(10000));
    QCOMPARE(issue.exitCode(), 0);
    const QString token = QString::fromUtf8(issue.readAllStandardOutput()).trimmed();
    QVERIFY(token.contains(QLatin1Char('.')));

    HeadlessConsole console({QStringLiteral("--auth-key-file"), keyPath});
    const QUrl url = console.waitForUrl();
    QVERIFY2(url.isValid(), qPrintable(console.errors()));

    FeedClientConfig config;
    config.url = url;
    config.autoReconnect = false;
    FeedClient stranger(config);
    QSignalSpy refused(&stranger, &FeedClient::disconnected);
    stranger.start();
    QTRY_COMPARE_WITH_TIMEOUT(refused.count(), 1, 10000);
    QCOMPARE(refused.first().at(0).toInt(), 1008);
    QCOMPARE(stranger.stats().snapshots, 0u);

    config.authToken = token;
    FeedClient alice(config);
    alice.start();
    QTRY_COMPARE_WITH_TIMEOUT(alice.stats().snapshots, 1u, 10000);
    alice.stop();
}

void tst_Headless::badCommandLine_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");

    QTest::newRow("port not a number") << QStringList {"--port", "abc"} << "--port takes";
    QTest::newRow("port too large") << QStringList {"--port", "70000"} << "--port takes";
    QTest::newRow("bind not an address") << QStringList {"--bind", "nowhere"} << "--bind takes";
    QTest::newRow("simulate rate zero")
        << QStringList {"--simulate-rate", "0"} << "--simulate-rate";
    QTest::newRow("unknown flag") << QStringList {"--frobnicate"} << "frobnicate";
    QTest::newRow("unknown flag, as typed, and where to look") << QStringList {
        "--frobnicate=1"} << "--frobnicate is not an option of the console; see --help";
    QTest::newRow("flag without its value")
        << QStringList {"--import"} << "'--import'. See --help.";
    QTest::newRow("http port not a number") << QStringList {"--http-port", "x"} << "--http-port";
    QTest::newRow("replay speed not a number")
        << QStringList {"--speed", "fast"} << "--speed takes";
    QTest::newRow("replay speed not a number, as Qt reads one") << QStringList {"--replay",
        Recording, "--speed", "nan"} << "--speed takes a number from 0 to 100000, not \"nan\"";
    QTest::newRow("missing recording")
        << QStringList {"--replay", "/nonexistent/stream.jsonl"}
        << "cannot read the recording /nonexistent/stream.jsonl: No such file or directory";
    QTest::newRow("recording is a folder")
        << QStringList {"--replay", ODDSDESK_SHARED_DATA_DIR} << "is a folder, not a file";
    QTest::newRow("missing catalogue")
        << QStringList {"--replay", Recording, "--catalogue", "/nonexistent/catalogue.json"}
        << "cannot read the catalogue /nonexistent/catalogue.json: No such file or directory";
    QTest::newRow("missing key file")
        << QStringList {"--auth-key-file", "/nonexistent/feed.key"} << "/nonexistent/feed.key";
    QTest::newRow("token without a key")
        << QStringList {"--issue-token", "bob"} << "--auth-key-file";
    QTest::newRow("data folder is a file")
        << QStringList {"--data", m_keyPath}
        << QStringLiteral("The data directory %1 is a file, not a folder").arg(m_keyPath);
    QTest::newRow("missing import file")
        << QStringList {"--import", "/nonexistent/season.csv"} << "/nonexistent/season.csv";
    QTest::newRow("unknown event loop")
        << QStringList {"--event-loop", "glib"} << "--event-loop takes epoll or qt";
    QTest::newRow("negative ack pace") << QStringList {"--ack-pace-ms", "-5"} << "--ack-pace-ms";
    QTest::newRow("negative publish interval")
        << QStringList {"--max-publish-interval-ms", "-1"} << "--max-publish-interval-ms";
    QTest::newRow("publish interval not a number")
        << QStringList {"--max-publish-interval-ms", "soon"} << "--max-publish-interval-ms";

    // An empty value is a mistake, not the option left out.
    QTest::newRow("empty token user") << QStringList {"--issue-token", "", "--auth-key-file",
        m_keyPath} << "--issue-token needs USER";
    QTest::newRow("empty key file")
        << QStringList {"--auth-key-file", ""} << "--auth-key-file needs PATH";
    QTest::newRow("empty recording") << QStringList {"--replay", ""} << "--replay needs PATH";
    QTest::newRow("empty catalogue")
        << QStringList {"--replay", Recording, "--catalogue", ""} << "--catalogue needs PATH";
    QTest::newRow("empty certificate")
        << QStringList {"--tls-cert", "", "--tls-key", ""} << "--tls-cert needs PATH";
    QTest::newRow("no origin in the list")
        << QStringList {"--allowed-origins", " , "} << "--allowed-origins needs";

    // Options that only shape another one's work are refused without it.
    QTest::newRow("bookmaker without import")
        << QStringList {"--bookmaker", "PS"} << "--bookmaker needs --import";
    QTest::newRow("speed without replay")
        << QStringList {"--speed", "2"} << "--speed needs --replay";
    QTest::newRow("catalogue without replay")
        << QStringList {"--catalogue", Recording} << "--catalogue needs --replay";
    QTest::newRow("lifetime without token")
        << QStringList {"--valid-for", "60"} << "--valid-for needs --issue-token";
    QTest::newRow("simulate rate without the simulator")
        << QStringList {"--simulate-rate", "50"} << "--simulate-rate needs --simulate";

    // Qt's own single-dash options are named whole, with what to set instead.
    QTest::newRow("Qt's style option") << QStringList {"-style", "fusion"} << "QT_STYLE_OVERRIDE";
    QTest::newRow("Qt's platform option")
        << QStringList {"-platform", "offscreen"} << "QT_QPA_PLATFORM";
}

void tst_Headless::everyFlagIsInTheReadme()
{
    QProcess process;
    process.start(Console, {QStringLiteral("--help")});
    QVERIFY(process.waitForFinished(20000));
    const QString help = QString::fromUtf8(process.readAllStandardOutput());
    QFile readme(QStringLiteral(ODDSDESK_SOURCE_DIR "/README.md"));
    QVERIFY(readme.open(QIODevice::ReadOnly));
    const QString manual = QString::fromUtf8(readme.readAll());
    const QRegularExpression flag(
        QStringLiteral("^\\s+(--[a-z][a-z0-9-]+)"), QRegularExpression::MultilineOption);
    int flags = 0;
    for (auto it = flag.globalMatch(help); it.hasNext();) {
        const QString name = it.next().captured(1);
        if (name == QLatin1String("--help") || name == QLatin1String("--version")
            || name == QLatin1String("--help-all"))
            continue;
        ++flags;
        QVERIFY2(
            manual.contains(QLatin1Char('`') + name), qPrintable(name + " is not in the README"));
    }
    QVERIFY2(flags >= 30, qPrintable(QString::number(flags)));
}

// The importer's own list, not a copy that can fall behind it.
void tst_Headless::helpNamesEveryBookmaker()
{
    QProcess process;
    process.start(Console, {QStringLiteral("--help")});
    QVERIFY(process.waitForFinished(20000));
    const QString help = QString::fromUtf8(process.readAllStandardOutput());
    const qsizetype from = help.indexOf(QStringLiteral("--bookmaker"));
    QVERIFY2(from >= 0, qPrintable(help));
    const QString text = help.mid(from, help.indexOf(QStringLiteral("\n  -"), from) - from);
    for (const QString &name : footballDataBookmakers()) {
        const QRegularExpression word(QStringLiteral("\\b%1\\b").arg(name));
        QVERIFY2(text.contains(word), qPrintable(name + " is not in: " + text));
    }
}

void tst_Headless::bookmakerIsCheckedBeforeTheFile_data()
{
    QTest::addColumn<QString>("bookmaker");
    QTest::addColumn<int>("exitCode"); // 0: the console starts
    QTest::addColumn<QString>("message");

    QTest::newRow("a name the importer does not know")
        << "XYZ" << 2
        << "--bookmaker takes B365 (default), BW, IW, PS, WH, VC, PSC, BbAv, BbMx, Avg or Max, "
           "not \"XYZ\"";
    QTest::newRow("a known name in another case") << "b365" << 0 << "imported 1 event";
    // The name is right; the file is what lacks it.
    QTest::newRow("a known name the file has no columns for")
        << "PS" << 1 << "has no PS prices: its header lacks PSH, PSD and PSA";
}

// Which bookmakers there are is known without the file: a name that is none of them is a
// mistake in the command line (status 2), told before anything is read; a file without
// that bookmaker's columns is a file that cannot be imported (status 1).
void tst_Headless::bookmakerIsCheckedBeforeTheFile()
{
    QFETCH(QString, bookmaker);
    QFETCH(int, exitCode);
    QFETCH(QString, message);

    QTemporaryDir dir;
    const QString path = writeOneMatchSeason(dir);
    QVERIFY(!path.isEmpty());

    HeadlessConsole console({QStringLiteral("--http-port"), QStringLiteral("-1"),
        QStringLiteral("--import"), path, QStringLiteral("--bookmaker"), bookmaker});
    if (exitCode == 0) {
        const bool listening = console.waitForUrl().isValid();
        QString errors = console.errors();
        QVERIFY2(listening, qPrintable(errors));
        QTRY_VERIFY2_WITH_TIMEOUT(
            (errors += console.errors()).contains(message), qPrintable(errors), 10000);
        return;
    }
    QVERIFY(console.process().waitForFinished(20000));
    const QString errors = console.errors();
    QVERIFY2(console.process().exitCode() == exitCode, qPrintable(errors));
    QVERIFY2(errors.contains(message), qPrintable(errors));
    QVERIFY(!console.process().readAllStandardOutput().contains("listening on"));
}

void tst_Headless::sessionManagerArgumentIsLeftToQt()
{
    // A desktop session manager restarts the window with -session ID, for QApplication.
    for (const QStringList &arguments : {QStringList {"-session", "1a2b3c", "--version"},
             QStringList {"--session=1a2b3c", "--version"}}) {
        QProcess process;
        process.start(Console, arguments);
        QVERIFY(process.waitForFinished(20000));
        QVERIFY2(process.exitCode() == 0,
            qPrintable(arguments.join(' ') + ": " + process.readAllStandardError()));
        QVERIFY(process.readAllStandardOutput().contains("oddsdesk"));
    }
}

void tst_Headless::badCommandLine()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);

    const Refusal refusal = runRefused(arguments);
    QVERIFY(refusal.exitCode != 0);
    QVERIFY2(refusal.errors.contains(message), qPrintable(refusal.errors));
    QVERIFY(!refusal.listened);
}

void tst_Headless::wholeNumbersAreDigits_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");

    QTest::newRow("port with a leading space") << QStringList {
        "--port", " 0"} << "--port takes a whole number from 0 to 65535, not \" 0\"";
    QTest::newRow("port with a plus sign") << QStringList {
        "--port", "+0"} << "--port takes a whole number from 0 to 65535, not \"+0\"";
    // Only the HTTP port has a negative value (-1, off); no other flag takes a minus sign.
    QTest::newRow("port with a minus sign") << QStringList {
        "--port", "-0"} << "--port takes a whole number from 0 to 65535, not \"-0\"";
    QTest::newRow("HTTP port with a plus sign") << QStringList {"--http-port", "+0"}
                                                << "--http-port takes a whole number from -1 to "
                                                   "65535, not \"+0\"";
    QTest::newRow("HTTP port minus zero") << QStringList {"--http-port", "-0"}
                                          << "--http-port takes a whole number from -1 to "
                                             "65535, not \"-0\"";
    QTest::newRow("flush interval with a trailing space") << QStringList {"--flush-ms", "10 "}
                                                          << "--flush-ms takes a whole number "
                                                             "from 0 to 1000, not \"10 \"";
    QTest::newRow("retention with a plus sign") << QStringList {"--retention-s", "+60"}
                                                << "--retention-s takes a whole number from 0 "
                                                   "to 86400, not \"+60\"";
}

// A whole number on the command line is digits (and a leading '-' where a value may be
// negative); QString::toInt also reads " 0" and "+0", so that a slip started a console.
void tst_Headless::wholeNumbersAreDigits()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);

    const Refusal refusal = runRefused(arguments);
    QVERIFY2(refusal.exitCode == 2, qPrintable(refusal.errors));
    QVERIFY2(refusal.errors.contains(message), qPrintable(refusal.errors));
    QVERIFY(!refusal.listened);
}

void tst_Headless::publishIntervalIsOffOrFromItsFirstStep_data()
{
    QTest::addColumn<QString>("milliseconds");
    QTest::addColumn<QString>("refusal"); // empty: the console starts with it

    const QString range = QStringLiteral("--max-publish-interval-ms takes 0 (off) or a whole "
                                         "number from 10 to 60000, not ");
    const QString belowTheStep = QStringLiteral(
        ": the adapted interval starts at 10 ms, so a smaller maximum would act as 10 ms");
    QTest::newRow("off") << "0" << QString();
    QTest::newRow("1 ms") << "1" << range + "\"1\"" + belowTheStep;
    QTest::newRow("9 ms") << "9" << range + "\"9\"" + belowTheStep;
    QTest::newRow("the first step") << "10" << QString();
    QTest::newRow("a minute") << "60000" << QString();
    QTest::newRow("past a minute") << "60001" << range + "\"60001\"";
    QTest::newRow("not a number") << "soon" << range + "\"soon\"";
}

// The engine adapts the interval between publishes from 10 ms up to the maximum given; a
// maximum of 1 to 9 ms acted as 10 without a word, and is refused, saying why.
void tst_Headless::publishIntervalIsOffOrFromItsFirstStep()
{
    QFETCH(QString, milliseconds);
    QFETCH(QString, refusal);

    HeadlessConsole console({QStringLiteral("--http-port"), QStringLiteral("-1"),
        QStringLiteral("--max-publish-interval-ms"), milliseconds});
    if (refusal.isEmpty()) {
        const bool listening = console.waitForUrl().isValid();
        QVERIFY2(listening, qPrintable(console.errors()));
        return;
    }
    QVERIFY(console.process().waitForFinished(20000));
    const QString errors = console.errors();
    QVERIFY2(console.process().exitCode() == 2, qPrintable(errors));
    QCOMPARE(errors.trimmed(), QStringLiteral("oddsdesk: ") + refusal);
}

void tst_Headless::helpGivesThePublishIntervalRange()
{
    QProcess process;
    process.start(Console, {QStringLiteral("--help")});
    QVERIFY(process.waitForFinished(20000));
    const QString help = QString::fromUtf8(process.readAllStandardOutput());
    const qsizetype from = help.indexOf(QStringLiteral("--max-publish-interval-ms"));
    QVERIFY2(from >= 0, qPrintable(help));
    const QString text
        = help.mid(from, help.indexOf(QStringLiteral("\n  -"), from) - from).simplified();
    QVERIFY2(text.contains(QStringLiteral("from 10 (where the adapted interval starts) to 60000, "
                                          "or 0 (off)")),
        qPrintable(text));
}

void tst_Headless::noDisplayNeededWithoutAWindow_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("output"); // standard output for 0, standard error otherwise

    QTest::newRow("unknown flag") << QStringList {"--bogus"} << 2 << "bogus";
    QTest::newRow("port not a number") << QStringList {"--port", "abc"} << 2 << "--port takes";
    QTest::newRow("token without a key")
        << QStringList {"--issue-token", "bob"} << 2 << "--auth-key-file";
    QTest::newRow("help") << QStringList {"--help"} << 0 << "--headless";
    QTest::newRow("version") << QStringList {"--version"} << 0 << "oddsdesk";
    QTest::newRow("token") << QStringList {"--issue-token", "bob"} << 0 << ".";
    // A console with a window, and nowhere to open it, says so instead of aborting in Qt.
    QTest::newRow("window") << QStringList {} << 2 << "no display";
}

// Without --headless the console wants a window, and so a display; what ends before any
// window would open (a mistake, help, a token) must work on a server that has none.
void tst_Headless::noDisplayNeededWithoutAWindow()
{
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QString, output);

    QTemporaryDir dir;
    if (QTest::currentDataTag() == QLatin1String("token")) {
        const QString keyPath = dir.filePath(QStringLiteral("feed.key"));
        QFile key(keyPath);
        QVERIFY(key.open(QIODevice::WriteOnly));
        key.write(QByteArray(40, 'k'));
        key.close();
        arguments << QStringLiteral("--auth-key-file") << keyPath;
    }
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (const char *name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
        environment.remove(QString::fromLatin1(name));
    QProcess process;
    process.setProcessEnvironment(environment);
    process.start(Console, arguments);
    QVERIFY(process.waitForFinished(20000));
    const QString out = QString::fromUtf8(process.readAllStandardOutput());
    const QString errors = QString::fromUtf8(process.readAllStandardError());
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QVERIFY2(process.exitCode() == exitCode, qPrintable(errors));
    QVERIFY2((exitCode == 0 ? out : errors).contains(output), qPrintable(out + errors));
    if (QTest::currentDataTag() == QLatin1String("token"))
        QCOMPARE(out.trimmed().count(QLatin1Char('.')), 1);
}

QTEST_GUILESS_MAIN(tst_Headless)
#include "tst_headless.moc"
