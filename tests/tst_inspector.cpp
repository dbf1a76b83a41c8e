#include "dashboard.h"
#include "demobook.h"
#include "engine.h"
#include "feedclient.h"
#include "mainwindow.h"
#include "sessiondetailwindow.h"
#include "sessionfiltermodel.h"
#include "sessioninspector.h"
#include "sessionmodel.h"
#include "sessionreport.h"
#include "timechart.h"
#include "timelinemodel.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QBarCategoryAxis>
#include <QApplication>
#include <QChart>
#include <QClipboard>
#include <QDateTimeAxis>
#include <QInputDialog>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QSignalSpy>
#include <QTableView>
#include <QValueAxis>
#include "support/clientthread.h"

#include <QtTest>

#include <functional>
#include <memory>
#include <numeric>

using namespace OddsDesk;
using OddsDesk::Testing::ClientThread;

namespace {

// Long enough for several of the engine's once-a-second session lists to arrive, or not.
constexpr int SessionListsMs = 2500;
// Reconnect quickly after the desk cuts a client off: the test waits for the resume.
constexpr int TestBackoffMs = 200;

BookData smallBook()
{
    BookData book;
    book.events = {
        EventInfo {1, "Man United v Leicester", "English Premier League 2018/19", "Man United",
            "Leicester", 1533927600000},
        EventInfo {2, "Fulham v Crystal Palace", "English Premier League 2018/19", "Fulham",
            "Crystal Palace", 1534000000000},
    };
    MarketInfo united;
    united.id = 10;
    united.eventId = 1;
    united.name = "Match Odds";
    united.kind = "1x2";
    united.selections = {
        {100, "Man United", 157, false}, {101, "Draw", 390, false}, {102, "Leicester", 750, false}};
    MarketInfo fulham;
    fulham.id = 20;
    fulham.eventId = 2;
    fulham.name = "Match Odds";
    fulham.kind = "1x2";
    fulham.selections = {{200, "Fulham", 250, false}, {201, "Draw", 340, false},
        {202, "Crystal Palace", 300, false}};
    book.markets = {united, fulham};
    return book;
}

FeedClientConfig clientConfig(const QUrl &url, const QString &name, const QString &version)
{
    FeedClientConfig config;
    config.url = url;
    config.clientName = name;
    config.clientVersion = version;
    config.backoffBaseMs = TestBackoffMs;
    return config;
}

TimelineEntry entry(qint64 timeMs, const QString &kind, const QString &detail = {},
    TimelineEntry::Source source = TimelineEntry::Source::Engine)
{
    TimelineEntry e;
    e.timeMs = timeMs;
    e.source = source;
    e.kind = kind;
    e.detail = detail;
    return e;
}

} // namespace

class tst_Inspector : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void listsEverySession();
    void searchNarrows_data();
    void searchNarrows();
    void enterOpensTheDetail();
    void disconnectAsksWhyAndTheClientResumes();
    void forceResync();
    void copiedReportParses();
    void sessionReport_data();
    void sessionReport();
    void timelineRefreshIsMinimal();
    void watchesOnlyWhileVisible();
    void windowsCloseAfterTheEngineStopped();
    void dashboardOpensTheWorstSession();
    void dashboardPausesWhileHidden();
    void dashboardBeforeAnyAck();
    void underLoad();

private:
    SessionInspector *openInspector();
    SessionDetailWindow *openDetailOf(int client);
    void waitForSessions(int count);
    void grab(QWidget *widget, const QString &name);

    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<MainWindow> m_window;
    std::unique_ptr<ClientThread> m_fleet;
    std::unique_ptr<QAbstractItemModelTester> m_modelTester;
    std::unique_ptr<QAbstractItemModelTester> m_proxyTester;
};

void tst_Inspector::init()
{
    EngineConfig config;
    config.server.port = 0;
    m_engine = std::make_unique<Engine>(config);
    m_window = std::make_unique<MainWindow>(m_engine.get());
    m_window->show();
    QSignalSpy started(m_engine.get(), &Engine::started);
    m_engine->start(smallBook());
    QTRY_COMPARE(started.count(), 1);

    m_fleet = std::make_unique<ClientThread>();
    const QUrl url = m_engine->url();
    m_fleet->add(clientConfig(url, QStringLiteral("alice-phone"), QStringLiteral("3.1")));
    m_fleet->add(clientConfig(url, QStringLiteral("bob-browser"), QStringLiteral("1.4")));
    m_fleet->add(clientConfig(url, QStringLiteral("carol-tablet"), QStringLiteral("2.0")));
    for (int i = 0; i < m_fleet->size(); ++i)
        QTRY_VERIFY(m_fleet->isLive(i));
}

void tst_Inspector::cleanup()
{
    m_proxyTester.reset();
    m_modelTester.reset();
    m_fleet.reset();
    m_window.reset();
    m_engine.reset();
}

void tst_Inspector::grab(QWidget *widget, const QString &name)
{
    const QString dir = qEnvironmentVariable("ODDSDESK_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QDir().mkpath(dir);
    const QString path = dir + QLatin1Char('/') + name + QStringLiteral(".png");
    QVERIFY2(widget->grab().save(path), qPrintable(path));
    qInfo("saved %s", qPrintable(path));
}

SessionInspector *tst_Inspector::openInspector()
{
    m_window->sessionsAction()->trigger();
    SessionInspector *inspector = m_window->sessionInspector();
    if (!m_modelTester) {
        m_modelTester = std::make_unique<QAbstractItemModelTester>(
            inspector->sessionModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        m_proxyTester = std::make_unique<QAbstractItemModelTester>(
            inspector->filterModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    }
    return inspector;
}

void tst_Inspector::waitForSessions(int count)
{
    SessionModel *model = m_window->sessionInspector()->sessionModel();
    QTRY_COMPARE(model->rowCount(), count);
}

SessionDetailWindow *tst_Inspector::openDetailOf(int client)
{
    SessionInspector *inspector = openInspector();
    waitForSessions(m_fleet->size());
    const QString id = m_fleet->sessionId(client);
    const int row = inspector->filterModel()->rowOfSession(id);
    if (row < 0)
        return nullptr;
    QTableView *table = inspector->tableView();
    table->setCurrentIndex(inspector->filterModel()->index(row, SessionModel::ClientColumn));
    QTest::keyClick(table, Qt::Key_Return);
    return inspector->detailWindow(id);
}

void tst_Inspector::listsEverySession()
{
    QVERIFY(m_window->sessionsAction()->shortcut() == QKeySequence(Qt::CTRL | Qt::Key_I));
    SessionInspector *inspector = openInspector();
    QVERIFY(inspector->isVisible());
    waitForSessions(3);

    SessionModel *model = inspector->sessionModel();
    QStringList names;
    for (int row = 0; row < model->rowCount(); ++row) {
        const SessionSummary *s = model->sessionAt(row);
        names << s->clientName;
        QVERIFY(s->connected);
        QCOMPARE(model->index(row, SessionModel::StateColumn).data().toString(),
            QStringLiteral("connected"));
        QVERIFY(model->index(row, SessionModel::AddressColumn)
                    .data()
                    .toString()
                    .startsWith(QStringLiteral("127.0.0.1")));
    }
    names.sort();
    QCOMPARE(names,
        QStringList({QStringLiteral("alice-phone"), QStringLiteral("bob-browser"),
            QStringLiteral("carol-tablet")}));
    const int bob = model->rowOfSession(m_fleet->sessionId(1));
    QCOMPARE(
        model->index(bob, SessionModel::VersionColumn).data().toString(), QStringLiteral("1.4"));
    QTRY_VERIFY2(inspector->summaryText().startsWith(QStringLiteral("3 sessions: 3 connected")),
        qPrintable(inspector->summaryText()));
}

void tst_Inspector::searchNarrows_data()
{
    QTest::addColumn<QString>("search");
    QTest::addColumn<int>("shown");
    QTest::addColumn<int>("client"); // the one left, or -1

    QTest::newRow("a client name") << "bob" << 1 << 1;
    QTest::newRow("part of a name, upper case") << "TABLET" << 1 << 2;
    QTest::newRow("name and version") << "alice 3.1" << 1 << 0;
    QTest::newRow("the session id") << "<id of carol>" << 1 << 2;
    QTest::newRow("the address: everyone") << "127.0.0.1" << 3 << -1;
    QTest::newRow("a state") << "connected" << 3 << -1;
    QTest::newRow("nobody") << "dave" << 0 << -1;
}

void tst_Inspector::searchNarrows()
{
    QFETCH(QString, search);
    QFETCH(int, shown);
    QFETCH(int, client);

    SessionInspector *inspector = openInspector();
    waitForSessions(3);
    if (search == QLatin1String("<id of carol>"))
        search = m_fleet->sessionId(2);
    QTest::keyClicks(inspector->searchEdit(), search);
    QCOMPARE(inspector->filterModel()->rowCount(), shown);
    if (client >= 0)
        QCOMPARE(inspector->filterModel()->sessionIdAt(0), m_fleet->sessionId(client));
    if (shown < 3)
        QVERIFY2(inspector->summaryText().contains(QStringLiteral("; %1 match").arg(shown)),
            qPrintable(inspector->summaryText()));
    // The next lists keep the search.
    QSignalSpy lists(m_engine.get(), &Engine::sessionsUpdated);
    QTRY_VERIFY(lists.count() >= 2);
    QCOMPARE(inspector->filterModel()->rowCount(), shown);

    QTest::keyClick(inspector->searchEdit(), Qt::Key_Escape);
    QCOMPARE(inspector->filterModel()->rowCount(), 3);
}

void tst_Inspector::enterOpensTheDetail()
{
    SessionDetailWindow *detail = openDetailOf(1);
    QVERIFY(detail);
    QVERIFY(detail->isVisible());
    QAbstractItemModelTester timelineTester(
        detail->timelineModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QTRY_VERIFY(detail->isKnown());
    QCOMPARE(detail->detail().summary.clientName, QStringLiteral("bob-browser"));
    QVERIFY(detail->timelineModel()->hasKind(QStringLiteral("connected")));
    QVERIFY(detail->isRefreshing());

    // The client's own word arrives with its next telemetry batch, within a second.
    QTRY_VERIFY(detail->timelineModel()->hasKind(QStringLiteral("client-connected")));
    const auto &entries = detail->timelineModel()->entries();
    for (int i = 1; i < entries.size(); ++i)
        QVERIFY(entries.at(i - 1).timeMs <= entries.at(i).timeMs);

    // Enter on the same row again raises the same window rather than a second one.
    QTest::keyClick(m_window->sessionInspector()->tableView(), Qt::Key_Return);
    QCOMPARE(m_window->sessionInspector()->findChildren<SessionDetailWindow *>().size(), 1);

    detail->hide();
    QVERIFY(!detail->isRefreshing());
}

void tst_Inspector::disconnectAsksWhyAndTheClientResumes()
{
    SessionDetailWindow *detail = openDetailOf(0);
    QVERIFY(detail);
    QTRY_VERIFY(detail->disconnectAction()->isEnabled());
    const QString id = m_fleet->sessionId(0);

    detail->disconnectAction()->trigger();
    auto *dialog = detail->findChild<QInputDialog *>(QStringLiteral("disconnectReasonDialog"));
    QVERIFY(dialog);
    QVERIFY(dialog->isVisible());
    const QString reason = QStringLiteral("ticket 4711: odds frozen, reconnect please");
    dialog->setTextValue(reason);
    dialog->accept();

    // The engine closes it with the reason; the client comes back and resumes its session.
    QTRY_VERIFY(detail->timelineModel()->hasKind(QStringLiteral("disconnected-by-desk")));
    const auto &entries = detail->timelineModel()->entries();
    const auto cut = std::find_if(entries.cbegin(), entries.cend(),
        [](const TimelineEntry &e) { return e.kind == QLatin1String("disconnected-by-desk"); });
    QCOMPARE(cut->detail, reason);
    QTRY_COMPARE(m_fleet->stats(0).resumes, 1ull);
    QCOMPARE(m_fleet->sessionId(0), id);
    QTRY_VERIFY(detail->timelineModel()->hasKind(QStringLiteral("resumed")));
    SessionModel *model = m_window->sessionInspector()->sessionModel();
    QTRY_COMPARE(model->sessionAt(model->rowOfSession(id))->resumes, 1);
    QVERIFY(model->sessionAt(model->rowOfSession(id))->connected);
    // The others were not touched.
    QCOMPARE(m_fleet->stats(1).reconnects, 0ull);
    QCOMPARE(m_fleet->stats(2).reconnects, 0ull);
}

void tst_Inspector::forceResync()
{
    SessionDetailWindow *detail = openDetailOf(2);
    QVERIFY(detail);
    QTRY_VERIFY(detail->resyncAction()->isEnabled());
    const quint64 snapshots = m_fleet->stats(2).snapshots;
    detail->resyncAction()->trigger();
    QTRY_COMPARE(m_fleet->stats(2).snapshots, snapshots + 1);
    QTRY_VERIFY(detail->timelineModel()->hasKind(QStringLiteral("resync-by-desk")));
    QCOMPARE(m_fleet->stats(2).reconnects, 0ull); // a snapshot on the same connection
}

void tst_Inspector::copiedReportParses()
{
    SessionDetailWindow *detail = openDetailOf(1);
    QVERIFY(detail);
    QTRY_VERIFY(detail->copyReportAction()->isEnabled());
    QTRY_VERIFY(detail->timelineModel()->hasKind(QStringLiteral("client-connected")));
    QGuiApplication::clipboard()->clear();
    detail->copyReportAction()->trigger();

    QJsonParseError error;
    const QJsonDocument report
        = QJsonDocument::fromJson(QGuiApplication::clipboard()->text().toUtf8(), &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    const QJsonObject session = report.object().value(QStringLiteral("session")).toObject();
    QCOMPARE(session.value(QStringLiteral("id")).toString(), m_fleet->sessionId(1));
    QCOMPARE(session.value(QStringLiteral("clientName")).toString(), QStringLiteral("bob-browser"));
    QCOMPARE(session.value(QStringLiteral("state")).toString(), QStringLiteral("connected"));
    const QJsonArray timeline = report.object().value(QStringLiteral("timeline")).toArray();
    QCOMPARE(timeline.size(), detail->timelineModel()->rowCount());
    QStringList kinds;
    for (const QJsonValue &e : timeline)
        kinds << e.toObject().value(QStringLiteral("kind")).toString();
    QVERIFY2(kinds.contains(QStringLiteral("connected")), qPrintable(kinds.join(',')));
    QVERIFY(kinds.contains(QStringLiteral("client-connected")));
    QVERIFY(detail->statusText().contains(QStringLiteral("copied")));
}

void tst_Inspector::sessionReport_data()
{
    QTest::addColumn<bool>("connected");
    QTest::addColumn<bool>("staleNow");
    QTest::addColumn<QString>("state");

    QTest::newRow("connected") << true << false << "connected";
    QTest::newRow("stale") << true << true << "stale";
    QTest::newRow("retained") << false << false << "retained";
}

void tst_Inspector::sessionReport()
{
    QFETCH(bool, connected);
    QFETCH(bool, staleNow);
    QFETCH(QString, state);

    SessionDetail detail;
    detail.summary.id = QStringLiteral("4f1c9a2e7b3d5a60");
    detail.summary.clientName = QStringLiteral("oddsdesk-ios");
    detail.summary.connected = connected;
    detail.summary.staleNow = staleNow;
    detail.summary.createdMs = 1715680800000; // 2024-05-14 10:00:00 UTC
    detail.summary.latencyP99Us = 12345;
    detail.summary.bytesOut = 5000000000ull; // past 32 bits
    // Out of order, as merged sources can be: the report puts them in time order.
    detail.timeline = {entry(1715680803000, QStringLiteral("closed"), QStringLiteral("1006")),
        entry(1715680800000, QStringLiteral("connected"), QStringLiteral("from 127.0.0.1")),
        entry(1715680801500, QStringLiteral("stale"), QStringLiteral("6000 ms without data"),
            TimelineEntry::Source::Client)};
    detail.recentLatencyUs = {800, 1200, 12345};

    const QJsonObject report
        = OddsDesk::sessionReport(detail, QDateTime::fromMSecsSinceEpoch(1715680900000, Qt::UTC))
              .object();
    QCOMPARE(report.value(QStringLiteral("report")).toString(), QStringLiteral("oddsdesk-session"));
    QCOMPARE(report.value(QStringLiteral("generatedAt")).toString(),
        QStringLiteral("2024-05-14T10:01:40.000Z"));
    const QJsonObject session = report.value(QStringLiteral("session")).toObject();
    QCOMPARE(session.value(QStringLiteral("id")).toString(), detail.summary.id);
    QCOMPARE(session.value(QStringLiteral("state")).toString(), state);
    QCOMPARE(session.value(QStringLiteral("createdAt")).toString(),
        QStringLiteral("2024-05-14T10:00:00.000Z"));
    QVERIFY(session.value(QStringLiteral("connectedSince")).isNull()); // never given
    QCOMPARE(session.value(QStringLiteral("latencyP99Ms")).toDouble(), 12.345);
    QCOMPARE(session.value(QStringLiteral("bytesOut")).toInteger(), 5000000000ll);
    QCOMPARE(report.value(QStringLiteral("recentLatencyMs")).toArray().size(), 3);

    const QJsonArray timeline = report.value(QStringLiteral("timeline")).toArray();
    QCOMPARE(timeline.size(), 3);
    QCOMPARE(timeline.at(0).toObject().value(QStringLiteral("kind")).toString(),
        QStringLiteral("connected"));
    QCOMPARE(timeline.at(1).toObject().value(QStringLiteral("source")).toString(),
        QStringLiteral("client"));
    QCOMPARE(timeline.at(2).toObject().value(QStringLiteral("time")).toString(),
        QStringLiteral("2024-05-14T10:00:03.000Z"));
}

// The engine sends the whole (bounded) timeline every second; the model only adds what is
// new and drops what fell off the front.
void tst_Inspector::timelineRefreshIsMinimal()
{
    TimelineModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVector<TimelineEntry> timeline;
    for (int i = 0; i < 5; ++i)
        timeline << entry(1000 + i, QStringLiteral("reconnect-attempt"), QString::number(i));
    model.setEntries(timeline);
    QCOMPARE(model.rowCount(), 5);

    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    model.setEntries(timeline);
    QCOMPARE(inserted.count() + removed.count() + reset.count(), 0);

    timeline << entry(2000, QStringLiteral("resumed")) << entry(2001, QStringLiteral("gap"));
    timeline.remove(0, 2); // the engine's timeline is full: its oldest entries go
    model.setEntries(timeline);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(removed.at(0).at(1).toInt(), 0);
    QCOMPARE(removed.at(0).at(2).toInt(), 1);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 3);
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.index(4, TimelineModel::KindColumn).data().toString(), QStringLiteral("gap"));

    // A client's report of something earlier arrives late: it goes in where it happened,
    // and nothing else moves.
    inserted.clear();
    removed.clear();
    timeline.insert(3, entry(1999, QStringLiteral("stale"), QStringLiteral("20000 ms")));
    model.setEntries(timeline);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(removed.count(), 0);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 3);
    QCOMPARE(inserted.at(0).at(2).toInt(), 3);
    QCOMPARE(model.rowCount(), 6);
    for (int row = 0; row < timeline.size(); ++row)
        QVERIFY(model.entries().at(row).kind == timeline.at(row).kind);
}

void tst_Inspector::watchesOnlyWhileVisible()
{
    QSignalSpy lists(m_engine.get(), &Engine::sessionsUpdated);
    QTest::qWait(SessionListsMs);
    QCOMPARE(lists.count(), 0); // nobody looking: the engine lists nothing

    SessionInspector *inspector = openInspector();
    QVERIFY(inspector->isWatching());
    QTRY_VERIFY(lists.count() >= 2);

    // The dashboard watches too; hiding the inspector must not stop the dashboard's list.
    m_window->dashboardAction()->trigger();
    inspector->hide();
    QVERIFY(!inspector->isWatching());
    lists.clear();
    QTRY_VERIFY(lists.count() >= 2);

    m_window->dashboard()->hide();
    QTest::qWait(300); // a list already on its way may still land
    lists.clear();
    QTest::qWait(SessionListsMs);
    QCOMPARE(lists.count(), 0);

    inspector->show();
    QTRY_VERIFY(lists.count() >= 1); // at once, not a second later
}

// SIGTERM stops the engine first, then quits, which closes every window: the inspector,
// the dashboard and a session's detail then stop watching an engine that is gone. That
// once posted to the deleted engine core and hung the console for good.
void tst_Inspector::windowsCloseAfterTheEngineStopped()
{
    SessionInspector *inspector = openInspector();
    m_window->dashboardAction()->trigger();
    SessionDetailWindow *detail = openDetailOf(0);
    QVERIFY(detail);
    QVERIFY(inspector->isWatching());

    m_fleet.reset();
    m_engine->shutdown();
    QApplication::closeAllWindows();
    QVERIFY(!inspector->isVisible());
    QVERIFY(!detail->isVisible());
    QVERIFY(!inspector->isWatching());
    // Asked for anything now, the stopped engine does nothing, and says nothing (once what
    // it said before it stopped has been delivered).
    QCoreApplication::sendPostedEvents();
    QSignalSpy lists(m_engine.get(), &Engine::sessionsUpdated);
    m_engine->watchSessions(true);
    m_engine->requestSessionDetail(QStringLiteral("any"));
    QTest::qWait(100);
    QCOMPARE(lists.count(), 0);
}

void tst_Inspector::dashboardOpensTheWorstSession()
{
    m_engine->setSimulatorRate(100);
    m_engine->setSimulatorEnabled(true);
    m_window->dashboardAction()->trigger();
    Dashboard *dashboard = m_window->dashboard();
    QVERIFY(QTest::qWaitForWindowExposed(dashboard));
    QAbstractItemModelTester worstTester(
        dashboard->worstModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester worstSourceTester(dashboard->worstModel()->sourceModel(),
        QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(dashboard->isRedrawing());

    // Every client acks what it gets, so every session has a p99 soon.
    QTRY_COMPARE(dashboard->worstModel()->rowCount(), 3);
    QTRY_VERIFY(
        std::accumulate(dashboard->p99Spread().cbegin(), dashboard->p99Spread().cend(), 0) == 3);
    QTRY_VERIFY(dashboard->snapshotBytesEstimate() > 0);
    QTRY_VERIFY(dashboard->pushBytesPerSecond() > 0);
    QVERIFY(dashboard->pollingBytesPerSecond() > 0);
    // The sentence says the polling figure is an estimate and how it is made.
    const QString cost = dashboard->costLabel()->text();
    QVERIFY2(cost.contains(QStringLiteral("estimate")) && cost.contains(QStringLiteral("snapshot"))
            && cost.contains(QStringLiteral("3 connected")),
        qPrintable(cost));
    dashboard->redraw();
    QTRY_VERIFY(!dashboard->latencyChart()->points(0).isEmpty());
    QVERIFY(!dashboard->sessionsChart()->points(0).isEmpty());

    // A click on the worst session opens it in the inspector.
    QTableView *worst = dashboard->worstView();
    const QString id = dashboard->worstModel()->sessionIdAt(0);
    const QModelIndex first = dashboard->worstModel()->index(0, SessionModel::ClientColumn);
    QTest::mouseClick(worst->viewport(), Qt::LeftButton, {}, worst->visualRect(first).center());
    SessionInspector *inspector = m_window->sessionInspector();
    QVERIFY(inspector->isVisible());
    QVERIFY(inspector->detailWindow(id));
    QTRY_COMPARE(inspector->currentSessionId(), id);
    m_engine->setSimulatorEnabled(false);
}

// Hidden, the dashboard draws nothing and asks for no session list, but keeps the feed's
// figures, no more than its window of them, so that it opens on the last minutes.
void tst_Inspector::dashboardPausesWhileHidden()
{
    Dashboard dashboard(m_engine.get());
    // The figures are the test's own: the running engine's would land among them whenever
    // showing the window takes longer than its metrics interval (as under a sanitizer).
    disconnect(m_engine.get(), &Engine::metricsUpdated, &dashboard, nullptr);
    QVERIFY(!dashboard.isVisible());
    QVERIFY(!dashboard.isRedrawing());
    const qint64 start = 1715680800000;
    constexpr int IntervalMs = 250;
    const int samples = int(3 * Dashboard::WindowMs / IntervalMs); // three windows' worth
    for (int i = 0; i < samples; ++i) {
        FeedMetrics metrics;
        metrics.timeMs = start + qint64(i) * IntervalMs;
        metrics.intervalMs = IntervalMs;
        metrics.connected = 20;
        metrics.latencySamples = 5;
        metrics.latencyP50Us = 900;
        metrics.latencyP95Us = 1500;
        metrics.latencyP99Us = 2100;
        metrics.bytesOut = 4000;
        metrics.framesOut = 40;
        dashboard.addMetrics(metrics);
    }
    const qsizetype window = Dashboard::WindowMs / IntervalMs;
    const qsizetype kept = dashboard.latencyChart()->points(0).size();
    QVERIFY2(kept >= window && kept <= window + window / 10 + 1, qPrintable(QString::number(kept)));
    QCOMPARE(dashboard.latencyChart()->series(0)->count(), 0); // nothing drawn yet

    dashboard.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dashboard));
    QVERIFY(dashboard.isRedrawing());
    QVERIFY(dashboard.latencyChart()->series(0)->count() > 0); // drawn on showing
    QCOMPARE(dashboard.pushBytesPerSecond(), 16000.0);
    dashboard.hide();
    QVERIFY(!dashboard.isRedrawing());
}

// Sessions connected and nothing acknowledged yet (no price has moved): the latency chart's
// clock runs with the others and its scale reads 0 to 10 ms, and the spread has one empty
// bar with its axis title under it. It once showed 00:00:00 five times, a scale of
// "1, 1, 1, 0, 0", and the title in the chart's corner.
void tst_Inspector::dashboardBeforeAnyAck()
{
    Dashboard dashboard(m_engine.get());
    disconnect(m_engine.get(), &Engine::metricsUpdated, &dashboard, nullptr);
    const qint64 start = 1715680800000;
    qint64 last = 0;
    for (int i = 0; i < 20; ++i) {
        FeedMetrics metrics;
        metrics.timeMs = last = start + qint64(i) * 250;
        metrics.intervalMs = 250;
        metrics.connected = 3;
        dashboard.addMetrics(metrics);
    }
    dashboard.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dashboard));
    dashboard.redraw();

    auto *time = qobject_cast<QDateTimeAxis *>(
        dashboard.latencyChart()->chart()->axes(Qt::Horizontal).constFirst());
    QVERIFY(time);
    QCOMPARE(time->max().toMSecsSinceEpoch(), last);
    QVERIFY(time->min() < time->max());
    QValueAxis *latency = dashboard.latencyChart()->valueAxis(TimeChart::Axis::Left);
    QCOMPARE(latency->min(), 0.0);
    QCOMPARE(latency->max(), 10.0);
    // Whole frames a second: 0 to 5, not a scale of 0 to 1 labelled "0, 0, 0, 1, 1, 1".
    QCOMPARE(dashboard.outputChart()->valueAxis(TimeChart::Axis::Left)->max(), 5.0);

    auto *bins = qobject_cast<QBarCategoryAxis *>(
        dashboard.spreadChart()->axes(Qt::Horizontal).constFirst());
    QVERIFY(bins);
    QCOMPARE(bins->categories(), QStringList {QStringLiteral("-")});
    grab(&dashboard, QStringLiteral("dashboard-before-acks"));
    dashboard.hide();
}

// The desk with an audience: 200 punters (20 without a screenshot to take), prices moving,
// two dropped connections, one client that stopped acknowledging. With
// ODDSDESK_SCREENSHOT_DIR set, the inspector, a detail and the dashboard are saved there.
void tst_Inspector::underLoad()
{
    const bool pictures = !qEnvironmentVariableIsEmpty("ODDSDESK_SCREENSHOT_DIR");
    const int audience = pictures ? 200 : 20;
    // A book the size of a real one, so that a snapshot weighs what it would.
    m_engine->loadBook(generateDemoBook());
    for (int i = 0; i < m_fleet->size(); ++i)
        QTRY_COMPARE(m_fleet->stats(i).snapshots, 2ull);

    // Punters' apps, named as their makers ship them.
    static const struct
    {
        const char *name;
        const char *version;
    } apps[] = {{"oddsdesk-web", "4.2.1"}, {"oddsdesk-ios", "3.8.0"}, {"oddsdesk-android", "3.7.2"},
        {"oddsdesk-web", "4.1.9"}, {"partner-widget", "1.0.3"}};
    const QUrl url = m_engine->url();
    for (int i = m_fleet->size(); i < audience; ++i) {
        const auto &app = apps[i % std::size(apps)];
        FeedClientConfig config
            = clientConfig(url, QString::fromLatin1(app.name), QString::fromLatin1(app.version));
        config.format = i % 3 == 0 ? WireFormat::Json : WireFormat::Binary;
        config.sendAcks = i != audience - 1; // this one stops acknowledging: stale
        m_fleet->add(config);
    }
    m_window->dashboardAction()->trigger();
    SessionInspector *inspector = openInspector();
    QTRY_COMPARE_WITH_TIMEOUT(inspector->sessionModel()->rowCount(), audience, 30000);

    m_engine->setSimulatorRate(60);
    m_engine->setSimulatorEnabled(true);
    QTest::qWait(pictures ? 12000 : 3000);
    m_fleet->drop(7, QStringLiteral("network switch"));
    m_fleet->drop(42 % audience, QStringLiteral("tunnel"));
    m_fleet->stop(audience - 2); // retained: the engine keeps the session for a resume
    QTest::qWait(pictures ? 9000 : 2000);

    QTRY_VERIFY_WITH_TIMEOUT(m_fleet->stats(7).resumes >= 1, 10000);
    SessionModel *model = inspector->sessionModel();
    QTRY_COMPARE(model->rowCount(), audience);
    QTRY_COMPARE(model->retainedCount(), 1);
    const QString stuck = m_fleet->sessionId(audience - 1);
    if (pictures) // three heartbeats of silence make it stale: long enough only here
        QTRY_VERIFY_WITH_TIMEOUT(model->sessionAt(model->rowOfSession(stuck))->staleNow, 15000);

    // What support staff do: find a punter by the session id in the ticket, open it.
    const QString ticket = m_fleet->sessionId(7);
    inspector->searchEdit()->setText(ticket.left(6));
    QTRY_VERIFY(inspector->filterModel()->rowOfSession(ticket) >= 0);
    inspector->searchEdit()->clear();
    inspector->tableView()->setFocus();
    grab(inspector, QStringLiteral("inspector"));

    SessionDetailWindow *detail = inspector->showSession(ticket);
    QVERIFY(detail);
    QTRY_VERIFY(detail->timelineModel()->hasKind(QStringLiteral("resumed")));
    QTRY_VERIFY(detail->timelineModel()->hasKind(QStringLiteral("reconnect-attempt")));
    QTest::qWait(1200); // one more refresh: the chart and figures of now
    grab(detail, QStringLiteral("session-detail"));
    detail->close();

    Dashboard *dashboard = m_window->dashboard();
    dashboard->redraw();
    QTest::qWait(300); // the charts lay out their axes and legends on the next pass
    QVERIFY(dashboard->pollingBytesPerSecond() > dashboard->pushBytesPerSecond());
    grab(dashboard, QStringLiteral("dashboard"));
    m_engine->setSimulatorEnabled(false);
}

QTEST_MAIN(tst_Inspector)
#include "tst_inspector.moc"
