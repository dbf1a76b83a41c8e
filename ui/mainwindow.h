#pragma once

#include "footballdataimporter.h"
#include "metrics.h"

#include <QMainWindow>
#include <QUrl>

class QAction;
class QActionGroup;
class QLabel;
class QSettings;
class QSplitter;

namespace OddsDesk {

class AuditWindow;
class BookModel;
class ChartPanel;
class Dashboard;
class Engine;
class GridView;
class SessionInspector;
class StallProbe;

/// The desk's main window: the market grid on the left, the live charts on the right, the
/// feed's address, sessions and head sequence in the status bar. It drives the engine only
/// through the Engine facade.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    /// \a engine must outlive the window; it may be started before or after.
    explicit MainWindow(Engine *engine, QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Marks the window as a demonstration ("DEMO" in the title): the book and the clients
    /// are simulated.
    void setDemoMode(bool demo);
    bool isDemoMode() const { return m_demo; }

    /// The desk's choices that last between runs: window layout, odds display, charts.
    void restoreSettings(const QSettings &settings);
    void saveSettings(QSettings &settings) const;

    /// Imports a football-data season file and loads it into the engine. On an error shows
    /// the sentence and changes nothing; skipped rows are listed in a report. Returns what
    /// the importer said.
    ImportReport importSeasonFile(const QString &path);
    /// Shows a book the engine was started with from a season file (--import) as File >
    /// Import would have: its name in the title and, when rows were skipped or kept with a
    /// warning, the report.
    void showStartupImport(const QString &path, const ImportReport &report);

    BookModel *bookModel() const { return m_model; }
    GridView *gridView() const { return m_grid; }
    ChartPanel *chartPanel() const { return m_charts; }
    QAction *simulateAction() const { return m_simulate; }
    QAction *restartFeedAction() const { return m_restartFeed; }
    QAction *importAction() const { return m_import; }
    QAction *sessionsAction() const { return m_showSessions; }
    QAction *dashboardAction() const { return m_showDashboard; }
    QAction *auditAction() const { return m_showAudit; }
    QAction *marginCeilingAction() const { return m_marginCeiling; }
    /// The audit log's window, made when first shown.
    AuditWindow *auditWindow();
    /// How long the window's event loop has gone without running.
    StallProbe *stallProbe() const { return m_stallProbe; }
    /// The support desk's windows: the inspector is made when first shown; the dashboard
    /// exists from the start, so that it opens on the last minutes of the feed.
    SessionInspector *sessionInspector();
    Dashboard *dashboard() const { return m_dashboard; }
    /// Shows the inspector with \a sessionId selected and its detail open.
    void showSession(const QString &sessionId);

private:
    void buildMenus();
    void buildEditMenu();
    void chooseMarginCeiling();
    void buildSupportMenu();
    void buildStatusBar();
    void chooseSeasonFile();
    void chooseRecording();
    void showImportReport(const QString &path, const ImportReport &report);
    void updateTitle();
    void onStarted(const QUrl &url);
    void onMetrics(const FeedMetrics &metrics);

    Engine *m_engine;
    BookModel *m_model;
    GridView *m_grid;
    ChartPanel *m_charts;
    QSplitter *m_splitter;
    QAction *m_import = nullptr;
    QAction *m_quit = nullptr;
    QAction *m_simulate = nullptr;
    QAction *m_restartFeed = nullptr;
    QAction *m_showCharts = nullptr;
    QActionGroup *m_displayGroup = nullptr;
    QAction *m_showSessions = nullptr;
    QAction *m_showDashboard = nullptr;
    QAction *m_showAudit = nullptr;
    QAction *m_marginCeiling = nullptr;
    AuditWindow *m_audit = nullptr;
    StallProbe *m_stallProbe = nullptr;
    QLabel *m_stallLabel = nullptr;
    SessionInspector *m_inspector = nullptr;
    Dashboard *m_dashboard = nullptr;
    QLabel *m_addressLabel = nullptr;
    QLabel *m_sessionsLabel = nullptr;
    QLabel *m_sequenceLabel = nullptr;
    QString m_bookName;
    QString m_lastImportDir;
    bool m_demo = false;
};

} // namespace OddsDesk
