#pragma once

#include "metrics.h"

#include <QList>
#include <QPointF>
#include <QTimer>
#include <QVector>
#include <QWidget>

QT_BEGIN_NAMESPACE
class QBoxLayout;
class QChart;
class QChartView;
class QDateTimeAxis;
class QLineSeries;
class QLogValueAxis;
class QValueAxis;
QT_END_NAMESPACE

namespace OddsDesk {

/// The desk's live charts, fed with FeedMetrics samples: delivery latency (p50 and p99 across
/// clients, and the few worst clients' p99), connected sessions, and reconnects per second
/// split into resumes and snapshot fallbacks. Samples are kept for the last two minutes;
/// the charts are redrawn on a paced timer from those buffers in one replace() per series,
/// and not at all while the panel is hidden.
class ChartPanel : public QWidget
{
    Q_OBJECT

public:
    // Two minutes: long enough to see a reconnect storm come and go, short enough that
    // a second is still a visible width.
    static constexpr qint64 WindowMs = 2 * 60 * 1000;
    // The worst clients drawn as their own lines; more would crowd the legend.
    static constexpr int ClientLines = 3;

    explicit ChartPanel(QWidget *parent = nullptr);
    ~ChartPanel() override;

    /// Vertical stacks the charts (beside a grid), horizontal puts them in a row (under it).
    void setOrientation(Qt::Orientation orientation);
    Qt::Orientation orientation() const;

    QChart *latencyChart() const { return m_latencyChart; }
    QChart *sessionsChart() const { return m_sessionsChart; }
    QChart *reconnectsChart() const { return m_reconnectsChart; }

    /// False while hidden: nothing is drawn, samples are still kept.
    bool isRedrawing() const { return m_redrawTimer.isActive(); }
    /// Redraws now rather than at the next tick (a test or a screenshot wants the picture).
    void redraw();

public Q_SLOTS:
    void addMetrics(const OddsDesk::FeedMetrics &metrics);

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    struct ClientTrace
    {
        QString sessionId;
        QString clientName;
        QList<QPointF> points;
        qint64 lastSeenMs = 0;
        QLineSeries *series = nullptr;
    };
    struct Axes
    {
        QDateTimeAxis *x = nullptr;
        QValueAxis *y = nullptr; // a linear scale from 0
        QLogValueAxis *logY = nullptr; // or a logarithmic one, in powers of ten
        double top = 0;
    };
    enum class Scale { Linear, Logarithmic };

    QChartView *makeView(QChart *chart);
    QChart *makeChart(const QString &title, Axes *axes, Scale scale = Scale::Linear);
    QLineSeries *addSeries(QChart *chart, const Axes &axes, const QString &name,
        const QColor &color, Qt::PenStyle style = Qt::SolidLine);
    void addClientSamples(const FeedMetrics &metrics);
    QString clientLabel(const ClientLatency &client) const;
    void addReconnectSamples(const FeedMetrics &metrics);
    void trim(qint64 nowMs);
    static void trimPoints(QList<QPointF> &points, qint64 oldestMs);
    void rescale(Axes &axes, double maximum, double floor, const char *format);
    void rescaleLatency(double minimum, double maximum);
    void updateTitles();

    QBoxLayout *m_layout = nullptr;
    QChart *m_latencyChart = nullptr;
    QChart *m_sessionsChart = nullptr;
    QChart *m_reconnectsChart = nullptr;
    Axes m_latencyAxes;
    Axes m_sessionsAxes;
    Axes m_reconnectsAxes;
    QLineSeries *m_p50Series = nullptr;
    QLineSeries *m_p99Series = nullptr;
    QLineSeries *m_connectedSeries = nullptr;
    QLineSeries *m_retainedSeries = nullptr;
    QLineSeries *m_resumesSeries = nullptr;
    QLineSeries *m_fallbacksSeries = nullptr;

    // The kept buffers; x is UTC milliseconds, y the value drawn.
    QList<QPointF> m_p50;
    QList<QPointF> m_p99;
    QList<QPointF> m_connected;
    QList<QPointF> m_retained;
    QList<QPointF> m_resumes; // one point per second: its start and its count
    QList<QPointF> m_fallbacks;
    QList<QPointF> m_stepBuffer; // a bucket list drawn as steps, reused
    QVector<ClientTrace> m_clients;

    // The second being counted for the reconnect chart.
    qint64 m_bucketStartMs = -1;
    int m_bucketResumes = 0;
    int m_bucketFallbacks = 0;

    FeedMetrics m_last;
    qint64 m_firstMs = 0; // the first sample's time
    qint64 m_nowMs = 0;
    bool m_dirty = false;
    bool m_legendStale = false; // a client line was renamed since the last redraw
    QTimer m_redrawTimer;
};

} // namespace OddsDesk
