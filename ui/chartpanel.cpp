#include "chartpanel.h"

#include "uilogging.h"

#include <QChart>
#include <QChartView>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QGraphicsLayout>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QValueAxis>
#include <QBoxLayout>

#include <algorithm>
#include <cmath>

namespace OddsDesk {
namespace {

// 250 ms: the engine samples four times a second; redrawing faster would draw nothing new.
constexpr int RedrawMs = 250;
// One second per reconnect bar: a storm of a few hundred a second reads as a number.
constexpr qint64 BucketMs = 1000;
// A client that has not been among the worst for this long gives its line to another.
constexpr qint64 ClientForgetMs = 15 * 1000;
// While the first samples arrive the time axis spans at least this much, then grows to the
// whole window: a young chart fills its width instead of hugging the right edge.
constexpr qint64 MinSpanMs = 30 * 1000;
// A rescaled axis shrinks only when the data falls under this share of it, so the scale
// does not twitch with every sample.
constexpr double ShrinkBelow = 0.4;
// Latency runs from a few milliseconds on a good link to seconds on a bad one, both on one
// chart: its axis is logarithmic, from 1 ms (0.1 ms when anything is faster) to a power of
// ten, at least 10 ms. A latency under the bottom is drawn on it.
constexpr double LatencyBottomMs = 1.0;
constexpr double FastLatencyBottomMs = 0.1;
constexpr double LatencyTopMinMs = 10.0;

const QColor P50Color(0x1f, 0x77, 0xb4);
const QColor P99Color(0xd6, 0x27, 0x28);
const QColor ClientColors[ChartPanel::ClientLines]
    = {QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b), QColor(0x7f, 0x7f, 0x7f)};
const QColor ConnectedColor(0x2c, 0xa0, 0x2c);
const QColor RetainedColor(0xff, 0x7f, 0x0e);
const QColor ResumesColor(0x1f, 0x77, 0xb4);
const QColor FallbacksColor(0xd6, 0x27, 0x28);

// A round top for an axis at or above \a value, and the number of intervals that divide it
// into round steps: 0 to 8 in steps of 2, 0 to 250 in steps of 50.
struct NiceTop
{
    double top;
    int intervals;
};

NiceTop niceCeil(double value)
{
    static constexpr NiceTop Steps[]
        = {{1, 5}, {1.5, 3}, {2, 4}, {2.5, 5}, {3, 6}, {4, 4}, {5, 5}, {6, 6}, {8, 4}, {10, 5}};
    if (value <= 0)
        return Steps[0];
    const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
    const double fraction = value / magnitude;
    for (const NiceTop &step : Steps) {
        if (fraction <= step.top + 1e-9)
            return NiceTop {step.top * magnitude, step.intervals};
    }
    return NiceTop {10 * magnitude, 5};
}

double maxY(const QList<QPointF> &points)
{
    double result = 0;
    for (const QPointF &p : points)
        result = std::max(result, p.y());
    return result;
}

double minY(const QList<QPointF> &points, double result)
{
    for (const QPointF &p : points)
        result = std::min(result, p.y());
    return result;
}

// Each second's count as a flat step from its start to its end, in \a buffer.
const QList<QPointF> &steps(const QList<QPointF> &buckets, QList<QPointF> *buffer)
{
    buffer->clear();
    for (const QPointF &bucket : buckets)
        *buffer << bucket << QPointF(bucket.x() + BucketMs, bucket.y());
    return *buffer;
}

double millis(qint64 micros)
{
    return double(micros) / 1000.0;
}

// A latency as the logarithmic axis can draw it: nothing at or below zero.
double latencyPoint(qint64 micros)
{
    return std::max(millis(micros), FastLatencyBottomMs);
}

} // namespace

ChartPanel::ChartPanel(QWidget *parent)
    : QWidget(parent)
{
    m_latencyChart = makeChart(tr("Delivery latency (ms)"), &m_latencyAxes, Scale::Logarithmic);
    m_p50Series = addSeries(m_latencyChart, m_latencyAxes, tr("p50"), P50Color);
    m_p99Series = addSeries(m_latencyChart, m_latencyAxes, tr("p99"), P99Color);
    m_clients.resize(ClientLines);
    for (int i = 0; i < ClientLines; ++i) {
        m_clients[i].series
            = addSeries(m_latencyChart, m_latencyAxes, QString(), ClientColors[i], Qt::DashLine);
    }

    m_sessionsChart = makeChart(tr("Sessions"), &m_sessionsAxes);
    m_connectedSeries = addSeries(m_sessionsChart, m_sessionsAxes, tr("connected"), ConnectedColor);
    m_retainedSeries = addSeries(
        m_sessionsChart, m_sessionsAxes, tr("retained for resume"), RetainedColor, Qt::DashLine);

    m_reconnectsChart = makeChart(tr("Reconnects per second"), &m_reconnectsAxes);
    m_resumesSeries = addSeries(m_reconnectsChart, m_reconnectsAxes, tr("resumed"), ResumesColor);
    m_fallbacksSeries = addSeries(
        m_reconnectsChart, m_reconnectsAxes, tr("fell back to a snapshot"), FallbacksColor);

    m_layout = new QBoxLayout(QBoxLayout::TopToBottom, this);
    m_layout->setContentsMargins(0, 0, 0, 0);
    m_layout->setSpacing(2);
    m_layout->addWidget(makeView(m_latencyChart), 3);
    m_layout->addWidget(makeView(m_sessionsChart), 2);
    m_layout->addWidget(makeView(m_reconnectsChart), 2);

    m_redrawTimer.setInterval(RedrawMs);
    connect(&m_redrawTimer, &QTimer::timeout, this, [this] {
        if (m_dirty)
            redraw();
    });
    redraw();
}

ChartPanel::~ChartPanel() = default;

void ChartPanel::setOrientation(Qt::Orientation orientation)
{
    m_layout->setDirection(
        orientation == Qt::Horizontal ? QBoxLayout::LeftToRight : QBoxLayout::TopToBottom);
}

Qt::Orientation ChartPanel::orientation() const
{
    return m_layout->direction() == QBoxLayout::LeftToRight ? Qt::Horizontal : Qt::Vertical;
}

QChart *ChartPanel::makeChart(const QString &title, Axes *axes, Scale scale)
{
    auto *chart = new QChart;
    chart->setTitle(title);
    QFont titleFont = chart->titleFont();
    titleFont.setBold(true);
    chart->setTitleFont(titleFont);
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->setBackgroundRoundness(0);
    chart->legend()->setAlignment(Qt::AlignBottom);
    QFont legendFont = chart->legend()->font();
    legendFont.setPointSizeF(legendFont.pointSizeF() * 0.85);
    chart->legend()->setFont(legendFont);

    axes->x = new QDateTimeAxis(chart);
    axes->x->setFormat(QStringLiteral("HH:mm:ss"));
    axes->x->setTickCount(5);
    QAbstractAxis *y = nullptr;
    if (scale == Scale::Logarithmic) {
        axes->logY = new QLogValueAxis(chart);
        axes->logY->setBase(10);
        axes->logY->setLabelFormat(QStringLiteral("%g"));
        axes->logY->setMinorTickCount(-1); // the 2 to 9 of every decade
        axes->logY->setRange(LatencyBottomMs, LatencyTopMinMs);
        y = axes->logY;
    } else {
        axes->y = new QValueAxis(chart);
        axes->y->setTickCount(6);
        axes->y->setMin(0);
        y = axes->y;
    }
    QFont axisFont = axes->x->labelsFont();
    axisFont.setPointSizeF(axisFont.pointSizeF() * 0.85);
    axes->x->setLabelsFont(axisFont);
    y->setLabelsFont(axisFont);
    chart->addAxis(axes->x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    return chart;
}

QChartView *ChartPanel::makeView(QChart *chart)
{
    auto *view = new QChartView(chart, this);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumSize(260, 150);
    return view;
}

QLineSeries *ChartPanel::addSeries(
    QChart *chart, const Axes &axes, const QString &name, const QColor &color, Qt::PenStyle style)
{
    auto *series = new QLineSeries(chart);
    series->setName(name);
    QPen pen(color);
    pen.setWidthF(style == Qt::SolidLine ? 2.0 : 1.2);
    pen.setStyle(style);
    series->setPen(pen);
    chart->addSeries(series);
    series->attachAxis(axes.x);
    series->attachAxis(axes.logY ? static_cast<QAbstractAxis *>(axes.logY) : axes.y);
    return series;
}

void ChartPanel::addMetrics(const FeedMetrics &metrics)
{
    const qint64 t = metrics.timeMs;
    if (m_firstMs == 0)
        m_firstMs = t;
    m_nowMs = std::max(m_nowMs, t);
    m_last = metrics;

    if (metrics.latencySamples > 0) {
        m_p50.append(QPointF(t, latencyPoint(metrics.latencyP50Us)));
        m_p99.append(QPointF(t, latencyPoint(metrics.latencyP99Us)));
    }
    addClientSamples(metrics);
    m_connected.append(QPointF(t, metrics.connected));
    m_retained.append(QPointF(t, metrics.retained));
    addReconnectSamples(metrics);

    trim(m_nowMs);
    m_dirty = true;
}

void ChartPanel::addClientSamples(const FeedMetrics &metrics)
{
    const qint64 t = metrics.timeMs;
    const int count = std::min(int(metrics.worstClients.size()), int(ClientLines));
    for (int i = 0; i < count; ++i) {
        const ClientLatency &client = metrics.worstClients.at(i);
        auto slot = std::find_if(m_clients.begin(), m_clients.end(),
            [&](const ClientTrace &c) { return c.sessionId == client.sessionId; });
        if (slot == m_clients.end()) {
            // The line idle longest goes to the newcomer, if it has been idle long enough.
            slot = std::min_element(
                m_clients.begin(), m_clients.end(), [](const ClientTrace &a, const ClientTrace &b) {
                    return a.lastSeenMs < b.lastSeenMs;
                });
            if (!slot->sessionId.isEmpty() && t - slot->lastSeenMs < ClientForgetMs)
                continue;
            slot->sessionId = client.sessionId;
            slot->clientName = client.clientName;
            slot->points.clear();
            slot->series->setName(clientLabel(client));
            m_legendStale = true;
        }
        slot->lastSeenMs = t;
        slot->points.append(QPointF(t, latencyPoint(client.p99Us)));
    }
}

QString ChartPanel::clientLabel(const ClientLatency &client) const
{
    // The client's own name, and its session when another drawn client has the same name.
    const QString name = client.clientName.isEmpty() ? tr("client") : client.clientName;
    const bool shared
        = std::any_of(m_clients.cbegin(), m_clients.cend(), [&](const ClientTrace &c) {
              return c.sessionId != client.sessionId && c.clientName == client.clientName;
          });
    const QString who = shared ? QStringLiteral("%1 %2").arg(name, client.sessionId.left(4)) : name;
    return tr("%1 p99").arg(who);
}

void ChartPanel::addReconnectSamples(const FeedMetrics &metrics)
{
    const qint64 bucket = metrics.timeMs - metrics.timeMs % BucketMs;
    if (m_bucketStartMs < 0)
        m_bucketStartMs = bucket;
    if (bucket != m_bucketStartMs) {
        m_resumes << QPointF(m_bucketStartMs, m_bucketResumes);
        m_fallbacks << QPointF(m_bucketStartMs, m_bucketFallbacks);
        m_bucketStartMs = bucket;
        m_bucketResumes = 0;
        m_bucketFallbacks = 0;
    }
    m_bucketResumes += metrics.resumes;
    m_bucketFallbacks += metrics.snapshotFallbacks;
}

void ChartPanel::trimPoints(QList<QPointF> &points, qint64 oldestMs)
{
    // By position, not by iterator: the series share this buffer since the last replace(),
    // so removing detaches it, which would leave iterators pointing into the old copy.
    const auto keep = std::find_if(
        points.cbegin(), points.cend(), [oldestMs](const QPointF &p) { return p.x() >= oldestMs; });
    points.remove(0, keep - points.cbegin());
}

void ChartPanel::trim(qint64 nowMs)
{
    const qint64 oldest = nowMs - WindowMs;
    for (QList<QPointF> *points :
        {&m_p50, &m_p99, &m_connected, &m_retained, &m_resumes, &m_fallbacks})
        trimPoints(*points, oldest);
    for (ClientTrace &client : m_clients) {
        trimPoints(client.points, oldest);
        if (!client.sessionId.isEmpty() && nowMs - client.lastSeenMs > WindowMs) {
            client.sessionId.clear();
            client.clientName.clear();
            client.series->setName(QString());
            m_legendStale = true;
        }
    }
}

void ChartPanel::rescale(Axes &axes, double maximum, double floor, const char *format)
{
    const NiceTop wanted = niceCeil(std::max(maximum * 1.1, floor));
    if (wanted.top > axes.top || wanted.top < axes.top * ShrinkBelow || axes.top == 0) {
        axes.top = wanted.top;
        axes.y->setRange(0, wanted.top);
        axes.y->setTickCount(wanted.intervals + 1);
        axes.y->setLabelFormat(QString::fromLatin1(format));
    }
}

void ChartPanel::rescaleLatency(double minimum, double maximum)
{
    const double bottom = minimum < LatencyBottomMs ? FastLatencyBottomMs : LatencyBottomMs;
    const double top
        = std::max(LatencyTopMinMs, std::pow(10.0, std::ceil(std::log10(maximum * 1.1))));
    if (top != m_latencyAxes.top || bottom != m_latencyAxes.logY->min()) {
        m_latencyAxes.top = top;
        m_latencyAxes.logY->setRange(bottom, top);
    }
}

void ChartPanel::redraw()
{
    m_dirty = false;
    m_p50Series->replace(m_p50);
    m_p99Series->replace(m_p99);
    double latencyMax = std::max(maxY(m_p50), maxY(m_p99));
    double latencyMin = minY(m_p50, minY(m_p99, LatencyBottomMs));
    bool legendChanged = false;
    for (ClientTrace &client : m_clients) {
        client.series->replace(client.points);
        latencyMax = std::max(latencyMax, maxY(client.points));
        latencyMin = minY(client.points, latencyMin);
        // An unused line stays out of the legend.
        const auto markers = m_latencyChart->legend()->markers(client.series);
        for (auto *marker : markers) {
            if (marker->isVisible() != !client.sessionId.isEmpty()) {
                marker->setVisible(!client.sessionId.isEmpty());
                legendChanged = true;
            }
        }
    }
    // The legend keeps the label widths of its last layout; a renamed or shown marker
    // would be drawn elided to nothing without a new one.
    if (legendChanged || m_legendStale)
        m_latencyChart->legend()->layout()->invalidate();
    m_legendStale = false;
    m_connectedSeries->replace(m_connected);
    m_retainedSeries->replace(m_retained);
    m_resumesSeries->replace(steps(m_resumes, &m_stepBuffer));
    m_fallbacksSeries->replace(steps(m_fallbacks, &m_stepBuffer));

    // Before the first sample the axis shows the last moments of the clock.
    const qint64 now = m_firstMs == 0 ? QDateTime::currentMSecsSinceEpoch() : m_nowMs;
    const qint64 oldest = m_firstMs == 0 ? now - MinSpanMs : std::min(m_firstMs, now - MinSpanMs);
    const QDateTime from = QDateTime::fromMSecsSinceEpoch(std::max(oldest, now - WindowMs));
    const QDateTime to = QDateTime::fromMSecsSinceEpoch(now);
    for (Axes *axes : {&m_latencyAxes, &m_sessionsAxes, &m_reconnectsAxes})
        axes->x->setRange(from, to);

    // Floors keep an idle chart's scale readable: 1 ms, 5 sessions, 5 reconnects.
    rescaleLatency(latencyMin, latencyMax);
    rescale(m_sessionsAxes, std::max(maxY(m_connected), maxY(m_retained)), 5.0, "%.0f");
    rescale(m_reconnectsAxes, std::max(maxY(m_resumes), maxY(m_fallbacks)), 5.0, "%.0f");
    updateTitles();
}

void ChartPanel::updateTitles()
{
    if (m_last.latencySamples > 0) {
        const double perSecond
            = m_last.intervalMs > 0 ? m_last.latencySamples * 1000.0 / m_last.intervalMs : 0.0;
        m_latencyChart->setTitle(tr("Delivery latency (ms): p50 %1, p99 %2, %3 acks/s")
                                     .arg(millis(m_last.latencyP50Us), 0, 'f', 1)
                                     .arg(millis(m_last.latencyP99Us), 0, 'f', 1)
                                     .arg(qRound(perSecond)));
    } else {
        m_latencyChart->setTitle(tr("Delivery latency (ms): no acks in the last interval"));
    }
    m_sessionsChart->setTitle(
        tr("Sessions: %1 connected, %2 retained").arg(m_last.connected).arg(m_last.retained));
    int resumes = m_bucketResumes;
    int fallbacks = m_bucketFallbacks;
    for (const QPointF &bucket : std::as_const(m_resumes))
        resumes += int(bucket.y());
    for (const QPointF &bucket : std::as_const(m_fallbacks))
        fallbacks += int(bucket.y());
    const qint64 spanS = m_firstMs == 0 ? 0 : std::min(WindowMs, m_nowMs - m_firstMs) / 1000;
    m_reconnectsChart->setTitle(tr("Reconnects per second: %1 resumed, %2 to a snapshot in %3 s")
                                    .arg(resumes)
                                    .arg(fallbacks)
                                    .arg(spanS));
}

void ChartPanel::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    redraw();
    m_redrawTimer.start();
}

void ChartPanel::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_redrawTimer.stop();
    qCDebug(lcUiCharts) << "charts paused while hidden";
}

} // namespace OddsDesk
