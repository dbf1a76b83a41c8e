#include "bookmodel.h"
#include "chartpanel.h"
#include "codec.h"
#include "engine.h"
#include "feedclient.h"
#include "gridview.h"
#include "mainwindow.h"

#include <QApplication>
#include <QChart>
#include <QLabel>
#include <QLineEdit>
#include <QDateTimeAxis>
#include <QLineSeries>
#include <QValueAxis>
#include <QLegend>
#include <QLegendMarker>
#include <QMessageBox>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>
#include <QSettings>
#include <QTemporaryDir>
#include "support/clientthread.h"

#include <QtTest>

#include <chrono>
#include <memory>

using namespace OddsDesk;
using OddsDesk::Testing::ClientThread;

namespace {

// Long enough for an edit to cross to the engine and a delta to reach a client over
// loopback: the feed flushes every 10 ms.
constexpr int QuietMs = 400;

constexpr quint32 DrawSelection = 101; // Man United v Leicester, Match Odds, the draw at 3.90
constexpr quint32 MatchOdds = 10;

qint64 steadyMicros()
{
    using namespace std::chrono;
    return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

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
    united.id = MatchOdds;
    united.eventId = 1;
    united.name = "Match Odds";
    united.kind = "1x2";
    united.selections = {{100, "Man United", 157, false}, {DrawSelection, "Draw", 390, false},
        {102, "Leicester", 750, false}};
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

// A punter's client on the JSON subprotocol: says hello, records what the feed sends and,
// when asked, acknowledges every delta the way a real client does.
class TestClient : public QObject
{
public:
    TestClient(const QUrl &url, const QString &name, bool acks)
        : m_acks(acks)
    {
        connect(&m_socket, &QWebSocket::connected, this, [this, name] {
            m_socket.sendTextMessage(
                QStringLiteral("{\"hello\":{\"protocolVersion\":1,\"clientName\":\"%1\"}}")
                    .arg(name));
        });
        connect(&m_socket, &QWebSocket::textMessageReceived, this, &TestClient::onText);
        QWebSocketHandshakeOptions options;
        options.setSubprotocols({QString::fromLatin1(JsonSubprotocol)});
        m_socket.open(url, options);
    }

    bool hasSnapshot() const { return m_snapshot; }
    int deltaCount() const { return m_deltas; }
    QString lastError() const { return m_error; }
    bool sawPrice(quint32 selectionId, Price price) const
    {
        return m_prices.contains(qMakePair(selectionId, price));
    }
    bool sawStatus(quint32 marketId, MarketStatus status) const
    {
        return m_statuses.contains(qMakePair(marketId, int(status)));
    }

private:
    void onText(const QString &text)
    {
        const qint64 receivedUs = steadyMicros();
        pb::ServerMessage message;
        QString error;
        if (!Codec::decode(text.toUtf8(), WireFormat::Json, &message, &error)) {
            m_error = error;
            return;
        }
        switch (message.body_case()) {
        case pb::ServerMessage::kSnapshot:
            m_snapshot = m_snapshot || message.snapshot().last();
            break;
        case pb::ServerMessage::kDelta:
            onDelta(message.delta(), receivedUs);
            break;
        case pb::ServerMessage::kError:
            m_error = QString::fromStdString(message.error().message());
            break;
        default:
            break;
        }
    }

    void onDelta(const pb::Delta &delta, qint64 receivedUs)
    {
        ++m_deltas;
        for (const pb::Change &change : delta.changes()) {
            if (change.has_price())
                m_prices << qMakePair(change.price().selection_id(), change.price().price());
            if (change.what_case() == pb::Change::kStatus)
                m_statuses << qMakePair(
                    change.market_id(), int(Codec::fromProtoValue(change.status())));
        }
        if (!m_acks)
            return;
        pb::ClientMessage ack;
        ack.mutable_ack()->set_sequence(delta.to_sequence());
        ack.mutable_ack()->set_receive_time_us(receivedUs);
        m_socket.sendTextMessage(QString::fromUtf8(Codec::encode(ack, WireFormat::Json)));
    }

    QWebSocket m_socket;
    bool m_acks = false;
    bool m_snapshot = false;
    int m_deltas = 0;
    QString m_error;
    QList<QPair<quint32, quint32>> m_prices;
    QList<QPair<quint32, int>> m_statuses;
};

} // namespace

class tst_MainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void desksChoicesLast();

    void titleAndStatusBar();
    void typedPriceReachesClients();
    void invalidPriceIsRefused_data();
    void invalidPriceIsRefused();
    void escapeCancels();
    void plusStepsThePrice();
    void ctrlSSuspendsAndReopens();
    void priceMovedWhileTyping();
    void simulateAction();
    void chartsKeepTwoMinutes();
    void chartsPauseWhileHidden();
    void importReportsSkippedRows();
    void importErrorChangesNothing();
    void chartsWithTheRealSeason();

private:
    QTableView *table() const { return m_window->gridView()->tableView(); }
    void goToCell(quint32 marketId, int column);
    void type(const QString &text);
    void key(Qt::Key key, Qt::KeyboardModifiers modifiers = Qt::NoModifier);
    QString shown(quint32 marketId, int column) const;
    void grab(const QString &name);

    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<MainWindow> m_window;
    std::unique_ptr<TestClient> m_client;
};

void tst_MainWindow::init()
{
    EngineConfig config;
    config.server.port = 0;
    m_engine = std::make_unique<Engine>(config);
    m_window = std::make_unique<MainWindow>(m_engine.get());
    m_window->show();
    QApplication::setActiveWindow(m_window.get());
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));

    QSignalSpy started(m_engine.get(), &Engine::started);
    m_engine->start(smallBook());
    QTRY_COMPARE(started.count(), 1);
    QTRY_COMPARE(m_window->bookModel()->rowCount(), 2);

    m_client = std::make_unique<TestClient>(m_engine->url(), QStringLiteral("test"), false);
    QTRY_VERIFY2(m_client->hasSnapshot(), qPrintable(m_client->lastError()));
}

void tst_MainWindow::cleanup()
{
    m_client.reset();
    m_window.reset();
    m_engine.reset();
}

void tst_MainWindow::desksChoicesLast()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("oddsdesk.conf"));
    {
        QSettings settings(path, QSettings::IniFormat);
        settings.setValue(QStringLiteral("desk/oddsDisplay"), QStringLiteral("fractional"));
        settings.setValue(QStringLiteral("desk/showCharts"), false);
    }
    QSettings settings(path, QSettings::IniFormat);
    m_window->restoreSettings(settings);
    QCOMPARE(m_window->bookModel()->oddsDisplay(), OddsDisplay::Fractional);

    // The trader changes it back; the next start finds the new choice.
    for (QAction *action : m_window->findChildren<QAction *>()) {
        if (action->text().contains(QStringLiteral("American")))
            action->trigger();
    }
    m_window->saveSettings(settings);
    settings.sync();
    QCOMPARE(QSettings(path, QSettings::IniFormat).value(QStringLiteral("desk/oddsDisplay")),
        QVariant(QStringLiteral("american")));
    QCOMPARE(
        QSettings(path, QSettings::IniFormat).value(QStringLiteral("desk/showCharts")).toBool(),
        false);
}

void tst_MainWindow::key(Qt::Key key, Qt::KeyboardModifiers modifiers)
{
    QWidget *target = QApplication::focusWidget();
    QVERIFY(target);
    QTest::keyClick(target, key, modifiers);
}

// Keys go where a keyboard sends them: to the focused widget, which is the cell's editor
// once the first character has opened it.
void tst_MainWindow::type(const QString &text)
{
    for (const QChar c : text) {
        QWidget *target = QApplication::focusWidget();
        QVERIFY(target);
        QTest::keyClick(target, c.toLatin1());
    }
}

void tst_MainWindow::goToCell(quint32 marketId, int column)
{
    table()->setFocus();
    QTRY_VERIFY(table()->hasFocus());
    QTest::keyClick(table(), Qt::Key_Home, Qt::ControlModifier);
    const int row = m_window->gridView()->viewRowOfMarket(marketId);
    QVERIFY(row >= 0);
    for (int i = 0; i < row; ++i)
        QTest::keyClick(table(), Qt::Key_Down);
    for (int i = 0; i < column; ++i)
        QTest::keyClick(table(), Qt::Key_Right);
    QCOMPARE(table()->currentIndex().row(), row);
    QCOMPARE(table()->currentIndex().column(), column);
}

QString tst_MainWindow::shown(quint32 marketId, int column) const
{
    BookModel *model = m_window->bookModel();
    return model->index(model->rowOfMarket(marketId), column).data().toString();
}

void tst_MainWindow::grab(const QString &name)
{
    const QString dir = qEnvironmentVariable("ODDSDESK_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QDir().mkpath(dir);
    const QString path = dir + QLatin1Char('/') + name + QStringLiteral(".png");
    QVERIFY2(m_window->grab().save(path), qPrintable(path));
    qInfo("saved %s", qPrintable(path));
}

void tst_MainWindow::titleAndStatusBar()
{
    QVERIFY(!m_window->windowTitle().contains(QStringLiteral("DEMO")));
    m_window->setDemoMode(true);
    QVERIFY(m_window->windowTitle().contains(QStringLiteral("DEMO")));

    const auto labels = m_window->statusBar()->findChildren<QLabel *>();
    const auto hasLabel = [&labels](const QString &part) {
        return std::any_of(labels.cbegin(), labels.cend(),
            [&part](const QLabel *l) { return l->text().contains(part); });
    };
    QVERIFY(hasLabel(m_engine->url().toString()));
    QTRY_VERIFY(hasLabel(QStringLiteral("1 connected")));
    QVERIFY(hasLabel(QStringLiteral("Head sequence")));
}

void tst_MainWindow::typedPriceReachesClients()
{
    goToCell(MatchOdds, BookModel::Price2Column);
    type(QStringLiteral("4.20"));
    QVERIFY(qobject_cast<QLineEdit *>(QApplication::focusWidget()));
    key(Qt::Key_Return);

    QTRY_VERIFY(m_client->sawPrice(DrawSelection, 420));
    QTRY_COMPARE(shown(MatchOdds, BookModel::Price2Column), QStringLiteral("4.20"));
    QCOMPARE(m_window->gridView()->messageText(), QString());
    QVERIFY(table()->hasFocus()); // back on the grid for the next edit
}

void tst_MainWindow::invalidPriceIsRefused_data()
{
    QTest::addColumn<QString>("typed");
    QTest::addColumn<QString>("refusal");

    QTest::newRow("three decimals") << "2.505"
                                    << "more than two decimals";
    QTest::newRow("letters") << "abc"
                             << "not a price";
    QTest::newRow("below 1.01") << "0.5"
                                << "below 1.01";
}

void tst_MainWindow::invalidPriceIsRefused()
{
    QFETCH(QString, typed);
    QFETCH(QString, refusal);

    goToCell(MatchOdds, BookModel::Price2Column);
    type(typed);
    key(Qt::Key_Return);

    const QString message = m_window->gridView()->messageText();
    QVERIFY2(message.contains(refusal), qPrintable(message));
    // The editor stays open on what was typed, to be corrected or abandoned.
    auto *editor = qobject_cast<QLineEdit *>(QApplication::focusWidget());
    QVERIFY(editor);
    QCOMPARE(editor->text(), typed);
    key(Qt::Key_Escape);

    QTest::qWait(QuietMs);
    QCOMPARE(m_client->deltaCount(), 0);
    QCOMPARE(shown(MatchOdds, BookModel::Price2Column), QStringLiteral("3.90"));
}

void tst_MainWindow::escapeCancels()
{
    goToCell(MatchOdds, BookModel::Price2Column);
    type(QStringLiteral("5.5"));
    key(Qt::Key_Escape);
    QVERIFY(table()->hasFocus());
    QTest::qWait(QuietMs);
    QCOMPARE(m_client->deltaCount(), 0);
    QCOMPARE(shown(MatchOdds, BookModel::Price2Column), QStringLiteral("3.90"));
}

void tst_MainWindow::plusStepsThePrice()
{
    goToCell(MatchOdds, BookModel::Price2Column);
    type(QStringLiteral("+"));
    QTRY_VERIFY(m_client->sawPrice(DrawSelection, 395));
    QTRY_COMPARE(shown(MatchOdds, BookModel::Price2Column), QStringLiteral("3.95"));
    type(QStringLiteral("-"));
    QTRY_VERIFY(m_client->sawPrice(DrawSelection, 390));
}

void tst_MainWindow::ctrlSSuspendsAndReopens()
{
    goToCell(MatchOdds, BookModel::Selection1Column);
    key(Qt::Key_S, Qt::ControlModifier);
    QTRY_VERIFY(m_client->sawStatus(MatchOdds, MarketStatus::Suspended));
    QTRY_COMPARE(shown(MatchOdds, BookModel::StatusColumn), QStringLiteral("Suspended"));

    key(Qt::Key_S, Qt::ControlModifier);
    QTRY_VERIFY(m_client->sawStatus(MatchOdds, MarketStatus::Open));
    QTRY_COMPARE(shown(MatchOdds, BookModel::StatusColumn), QStringLiteral("Open"));
}

void tst_MainWindow::priceMovedWhileTyping()
{
    goToCell(MatchOdds, BookModel::Price2Column);
    type(QStringLiteral("4"));
    // Someone else moves the price while the trader is typing.
    m_engine->setPrice(DrawSelection, 400, 390);
    QTRY_VERIFY(m_client->sawPrice(DrawSelection, 400));
    QTRY_COMPARE(shown(MatchOdds, BookModel::Price2Column), QStringLiteral("4.00"));
    auto *editor = qobject_cast<QLineEdit *>(QApplication::focusWidget());
    QVERIFY(editor);
    QCOMPARE(editor->text(), QStringLiteral("4")); // what they typed is kept

    type(QStringLiteral(".5"));
    key(Qt::Key_Return);
    // The edit was made against 3.90: the engine refuses it rather than overwrite 4.00.
    QTRY_VERIFY(m_window->gridView()->messageText().contains(QStringLiteral("moved")));
    QTest::qWait(QuietMs);
    QVERIFY(!m_client->sawPrice(DrawSelection, 450));
    QCOMPARE(shown(MatchOdds, BookModel::Price2Column), QStringLiteral("4.00"));
}

void tst_MainWindow::simulateAction()
{
    QAction *simulate = m_window->simulateAction();
    QVERIFY(!simulate->isChecked());
    QSignalSpy changed(m_engine.get(), &Engine::simulatorChanged);
    simulate->trigger();
    QTRY_COMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).toBool(), true);
    QTRY_VERIFY(m_client->deltaCount() > 0);
    simulate->trigger();
    QTRY_COMPARE(changed.count(), 2);
    QVERIFY(!simulate->isChecked());
}

void tst_MainWindow::chartsKeepTwoMinutes()
{
    ChartPanel charts;
    const qint64 start = 1700000000000;
    const int samples = 3 * 60 * 4; // three minutes at four samples a second
    for (int i = 0; i < samples; ++i) {
        FeedMetrics metrics;
        metrics.timeMs = start + i * 250;
        metrics.intervalMs = 250;
        metrics.connected = i < samples / 4 ? 40 : 12; // the first 45 s leave the window
        metrics.latencySamples = 10;
        metrics.latencyP50Us = 2000;
        metrics.latencyP99Us = i < samples / 4 ? 90000 : 7000;
        metrics.resumes = i % 40 == 0 ? 3 : 0;
        metrics.worstClients = {ClientLatency {"s1", "slow", 5000, 8000}};
        charts.addMetrics(metrics);
    }
    charts.redraw();

    auto *p99 = static_cast<QLineSeries *>(charts.latencyChart()->series().at(1));
    QCOMPARE(p99->name(), QStringLiteral("p99"));
    QVERIFY(p99->count() > 0);
    QVERIFY(p99->count() <= int(ChartPanel::WindowMs / 250) + 1);
    QVERIFY(p99->at(0).x() >= start + samples * 250 - 250 - ChartPanel::WindowMs);

    // The axes follow what is kept: the 90 ms minute has left the window.
    auto *latencyAxis
        = static_cast<QValueAxis *>(charts.latencyChart()->axes(Qt::Vertical).constFirst());
    QCOMPARE(latencyAxis->min(), 0.0);
    QVERIFY2(latencyAxis->max() >= 8.0 && latencyAxis->max() <= 10.0,
        qPrintable(QString::number(latencyAxis->max())));
    auto *sessionsAxis
        = static_cast<QValueAxis *>(charts.sessionsChart()->axes(Qt::Vertical).constFirst());
    QVERIFY2(sessionsAxis->max() >= 13.0 && sessionsAxis->max() <= 20.0,
        qPrintable(QString::number(sessionsAxis->max())));
    auto *timeAxis
        = static_cast<QDateTimeAxis *>(charts.latencyChart()->axes(Qt::Horizontal).constFirst());
    QCOMPARE(timeAxis->max().toMSecsSinceEpoch() - timeAxis->min().toMSecsSinceEpoch(),
        ChartPanel::WindowMs);
}

void tst_MainWindow::chartsPauseWhileHidden()
{
    ChartPanel *charts = m_window->chartPanel();
    QVERIFY(charts->isVisible());
    QVERIFY(charts->isRedrawing());
    m_window->findChild<QAction *>(QStringLiteral("showChartsAction"))->trigger();
    QVERIFY(!charts->isVisible());
    QVERIFY(!charts->isRedrawing());
    m_window->findChild<QAction *>(QStringLiteral("showChartsAction"))->trigger();
    QVERIFY(charts->isRedrawing());
}

void tst_MainWindow::importReportsSkippedRows()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("season.csv"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("Div,Date,HomeTeam,AwayTeam,B365H,B365D,B365A,BbAv>2.5,BbAv<2.5\n"
               "E0,10/08/2018,Man United,Leicester,1.57,3.9,7.5,2.03,1.85\n"
               "E0,11/08/2018,Fulham,Crystal Palace,2.505,3.4,3,2.0,1.87\n"
               "E0,11/08/2018,Watford,Brighton,2.1,3.3,3.75,2.1,1.75\n");
    file.close();

    const ImportReport report = m_window->importSeasonFile(path);
    QVERIFY2(report.ok(), qPrintable(report.error));
    QCOMPARE(report.skipped.size(), 1);
    QCOMPARE(report.skipped.at(0).line, 3);
    QTRY_COMPARE(m_window->bookModel()->rowCount(), 4);
    QVERIFY(m_window->windowTitle().contains(QStringLiteral("season")));

    auto *box = m_window->findChild<QMessageBox *>(QStringLiteral("importReport"));
    QVERIFY(box);
    QVERIFY(box->isVisible());
    QVERIFY2(
        box->detailedText().contains(QStringLiteral("line 3: ")), qPrintable(box->detailedText()));
    QVERIFY(box->detailedText().contains(report.skipped.at(0).reason));
}

void tst_MainWindow::importErrorChangesNothing()
{
    const QString oldEpoch = m_window->bookModel()->epoch();
    const ImportReport report = m_window->importSeasonFile(QStringLiteral("no-such-season.csv"));
    QVERIFY(!report.ok());
    auto *box = m_window->findChild<QMessageBox *>(QStringLiteral("importReport"));
    QVERIFY(box);
    QVERIFY(box->informativeText().contains(report.error));
    QVERIFY(m_window->statusBar()->currentMessage().contains(report.error));
    QTest::qWait(QuietMs);
    QCOMPARE(m_window->bookModel()->rowCount(), 2);
    QCOMPARE(m_window->bookModel()->epoch(), oldEpoch);
}

// The picture a presenter shows: the real season, prices moving, a few clients acking.
// With ODDSDESK_SCREENSHOT_DIR set, the window is saved there as PNG files.
void tst_MainWindow::chartsWithTheRealSeason()
{
    const QString path = QStringLiteral(ODDSDESK_SHARED_DATA_DIR)
        + QStringLiteral("/football-data_E0_2018-19.csv");
    if (!QFile::exists(path))
        QSKIP("the real season file is not available");
    const ImportReport report = m_window->importSeasonFile(path);
    QVERIFY2(report.ok(), qPrintable(report.error));
    QTRY_COMPARE(m_window->bookModel()->rowCount(), int(report.book.markets.size()));
    m_window->setDemoMode(true);

    // The fleet uses the client library: it acks every delta and resumes after a cut. It
    // runs on a thread of its own, as real clients would, so that painting the window does
    // not delay what the clients receive and therefore the latency they report.
    ClientThread fleet;
    for (int i = 0; i < 6; ++i) {
        FeedClientConfig config;
        config.url = m_engine->url();
        config.clientName = QStringLiteral("punter-%1").arg(i + 1);
        config.format = i % 2 ? WireFormat::Json : WireFormat::Binary;
        config.backoffBaseMs = 200;
        fleet.add(config);
    }
    QSignalSpy metrics(m_engine.get(), &Engine::metricsUpdated);
    QTRY_VERIFY(!metrics.isEmpty() && metrics.last().at(0).value<FeedMetrics>().connected == 7);
    m_engine->setSimulatorRate(200); // enough moves that some land on screen
    m_window->simulateAction()->trigger();
    QTest::qWait(3000);
    m_engine->restartFeed(); // every connection cut: the fleet resumes, the fixture's client not
    QTest::qWait(3000);

    ChartPanel *charts = m_window->chartPanel();
    charts->redraw();
    const auto seriesNamed = [](QChart *chart, const QString &prefix) -> QLineSeries * {
        for (QAbstractSeries *s : chart->series()) {
            if (s->name().startsWith(prefix))
                return static_cast<QLineSeries *>(s);
        }
        return nullptr;
    };
    QLineSeries *p50 = seriesNamed(charts->latencyChart(), QStringLiteral("p50"));
    QVERIFY(p50);
    QVERIFY(p50->count() > 0);
    QVERIFY(seriesNamed(charts->latencyChart(), QStringLiteral("punter-")));
    QLineSeries *connected = seriesNamed(charts->sessionsChart(), QStringLiteral("connected"));
    QVERIFY(connected);
    QVERIFY(connected->count() > 0);
    double most = 0;
    for (const QPointF &p : connected->points())
        most = std::max(most, p.y());
    QCOMPARE(most, 7.0); // six punters and the fixture's client
    QLineSeries *resumed = seriesNamed(charts->reconnectsChart(), QStringLiteral("resumed"));
    QVERIFY(resumed);
    double resumes = 0;
    for (const QPointF &p : resumed->points())
        resumes = std::max(resumes, p.y());
    QVERIFY(resumes > 0);

    // A suspended market and a refused edit, as a trader's screen has them.
    BookModel *model = m_window->bookModel();
    const QModelIndex suspended = model->index(model->rowOfMarket(3), BookModel::StatusColumn);
    QVERIFY(model->toggleMarketSuspended(suspended));
    QTRY_COMPARE(suspended.data().toString(), QStringLiteral("Suspended"));
    goToCell(1, BookModel::Price2Column);
    type(QStringLiteral("2.505"));
    key(Qt::Key_Return);
    key(Qt::Key_Escape);
    QTest::qWait(300); // the charts' next paced redraw and the legend's layout

    for (QAbstractSeries *series : charts->latencyChart()->series()) {
        for (QLegendMarker *marker : charts->latencyChart()->legend()->markers(series))
            QCOMPARE(marker->label(), series->name());
    }
    grab(QStringLiteral("oddsdesk-season"));
    m_window->bookModel()->setOddsDisplay(OddsDisplay::Fractional);
    m_window->gridView()->filterEdit()->setText(QStringLiteral("arsenal"));
    QTest::qWait(300);
    grab(QStringLiteral("oddsdesk-season-filtered"));
    m_window->simulateAction()->trigger();
}

QTEST_MAIN(tst_MainWindow)
#include "tst_mainwindow.moc"
