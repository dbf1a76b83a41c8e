#include "mainwindow.h"

#include "auditwindow.h"
#include "bookmodel.h"
#include "chartpanel.h"
#include "counted.h"
#include "dashboard.h"
#include "deskeditor.h"
#include "engine.h"
#include "footballdataimporter.h"
#include "gridview.h"
#include "sessioninspector.h"
#include "stallprobe.h"
#include "uilogging.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSignalBlocker>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QToolBar>

#include <algorithm>

namespace OddsDesk {
namespace {

// 8 s: a status bar sentence stays long enough to be read after a glance back.
constexpr int StatusMessageMs = 8000;
// Skipped rows listed in full in the import report; a file with more is not worth reading
// line by line, and the count says so.
constexpr int ReportLinesShown = 500;

} // namespace

MainWindow::MainWindow(Engine *engine, QWidget *parent)
    : QMainWindow(parent)
    , m_engine(engine)
    , m_model(new BookModel(engine, this))
    , m_stallProbe(new StallProbe(this))
{
    m_grid = new GridView(m_model, this);
    m_charts = new ChartPanel(this);
    // The grid needs the width (thirteen columns); the charts read well as a strip below.
    m_charts->setOrientation(Qt::Horizontal);
    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->addWidget(m_grid);
    m_splitter->addWidget(m_charts);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 2);
    m_splitter->setChildrenCollapsible(false);
    setCentralWidget(m_splitter);

    m_model->editor()->setWindow(this);
    connect(m_model->editor(), &DeskEditor::applied, this,
        [this](const QString &summary) { statusBar()->showMessage(summary, StatusMessageMs); });
    buildMenus();
    buildStatusBar();
    m_stallProbe->start();

    connect(m_engine, &Engine::started, this, &MainWindow::onStarted);
    connect(m_engine, &Engine::replayStatus, this,
        [this](const QString &message) { statusBar()->showMessage(message, StatusMessageMs); });
    connect(m_engine, &Engine::failed, this, [this](const QString &reason) {
        m_addressLabel->setText(tr("Feed not running: %1").arg(reason));
        statusBar()->showMessage(tr("The feed could not start: %1").arg(reason));
    });
    connect(m_engine, &Engine::metricsUpdated, this, &MainWindow::onMetrics);
    connect(m_engine, &Engine::simulatorChanged, this, [this](bool enabled, int rate) {
        const QSignalBlocker blocker(m_simulate);
        m_simulate->setChecked(enabled);
        m_simulate->setToolTip(tr("Move prices at random, about %1 a second")
                                   .arg(counted(rate, u"change", u"changes")));
    });
    if (!m_engine->url().isEmpty())
        onStarted(m_engine->url());

    resize(1600, 900);
    m_splitter->setSizes({580, 280});
    updateTitle();
    m_grid->setFocus();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    m_import = file->addAction(tr("&Import season file..."), this, &MainWindow::chooseSeasonFile);
    m_import->setShortcut(QKeySequence::Open);
    m_import->setStatusTip(tr("Replace the book with a football-data.co.uk season file"));
    QAction *replay
        = file->addAction(tr("&Replay exchange recording..."), this, &MainWindow::chooseRecording);
    replay->setStatusTip(tr("Drive a market from a recorded Betfair Exchange Stream file"));
    file->addSeparator();
    m_quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    m_quit->setShortcut(QKeySequence::Quit);

    buildEditMenu();

    QMenu *feed = menuBar()->addMenu(tr("F&eed"));
    m_simulate = feed->addAction(tr("&Simulate prices"));
    m_simulate->setCheckable(true);
    m_simulate->setChecked(m_engine->config().simulate);
    connect(m_simulate, &QAction::toggled, this, [this](bool on) {
        qCInfo(lcUiWindow) << "price simulator" << (on ? "on" : "off");
        m_engine->setSimulatorEnabled(on);
    });
    m_restartFeed = feed->addAction(tr("&Restart feed"), this, [this] {
        qCInfo(lcUiWindow) << "restarting the feed: every connection is cut";
        m_engine->restartFeed();
        statusBar()->showMessage(
            tr("Feed restarted: clients reconnect and resume"), StatusMessageMs);
    });
    m_restartFeed->setStatusTip(tr("Cut every connection at once; sessions are kept so that "
                                   "clients resume"));

    QMenu *view = menuBar()->addMenu(tr("&View"));
    m_displayGroup = new QActionGroup(this);
    const struct
    {
        QString text;
        OddsDisplay display;
    } displays[] = {
        {tr("&Decimal odds"), OddsDisplay::Decimal},
        {tr("&Fractional odds"), OddsDisplay::Fractional},
        {tr("&American odds"), OddsDisplay::American},
    };
    for (const auto &d : displays) {
        QAction *action = view->addAction(d.text);
        action->setCheckable(true);
        action->setChecked(d.display == m_model->oddsDisplay());
        m_displayGroup->addAction(action);
        const OddsDisplay display = d.display;
        connect(action, &QAction::triggered, this,
            [this, display] { m_model->setOddsDisplay(display); });
    }
    view->addSeparator();
    m_showCharts = view->addAction(tr("Show &charts"));
    m_showCharts->setObjectName(QStringLiteral("showChartsAction"));
    m_showCharts->setCheckable(true);
    m_showCharts->setChecked(true);
    connect(m_showCharts, &QAction::toggled, m_charts, &QWidget::setVisible);

    buildSupportMenu();

    QToolBar *toolbar = addToolBar(tr("Feed"));
    toolbar->setObjectName(QStringLiteral("feedToolBar"));
    toolbar->setMovable(false);
    toolbar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    toolbar->addAction(m_import);
    toolbar->addSeparator();
    toolbar->addAction(m_simulate);
    toolbar->addAction(m_restartFeed);
}

void MainWindow::buildSupportMenu()
{
    m_dashboard = new Dashboard(m_engine, this);
    connect(m_dashboard, &Dashboard::sessionRequested, this, &MainWindow::showSession);

    QMenu *support = menuBar()->addMenu(tr("&Support"));
    m_showSessions = support->addAction(tr("&Sessions..."), this, [this] {
        SessionInspector *inspector = sessionInspector();
        inspector->show();
        inspector->raise();
        inspector->activateWindow();
    });
    m_showSessions->setObjectName(QStringLiteral("sessionsAction"));
    m_showSessions->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    m_showSessions->setStatusTip(tr("Every session, worst first: find one, see what its punter "
                                    "saw, disconnect or resync it"));
    m_showDashboard = support->addAction(tr("&Dashboard"), this, [this] {
        m_dashboard->show();
        m_dashboard->raise();
        m_dashboard->activateWindow();
    });
    m_showDashboard->setObjectName(QStringLiteral("dashboardAction"));
    m_showDashboard->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
    m_showDashboard->setStatusTip(tr("Latency, sessions, reconnects and what push costs against "
                                     "polling"));
}

void MainWindow::buildEditMenu()
{
    DeskEditor *editor = m_model->editor();
    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(editor->undoAction());
    edit->addAction(editor->redoAction());
    // The window's, so that they work wherever the focus is (an open price editor keeps
    // its own undo of what was typed).
    addAction(editor->undoAction());
    addAction(editor->redoAction());
    edit->addSeparator();
    edit->addAction(m_grid->suspendMarketAction());
    edit->addAction(m_grid->suspendEventAction());
    edit->addAction(m_grid->shiftAction());
    edit->addAction(m_grid->marginAction());
    edit->addSeparator();
    m_marginCeiling
        = edit->addAction(tr("Margin &ceiling..."), this, &MainWindow::chooseMarginCeiling);
    m_marginCeiling->setObjectName(QStringLiteral("marginCeilingAction"));
    m_marginCeiling->setStatusTip(tr("Above this margin an edit asks before it is sent"));
    m_showAudit = edit->addAction(tr("&Audit log..."), this, [this] {
        AuditWindow *audit = auditWindow();
        audit->show();
        audit->raise();
        audit->activateWindow();
    });
    m_showAudit->setObjectName(QStringLiteral("auditAction"));
    m_showAudit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    m_showAudit->setStatusTip(tr("Who changed what and when; export to CSV"));
}

void MainWindow::chooseMarginCeiling()
{
    auto *dialog = new QInputDialog(this);
    dialog->setObjectName(QStringLiteral("marginCeilingDialog"));
    dialog->setWindowTitle(tr("Margin ceiling"));
    dialog->setLabelText(tr("Ask before sending an edit that leaves a market's margin above "
                            "(percent):"));
    dialog->setInputMode(QInputDialog::DoubleInput);
    dialog->setDoubleDecimals(1);
    dialog->setDoubleRange(100.0, 300.0);
    dialog->setDoubleValue(m_model->editor()->marginCeiling());
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QInputDialog::doubleValueSelected, this, [this](double ceiling) {
        qCInfo(lcUiWindow) << "margin ceiling" << ceiling;
        m_model->editor()->setMarginCeiling(ceiling);
    });
    dialog->open();
}

AuditWindow *MainWindow::auditWindow()
{
    if (!m_audit)
        m_audit = new AuditWindow(m_engine, m_model, this);
    return m_audit;
}

SessionInspector *MainWindow::sessionInspector()
{
    if (!m_inspector)
        m_inspector = new SessionInspector(m_engine, this);
    return m_inspector;
}

void MainWindow::showSession(const QString &sessionId)
{
    SessionInspector *inspector = sessionInspector();
    inspector->show();
    inspector->showSession(sessionId);
}

void MainWindow::buildStatusBar()
{
    m_addressLabel = new QLabel(tr("Feed starting..."), this);
    m_sessionsLabel = new QLabel(this);
    m_sequenceLabel = new QLabel(this);
    m_stallLabel = new QLabel(this);
    m_stallLabel->setToolTip(tr("The longest the window went without answering in the last "
                                "minute"));
    m_addressLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    for (QLabel *label : {m_addressLabel, m_sessionsLabel, m_sequenceLabel, m_stallLabel})
        label->setContentsMargins(8, 0, 8, 0);
    statusBar()->addPermanentWidget(m_stallLabel);
    statusBar()->addPermanentWidget(m_addressLabel);
    statusBar()->addPermanentWidget(m_sessionsLabel);
    statusBar()->addPermanentWidget(m_sequenceLabel);
    onMetrics(FeedMetrics());
}

void MainWindow::onStarted(const QUrl &url)
{
    m_addressLabel->setText(tr("Listening on %1").arg(url.toString()));
}

void MainWindow::onMetrics(const FeedMetrics &metrics)
{
    m_sessionsLabel->setText(
        tr("Sessions: %1 connected, %2 retained").arg(metrics.connected).arg(metrics.retained));
    const quint64 head = std::max(metrics.headSequence, m_model->headSequence());
    m_sequenceLabel->setText(tr("Head sequence: %1").arg(head));
    m_sequenceLabel->setToolTip(tr("Feed epoch %1").arg(metrics.epoch));
    m_stallLabel->setText(tr("Window: %1 ms stall").arg(m_stallProbe->recentMaxUs() / 1000));
    if (metrics.timeMs != 0)
        m_charts->addMetrics(metrics);
}

namespace {

// Settings keys, and how the odds display is spelt in the settings file.
constexpr char GeometryKey[] = "window/geometry";
constexpr char StateKey[] = "window/state";
constexpr char SplitterKey[] = "window/splitter";
constexpr char DisplayKey[] = "desk/oddsDisplay";
constexpr char ChartsKey[] = "desk/showCharts";
constexpr char MarginCeilingKey[] = "desk/marginCeiling";

QString displayName(OddsDisplay display)
{
    switch (display) {
    case OddsDisplay::Fractional:
        return QStringLiteral("fractional");
    case OddsDisplay::American:
        return QStringLiteral("american");
    case OddsDisplay::Decimal:
        break;
    }
    return QStringLiteral("decimal");
}

} // namespace

void MainWindow::restoreSettings(const QSettings &settings)
{
    restoreGeometry(settings.value(QLatin1String(GeometryKey)).toByteArray());
    restoreState(settings.value(QLatin1String(StateKey)).toByteArray());
    m_splitter->restoreState(settings.value(QLatin1String(SplitterKey)).toByteArray());
    const QString display = settings.value(QLatin1String(DisplayKey)).toString();
    const QList<QAction *> actions = m_displayGroup->actions();
    for (int i = 0; i < actions.size(); ++i) {
        if (displayName(OddsDisplay(i)) == display)
            actions.at(i)->trigger();
    }
    m_showCharts->setChecked(settings.value(QLatin1String(ChartsKey), true).toBool());
    bool ok = false;
    const double ceiling = settings.value(QLatin1String(MarginCeilingKey)).toDouble(&ok);
    if (ok && ceiling >= 100.0)
        m_model->editor()->setMarginCeiling(ceiling);
}

void MainWindow::saveSettings(QSettings &settings) const
{
    settings.setValue(QLatin1String(GeometryKey), saveGeometry());
    settings.setValue(QLatin1String(StateKey), saveState());
    settings.setValue(QLatin1String(SplitterKey), m_splitter->saveState());
    settings.setValue(QLatin1String(DisplayKey), displayName(m_model->oddsDisplay()));
    settings.setValue(QLatin1String(ChartsKey), m_showCharts->isChecked());
    settings.setValue(QLatin1String(MarginCeilingKey), m_model->editor()->marginCeiling());
}

void MainWindow::setDemoMode(bool demo)
{
    m_demo = demo;
    updateTitle();
}

void MainWindow::updateTitle()
{
    QString title = tr("OddsDesk");
    if (!m_bookName.isEmpty())
        title += QStringLiteral(" - ") + m_bookName;
    if (m_demo)
        title += QStringLiteral(" - ") + tr("DEMO");
    setWindowTitle(title);
}

void MainWindow::chooseRecording()
{
    const QString path
        = QFileDialog::getOpenFileName(this, tr("Replay exchange recording"), QString(),
            tr("Exchange stream files (*.jsonl *.json);;"
               "All files (*)"));
    if (path.isEmpty())
        return;
    // At the recorded pace, with the catalogue found beside it when there is one.
    m_engine->startReplay(path, QString(), 1.0);
}

void MainWindow::chooseSeasonFile()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Import season file"),
        m_lastImportDir, tr("football-data.co.uk season files (*.csv);;All files (*)"));
    if (path.isEmpty())
        return;
    m_lastImportDir = QFileInfo(path).absolutePath();
    importSeasonFile(path);
}

ImportReport MainWindow::importSeasonFile(const QString &path)
{
    QApplication::setOverrideCursor(Qt::WaitCursor);
    const ImportReport report = importFootballData(path);
    QApplication::restoreOverrideCursor();

    if (!report.ok()) {
        qCWarning(lcUiWindow) << "import refused:" << report.error;
        statusBar()->showMessage(tr("Nothing imported: %1").arg(report.error), StatusMessageMs);
    } else {
        qCInfo(lcUiWindow) << "imported" << report.book.events.size() << "events from" << path
                           << "," << report.issues.size() << "issues";
        m_engine->loadBook(report.book, path);
        m_bookName = QFileInfo(path).completeBaseName();
        updateTitle();
        statusBar()->showMessage(
            tr("Imported %1").arg(counted(report.book.events.size(), u"event", u"events")),
            StatusMessageMs);
    }
    if (!report.ok() || !report.issues.isEmpty())
        showImportReport(path, report);
    return report;
}

void MainWindow::showStartupImport(const QString &path, const ImportReport &report)
{
    m_bookName = QFileInfo(path).completeBaseName();
    updateTitle();
    if (!report.issues.isEmpty())
        showImportReport(path, report);
}

void MainWindow::showImportReport(const QString &path, const ImportReport &report)
{
    // Not modal: the trader can keep pricing while the report stays open beside the grid.
    auto *box = new QMessageBox(this);
    box->setModal(false);
    box->setObjectName(QStringLiteral("importReport"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowTitle(tr("Import season file"));
    const QString name = QFileInfo(path).fileName();
    if (!report.ok()) {
        box->setIcon(QMessageBox::Warning);
        box->setText(tr("Nothing was imported from %1; the book is unchanged.").arg(name));
        box->setInformativeText(report.error);
    } else {
        const int markets = int(report.book.markets.size());
        box->setIcon(QMessageBox::Warning);
        box->setText(tr("Imported %1 and %2 from %3 (%4 read).")
                         .arg(counted(report.book.events.size(), u"event", u"events"),
                             counted(markets, u"market", u"markets"), name,
                             counted(report.rowsRead, u"row", u"rows")));
        box->setInformativeText(
            tr("Rows skipped: %1. Warnings: %2. The details list each line and why.")
                .arg(report.skippedRows())
                .arg(report.warnings()));
    }
    // A file refused because no row could be read lists its rows too.
    if (!report.issues.isEmpty()) {
        QStringList lines;
        for (const ImportIssue &issue : report.issues) {
            if (lines.size() == ReportLinesShown) {
                lines << tr("... and %1 more").arg(report.issues.size() - ReportLinesShown);
                break;
            }
            lines << (issue.isSkipped() ? tr("line %1: skipped: %2") : tr("line %1: warning: %2"))
                         .arg(issue.line)
                         .arg(issue.reason);
        }
        box->setDetailedText(lines.join(QLatin1Char('\n')));
    }
    box->setStandardButtons(QMessageBox::Ok);
    box->show();
}

} // namespace OddsDesk
