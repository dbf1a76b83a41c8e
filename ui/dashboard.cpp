#include "dashboard.h"

#include "engine.h"
#include "sessionfiltermodel.h"
#include "sessionformat.h"
#include "sessionmodel.h"
#include "sessionwatch.h"
#include "supportlogging.h"
#include "timechart.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLegend>
#include <QStackedBarSeries>
#include <QTableView>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace OddsDesk {
namespace {

// 500 ms: twice a second is smooth for a monitor that is glanced at, and half the cost of
// drawing at the engine's sampling rate across six charts.
constexpr int RedrawMs = 500;
constexpr qint64 SecondMs = 1000;
// The p99 at and above which a session counts as slow in the spread chart's colours, as in
// the inspector: ten times the feed's 10 ms flush.
constexpr double SlowP99Ms = 100;
// The spread chart's bars cover the sessions up to this quantile of their p99s, in about
// SpreadBars bars; the few above share one last bar, so that one phone in a tunnel does not
// squeeze everyone else into the first bar.
constexpr double SpreadBulk = 0.99;
constexpr int SpreadBars = 10;
// The bar width changes only when the bulk outgrows the bars or falls under this share of
// them: the labels do not change every second.
constexpr double SpreadShrinkBelow = 0.4;
// Count axes start at 0 to 5, so that their steps are whole numbers.
constexpr double CountFloor = 5;
// An idle latency chart reads 0 to 10 ms.
constexpr double LatencyFloorMs = 10;

const QColor P50Color(0x1f, 0x77, 0xb4);
const QColor P95Color(0xff, 0x7f, 0x0e);
const QColor P99Color(0xd6, 0x27, 0x28);
const QColor ConnectedColor(0x2c, 0xa0, 0x2c);
const QColor RetainedColor(0xff, 0x7f, 0x0e);
const QColor StaleColor(0xd6, 0x27, 0x28);
const QColor ResumesColor(0x1f, 0x77, 0xb4);
const QColor FallbacksColor(0xd6, 0x27, 0x28);
const QColor AttemptsColor(0x7f, 0x7f, 0x7f);
const QColor FramesColor(0x94, 0x67, 0xbd);
const QColor BytesColor(0x8c, 0x56, 0x4b);
const QColor PushColor(0x2c, 0xa0, 0x2c);
const QColor PollingColor(0xd6, 0x27, 0x28);
const QColor FastBarColor(0x1f, 0x77, 0xb4);
const QColor SlowBarColor(0xd6, 0x27, 0x28);

double millis(qint64 micros)
{
    return double(micros) / 1000.0;
}

// The smallest of 1, 2, 2.5 and 5 times a power of ten at or above \a value: a bar width
// that makes round labels.
double roundStep(double value)
{
    static constexpr double Steps[] = {1, 2, 2.5, 5, 10};
    const double magnitude = std::pow(10.0, std::floor(std::log10(std::max(value, 1e-3))));
    for (double step : Steps) {
        if (value <= step * magnitude + 1e-9)
            return step * magnitude;
    }
    return 10 * magnitude;
}

QString msLabel(double ms)
{
    return ms >= 1000 ? QStringLiteral("%1k").arg(QString::number(ms / 1000, 'g', 3))
                      : QString::number(ms, 'g', 4);
}

} // namespace

Dashboard::Dashboard(Engine *engine, QWidget *parent)
    : QWidget(parent, Qt::Window)
    , m_engine(engine)
{
    setObjectName(QStringLiteral("supportDashboard"));
    setWindowTitle(tr("Dashboard - OddsDesk support"));

    auto *body = new QHBoxLayout;
    body->setSpacing(6);
    body->addWidget(buildCharts(), 1);
    body->addWidget(buildWorstList(), 0);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(6);
    layout->addWidget(buildTiles());
    layout->addLayout(body, 1);

    m_redrawTimer.setInterval(RedrawMs);
    connect(&m_redrawTimer, &QTimer::timeout, this, &Dashboard::redraw);
    connect(m_engine, &Engine::metricsUpdated, this, &Dashboard::addMetrics);
    connect(
        m_engine, &Engine::sessionsUpdated, this, [this](const QVector<SessionSummary> &sessions) {
            if (m_watching)
                setSessions(sessions);
        });

    updateTiles();
    updateCost();
    resize(1600, 900);
}

Dashboard::~Dashboard()
{
    setWatching(false);
}

QWidget *Dashboard::buildTiles()
{
    static const char *const Captions[TileCount] = {
        QT_TR_NOOP("Connected"),
        QT_TR_NOOP("Retained for resume"),
        QT_TR_NOOP("Stale now"),
        QT_TR_NOOP("Delivery p50 / p95 / p99"),
        QT_TR_NOOP("Reconnects, last second"),
        QT_TR_NOOP("Push, measured"),
        QT_TR_NOOP("Polling once a second, estimate"),
    };
    auto *strip = new QWidget(this);
    auto *row = new QHBoxLayout(strip);
    row->setContentsMargins(0, 0, 0, 0);
    row->setSpacing(6);
    for (int tile = 0; tile < TileCount; ++tile) {
        auto *frame = new QFrame(strip);
        frame->setObjectName(QStringLiteral("tile"));
        frame->setFrameShape(QFrame::StyledPanel);
        auto *caption = new QLabel(tr(Captions[tile]), frame);
        caption->setStyleSheet(QStringLiteral("color: #606060;"));
        auto *value = new QLabel(frame);
        QFont big = value->font();
        big.setPointSizeF(big.pointSizeF() * 1.6);
        big.setBold(true);
        value->setFont(big);
        auto *note = new QLabel(frame);
        note->setStyleSheet(QStringLiteral("color: #606060;"));
        QFont small = note->font();
        small.setPointSizeF(small.pointSizeF() * 0.9);
        note->setFont(small);
        auto *column = new QVBoxLayout(frame);
        column->setContentsMargins(8, 4, 8, 4);
        column->setSpacing(0);
        column->addWidget(caption);
        column->addWidget(value);
        column->addWidget(note);
        m_tiles[tile] = frame;
        m_tileValues[tile] = value;
        m_tileNotes[tile] = note;
        row->addWidget(frame, 1);
    }
    return strip;
}

QWidget *Dashboard::buildCharts()
{
    m_latency = new TimeChart(tr("Delivery latency (ms)"), WindowMs, this);
    m_lines.p50 = m_latency->addLine(tr("p50"), P50Color);
    m_lines.p95 = m_latency->addLine(tr("p95"), P95Color);
    m_lines.p99 = m_latency->addLine(tr("p99"), P99Color);

    m_sessions = new TimeChart(tr("Sessions"), WindowMs, this);
    m_lines.connected = m_sessions->addLine(tr("connected"), ConnectedColor);
    m_lines.retained = m_sessions->addLine(tr("retained for resume"), RetainedColor, Qt::DashLine);
    m_lines.stale = m_sessions->addLine(tr("stale"), StaleColor);

    m_reconnects = new TimeChart(tr("Reconnects per second"), WindowMs, this);
    m_lines.resumed = m_reconnects->addLine(tr("resumed"), ResumesColor);
    m_lines.fallbacks = m_reconnects->addLine(tr("fell back to a snapshot"), FallbacksColor);
    m_lines.attempts
        = m_reconnects->addLine(tr("attempts clients reported"), AttemptsColor, Qt::DashLine);
    for (int line : {m_lines.resumed, m_lines.fallbacks, m_lines.attempts})
        m_reconnects->setStepped(line, SecondMs);
    m_reconnects->setAxisFloor(TimeChart::Axis::Left, CountFloor);
    m_sessions->setAxisFloor(TimeChart::Axis::Left, CountFloor);
    m_latency->setAxisFloor(TimeChart::Axis::Left, LatencyFloorMs);

    m_output = new TimeChart(tr("Sent per second"), WindowMs, this);
    m_lines.frames = m_output->addLine(tr("frames"), FramesColor);
    m_lines.bytes
        = m_output->addLine(tr("bytes"), BytesColor, Qt::SolidLine, TimeChart::Axis::Right);
    m_output->setAxisTitle(TimeChart::Axis::Left, tr("frames/s"));
    m_output->setAxisFloor(TimeChart::Axis::Left, CountFloor);
    m_output->setByteAxis(TimeChart::Axis::Right, tr("/s"));

    m_cost = new TimeChart(tr("Push against polling once a second"), WindowMs, this);
    m_lines.push = m_cost->addLine(tr("push, measured"), PushColor);
    m_lines.polling = m_cost->addLine(tr("polling, estimated"), PollingColor, Qt::DashLine);
    m_cost->setByteAxis(TimeChart::Axis::Left, tr("/s"));

    m_costLabel = new QLabel(this);
    m_costLabel->setObjectName(QStringLiteral("costLabel"));
    m_costLabel->setWordWrap(true);
    m_costLabel->setTextFormat(Qt::PlainText);
    m_costLabel->setStyleSheet(QStringLiteral("color: #404040;"));
    auto *costBox = new QWidget(this);
    auto *costColumn = new QVBoxLayout(costBox);
    costColumn->setContentsMargins(0, 0, 0, 0);
    costColumn->setSpacing(2);
    costColumn->addWidget(m_cost, 1);
    costColumn->addWidget(m_costLabel);

    auto *charts = new QWidget(this);
    auto *grid = new QGridLayout(charts);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setSpacing(4);
    grid->addWidget(m_latency, 0, 0);
    grid->addWidget(m_sessions, 0, 1);
    grid->addWidget(m_reconnects, 0, 2);
    grid->addWidget(buildSpreadChart(), 1, 0);
    grid->addWidget(m_output, 1, 1);
    grid->addWidget(costBox, 1, 2);
    return charts;
}

QWidget *Dashboard::buildSpreadChart()
{
    m_fastSet = new QBarSet(tr("sessions"));
    m_fastSet->setColor(FastBarColor);
    m_fastSet->setBorderColor(FastBarColor);
    m_slowSet = new QBarSet(tr("at %1 ms and over").arg(SlowP99Ms));
    m_slowSet->setColor(SlowBarColor);
    m_slowSet->setBorderColor(SlowBarColor);
    // Two sets stacked, each bar in one of them: the slow bars stand out in red.
    auto *series = new QStackedBarSeries;
    series->append(m_fastSet);
    series->append(m_slowSet);
    series->setBarWidth(0.9);

    m_spreadChart = new QChart;
    m_spreadChart->setTitle(tr("Sessions by their p99"));
    styleSupportChart(m_spreadChart);
    m_spreadChart->addSeries(series);
    m_binAxis = new QBarCategoryAxis(m_spreadChart);
    m_binAxis->setTitleText(tr("p99 up to (ms)"));
    m_spreadAxis = new QValueAxis(m_spreadChart);
    m_spreadAxis->setRange(0, CountFloor);
    m_spreadAxis->setLabelFormat(QStringLiteral("%.0f"));
    QFont axisFont = m_binAxis->labelsFont();
    axisFont.setPointSizeF(axisFont.pointSizeF() * 0.8);
    m_binAxis->setLabelsFont(axisFont);
    m_binAxis->setTitleFont(axisFont);
    m_spreadAxis->setLabelsFont(axisFont);
    m_spreadChart->addAxis(m_binAxis, Qt::AlignBottom);
    m_spreadChart->addAxis(m_spreadAxis, Qt::AlignLeft);
    series->attachAxis(m_binAxis);
    series->attachAxis(m_spreadAxis);

    auto *view = new QChartView(m_spreadChart, this);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumSize(300, 190);
    return view;
}

QWidget *Dashboard::buildWorstList()
{
    m_worst = new SessionModel(this);
    m_worstProxy = new SessionFilterModel(this);
    m_worstProxy->setSessionModel(m_worst);

    m_worstView = new QTableView(this);
    m_worstView->setObjectName(QStringLiteral("worstSessions"));
    m_worstView->setModel(m_worstProxy);
    m_worstView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_worstView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_worstView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_worstView->setShowGrid(false);
    m_worstView->setWordWrap(false);
    m_worstView->verticalHeader()->hide();
    m_worstView->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_worstView->verticalHeader()->setDefaultSectionSize(m_worstView->fontMetrics().height() + 6);
    m_worstView->horizontalHeader()->setHighlightSections(false);
    m_worstView->setToolTip(tr("Click a session to open it in the inspector"));
    const QList<int> shown = {SessionModel::ClientColumn, SessionModel::P99Column,
        SessionModel::StateColumn, SessionModel::IdColumn};
    for (int column = 0; column < SessionModel::ColumnCount; ++column)
        m_worstView->setColumnHidden(column, !shown.contains(column));
    QHeaderView *header = m_worstView->horizontalHeader();
    for (int i = 0; i < shown.size(); ++i)
        header->moveSection(header->visualIndex(shown.at(i)), i);
    const int digit = m_worstView->fontMetrics().horizontalAdvance(QLatin1Char('0'));
    m_worstView->setColumnWidth(SessionModel::ClientColumn, digit * 15);
    m_worstView->setColumnWidth(SessionModel::P99Column, digit * 8);
    m_worstView->setColumnWidth(SessionModel::StateColumn, digit * 9);
    header->setStretchLastSection(true);
    connect(m_worstView, &QAbstractItemView::clicked, this, [this](const QModelIndex &index) {
        Q_EMIT sessionRequested(m_worstProxy->sessionIdAt(index.row()));
    });
    connect(m_worstView, &QAbstractItemView::activated, this, [this](const QModelIndex &index) {
        Q_EMIT sessionRequested(m_worstProxy->sessionIdAt(index.row()));
    });

    auto *title = new QLabel(tr("Worst sessions: stale, then by p99"), this);
    QFont bold = title->font();
    bold.setBold(true);
    title->setFont(bold);
    auto *hint = new QLabel(tr("Click one to open it in the inspector."), this);
    hint->setStyleSheet(QStringLiteral("color: #606060;"));

    auto *box = new QWidget(this);
    box->setFixedWidth(digit * 52);
    auto *column = new QVBoxLayout(box);
    column->setContentsMargins(0, 0, 0, 0);
    column->setSpacing(3);
    column->addWidget(title);
    column->addWidget(m_worstView, 1);
    column->addWidget(hint);
    return box;
}

void Dashboard::setTile(Tile tile, const QString &value, const QString &note, bool alarm)
{
    m_tileValues[tile]->setText(value);
    m_tileNotes[tile]->setText(note);
    m_tiles[tile]->setStyleSheet(
        alarm ? QStringLiteral("QFrame#tile { background: #ffe0e4; }") : QString());
}

void Dashboard::addMetrics(const FeedMetrics &metrics)
{
    if (metrics.timeMs == 0)
        return;
    const qint64 t = metrics.timeMs;
    m_last = metrics;

    if (metrics.latencySamples > 0) {
        m_latency->append(m_lines.p50, t, millis(metrics.latencyP50Us));
        m_latency->append(m_lines.p95, t, millis(metrics.latencyP95Us));
        m_latency->append(m_lines.p99, t, millis(metrics.latencyP99Us));
    } else {
        m_latency->advance(t);
    }
    m_sessions->append(m_lines.connected, t, metrics.connected);
    m_sessions->append(m_lines.retained, t, metrics.retained);
    m_sessions->append(m_lines.stale, t, metrics.staleSessions);

    const double perSecond = metrics.intervalMs > 0 ? 1000.0 / metrics.intervalMs : 0;
    m_output->append(m_lines.frames, t, double(metrics.framesOut) * perSecond);
    m_output->append(m_lines.bytes, t, double(metrics.bytesOut) * perSecond);
    m_recent.append(Recent {t, metrics.intervalMs, metrics.bytesOut});
    while (!m_recent.isEmpty() && m_recent.constFirst().timeMs <= t - SecondMs)
        m_recent.removeFirst();
    m_cost->append(m_lines.push, t, double(metrics.bytesOut) * perSecond);
    const double polling = pollingBytesPerSecond();
    if (polling > 0)
        m_cost->append(m_lines.polling, t, polling);

    addSecond(metrics);
    if (isVisible()) {
        updateTiles();
        updateCost();
    }
}

void Dashboard::addSecond(const FeedMetrics &metrics)
{
    const qint64 second = metrics.timeMs - metrics.timeMs % SecondMs;
    if (m_second.startMs < 0)
        m_second.startMs = second;
    if (second != m_second.startMs) {
        m_reconnects->append(m_lines.resumed, m_second.startMs, m_second.resumes);
        m_reconnects->append(m_lines.fallbacks, m_second.startMs, m_second.fallbacks);
        m_reconnects->append(m_lines.attempts, m_second.startMs, m_second.attempts);
        m_lastSecond = m_second;
        m_second = Second();
        m_second.startMs = second;
    }
    m_second.resumes += metrics.resumes;
    m_second.fallbacks += metrics.snapshotFallbacks;
    m_second.attempts += metrics.clientReconnectAttempts;
    m_second.reconnects += metrics.reconnects;
}

double Dashboard::pushBytesPerSecond() const
{
    quint64 bytes = 0;
    qint64 spanMs = 0;
    for (const Recent &sample : m_recent) {
        bytes += sample.bytes;
        spanMs += sample.intervalMs;
    }
    return spanMs > 0 ? double(bytes) * 1000.0 / double(spanMs) : 0;
}

double Dashboard::pollingBytesPerSecond() const
{
    if (m_snapshotBytes == 0)
        return 0;
    const double perPoll = PollRequestBytes + PollResponseHeaderBytes + m_snapshotBytes;
    return double(m_last.connected) * perPoll;
}

void Dashboard::setSessions(const QVector<SessionSummary> &sessions)
{
    estimateSnapshotBytes(sessions);
    countSpread(sessions);

    // The worst few, into their own small model (the list updates in place): stale
    // sessions first, as in the inspector, then the highest p99s.
    QVector<const SessionSummary *> measured;
    measured.reserve(sessions.size());
    const auto stale = [](const SessionSummary *s) { return s->connected && s->staleNow; };
    for (const SessionSummary &s : sessions) {
        if (s.latencyP99Us > 0 || stale(&s))
            measured.append(&s);
    }
    const int worst = std::min(int(measured.size()), WorstSessions);
    std::partial_sort(measured.begin(), measured.begin() + worst, measured.end(),
        [&stale](const SessionSummary *a, const SessionSummary *b) {
            if (stale(a) != stale(b))
                return stale(a);
            return a->latencyP99Us > b->latencyP99Us;
        });
    QVector<SessionSummary> top;
    top.reserve(worst);
    for (int i = 0; i < worst; ++i)
        top.append(*measured.at(i));
    m_worst->updateSessions(top);

    m_spreadDirty = true;
    if (isVisible())
        updateCost();
}

void Dashboard::estimateSnapshotBytes(const QVector<SessionSummary> &sessions)
{
    QHash<QString, Sent> sent;
    sent.reserve(sessions.size());
    QVector<double> estimates;
    for (const SessionSummary &s : sessions) {
        sent.insert(s.id, Sent {s.framesOut, s.bytesOut});
        const auto before = m_sentBefore.constFind(s.id);
        if (!s.connected || before == m_sentBefore.cend() || s.framesOut <= before->frames
            || s.bytesOut < before->bytes || s.framesOut < FramesBeforeDeltas)
            continue;
        const double bytesPerFrame
            = double(s.bytesOut - before->bytes) / double(s.framesOut - before->frames);
        const double snapshot
            = double(s.bytesOut) - double(s.framesOut - FramesBeforeDeltas) * bytesPerFrame;
        if (snapshot > 0)
            estimates.append(snapshot);
    }
    m_sentBefore = std::move(sent);
    if (estimates.isEmpty())
        return;
    // The median: a session that was resynced (two snapshots) or whose deltas were unlike
    // its last second's does not move it.
    const auto middle = estimates.begin() + estimates.size() / 2;
    std::nth_element(estimates.begin(), middle, estimates.end());
    m_snapshotBytes = *middle;
}

void Dashboard::countSpread(const QVector<SessionSummary> &sessions)
{
    QVector<double> p99s;
    p99s.reserve(sessions.size());
    for (const SessionSummary &s : sessions) {
        if (s.latencyP99Us > 0)
            p99s.append(millis(s.latencyP99Us));
    }
    m_withoutSamples = int(sessions.size() - p99s.size());
    if (p99s.isEmpty()) {
        m_spread.fill(0);
        return;
    }

    const auto bulkAt = p99s.begin()
        + std::min<qsizetype>(
            p99s.size() - 1, qsizetype(std::floor(double(p99s.size()) * SpreadBulk)));
    std::nth_element(p99s.begin(), bulkAt, p99s.end());
    const double bulk = std::max(*bulkAt, 0.1);
    const double covered = m_binMs * m_bins;
    if (m_bins == 0 || bulk >= covered || bulk < covered * SpreadShrinkBelow) {
        m_binMs = roundStep(bulk / SpreadBars);
        m_bins = int(std::floor(bulk / m_binMs)) + 1;
    }

    m_spread = QVector<int>(m_bins + 1, 0);
    for (double ms : std::as_const(p99s))
        ++m_spread[std::min(m_bins, int(ms / m_binMs))];
}

void Dashboard::drawSpread()
{
    // Without a measured session there is one empty bar: a bar axis with no category lays
    // its title out at the chart's corner, outside the plot.
    if (m_spread.isEmpty())
        m_spread = QVector<int>(1, 0);
    const int bars = int(m_spread.size());
    if (m_fastSet->count() != bars) {
        m_fastSet->remove(0, m_fastSet->count());
        m_slowSet->remove(0, m_slowSet->count());
        QVector<double> zeros(bars, 0);
        m_fastSet->append(QList<qreal>(zeros.cbegin(), zeros.cend()));
        m_slowSet->append(QList<qreal>(zeros.cbegin(), zeros.cend()));
    }
    QStringList labels;
    int highest = 0;
    for (int bar = 0; bar < bars; ++bar) {
        const bool overflow = bar == bars - 1;
        const double from = bar * m_binMs;
        if (m_bins == 0)
            labels << QStringLiteral("-"); // no bins yet
        else if (overflow)
            labels << QStringLiteral(">%1").arg(msLabel(from));
        else
            labels << msLabel(from + m_binMs);
        const int count = m_spread.at(bar);
        const bool slow = from >= SlowP99Ms;
        m_fastSet->replace(bar, slow ? 0 : count);
        m_slowSet->replace(bar, slow ? count : 0);
        highest = std::max(highest, count);
    }
    if (m_binAxis->categories() != labels)
        m_binAxis->setCategories(labels);
    const NiceScale scale = niceScale(std::max(CountFloor, highest * 1.1));
    m_spreadAxis->setTickCount(scale.intervals + 1);
    m_spreadAxis->setRange(0, scale.top);
    int measured = 0;
    for (int count : std::as_const(m_spread))
        measured += count;
    m_spreadChart->setTitle(tr("Sessions by their p99: %1").arg(formatCount(measured)));
    // The axis title has the chart's whole width; the title would be cut.
    const QString axisTitle = m_withoutSamples > 0
        ? tr("p99 up to (ms); %n without samples yet", nullptr, m_withoutSamples)
        : tr("p99 up to (ms)");
    if (m_binAxis->titleText() != axisTitle)
        m_binAxis->setTitleText(axisTitle);
}

void Dashboard::updateTiles()
{
    const FeedMetrics &m = m_last;
    setTile(ConnectedTile, formatCount(m.connected),
        tr("%1 connections since start").arg(formatCount(qint64(m.totalConnections))));
    setTile(RetainedTile, formatCount(m.retained), tr("disconnected, may resume"));
    setTile(StaleTile, formatCount(m.staleSessions),
        m.staleSessions > 0 ? tr("owing acks for 3 heartbeats") : tr("none owing acks"),
        m.staleSessions > 0);
    if (m.latencySamples > 0) {
        setTile(LatencyTile,
            tr("%1 / %2 / %3 ms")
                .arg(formatLatencyMs(m.latencyP50Us), formatLatencyMs(m.latencyP95Us),
                    formatLatencyMs(m.latencyP99Us)),
            tr("%n acks in the last sample", nullptr, m.latencySamples));
    } else {
        setTile(LatencyTile, QStringLiteral("-"), tr("no acks in the last sample"));
    }
    const Second &s = m_lastSecond;
    setTile(ReconnectsTile, formatCount(s.reconnects),
        tr("%1 resumed, %2 to a snapshot, %3 attempts")
            .arg(s.resumes)
            .arg(s.fallbacks)
            .arg(s.attempts),
        s.fallbacks > 0);
    setTile(PushTile, tr("%1/s").arg(formatBytes(pushBytesPerSecond())),
        tr("%1 frames/s")
            .arg(formatCount(qint64(m.intervalMs > 0 ? m.framesOut * 1000 / m.intervalMs : 0))));
    const double polling = pollingBytesPerSecond();
    const double push = pushBytesPerSecond();
    if (polling > 0) {
        setTile(PollingTile, tr("%1/s").arg(formatBytes(polling)),
            push > 0 ? tr("%1 times what push costs").arg(QString::number(polling / push, 'f', 0))
                     : tr("push is idle"));
    } else {
        setTile(PollingTile, QStringLiteral("-"), tr("waiting for the session list"));
    }
}

void Dashboard::updateCost()
{
    if (m_snapshotBytes == 0) {
        m_costLabel->setText(tr("Polling estimate: waiting for two session lists with deltas "
                                "between them, which give the size of a snapshot."));
        return;
    }
    m_costLabel->setText(
        tr("Polling is an estimate: %1 connected x (%2 B request + %3 B response headers + a "
           "%4 snapshot) every second = %5/s. The snapshot size is the median over sessions of "
           "what each was sent, less its frames since the snapshot at its bytes per frame of "
           "the last second. Push is measured: %6/s.")
            .arg(formatCount(m_last.connected))
            .arg(PollRequestBytes)
            .arg(PollResponseHeaderBytes)
            .arg(formatBytes(m_snapshotBytes), formatBytes(pollingBytesPerSecond()),
                formatBytes(pushBytesPerSecond())));
}

void Dashboard::redraw()
{
    // The tiles above carry the figures of now; the titles stay short enough to read whole.
    for (TimeChart *chart : {m_latency, m_sessions, m_reconnects, m_output, m_cost})
        chart->redraw();
    if (m_spreadDirty) {
        m_spreadDirty = false;
        drawSpread();
    }
}

void Dashboard::setWatching(bool watching)
{
    if (watching == m_watching)
        return;
    m_watching = watching;
    SessionWatch::of(m_engine)->setWatching(this, watching);
}

void Dashboard::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    setWatching(true);
    updateTiles();
    updateCost();
    redraw();
    m_redrawTimer.start();
}

void Dashboard::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    setWatching(false);
    m_redrawTimer.stop();
    qCDebug(lcUiDashboard) << "dashboard paused while hidden";
}

} // namespace OddsDesk
