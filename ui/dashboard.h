#pragma once

#include "metrics.h"
#include "sessioninfo.h"

#include <QHash>
#include <QTimer>
#include <QVector>
#include <QWidget>

#include <array>

QT_BEGIN_NAMESPACE
class QBarCategoryAxis;
class QBarSet;
class QChart;
class QLabel;
class QTableView;
class QValueAxis;
QT_END_NAMESPACE

namespace OddsDesk {

class Engine;
class SessionFilterModel;
class SessionModel;
class TimeChart;

/// The support desk's monitor of the whole feed: delivery latency (p50, p95, p99) over
/// time; how the sessions' own p99s are spread, and the worst sessions by name (a click
/// opens one in the inspector); connected, retained and stale sessions; reconnects a
/// second, resumed against fallen back to a snapshot; frames and bytes a second; and what
/// the same audience would cost if it polled once a second, beside what push costs.
///
/// Feed figures arrive with every metrics sample and are kept while the window is hidden,
/// so that it opens on the last minutes; the charts are redrawn on a paced timer only while
/// it is visible. The session list (for the spread, the worst sessions and the snapshot
/// size) is watched only while it is visible.
class Dashboard : public QWidget
{
    Q_OBJECT

public:
    // Five minutes: a reconnect storm, its cause and its recovery fit on one screen.
    static constexpr qint64 WindowMs = 5 * 60 * 1000;
    // The worst sessions listed by name: as many as fill the column beside the charts.
    static constexpr int WorstSessions = 30;
    // What polling would add to each snapshot-sized response, estimated: a browser's GET
    // with its usual headers and a session cookie is about 500 bytes, and a response's
    // status line and headers about 250 more.
    static constexpr int PollRequestBytes = 500;
    static constexpr int PollResponseHeaderBytes = 250;
    // The frames a session is sent before its first delta: the welcome and the snapshot,
    // which is one frame up to 500 markets (FeedConfig::snapshotMarketsPerFrame).
    static constexpr int FramesBeforeDeltas = 2;

    /// \a engine must outlive the dashboard.
    explicit Dashboard(Engine *engine, QWidget *parent = nullptr);
    ~Dashboard() override;

    TimeChart *latencyChart() const { return m_latency; }
    TimeChart *sessionsChart() const { return m_sessions; }
    TimeChart *reconnectsChart() const { return m_reconnects; }
    TimeChart *outputChart() const { return m_output; }
    TimeChart *costChart() const { return m_cost; }
    QChart *spreadChart() const { return m_spreadChart; }
    QTableView *worstView() const { return m_worstView; }
    SessionFilterModel *worstModel() const { return m_worstProxy; }
    QLabel *costLabel() const { return m_costLabel; }

    /// The sessions counted in each bar of the p99 spread, from the last session list: bars
    /// spreadBinMs() wide from 0 up to where 99 % of the sessions are, and a last bar for
    /// the sessions above that.
    QVector<int> p99Spread() const { return m_spread; }
    double spreadBinMs() const { return m_binMs; }
    /// The snapshot size the polling estimate uses, 0 until two session lists a second
    /// apart with deltas between them: for each connected session, what it has been sent
    /// less what it was sent after its snapshot, the frames since the snapshot costed at
    /// the session's own bytes per frame over the last second; the median of those.
    double snapshotBytesEstimate() const { return m_snapshotBytes; }
    /// What polling once a second would cost now, in bytes a second; 0 while unknown.
    double pollingBytesPerSecond() const;
    /// What push cost over the last second, as the engine measured it.
    double pushBytesPerSecond() const;

    bool isRedrawing() const { return m_redrawTimer.isActive(); }
    /// Redraws now rather than at the next tick.
    void redraw();

public Q_SLOTS:
    void addMetrics(const OddsDesk::FeedMetrics &metrics);
    void setSessions(const QVector<OddsDesk::SessionSummary> &sessions);

Q_SIGNALS:
    /// Support staff clicked a session in the worst list.
    void sessionRequested(const QString &sessionId);

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    enum Tile {
        ConnectedTile,
        RetainedTile,
        StaleTile,
        LatencyTile,
        ReconnectsTile,
        PushTile,
        PollingTile,
        TileCount
    };
    // One line of each chart; the numbers TimeChart::addLine() returned.
    struct Lines
    {
        int p50 = 0, p95 = 0, p99 = 0;
        int connected = 0, retained = 0, stale = 0;
        int resumed = 0, fallbacks = 0, attempts = 0;
        int frames = 0, bytes = 0;
        int push = 0, polling = 0;
    };
    // One second of counts, so that a reconnect chart reads "per second" without 250 ms
    // samples showing four times the rate.
    struct Second
    {
        qint64 startMs = -1;
        int resumes = 0;
        int fallbacks = 0;
        int attempts = 0;
        int reconnects = 0;
    };
    struct Sent
    {
        quint64 frames;
        quint64 bytes;
    };
    struct Recent
    {
        qint64 timeMs;
        int intervalMs;
        quint64 bytes;
    };

    QWidget *buildTiles();
    QWidget *buildCharts();
    QWidget *buildSpreadChart();
    QWidget *buildWorstList();
    void setTile(Tile tile, const QString &value, const QString &note, bool alarm = false);
    void estimateSnapshotBytes(const QVector<SessionSummary> &sessions);
    void countSpread(const QVector<SessionSummary> &sessions);
    void drawSpread();
    void addSecond(const FeedMetrics &metrics);
    void updateTiles();
    void updateCost();
    void setWatching(bool watching);

    Engine *m_engine;
    TimeChart *m_latency = nullptr;
    TimeChart *m_sessions = nullptr;
    TimeChart *m_reconnects = nullptr;
    TimeChart *m_output = nullptr;
    TimeChart *m_cost = nullptr;
    Lines m_lines;
    QChart *m_spreadChart = nullptr;
    QBarSet *m_fastSet = nullptr;
    QBarSet *m_slowSet = nullptr;
    QBarCategoryAxis *m_binAxis = nullptr;
    QValueAxis *m_spreadAxis = nullptr;
    QVector<int> m_spread;
    double m_binMs = 0;
    int m_bins = 0; // bars up to the bulk's top; the overflow bar comes after them
    int m_withoutSamples = 0;
    SessionModel *m_worst = nullptr;
    SessionFilterModel *m_worstProxy = nullptr;
    QTableView *m_worstView = nullptr;
    QLabel *m_costLabel = nullptr;
    std::array<QLabel *, TileCount> m_tileValues {};
    std::array<QLabel *, TileCount> m_tileNotes {};
    std::array<QWidget *, TileCount> m_tiles {};

    FeedMetrics m_last;
    Second m_second;
    Second m_lastSecond;
    QVector<Recent> m_recent; // the samples of about the last second, for the push rate
    QHash<QString, Sent> m_sentBefore; // each session's output in the previous list
    double m_snapshotBytes = 0;
    bool m_watching = false;
    bool m_spreadDirty = false;
    QTimer m_redrawTimer;
};

} // namespace OddsDesk
