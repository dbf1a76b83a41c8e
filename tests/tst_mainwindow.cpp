#include "auditwindow.h"
#include "bookmodel.h"
#include "chartpanel.h"
#include "codec.h"
#include "deskeditor.h"
#include "engine.h"
#include "feedclient.h"
#include "gridview.h"
#include "mainwindow.h"
#include "translations.h"

#include <QApplication>
#include <QChart>
#include <QAbstractButton>
#include <QDoubleSpinBox>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QLineEdit>
#include <QDateTimeAxis>
#include <QLineSeries>
#include <QLogValueAxis>
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

// Writes \a content to a file named \a name in \a dir; its path, or empty if it cannot.
QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &content)
{
    const QString path = dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        return QString();
    return path;
}

// The import report is up and lists line 3 as skipped; it is left open for the caller.
QMessageBox *verifyImportReportSkippedLine3(QWidget *window)
{
    auto *box = window->findChild<QMessageBox *>(QStringLiteral("importReport"));
    [&] {
        QVERIFY(box);
        QVERIFY(box->isVisible());
        QVERIFY2(box->detailedText().contains(QStringLiteral("line 3: skipped: ")),
            qPrintable(box->detailedText()));
    }();
    return QTest::currentTestFailed() ? nullptr : box;
}

} // namespace

class tst_MainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
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
    void ctrlPlusStepsFiveTicks();
    void plusShiftsTheSelectionInOneDelta();
    void marginToTargetOnTheSelection();
    void marginOutOfRangeAsksFirst();
    void undoAndRedo();
    void ctrlSSuspendsTheSelection();
    void auditLogShowsAndExports();
    void menuShortcutsAreInTheReadme();
    void realSeasonSteps();
    void simulateAction();
    void chartsKeepTwoMinutes();
    void chartsPauseWhileHidden();
    void importReportsSkippedRows();
    void startupImportIsShownAsAnImport();
    void importErrorChangesNothing();
    void importWithoutEventsChangesNothing();
    void chartsWithTheRealSeason();

private:
    QTableView *table() const { return m_window->gridView()->tableView(); }
    void goToCell(quint32 marketId, int column);
    void type(const QString &text);
    void key(Qt::Key key, Qt::KeyboardModifiers modifiers = Qt::NoModifier);
    QString shown(quint32 marketId, int column) const;
    /// Saves \a widget (the window when null) when ODDSDESK_SCREENSHOT_DIR is set.
    void grab(const QString &name, QWidget *widget = nullptr);
    void selectMarkets(quint32 firstMarket, int firstColumn, int rows, int columns);
    template <typename Dialog> Dialog *waitFor(const QString &name);

    std::unique_ptr<QTemporaryDir> m_data;
    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<MainWindow> m_window;
    std::unique_ptr<TestClient> m_client;
};

void tst_MainWindow::initTestCase()
{
    // As the console does: the English plural forms, so that a count of one reads "1 entry".
    QVERIFY(installTranslations(qApp));
}

void tst_MainWindow::init()
{
    // A real store in a folder of the test's own: the desk's edits are kept and audited.
    m_data = std::make_unique<QTemporaryDir>();
    QVERIFY(m_data->isValid());
    EngineConfig config;
    config.server.port = 0;
    config.dataDirectory = m_data->path();
    config.preferStoredBook = false;
    config.deskUser = QStringLiteral("trader-1");
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
    m_data.reset();
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
    // Back from a dialog: the offscreen platform does not hand activation back by itself.
    QApplication::setActiveWindow(m_window.get());
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

void tst_MainWindow::grab(const QString &name, QWidget *widget)
{
    const QString dir = qEnvironmentVariable("ODDSDESK_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QDir().mkpath(dir);
    const QString path = dir + QLatin1Char('/') + name + QStringLiteral(".png");
    QVERIFY2((widget ? widget : m_window.get())->grab().save(path), qPrintable(path));
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
    // Abandoned, the price is gone, and so is why it was refused.
    QCOMPARE(m_window->gridView()->messageText(), QString());

    QTest::qWait(QuietMs);
    QCOMPARE(m_client->deltaCount(), 0);
    QCOMPARE(shown(MatchOdds, BookModel::Price2Column), QStringLiteral("3.90"));

    // Refused, then corrected: the refusal goes with the editor once the price is taken.
    goToCell(MatchOdds, BookModel::Price2Column);
    type(typed);
    key(Qt::Key_Return);
    QVERIFY(m_window->gridView()->messageText().contains(refusal));
    auto *again = qobject_cast<QLineEdit *>(QApplication::focusWidget());
    QVERIFY(again);
    again->selectAll();
    type(QStringLiteral("4.1"));
    key(Qt::Key_Return);
    QTRY_COMPARE(shown(MatchOdds, BookModel::Price2Column), QStringLiteral("4.10"));
    QCOMPARE(m_window->gridView()->messageText(), QString());
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

    type(QStringLiteral(".2"));
    key(Qt::Key_Return);
    // The edit was made against 3.90: the engine refuses it rather than overwrite 4.00, and
    // the trader sees both values.
    QTRY_VERIFY(m_window->gridView()->messageText().contains(QStringLiteral("moved")));
    QMessageBox *box = nullptr;
    QTRY_VERIFY((box = m_window->findChild<QMessageBox *>(QStringLiteral("editConflict"))));
    QVERIFY(box->isVisible());
    QVERIFY2(box->informativeText().contains(QStringLiteral("you saw 3.90, it is now 4.00; you set "
                                                            "4.20")),
        qPrintable(box->informativeText()));
    grab(QStringLiteral("conflict"), box);
    QTest::qWait(QuietMs);
    QVERIFY(!m_client->sawPrice(DrawSelection, 420));
    QCOMPARE(shown(MatchOdds, BookModel::Price2Column), QStringLiteral("4.00"));

    // Esc keeps the book's price.
    QTest::keyClick(box, Qt::Key_Escape);
    QTRY_VERIFY(!m_window->findChild<QMessageBox *>(QStringLiteral("editConflict")));
    QTest::qWait(QuietMs);
    QVERIFY(!m_client->sawPrice(DrawSelection, 420));

    // Again, and this time the trader sends theirs over the book's.
    m_engine->setPrice(DrawSelection, 410, 400);
    QTRY_VERIFY(m_client->sawPrice(DrawSelection, 410));
    QVERIFY(m_window->bookModel()->submitPrice(
        m_window->bookModel()->index(
            m_window->bookModel()->rowOfMarket(MatchOdds), BookModel::Price2Column),
        QStringLiteral("4.20"), 400));
    QTRY_VERIFY((box = m_window->findChild<QMessageBox *>(QStringLiteral("editConflict"))));
    QTest::keyClick(box, Qt::Key_M, Qt::AltModifier); // "Send &mine"
    QTRY_VERIFY(m_client->sawPrice(DrawSelection, 420));
}

// Selects a block of cells from a market's cell, as Shift and the arrows do.
void tst_MainWindow::selectMarkets(quint32 firstMarket, int firstColumn, int rows, int columns)
{
    goToCell(firstMarket, firstColumn);
    for (int i = 1; i < columns; ++i)
        QTest::keyClick(table(), Qt::Key_Right, Qt::ShiftModifier);
    for (int i = 1; i < rows; ++i)
        QTest::keyClick(table(), Qt::Key_Down, Qt::ShiftModifier);
}

// The window's dialog of that name once it shows (they open asynchronously), or null.
template <typename Dialog> Dialog *tst_MainWindow::waitFor(const QString &name)
{
    Dialog *dialog = nullptr;
    for (int i = 0; i < 100 && !dialog; ++i) {
        dialog = m_window->findChild<Dialog *>(name);
        if (!dialog)
            QTest::qWait(20);
    }
    return dialog && dialog->isVisible() ? dialog : nullptr;
}

void tst_MainWindow::ctrlPlusStepsFiveTicks()
{
    const Price five = Ladder::exchange().step(390, 5);
    goToCell(MatchOdds, BookModel::Price2Column);
    key(Qt::Key_Plus, Qt::ControlModifier);
    QTRY_VERIFY(m_client->sawPrice(DrawSelection, five));
    QTRY_COMPARE(shown(MatchOdds, BookModel::Price2Column), formatDecimal(five));
    key(Qt::Key_Minus, Qt::ControlModifier);
    QTRY_VERIFY(m_client->sawPrice(DrawSelection, 390));
}

void tst_MainWindow::plusShiftsTheSelectionInOneDelta()
{
    // Both markets, from the first selection's name to the last price: six selections.
    selectMarkets(MatchOdds, BookModel::Selection1Column, 2, 6);
    QCOMPARE(m_window->gridView()->selectedSelectionIds().size(), 6);
    const BookData book = smallBook();
    type(QStringLiteral("+"));
    for (const MarketInfo &market : book.markets) {
        for (const SelectionInfo &s : market.selections)
            QTRY_VERIFY(m_client->sawPrice(s.id, Ladder::exchange().step(s.price, 1)));
    }
    QCOMPARE(m_client->deltaCount(), 1); // the whole shift in one delta
    QTRY_COMPARE(shown(20, BookModel::Price3Column), QStringLiteral("3.05"));
    QVERIFY(m_window->statusBar()->currentMessage().contains(QStringLiteral("one delta")));
}

void tst_MainWindow::marginToTargetOnTheSelection()
{
    selectMarkets(MatchOdds, BookModel::MarketColumn, 2, 1);
    QCOMPARE(m_window->gridView()->selectedMarketIds(), (QVector<quint32> {MatchOdds, 20}));
    key(Qt::Key_M, Qt::ControlModifier);
    QInputDialog *dialog = waitFor<QInputDialog>(QStringLiteral("marginDialog"));
    QVERIFY(dialog);
    QCOMPARE(dialog->doubleValue(), 105.0);
    auto *spin = dialog->findChild<QDoubleSpinBox *>();
    QVERIFY(spin);
    QTest::keyClick(spin, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(spin, QStringLiteral("106"));
    QCOMPARE(dialog->doubleValue(), 106.0);
    QTest::keyClick(spin, Qt::Key_Return);
    QTRY_COMPARE(m_client->deltaCount(), 1);
    QTest::qWait(QuietMs);
    QCOMPARE(m_client->deltaCount(), 1); // both markets in one delta
    BookModel *model = m_window->bookModel();
    for (quint32 id : {MatchOdds, quint32(20)}) {
        QTRY_VERIFY(std::abs(OddsDesk::marginPercent(*model->market(id)) - 106.0) < 0.5);
        const QString margin = shown(id, BookModel::MarginColumn);
        QVERIFY2(margin.startsWith(QStringLiteral("10")), qPrintable(margin));
    }
}

void tst_MainWindow::marginOutOfRangeAsksFirst()
{
    // 5.00 for the draw takes Man United v Leicester to 97 %: an arbitrage.
    goToCell(MatchOdds, BookModel::Price2Column);
    type(QStringLiteral("5"));
    key(Qt::Key_Return);
    QMessageBox *box = waitFor<QMessageBox>(QStringLiteral("marginConfirmation"));
    QVERIFY(box);
    QVERIFY2(box->informativeText().contains(QStringLiteral("97.0 % (below 100 %")),
        qPrintable(box->informativeText()));
    QTest::keyClick(box, Qt::Key_Escape); // Cancel is the default
    QTest::qWait(QuietMs);
    QCOMPARE(m_client->deltaCount(), 0);
    QVERIFY(m_window->gridView()->messageText().contains(QStringLiteral("Not sent")));

    // Above the desk's ceiling: the trader confirms, and it goes out.
    m_window->bookModel()->editor()->setMarginCeiling(103.0);
    goToCell(MatchOdds, BookModel::Price2Column);
    type(QStringLiteral("3.5"));
    key(Qt::Key_Return);
    QVERIFY((box = waitFor<QMessageBox>(QStringLiteral("marginConfirmation"))));
    QVERIFY2(box->informativeText().contains(QStringLiteral("above the desk's ceiling of 103.0 %")),
        qPrintable(box->informativeText()));
    QAbstractButton *sendAnyway = nullptr;
    for (QAbstractButton *button : box->buttons()) {
        if (button->text() == QStringLiteral("&Send anyway"))
            sendAnyway = button;
    }
    QVERIFY(sendAnyway);
    sendAnyway->setFocus();
    QTest::keyClick(sendAnyway, Qt::Key_Space);
    QTRY_VERIFY(m_client->sawPrice(DrawSelection, 350));

    // A price that keeps the margin in range is not questioned.
    goToCell(MatchOdds, BookModel::Price2Column);
    type(QStringLiteral("3.8"));
    key(Qt::Key_Return);
    QTRY_VERIFY(m_client->sawPrice(DrawSelection, 380));
    QVERIFY(!m_window->findChild<QMessageBox *>(QStringLiteral("marginConfirmation")));
}

void tst_MainWindow::undoAndRedo()
{
    goToCell(MatchOdds, BookModel::Price2Column);
    type(QStringLiteral("4.2"));
    key(Qt::Key_Return);
    QTRY_VERIFY(m_client->sawPrice(DrawSelection, 420));
    QTRY_VERIFY(m_window->bookModel()->editor()->canUndo());

    // A bulk edit, then both undone, newest first, each one step.
    selectMarkets(MatchOdds, BookModel::Price1Column, 2, 5);
    type(QStringLiteral("-"));
    QTRY_COMPARE(m_client->deltaCount(), 2);
    QTRY_VERIFY(m_window->bookModel()->editor()->undoAction()->text().contains(
        QStringLiteral("Shift 6 prices down 1 tick")));
    key(Qt::Key_Z, Qt::ControlModifier);
    QTRY_COMPARE(m_client->deltaCount(), 3);
    QTRY_COMPARE(shown(20, BookModel::Price1Column), QStringLiteral("2.50"));
    QTRY_COMPARE(shown(MatchOdds, BookModel::Price2Column), QStringLiteral("4.20"));
    QTRY_VERIFY(m_window->bookModel()->editor()->canUndo());
    key(Qt::Key_Z, Qt::ControlModifier);
    QTRY_VERIFY(m_client->sawPrice(DrawSelection, 390));
    QTRY_COMPARE(shown(MatchOdds, BookModel::Price2Column), QStringLiteral("3.90"));
    QCOMPARE(m_client->deltaCount(), 4);
    QTRY_VERIFY(!m_window->bookModel()->editor()->canUndo());

    // Redo brings the typed price back, then the shift.
    key(Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QTRY_COMPARE(shown(MatchOdds, BookModel::Price2Column), QStringLiteral("4.20"));
    QTRY_VERIFY(m_window->bookModel()->editor()->canRedo());
    key(Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QTRY_COMPARE(shown(20, BookModel::Price1Column), QStringLiteral("2.48"));
    QTRY_COMPARE(m_client->deltaCount(), 6);

    // An undo that meets a price someone else moved is a conflict, never silent.
    m_engine->setPrice(200, 260, 248);
    QTRY_VERIFY(m_client->sawPrice(200, 260));
    key(Qt::Key_Z, Qt::ControlModifier);
    QMessageBox *box = waitFor<QMessageBox>(QStringLiteral("editConflict"));
    QVERIFY(box);
    QVERIFY2(box->informativeText().contains(QStringLiteral("you saw 2.48, it is now 2.60")),
        qPrintable(box->informativeText()));
    QTest::keyClick(box, Qt::Key_Escape);
    QTest::qWait(QuietMs);
    QCOMPARE(shown(20, BookModel::Price1Column), QStringLiteral("2.60"));
}

void tst_MainWindow::ctrlSSuspendsTheSelection()
{
    selectMarkets(MatchOdds, BookModel::StatusColumn, 2, 1);
    key(Qt::Key_S, Qt::ControlModifier);
    QTRY_VERIFY(m_client->sawStatus(MatchOdds, MarketStatus::Suspended));
    QTRY_VERIFY(m_client->sawStatus(20, MarketStatus::Suspended));
    QCOMPARE(m_client->deltaCount(), 1);
    QTRY_COMPARE(shown(20, BookModel::StatusColumn), QStringLiteral("Suspended"));
    key(Qt::Key_S, Qt::ControlModifier);
    QTRY_VERIFY(m_client->sawStatus(20, MarketStatus::Open));
    QTRY_COMPARE(m_client->deltaCount(), 2);
}

void tst_MainWindow::auditLogShowsAndExports()
{
    goToCell(MatchOdds, BookModel::Price2Column);
    type(QStringLiteral("4.2"));
    key(Qt::Key_Return);
    selectMarkets(MatchOdds, BookModel::StatusColumn, 2, 1);
    key(Qt::Key_S, Qt::ControlModifier);
    QTRY_COMPARE(m_client->deltaCount(), 2);

    key(Qt::Key_L, Qt::ControlModifier);
    AuditWindow *audit = m_window->auditWindow();
    QTRY_VERIFY(audit->isVisible());
    QTRY_COMPARE(audit->auditModel()->rowCount(), 3);
    QCOMPARE(audit->statusText(), QStringLiteral("3 entries"));
    AuditModel *model = audit->auditModel();
    // Newest first: the two suspensions of one bulk edit, then the price.
    const auto cellText
        = [model](int row, int column) { return model->index(row, column).data().toString(); };
    QCOMPARE(cellText(2, AuditModel::SelectionColumn), QStringLiteral("Draw"));
    QCOMPARE(cellText(2, AuditModel::OldColumn), QStringLiteral("3.90"));
    QCOMPARE(cellText(2, AuditModel::NewColumn), QStringLiteral("4.20"));
    QCOMPARE(cellText(2, AuditModel::UserColumn), QStringLiteral("trader-1"));
    QCOMPARE(cellText(2, AuditModel::EventColumn), QStringLiteral("Man United v Leicester"));
    QCOMPARE(cellText(2, AuditModel::BulkColumn), QString());
    QCOMPARE(cellText(0, AuditModel::FieldColumn), QStringLiteral("status"));
    QVERIFY(!cellText(0, AuditModel::BulkColumn).isEmpty());
    QCOMPARE(cellText(0, AuditModel::BulkColumn), cellText(1, AuditModel::BulkColumn));
    grab(QStringLiteral("audit"), audit);

    // A name filters, typed into the box.
    audit->textFilter()->setFocus();
    QTest::keyClicks(audit->textFilter(), QStringLiteral("fulham"));
    QTRY_COMPARE(model->rowCount(), 1);
    QCOMPARE(cellText(0, AuditModel::EventColumn), QStringLiteral("Fulham v Crystal Palace"));
    QCOMPARE(audit->statusText(), QStringLiteral("1 entry"));

    const QString csv = m_data->filePath(QStringLiteral("audit.csv"));
    audit->exportTo(csv);
    QTRY_VERIFY(audit->statusText().startsWith(QStringLiteral("Exported 1 entry to ")));
    QFile file(csv);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray content = file.readAll();
    QCOMPARE(content.count("\r\n"), 2); // the header and the one entry
    QVERIFY(content.contains("trader-1"));
}

// The README's tables of keys are the manual: every shortcut of the menus is in it.
void tst_MainWindow::menuShortcutsAreInTheReadme()
{
    QFile readme(QStringLiteral(ODDSDESK_SOURCE_DIR) + QStringLiteral("/README.md"));
    QVERIFY(readme.open(QIODevice::ReadOnly));
    const QString manual = QString::fromUtf8(readme.readAll());
    int checked = 0;
    for (QMenu *menu : m_window->menuBar()->findChildren<QMenu *>()) {
        for (QAction *action : menu->actions()) {
            if (action->shortcut().isEmpty() || action->shortcut() == QKeySequence::Quit)
                continue;
            const QString keys = action->shortcut().toString(QKeySequence::PortableText);
            QVERIFY2(manual.contains(QStringLiteral("| ") + keys + QStringLiteral(" ")),
                qPrintable(
                    QStringLiteral("%1 (%2) is not in the README").arg(keys, action->text())));
            ++checked;
        }
    }
    QVERIFY(checked >= 10);
}

// The first match of the real season, stepped on the exchange ladder.
void tst_MainWindow::realSeasonSteps()
{
    const QString path = QStringLiteral(ODDSDESK_SHARED_DATA_DIR)
        + QStringLiteral("/football-data_E0_2018-19.csv");
    if (!QFile::exists(path))
        QSKIP("the real season file is not available");
    const ImportReport report = m_window->importSeasonFile(path);
    QVERIFY2(report.ok(), qPrintable(report.error));
    QTRY_COMPARE(m_window->bookModel()->rowCount(), int(report.book.markets.size()));
    if (QWidget *box = m_window->findChild<QMessageBox *>(QStringLiteral("importReport")))
        box->close();
    const MarketInfo &matchOdds = report.book.markets.at(0);
    const MarketInfo &overUnder = report.book.markets.at(1);
    QCOMPARE(shown(matchOdds.id, BookModel::MarginColumn), QStringLiteral("102.7 %"));
    QCOMPARE(shown(matchOdds.id, BookModel::Price3Column), QStringLiteral("7.50"));
    QCOMPARE(shown(overUnder.id, BookModel::Price1Column), QStringLiteral("2.03"));

    goToCell(matchOdds.id, BookModel::Price3Column);
    type(QStringLiteral("+"));
    QTRY_COMPARE(shown(matchOdds.id, BookModel::Price3Column), QStringLiteral("7.60"));
    goToCell(overUnder.id, BookModel::Price1Column);
    type(QStringLiteral("-"));
    QTRY_COMPARE(shown(overUnder.id, BookModel::Price1Column), QStringLiteral("2.02"));
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
    // Latency is on a logarithmic axis: powers of ten from 1 ms, up to the slowest line.
    auto *latencyAxis
        = qobject_cast<QLogValueAxis *>(charts.latencyChart()->axes(Qt::Vertical).constFirst());
    QVERIFY(latencyAxis);
    QCOMPARE(latencyAxis->min(), 1.0);
    QCOMPARE(latencyAxis->max(), 10.0);
    auto *sessionsAxis
        = static_cast<QValueAxis *>(charts.sessionsChart()->axes(Qt::Vertical).constFirst());
    QVERIFY2(sessionsAxis->max() >= 13.0 && sessionsAxis->max() <= 20.0,
        qPrintable(QString::number(sessionsAxis->max())));
    auto *timeAxis
        = static_cast<QDateTimeAxis *>(charts.latencyChart()->axes(Qt::Horizontal).constFirst());
    QCOMPARE(timeAxis->max().toMSecsSinceEpoch() - timeAxis->min().toMSecsSinceEpoch(),
        ChartPanel::WindowMs);

    // A session on a weak signal at 12 s beside a desk whose median is 0.4 ms: both fit, the
    // median a decade above the bottom rather than a flat line on zero.
    FeedMetrics slow;
    slow.timeMs = start + samples * 250;
    slow.intervalMs = 250;
    slow.latencySamples = 10;
    slow.latencyP50Us = 400;
    slow.latencyP99Us = 3000;
    slow.worstClients = {ClientLatency {"s2", "weak-signal", 9000000, 12000000}};
    charts.addMetrics(slow);
    charts.redraw();
    QCOMPARE(latencyAxis->min(), 0.1);
    QCOMPARE(latencyAxis->max(), 100000.0);
    auto *p50 = static_cast<QLineSeries *>(charts.latencyChart()->series().at(0));
    QCOMPARE(p50->at(p50->count() - 1).y(), 0.4);
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
    const QString path = writeFile(dir, QStringLiteral("season.csv"),
        "Div,Date,HomeTeam,AwayTeam,B365H,B365D,B365A,BbAv>2.5,BbAv<2.5\n"
        "E0,10/08/2018,Man United,Leicester,1.57,3.9,7.5,2.03,1.85\n"
        "E0,11/08/2018,Fulham,Crystal Palace,2.505,3.4,3,2.0,1.87\n"
        "E0,11/08/2018,Watford,Brighton,2.1,3.3,3.75,2.1,1.75\n");
    QVERIFY(!path.isEmpty());

    const ImportReport report = m_window->importSeasonFile(path);
    QVERIFY2(report.ok(), qPrintable(report.error));
    QCOMPARE(report.issues.size(), 1);
    QCOMPARE(report.issues.at(0).line, 3);
    QTRY_COMPARE(m_window->bookModel()->rowCount(), 4);
    QVERIFY(m_window->windowTitle().contains(QStringLiteral("season")));

    QMessageBox *box = verifyImportReportSkippedLine3(m_window.get());
    if (!box)
        return;
    QVERIFY(box->detailedText().contains(report.issues.at(0).reason));
    box->close();

    // The audit log has the import, about the whole book: no market, the file, what came.
    m_window->auditAction()->trigger();
    AuditWindow *audit = m_window->auditWindow();
    QTRY_VERIFY(audit->isVisible());
    AuditModel *model = audit->auditModel();
    QTRY_COMPARE(model->rowCount(), 1);
    const auto cellText = [model](int column) { return model->index(0, column).data().toString(); };
    QCOMPARE(cellText(AuditModel::SourceColumn), QStringLiteral("import"));
    QCOMPARE(cellText(AuditModel::MarketColumn), QString());
    QCOMPARE(cellText(AuditModel::FieldColumn), QStringLiteral("book"));
    QCOMPARE(cellText(AuditModel::OldColumn), QStringLiteral("2 events, 2 markets"));
    QCOMPARE(cellText(AuditModel::NewColumn),
        QDir::toNativeSeparators(path) + QStringLiteral(": 2 events, 4 markets"));
}

// A console started with --import shows that book as File > Import would: its name in the
// title and the rows it skipped, not only on the terminal.
void tst_MainWindow::startupImportIsShownAsAnImport()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = writeFile(dir, QStringLiteral("cup-night.csv"),
        "Div,Date,HomeTeam,AwayTeam,B365H,B365D,B365A\n"
        "E0,10/08/2018,Man United,Leicester,1.57,3.9,7.5\n"
        "E0,11/08/2018,Fulham,Crystal Palace,1.005,3.4,3\n");
    QVERIFY(!path.isEmpty());
    const ImportReport report = importFootballData(path);
    QVERIFY2(report.ok(), qPrintable(report.error));
    QCOMPARE(report.skippedRows(), 1);

    m_window->showStartupImport(path, report);
    QVERIFY2(m_window->windowTitle().contains(QStringLiteral("cup-night")),
        qPrintable(m_window->windowTitle()));
    QMessageBox *box = verifyImportReportSkippedLine3(m_window.get());
    if (!box)
        return;
    box->close();
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

// A file whose rows are all unreadable is refused like an unreadable file, not taken for
// an empty book.
void tst_MainWindow::importWithoutEventsChangesNothing()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = writeFile(dir, QStringLiteral("allbad.csv"),
        "Div,Date,HomeTeam,AwayTeam,B365H,B365D,B365A,BbAv>2.5,BbAv<2.5\n"
        "E0,xx/08/2018,A,B,2,3,4,1.9,1.9\n");
    QVERIFY(!path.isEmpty());

    const QString oldEpoch = m_window->bookModel()->epoch();
    const ImportReport report = m_window->importSeasonFile(path);
    QVERIFY(!report.ok());
    QVERIFY2(report.error.contains(path), qPrintable(report.error));
    auto *box = m_window->findChild<QMessageBox *>(QStringLiteral("importReport"));
    QVERIFY(box);
    QVERIFY(box->text().contains(QStringLiteral("the book is unchanged")));
    QVERIFY(box->informativeText().contains(report.error));
    QVERIFY2(
        box->detailedText().contains(QStringLiteral("line 2: ")), qPrintable(box->detailedText()));
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

    // A goal: every market of the second match suspended at once with Ctrl+Shift+S; and a
    // refused edit, as a trader's screen has them.
    BookModel *model = m_window->bookModel();
    const quint32 secondMatch = report.book.markets.at(2).id;
    goToCell(secondMatch, BookModel::StatusColumn);
    key(Qt::Key_S, Qt::ControlModifier | Qt::ShiftModifier);
    for (const MarketInfo &market : report.book.markets) {
        if (market.eventId == report.book.markets.at(2).eventId) {
            QTRY_COMPARE(model->index(model->rowOfMarket(market.id), BookModel::StatusColumn)
                             .data()
                             .toString(),
                QStringLiteral("Suspended"));
        }
    }
    goToCell(1, BookModel::Price2Column);
    type(QStringLiteral("2.505"));
    key(Qt::Key_Return); // refused: the editor stays open with why above the grid
    QTest::qWait(300); // the charts' next paced redraw and the legend's layout

    for (QAbstractSeries *series : charts->latencyChart()->series()) {
        for (QLegendMarker *marker : charts->latencyChart()->legend()->markers(series))
            QCOMPARE(marker->label(), series->name());
    }
    QVERIFY(!m_window->gridView()->messageText().isEmpty());
    grab(QStringLiteral("oddsdesk-season"));
    key(Qt::Key_Escape);
    m_window->bookModel()->setOddsDisplay(OddsDisplay::Fractional);
    m_window->gridView()->filterEdit()->setText(QStringLiteral("arsenal"));
    QTest::qWait(300);
    grab(QStringLiteral("oddsdesk-season-filtered"));
    m_window->simulateAction()->trigger();
}

QTEST_MAIN(tst_MainWindow)
#include "tst_mainwindow.moc"
