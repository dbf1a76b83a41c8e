// The load generator and the reference client run as a user would: against a headless
// console with the price simulator, directly and through a bad network, with nothing to
// connect to, with bad command lines, and as the demo's audience of a console that is killed.

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <csignal>
#include <thread>
#include <sys/types.h>

namespace {

const QString Console = QStringLiteral(ODDSDESK_BINARY_DIR "/app/oddsdesk");
const QString FleetProgram = QStringLiteral(ODDSDESK_BINARY_DIR "/app/oddsdesk-fleet");
const QString ClientProgram = QStringLiteral(ODDSDESK_BINARY_DIR "/app/oddsdesk-client");

// Beyond its duration a run needs time for start-up and for closing its sessions; a shared
// two-core machine can make that slow, so the margin is generous.
constexpr int FleetMarginMs = 60 * 1000;
// Sanity bounds, not performance targets: a delta that takes a second on loopback means
// something is broken, not slow. Through urban-4g every byte waits at least 20 ms (40 ms
// latency less 20 ms jitter), so a lower median means the proxy was not in the path.
constexpr double DirectLatencyBoundMs = 1000.0;
constexpr double ImpairedLatencyFloorMs = 20.0;
constexpr double ImpairedLatencyBoundMs = 3000.0;
// Qt times an interval of two seconds or more coarsely unless asked otherwise, and a coarse
// expiry may move by a twentieth of its interval: to a whole second of the monotonic clock,
// when one is that near. A client started this far past a whole second, for this long, would
// then end on that second, this much early, on every run and not by the chance of when it
// started; its start-up has 300 ms before the expiry would round up instead.
constexpr int ClientRunS = 10;
constexpr std::chrono::milliseconds ClientStartPastSecond {200};
// A precise run may seem this much short: the test's clock is read a moment before the
// client's starts.
constexpr qint64 ClientEarlyToleranceMs = 5;
// Start-up, connecting and shutdown, on a shared machine or under a sanitizer.
constexpr qint64 ClientMarginMs = 20 * 1000;

// A headless console on a free port, stopped when the test is done.
class HeadlessConsole
{
public:
    explicit HeadlessConsole(const QStringList &arguments)
    {
        m_process.start(Console,
            QStringList {
                QStringLiteral("--headless"), QStringLiteral("--port"), QStringLiteral("0")}
                + arguments);
    }

    ~HeadlessConsole()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate();
        if (!m_process.waitForFinished(5000))
            m_process.kill();
        m_process.waitForFinished(2000);
    }

    /// Waits for the "listening on" line and returns its URL, or an empty string.
    QString waitForUrl(int timeoutMs = 20000)
    {
        static const QRegularExpression line(
            QStringLiteral("^listening on (ws://\\S+)$"), QRegularExpression::MultilineOption);
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            m_stdout += m_process.readAllStandardOutput();
            const auto match = line.match(QString::fromUtf8(m_stdout));
            if (match.hasMatch())
                return match.captured(1);
            if (m_process.state() == QProcess::NotRunning)
                break;
            m_process.waitForReadyRead(100);
        }
        return QString();
    }

    QString errors() { return QString::fromUtf8(m_process.readAllStandardError()); }
    QProcess &process() { return m_process; }

private:
    QProcess m_process;
    QByteArray m_stdout;
};

// One with the price simulator.
class SimulatingConsole : public HeadlessConsole
{
public:
    explicit SimulatingConsole(const QStringList &arguments = {})
        : HeadlessConsole(QStringList {QStringLiteral("--simulate"),
                              QStringLiteral("--simulate-rate"), QStringLiteral("200")}
            + arguments)
    { }
};

struct FleetRun
{
    int exitCode = -1;
    QJsonObject summary;
    QString errors;
};

FleetRun runFleet(const QStringList &arguments, int durationS)
{
    FleetRun run;
    QProcess fleet;
    fleet.start(FleetProgram, arguments);
    if (!fleet.waitForFinished(durationS * 1000 + FleetMarginMs)) {
        fleet.kill();
        fleet.waitForFinished(2000);
        run.errors = QStringLiteral("the fleet did not stop by itself");
        return run;
    }
    run.exitCode = fleet.exitCode();
    run.errors = QString::fromUtf8(fleet.readAllStandardError());
    run.summary = QJsonDocument::fromJson(fleet.readAllStandardOutput().trimmed()).object();
    return run;
}

// The load generators \a parent started, from the children lists of its threads. A child
// between fork and exec still bears its parent's name, and is not counted yet.
QList<qint64> fleetChildren(qint64 parent)
{
    QList<qint64> children;
    const QDir tasks(QStringLiteral("/proc/%1/task").arg(parent));
    for (const QString &task : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile file(tasks.filePath(task + QStringLiteral("/children")));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        for (const QByteArray &pid : file.readAll().split(' ')) {
            QFile comm(QStringLiteral("/proc/%1/comm").arg(QString::fromLatin1(pid.trimmed())));
            if (!pid.trimmed().isEmpty() && comm.open(QIODevice::ReadOnly)
                && comm.readAll().trimmed() == "oddsdesk-fleet")
                children.append(pid.trimmed().toLongLong());
        }
    }
    return children;
}

bool isRunning(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return false;
    // "pid (name) S ...": the state follows the name's closing parenthesis.
    const QByteArray line = stat.readAll();
    const qsizetype state = line.lastIndexOf(')') + 2;
    return state < line.size() && line.at(state) != 'Z' && line.at(state) != 'X';
}

// Sleeps until \a past into a second of the monotonic clock, the one Qt's timers run on.
void sleepUntilPastWholeSecond(std::chrono::milliseconds past)
{
    using namespace std::chrono;
    const nanoseconds now = steady_clock::now().time_since_epoch();
    nanoseconds wait = past - (now - duration_cast<seconds>(now));
    if (wait < nanoseconds::zero())
        wait += seconds(1);
    std::this_thread::sleep_for(wait);
}

// Stops the fleets a test found, if they outlived it, by their ids.
struct StopLeftovers
{
    QList<qint64> pids;
    ~StopLeftovers()
    {
        for (qint64 pid : pids) {
            if (isRunning(pid))
                ::kill(pid_t(pid), SIGTERM);
        }
    }
};

} // namespace

class tst_Fleet : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void directSessionsReceiveEveryDelta();
    void sessionsSpreadOverSourceAddresses();
    void spreadWhenOneAddressRunsOutOfPorts();
    void impairedSessionsGoThroughTheProxy();
    void droppedSessionsAllResume();
    void blackholedSessionsStayDark();
    void terminationStillPrintsTheSummary();
    void everySummaryKeyIsInTheReadme();
    void badCommandLine_data();
    void badCommandLine();
    void clientNeverWelcomedFails();
    void clientRunsItsWholeDuration();
    void clientBadUrl_data();
    void clientBadUrl();
    void clientBadCommandLine_data();
    void clientBadCommandLine();
    void clientCountsInWords();
    void demoFleetsDieWithTheConsole();
};

void tst_Fleet::directSessionsReceiveEveryDelta()
{
    SimulatingConsole console;
    const QString url = console.waitForUrl();
    QVERIFY2(!url.isEmpty(), qPrintable(console.errors()));

    const FleetRun run = runFleet({url, QStringLiteral("--sessions"), QStringLiteral("50"),
                                      QStringLiteral("--duration"), QStringLiteral("5")},
        5);
    QVERIFY2(run.exitCode == 0, qPrintable(run.errors));
    const QJsonObject &s = run.summary;
    QVERIFY2(!s.isEmpty(), qPrintable(run.errors));
    QCOMPARE(s.value(QStringLiteral("sessions")).toInt(), 50);
    QCOMPARE(s.value(QStringLiteral("sessions_live")).toInt(), 50);
    QVERIFY(s.value(QStringLiteral("frames_per_s")).toDouble() > 0);
    QVERIFY(s.value(QStringLiteral("changes_per_s")).toDouble() > 0);
    QCOMPARE(s.value(QStringLiteral("gaps")).toInt(-1), 0);
    QCOMPARE(s.value(QStringLiteral("duplicates")).toInt(-1), 0);
    QCOMPARE(s.value(QStringLiteral("profile")).toString(), QStringLiteral("none"));
    QCOMPARE(s.value(QStringLiteral("source_addresses")).toInt(), 1);
    QCOMPARE(s.value(QStringLiteral("sessions_stopped")).toInt(-1), 0);
    const QJsonObject latency = s.value(QStringLiteral("latency_ms")).toObject();
    const double p50 = latency.value(QStringLiteral("p50")).toDouble();
    QVERIFY2(p50 > 0 && p50 < DirectLatencyBoundMs, qPrintable(QString::number(p50)));
    QVERIFY(latency.value(QStringLiteral("p99")).toDouble() >= p50);
    QVERIFY(latency.value(QStringLiteral("max")).toDouble()
        >= latency.value(QStringLiteral("p99")).toDouble());
}

// Asked to, the sessions connect from 127.0.0.1, .2 and .3, and are served as from one. The
// measured window is the run after --measure-after, to the tenth of a second: it once began
// at the progress report before it, and at one second counted the whole run's frames.
void tst_Fleet::sessionsSpreadOverSourceAddresses()
{
    SimulatingConsole console;
    const QString url = console.waitForUrl();
    QVERIFY2(!url.isEmpty(), qPrintable(console.errors()));

    const FleetRun run = runFleet(
        {url, QStringLiteral("--sessions"), QStringLiteral("30"), QStringLiteral("--duration"),
            QStringLiteral("4"), QStringLiteral("--source-addresses"), QStringLiteral("3"),
            QStringLiteral("--measure-after"), QStringLiteral("1")},
        4);
    QVERIFY2(run.exitCode == 0, qPrintable(run.errors));
    const QJsonObject &s = run.summary;
    QVERIFY2(!s.isEmpty(), qPrintable(run.errors));
    QCOMPARE(s.value(QStringLiteral("source_addresses")).toInt(), 3);
    QCOMPARE(s.value(QStringLiteral("sessions_live")).toInt(), 30);
    const double measuredS = s.value(QStringLiteral("measured_s")).toDouble();
    QVERIFY2(measuredS >= 2.9 && measuredS <= 3.3, qPrintable(QString::number(measuredS)));
    const int measuredFrames = s.value(QStringLiteral("measured_frames")).toInt();
    QVERIFY2(measuredFrames > 0 && measuredFrames < s.value(QStringLiteral("frames")).toInt(),
        qPrintable(run.errors));
    QCOMPARE(s.value(QStringLiteral("sessions_stopped")).toInt(-1), 0);
    QVERIFY(s.value(QStringLiteral("changes_per_s")).toDouble() > 0);
    QCOMPARE(s.value(QStringLiteral("gaps")).toInt(-1), 0);
    QCOMPARE(s.value(QStringLiteral("duplicates")).toInt(-1), 0);
}

// With fewer local ports than sessions (a network namespace of the test's own, with 100 of
// them), the fleet spreads its sessions over as many addresses as they need, and says so;
// held to one address, it refuses before a single connection.
void tst_Fleet::spreadWhenOneAddressRunsOutOfPorts()
{
    QProcess probe;
    probe.start(QStringLiteral("unshare"),
        {QStringLiteral("--user"), QStringLiteral("--map-root-user"), QStringLiteral("--net"),
            QStringLiteral("true")});
    if (!probe.waitForFinished(10000) || probe.exitCode() != 0)
        QSKIP("this machine lets no one make a network namespace (unshare --user --net)");

    QTemporaryDir data;
    QVERIFY(data.isValid());
    // The console and the fleets run inside the namespace: its loopback is theirs alone.
    const QString script = QStringLiteral(R"(set -e
ip link set lo up
echo "40000 40099" > /proc/sys/net/ipv4/ip_local_port_range
"$1" --headless --port 0 --http-port -1 --data "$3" --simulate > "$3/console.out" 2>&1 &
console=$!
trap 'kill $console' EXIT
for i in $(seq 200); do
    url=$(grep -o 'ws://[0-9.:]*' "$3/console.out" || true)
    [ -n "$url" ] && break
    sleep 0.1
done
"$2" "$url" --sessions 200 --duration 4 --source-addresses 1 > "$3/refused.json" \
    2> "$3/refused.err" && exit 3
"$2" "$url" --sessions 200 --duration 4
)");
    QProcess run;
    run.start(QStringLiteral("unshare"),
        {QStringLiteral("--user"), QStringLiteral("--map-root-user"), QStringLiteral("--net"),
            QStringLiteral("sh"), QStringLiteral("-c"), script, QStringLiteral("sh"), Console,
            FleetProgram, data.path()});
    QVERIFY(run.waitForFinished(4000 + FleetMarginMs));
    const QString errors = QString::fromUtf8(run.readAllStandardError());
    QVERIFY2(run.exitCode() == 0, qPrintable(errors));

    QFile refused(data.filePath(QStringLiteral("refused.err")));
    QVERIFY(refused.open(QIODevice::ReadOnly));
    const QString refusal = QString::fromUtf8(refused.readAll());
    QVERIFY2(refusal.contains(QStringLiteral("hands out 100 to each source address")),
        qPrintable(refusal));
    QVERIFY2(refusal.contains(QStringLiteral("--source-addresses")), qPrintable(refusal));

    QVERIFY2(errors.contains(QStringLiteral("200 sessions connect from 3 addresses")),
        qPrintable(errors));
    const QJsonObject s = QJsonDocument::fromJson(run.readAllStandardOutput().trimmed()).object();
    QVERIFY2(!s.isEmpty(), qPrintable(errors));
    QCOMPARE(s.value(QStringLiteral("source_addresses")).toInt(), 3);
    QCOMPARE(s.value(QStringLiteral("sessions_live")).toInt(), 200);
    QCOMPARE(s.value(QStringLiteral("gaps")).toInt(-1), 0);
    QCOMPARE(s.value(QStringLiteral("duplicates")).toInt(-1), 0);
}

void tst_Fleet::impairedSessionsGoThroughTheProxy()
{
    SimulatingConsole console;
    const QString url = console.waitForUrl();
    QVERIFY2(!url.isEmpty(), qPrintable(console.errors()));

    const FleetRun run = runFleet(
        {url, QStringLiteral("--sessions"), QStringLiteral("20"), QStringLiteral("--duration"),
            QStringLiteral("5"), QStringLiteral("--profile"), QStringLiteral("urban-4g")},
        5);
    QVERIFY2(run.exitCode == 0, qPrintable(run.errors));
    const QJsonObject &s = run.summary;
    QVERIFY2(!s.isEmpty(), qPrintable(run.errors));
    QCOMPARE(s.value(QStringLiteral("sessions")).toInt(), 20);
    QCOMPARE(s.value(QStringLiteral("profile")).toString(), QStringLiteral("urban-4g"));
    QVERIFY(s.value(QStringLiteral("frames_per_s")).toDouble() > 0);
    QVERIFY(s.value(QStringLiteral("changes_per_s")).toDouble() > 0);
    // A reset now and then is the profile at work; whatever it costs, resumes deliver every
    // delta once and in order.
    QCOMPARE(s.value(QStringLiteral("gaps")).toInt(-1), 0);
    QCOMPARE(s.value(QStringLiteral("duplicates")).toInt(-1), 0);
    const QJsonObject impairment = s.value(QStringLiteral("impairment")).toObject();
    QVERIFY(impairment.value(QStringLiteral("connections")).toInt() >= 20);
    const double p50
        = s.value(QStringLiteral("latency_ms")).toObject().value(QStringLiteral("p50")).toDouble();
    QVERIFY2(p50 >= ImpairedLatencyFloorMs && p50 < ImpairedLatencyBoundMs,
        qPrintable(QString::number(p50)));
}

void tst_Fleet::droppedSessionsAllResume()
{
    SimulatingConsole console;
    const QString url = console.waitForUrl();
    QVERIFY2(!url.isEmpty(), qPrintable(console.errors()));

    // Every session drops at once two seconds in; each comes back and resumes its session.
    const FleetRun run = runFleet(
        {url, QStringLiteral("--sessions"), QStringLiteral("30"), QStringLiteral("--duration"),
            QStringLiteral("7"), QStringLiteral("--drop-at"), QStringLiteral("2")},
        7);
    QVERIFY2(run.exitCode == 0, qPrintable(run.errors));
    const QJsonObject &s = run.summary;
    QVERIFY2(!s.isEmpty(), qPrintable(run.errors));
    QCOMPARE(s.value(QStringLiteral("sessions_live")).toInt(), 30);
    QCOMPARE(s.value(QStringLiteral("resumes")).toInt(), 30);
    QCOMPARE(s.value(QStringLiteral("snapshot_fallbacks")).toInt(-1), 0);
    QCOMPARE(s.value(QStringLiteral("snapshots")).toInt(), 30);
    QCOMPARE(s.value(QStringLiteral("gaps")).toInt(-1), 0);
    QCOMPARE(s.value(QStringLiteral("duplicates")).toInt(-1), 0);
}

// --blackhole-at stands for readers that stopped: a session that gives up on its silent
// connection and comes back through the proxy finds the new connection as dark as the old,
// so nothing reaches it again until the run ends.
void tst_Fleet::blackholedSessionsStayDark()
{
    // Half-second heartbeats: each session calls its connection dead 1.5 s into the dark and
    // reconnects well within the run.
    SimulatingConsole console({QStringLiteral("--heartbeat-ms"), QStringLiteral("500")});
    const QString url = console.waitForUrl();
    QVERIFY2(!url.isEmpty(), qPrintable(console.errors()));

    // Frames are counted from the third second, a progress report after the blackhole.
    const FleetRun run = runFleet(
        {url, QStringLiteral("--sessions"), QStringLiteral("5"), QStringLiteral("--duration"),
            QStringLiteral("8"), QStringLiteral("--profile"), QStringLiteral("stable-broadband"),
            QStringLiteral("--blackhole-at"), QStringLiteral("1"),
            QStringLiteral("--measure-after"), QStringLiteral("3")},
        8);
    QVERIFY2(run.exitCode == 0, qPrintable(run.errors));
    const QJsonObject &s = run.summary;
    QVERIFY2(!s.isEmpty(), qPrintable(run.errors));
    QCOMPARE(s.value(QStringLiteral("snapshots")).toInt(), 5);
    const QJsonObject impairment = s.value(QStringLiteral("impairment")).toObject();
    // The sessions did come back: the proxy took their new connections...
    QVERIFY2(s.value(QStringLiteral("reconnects")).toInt() >= 5, qPrintable(run.errors));
    QVERIFY2(impairment.value(QStringLiteral("connections")).toInt() > 5, qPrintable(run.errors));
    // ...and forwarded nothing on them: no resume, no frame.
    QCOMPARE(s.value(QStringLiteral("resumes")).toInt(-1), 0);
    QCOMPARE(s.value(QStringLiteral("measured_frames")).toInt(-1), 0);
    // The run lasted what it was asked for, not a coarse timer's twentieth less.
    QVERIFY2(s.value(QStringLiteral("duration_s")).toDouble() >= 8.0, qPrintable(run.errors));
}

void tst_Fleet::terminationStillPrintsTheSummary()
{
    SimulatingConsole console;
    const QString url = console.waitForUrl();
    QVERIFY2(!url.isEmpty(), qPrintable(console.errors()));

    QProcess fleet;
    fleet.start(FleetProgram,
        {url, QStringLiteral("--sessions"), QStringLiteral("10"), QStringLiteral("--duration"),
            QStringLiteral("120")});
    // A progress line with a live session says the run is under way. (One with none yet is
    // not enough: a fleet that no feed welcomed rightly ends with an error, and on a slow
    // machine, or under a sanitizer, the first line can come before the first welcome.)
    static const QRegularExpression underWay(QStringLiteral("sessions started, [1-9][0-9]* live"));
    QByteArray errors;
    QElapsedTimer timer;
    timer.start();
    while (!underWay.match(QString::fromUtf8(errors)).hasMatch() && timer.elapsed() < 20000
        && fleet.state() != QProcess::NotRunning) {
        fleet.waitForReadyRead(100);
        errors += fleet.readAllStandardError();
    }
    QVERIFY2(underWay.match(QString::fromUtf8(errors)).hasMatch(), errors.constData());

    fleet.terminate(); // SIGTERM
    QVERIFY(fleet.waitForFinished(FleetMarginMs));
    QCOMPARE(fleet.exitCode(), 0);
    const QJsonObject s = QJsonDocument::fromJson(fleet.readAllStandardOutput().trimmed()).object();
    QCOMPARE(s.value(QStringLiteral("interrupted")).toBool(), true);
    QCOMPARE(s.value(QStringLiteral("sessions")).toInt(), 10);
    QVERIFY(s.value(QStringLiteral("duration_s")).toDouble() < 120);
}

// Whoever reads a summary finds each of its keys explained where the README describes the
// load generator. A run through a profile, measured after a second, has them all.
void tst_Fleet::everySummaryKeyIsInTheReadme()
{
    SimulatingConsole console;
    const QString url = console.waitForUrl();
    QVERIFY2(!url.isEmpty(), qPrintable(console.errors()));
    const FleetRun run = runFleet(
        {url, QStringLiteral("--sessions"), QStringLiteral("5"), QStringLiteral("--duration"),
            QStringLiteral("3"), QStringLiteral("--measure-after"), QStringLiteral("1"),
            QStringLiteral("--profile"), QStringLiteral("urban-4g")},
        3);
    QVERIFY2(run.exitCode == 0, qPrintable(run.errors));
    QVERIFY2(run.summary.contains(QStringLiteral("measured_s"))
            && run.summary.contains(QStringLiteral("impairment")),
        qPrintable(QJsonDocument(run.summary).toJson()));

    QFile readme(QStringLiteral(ODDSDESK_SOURCE_DIR "/README.md"));
    QVERIFY(readme.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(readme.readAll());
    const qsizetype from = text.indexOf(QStringLiteral("\n## Load generator\n"));
    QVERIFY(from >= 0);
    const QString section = text.mid(from, text.indexOf(QStringLiteral("\n## "), from + 1) - from);
    QStringList keys;
    for (auto it = run.summary.constBegin(); it != run.summary.constEnd(); ++it) {
        keys.append(it.key());
        const QJsonObject inner = it.value().toObject();
        keys.append(inner.keys());
    }
    for (const QString &key : std::as_const(keys)) {
        QVERIFY2(section.contains(QLatin1Char('`') + key + QLatin1Char('`')),
            qPrintable(key + " is not explained under Load generator in the README"));
    }
}

void tst_Fleet::badCommandLine_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");

    const QString url = QStringLiteral("ws://127.0.0.1:1");
    QTest::newRow("no URL") << QStringList {"--sessions", "1", "--duration", "1"}
                            << "exactly one feed URL";
    QTest::newRow("not a WebSocket URL") << QStringList {"http://127.0.0.1:1", "--sessions", "1",
        "--duration", "1"} << "is not a ws://";
    QTest::newRow("sessions missing") << QStringList {url, "--duration", "1"} << "--sessions";
    QTest::newRow("duration missing") << QStringList {url, "--sessions", "1"} << "--duration";
    QTest::newRow("sessions zero")
        << QStringList {url, "--sessions", "0", "--duration", "1"} << "--sessions takes";
    QTest::newRow("duration not a number")
        << QStringList {url, "--sessions", "1", "--duration", "soon"} << "--duration takes";
    QTest::newRow("threads zero") << QStringList {url, "--sessions", "1", "--duration", "1",
        "--threads", "0"} << "--threads takes";
    QTest::newRow("ramp zero") << QStringList {url, "--sessions", "1", "--duration", "1",
        "--ramp-per-second", "0"}
                               << "--ramp-per-second takes";
    QTest::newRow("unknown profile") << QStringList {url, "--sessions", "1", "--duration", "1",
        "--profile", "dial-up"} << "urban-4g";
    QTest::newRow("profile with a host name") << QStringList {"ws://feed.invalid:1", "--sessions",
        "1", "--duration", "1", "--profile", "urban-4g"}
                                              << "IP address";
    QTest::newRow("unknown format") << QStringList {url, "--sessions", "1", "--duration", "1",
        "--format", "xml"} << "--format takes";
    QTest::newRow("empty name") << QStringList {url, "--sessions", "1", "--duration", "1", "--name",
        ""} << "--name";
    QTest::newRow("unknown flag") << QStringList {url, "--sessions", "1", "--duration", "1",
        "--frobnicate"} << "frobnicate";
    // One word, as the console reads it, not ten unknown letters.
    QTest::newRow("unknown single-dash word")
        << QStringList {url, "--sessions", "1", "--duration", "1", "-frobnicate"} << "frobnicate";
    // A moment of the run must fall within it.
    QTest::newRow("drop after the run") << QStringList {url, "--sessions", "1", "--duration", "2",
        "--drop-at", "3"} << "--drop-at 3";
    QTest::newRow("blackhole at the end") << QStringList {url, "--sessions", "1", "--duration", "2",
        "--profile", "urban-4g", "--blackhole-at", "2"}
                                          << "--blackhole-at 2";
    QTest::newRow("measuring after the run") << QStringList {url, "--sessions", "1", "--duration",
        "2", "--measure-after", "5"} << "--measure-after 5";
    QTest::newRow("source addresses through a proxy") << QStringList {url, "--sessions", "2",
        "--duration", "1", "--profile", "urban-4g", "--source-addresses", "2"}
                                                      << "cannot go with --profile";
    QTest::newRow("source addresses to a named host") << QStringList {"ws://localhost:1",
        "--sessions", "2", "--duration", "1", "--source-addresses", "2"}
                                                      << "needs the feed on a 127.x.x.x address";
    QTest::newRow("no source address") << QStringList {url, "--sessions", "2", "--duration", "1",
        "--source-addresses", "0"} << "--source-addresses takes";
    QTest::newRow("more source addresses than 127.0.0.x has") << QStringList {url, "--sessions",
        "2", "--duration", "1", "--source-addresses", "255"} << "--source-addresses takes";
    // A whole number is digits: a stray space or a sign is a slip, not a number to guess at.
    QTest::newRow("sessions with a plus sign") << QStringList {url, "--sessions", "+1",
        "--duration", "1"} << "--sessions takes a whole number from 1 to 1000000, not \"+1\"";
    QTest::newRow("duration with a leading space") << QStringList {url, "--sessions", "1",
        "--duration", " 1"} << "--duration takes a whole number from 1 to 86400, not \" 1\"";
    QTest::newRow("ack interval with a trailing space")
        << QStringList {url, "--sessions", "1", "--duration", "1", "--ack-interval-ms", "0 "}
        << "--ack-interval-ms takes a whole number from 0 to 5000, not \"0 \"";
    QTest::newRow("ack interval with a minus sign")
        << QStringList {url, "--sessions", "1", "--duration", "1", "--ack-interval-ms", "-0"}
        << "--ack-interval-ms takes a whole number from 0 to 5000, not \"-0\"";
    // More than any one process here may open: refused before a single connection.
    QTest::newRow("more sessions than the machine allows")
        << QStringList {url, "--sessions", "1000000", "--duration", "1"} << "--sessions 1000000";
}

void tst_Fleet::badCommandLine()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);

    QProcess process;
    process.start(FleetProgram, arguments);
    QVERIFY(process.waitForFinished(20000));
    QCOMPARE(process.exitCode(), 2);
    const QString errors = QString::fromUtf8(process.readAllStandardError());
    QVERIFY2(errors.contains(message), qPrintable(errors));
    QVERIFY(process.readAllStandardOutput().isEmpty());
}

// Nothing listens on port 1: the client never reaches a feed, and says so.
void tst_Fleet::clientNeverWelcomedFails()
{
    QProcess client;
    client.start(ClientProgram,
        {QStringLiteral("ws://127.0.0.1:1"), QStringLiteral("--duration"), QStringLiteral("2")});
    QVERIFY(client.waitForFinished(20000));
    QCOMPARE(client.exitCode(), 1);
    const QString errors = QString::fromUtf8(client.readAllStandardError());
    QVERIFY2(errors.contains(QStringLiteral("never welcomed")), qPrintable(errors));
}

// --duration is how long the client runs, not roughly: it never ends before.
void tst_Fleet::clientRunsItsWholeDuration()
{
    HeadlessConsole console({QStringLiteral("--http-port"), QStringLiteral("-1")});
    const QString url = console.waitForUrl();
    QVERIFY2(!url.isEmpty(), qPrintable(console.errors()));

    sleepUntilPastWholeSecond(ClientStartPastSecond);
    QElapsedTimer elapsed;
    elapsed.start();
    QProcess client;
    client.start(ClientProgram, {url, QStringLiteral("--duration"), QString::number(ClientRunS)});
    QVERIFY(client.waitForFinished(ClientRunS * 1000 + ClientMarginMs));
    const qint64 ranMs = elapsed.elapsed();
    QVERIFY2(client.exitCode() == 0, client.readAllStandardError().constData());
    QVERIFY2(ranMs >= ClientRunS * 1000 - ClientEarlyToleranceMs,
        qPrintable(QStringLiteral("--duration %1 ended after %2 ms").arg(ClientRunS).arg(ranMs)));
}

void tst_Fleet::clientBadUrl_data()
{
    QTest::addColumn<QString>("url");
    QTest::newRow("no host") << "ws://";
    QTest::newRow("not a WebSocket URL") << "http://127.0.0.1:1";
}

// The client takes its URL as the fleet does; a URL without a host would be retried for ever.
void tst_Fleet::clientBadUrl()
{
    QFETCH(QString, url);

    QProcess client;
    client.start(ClientProgram, {url, QStringLiteral("--duration"), QStringLiteral("60")});
    QVERIFY(client.waitForFinished(20000));
    QCOMPARE(client.exitCode(), 2);
    const QString errors = QString::fromUtf8(client.readAllStandardError());

    QProcess fleet;
    fleet.start(FleetProgram,
        {url, QStringLiteral("--sessions"), QStringLiteral("1"), QStringLiteral("--duration"),
            QStringLiteral("1")});
    QVERIFY(fleet.waitForFinished(20000));
    QCOMPARE(fleet.exitCode(), 2);
    const QString sentence = QStringLiteral("\"%1\" is not a ws:// or wss:// URL").arg(url);
    QVERIFY2(errors.contains(sentence), qPrintable(errors));
    const QString fleetErrors = QString::fromUtf8(fleet.readAllStandardError());
    QVERIFY2(fleetErrors.contains(sentence), qPrintable(fleetErrors));
}

void tst_Fleet::clientBadCommandLine_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");

    const QString url = QStringLiteral("ws://127.0.0.1:1");
    QTest::newRow("unknown flag") << QStringList {url, "--bogus"}
                                  << "--bogus is not an option of oddsdesk-client; see --help";
    QTest::newRow("unknown flag with a value") << QStringList {
        url, "--bogus=1"} << "--bogus is not an option of oddsdesk-client; see --help";
    QTest::newRow("unknown single-dash word")
        << QStringList {url, "-bogus"} << "--bogus is not an option of oddsdesk-client";
    QTest::newRow("flag without its value")
        << QStringList {url, "--duration"} << "Missing value after '--duration'. See --help.";
    QTest::newRow("duration empty") << QStringList {url, "--duration", ""}
                                    << "--duration takes a whole number from 1 to 604800, not "
                                       "an empty value";
    QTest::newRow("duration not a number")
        << QStringList {url, "--duration", "soon"} << "--duration takes a whole number";
    // Leaving the option out is what runs without a limit; 0 ran until killed.
    QTest::newRow("duration zero")
        << QStringList {url, "--duration", "0"} << "--duration takes a whole number from 1";
    QTest::newRow("deltas zero") << QStringList {url, "--deltas", "0"}
                                 << "--deltas takes a whole number from 1 up, not \"0\"";
    QTest::newRow("deltas negative") << QStringList {url, "--deltas", "-3"}
                                     << "--deltas takes a whole number from 1 up, not \"-3\"";
    QTest::newRow("unknown format")
        << QStringList {url, "--format", "xml"} << "--format takes binary or json";
    QTest::newRow("no URL") << QStringList {"--duration", "1"} << "exactly one feed URL";
    // A whole number is digits: a stray space or a sign is a slip, not a number to guess at.
    QTest::newRow("duration with a plus sign") << QStringList {url, "--duration", "+1"}
                                               << "--duration takes a whole number from 1 to "
                                                  "604800, not \"+1\"";
    QTest::newRow("duration with a leading space") << QStringList {url, "--duration", " 1"}
                                                   << "--duration takes a whole number from 1 "
                                                      "to 604800, not \" 1\"";
    QTest::newRow("deltas with a plus sign") << QStringList {url, "--duration", "1", "--deltas",
        "+1"} << "--deltas takes a whole number from 1 up, not \"+1\"";
    QTest::newRow("deltas with a trailing space") << QStringList {url, "--duration", "1",
        "--deltas", "1 "} << "--deltas takes a whole number from 1 up, not \"1 \"";
}

// A mistake in the client's command line is status 2, as for the console and the fleet;
// status 1 says that no feed welcomed it.
void tst_Fleet::clientBadCommandLine()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);

    QProcess client;
    client.start(ClientProgram, arguments);
    QVERIFY(client.waitForFinished(20000));
    const QString errors = QString::fromUtf8(client.readAllStandardError());
    QVERIFY2(client.exitCode() == 2, qPrintable(errors));
    QVERIFY2(errors.contains(message), qPrintable(errors));
    QVERIFY(client.readAllStandardOutput().isEmpty());
}

// A book of one event and one market, and a delta of one change, are said in the singular.
// The replay lets the client in first: its market comes four seconds after a heartbeat, and
// its one price move four seconds after that.
void tst_Fleet::clientCountsInWords()
{
    QTemporaryDir dir;
    const QString season = dir.filePath(QStringLiteral("season.csv"));
    QFile seasonFile(season);
    QVERIFY(seasonFile.open(QIODevice::WriteOnly));
    seasonFile.write("Div,Date,HomeTeam,AwayTeam,B365H,B365D,B365A\n"
                     "E0,10/08/2018,Man United,Leicester,1.57,3.9,7.5\n");
    seasonFile.close();
    const QString recording = dir.filePath(QStringLiteral("race.jsonl"));
    QFile recordingFile(recording);
    QVERIFY(recordingFile.open(QIODevice::WriteOnly));
    recordingFile.write(
        R"({"op":"mcm","clk":"A","pt":1650392673000,"ct":"HEARTBEAT"})"
        "\n"
        R"({"op":"mcm","clk":"B","pt":1650392677000,"mc":[{"id":"1.197931750",)"
        R"("marketDefinition":{"eventId":"31389771","marketType":"WIN","status":"OPEN",)"
        R"("runners":[{"status":"ACTIVE","sortPriority":1,"id":101},)"
        R"({"status":"ACTIVE","sortPriority":2,"id":102}],"version":1},)"
        R"("rc":[{"atb":[[2.5,10]],"id":101},{"atb":[[1.8,10]],"id":102}]}]})"
        "\n"
        R"({"op":"mcm","clk":"C","pt":1650392681000,"mc":[{"id":"1.197931750",)"
        R"("rc":[{"atb":[[2.5,0],[2.6,10]],"id":101}]}]})"
        "\n");
    recordingFile.close();

    HeadlessConsole console({QStringLiteral("--data"), dir.filePath(QStringLiteral("data")),
        QStringLiteral("--http-port"), QStringLiteral("-1"), QStringLiteral("--import"), season,
        QStringLiteral("--replay"), recording});
    const QString url = console.waitForUrl();
    QVERIFY2(!url.isEmpty(), qPrintable(console.errors()));

    QProcess client;
    client.start(ClientProgram, {url, QStringLiteral("--deltas"), QStringLiteral("2")});
    QVERIFY(client.waitForFinished(30000));
    const QString out = QString::fromUtf8(client.readAllStandardOutput());
    QVERIFY2(client.exitCode() == 0, qPrintable(out + client.readAllStandardError()));
    static const QRegularExpression snapshot(
        QStringLiteral("^snapshot at \\d+: 1 event, 1 market$"),
        QRegularExpression::MultilineOption);
    QVERIFY2(snapshot.match(out).hasMatch(), qPrintable(out));
    static const QRegularExpression delta(
        QStringLiteral("^delta to \\d+: 1 change$"), QRegularExpression::MultilineOption);
    QVERIFY2(delta.match(out).hasMatch(), qPrintable(out));
}

// The demo's fleets run for hours; a console killed without a chance to stop them must not
// leave them reconnecting to nothing.
void tst_Fleet::demoFleetsDieWithTheConsole()
{
    SimulatingConsole console(
        {QStringLiteral("--demo"), QStringLiteral("--http-port"), QStringLiteral("-1")});
    QVERIFY2(!console.waitForUrl().isEmpty(), qPrintable(console.errors()));
    const qint64 consolePid = console.process().processId();
    StopLeftovers fleets;
    QTRY_VERIFY_WITH_TIMEOUT((fleets.pids = fleetChildren(consolePid)).size() == 5, 20000);

    console.process().kill();
    QVERIFY(console.process().waitForFinished(5000));
    QTRY_VERIFY_WITH_TIMEOUT(
        std::none_of(fleets.pids.cbegin(), fleets.pids.cend(), isRunning), 10000);
}

QTEST_GUILESS_MAIN(tst_Fleet)
#include "tst_fleet.moc"
