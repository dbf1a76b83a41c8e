#pragma once

#include "sessioninfo.h"

#include <QList>
#include <QPointF>
#include <QTimer>
#include <QWidget>

#include <array>

QT_BEGIN_NAMESPACE
class QAction;
class QChart;
class QLabel;
class QLineSeries;
class QTableView;
class QValueAxis;
QT_END_NAMESPACE

namespace OddsDesk {

class Engine;
class TimelineModel;

/// Everything about one session, for a support ticket: its figures, a chart of its recent
/// delivery latencies, and its timeline (what the engine saw and what the client reported,
/// in time order). Asks the engine for the session's detail once a second while it is
/// visible, and not at all while hidden.
///
/// Actions: "Disconnect..." asks for a reason and closes the session's connection with it
/// (the client is told, and comes back and resumes); "Force resync" sends it a fresh
/// snapshot; "Copy session report" puts sessionReport() on the clipboard as JSON.
class SessionDetailWindow : public QWidget
{
    Q_OBJECT

public:
    // 1 s: the pace of the engine's own session list; a timeline entry shows within it.
    static constexpr int RefreshMs = 1000;

    /// \a engine must outlive the window.
    SessionDetailWindow(Engine *engine, const QString &sessionId, QWidget *parent = nullptr);
    ~SessionDetailWindow() override;

    QString sessionId() const { return m_sessionId; }
    /// True once a detail arrived; false again when the engine no longer holds the session.
    bool isKnown() const { return m_known; }
    /// The last detail the engine sent (empty before the first).
    const SessionDetail &detail() const { return m_detail; }

    TimelineModel *timelineModel() const { return m_timeline; }
    QTableView *timelineView() const { return m_timelineView; }
    QChart *latencyChart() const { return m_chart; }
    QAction *disconnectAction() const { return m_disconnect; }
    QAction *resyncAction() const { return m_resync; }
    QAction *copyReportAction() const { return m_copyReport; }
    /// The sentence under the actions: what was last done, or why nothing can be.
    QString statusText() const;
    bool isRefreshing() const { return m_refreshTimer.isActive(); }

public Q_SLOTS:
    /// Asks the engine for the session's detail now.
    void refresh();
    /// Closes the session's connection with \a reason; the "Disconnect..." action asks for
    /// the reason first.
    void disconnectSession(const QString &reason);
    void resyncSession();
    /// Puts the session report of the last detail on the clipboard.
    void copyReport();

Q_SIGNALS:
    /// A detail arrived and is shown.
    void detailUpdated();

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    enum Figure {
        UserFigure,
        ClientFigure,
        AddressFigure,
        StateFigure,
        CreatedFigure,
        ConnectedSinceFigure,
        ReconnectsFigure,
        ResumesFigure,
        FallbacksFigure,
        GapsFigure,
        LagFigure,
        QueueFigure,
        P50Figure,
        P99Figure,
        FramesFigure,
        BytesFigure,
        StaleFigure,
        TelemetryDroppedFigure,
        FigureCount
    };

    QWidget *buildFigures();
    QWidget *buildChart();
    QWidget *buildTimeline();
    QWidget *buildActions();
    void askDisconnectReason();
    void onDetail(const QString &sessionId, bool found, const OddsDesk::SessionDetail &detail);
    void onEngineRefusal(const QString &reason);
    void showSummary(const SessionSummary &summary);
    void showLatencies(const SessionDetail &detail);
    void updateActions();
    void setStatus(const QString &text);

    Engine *m_engine;
    QString m_sessionId;
    SessionDetail m_detail;
    bool m_known = false;
    bool m_answered = false; // the engine has answered at least once
    qint64 m_updatedMs = 0;

    QLabel *m_title = nullptr;
    QLabel *m_stateBadge = nullptr;
    std::array<QLabel *, FigureCount> m_figures {};
    QChart *m_chart = nullptr;
    QValueAxis *m_sampleAxis = nullptr;
    QValueAxis *m_latencyAxis = nullptr;
    QLineSeries *m_samplesSeries = nullptr;
    QLineSeries *m_p50Series = nullptr;
    QLineSeries *m_p99Series = nullptr;
    QList<QPointF> m_samplePoints; // kept between refreshes, handed over with replace()
    QList<QPointF> m_p50Points;
    QList<QPointF> m_p99Points;
    double m_latencyTop = 0;
    TimelineModel *m_timeline = nullptr;
    QTableView *m_timelineView = nullptr;
    bool m_followTimeline = true;
    QAction *m_disconnect = nullptr;
    QAction *m_resync = nullptr;
    QAction *m_copyReport = nullptr;
    QLabel *m_status = nullptr;
    QTimer m_refreshTimer;
};

} // namespace OddsDesk
