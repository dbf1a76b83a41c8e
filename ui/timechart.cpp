#include "timechart.h"

#include <QChart>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QLegend>
#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace OddsDesk {
namespace {

// While the first samples arrive the time axis spans at least this much, then grows to the
// whole window: a young chart fills its width instead of hugging the right edge.
constexpr qint64 MinSpanMs = 30 * 1000;
// A rescaled axis shrinks only when the data falls under this share of it, so the scale
// does not twitch with every sample.
constexpr double ShrinkBelow = 0.4;
// Headroom above the highest point, so that a line at its peak does not run along the top.
constexpr double Headroom = 1.1;

double maxY(const QList<QPointF> &points)
{
    double result = 0;
    for (const QPointF &p : points)
        result = std::max(result, p.y());
    return result;
}

void trimPoints(QList<QPointF> &points, qint64 oldestMs)
{
    // By position, not by iterator: a series shares the buffer since the last replace(), so
    // removing detaches it, which would leave iterators pointing into the old copy.
    const auto keep = std::find_if(
        points.cbegin(), points.cend(), [oldestMs](const QPointF &p) { return p.x() >= oldestMs; });
    points.remove(0, keep - points.cbegin());
}

struct ByteUnit
{
    double divisor;
    const char *name;
};

ByteUnit byteUnit(double maximum)
{
    static constexpr ByteUnit Units[] = {{1e9, "GB"}, {1e6, "MB"}, {1e3, "kB"}};
    for (const ByteUnit &unit : Units) {
        if (maximum >= unit.divisor)
            return unit;
    }
    return ByteUnit {1, "B"};
}

} // namespace

NiceScale niceScale(double value)
{
    static constexpr NiceScale Steps[]
        = {{1, 5}, {1.5, 3}, {2, 4}, {2.5, 5}, {3, 6}, {4, 4}, {5, 5}, {6, 6}, {8, 4}, {10, 5}};
    if (value <= 0)
        return Steps[0];
    const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
    const double fraction = value / magnitude;
    for (const NiceScale &step : Steps) {
        if (fraction <= step.top + 1e-9)
            return NiceScale {step.top * magnitude, step.intervals};
    }
    return NiceScale {10 * magnitude, 5};
}

void styleSupportChart(QChart *chart)
{
    QFont titleFont = chart->titleFont();
    titleFont.setBold(true);
    chart->setTitleFont(titleFont);
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->setBackgroundRoundness(0);
    chart->legend()->setAlignment(Qt::AlignBottom);
    QFont legendFont = chart->legend()->font();
    legendFont.setPointSizeF(legendFont.pointSizeF() * 0.85);
    chart->legend()->setFont(legendFont);
}

TimeChart::TimeChart(const QString &title, qint64 windowMs, QWidget *parent)
    // The chart is given to the view as it is made: a view made without one makes its own,
    // which setChart() would then let go of without deleting.
    : QChartView(new QChart, parent)
    , m_windowMs(windowMs)
{
    QChart *chart = this->chart();
    chart->setTitle(title);
    styleSupportChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setMinimumSize(300, 190);

    // Until the first sample: the last moments of the clock, and 0 to 1.
    m_time = new QDateTimeAxis(chart);
    m_time->setFormat(QStringLiteral("HH:mm:ss"));
    m_time->setTickCount(5);
    const QDateTime now = QDateTime::currentDateTime();
    m_time->setRange(now.addMSecs(-MinSpanMs), now);
    m_left.axis = new QValueAxis(chart);
    m_left.axis->setRange(0, 1);
    m_left.axis->setTickCount(2);
    m_left.axis->setLabelFormat(QStringLiteral("%.0f"));
    QFont axisFont = m_time->labelsFont();
    axisFont.setPointSizeF(axisFont.pointSizeF() * 0.85);
    m_time->setLabelsFont(axisFont);
    m_left.axis->setLabelsFont(axisFont);
    chart->addAxis(m_time, Qt::AlignBottom);
    chart->addAxis(m_left.axis, Qt::AlignLeft);
}

TimeChart::~TimeChart() = default;

void TimeChart::ensureRightAxis()
{
    if (m_right.axis)
        return;
    m_right.axis = new QValueAxis(chart());
    m_right.axis->setRange(0, 1);
    m_right.axis->setLabelFormat(QStringLiteral("%.0f"));
    m_right.axis->setLabelsFont(m_left.axis->labelsFont());
    m_right.axis->setGridLineVisible(false); // the left axis's grid is enough for one chart
    chart()->addAxis(m_right.axis, Qt::AlignRight);
}

QValueAxis *TimeChart::valueAxis(Axis axis) const
{
    return axis == Axis::Left ? m_left.axis : m_right.axis;
}

int TimeChart::addLine(const QString &name, const QColor &color, Qt::PenStyle style, Axis axis)
{
    if (axis == Axis::Right)
        ensureRightAxis();
    Line line;
    line.axis = axis;
    line.series = new QLineSeries(chart());
    line.series->setName(name);
    QPen pen(color);
    pen.setWidthF(style == Qt::SolidLine ? 2.0 : 1.4);
    pen.setStyle(style);
    line.series->setPen(pen);
    chart()->addSeries(line.series);
    line.series->attachAxis(m_time);
    line.series->attachAxis(valueAxis(axis));
    m_lines.append(line);
    return int(m_lines.size()) - 1;
}

void TimeChart::setStepped(int line, qint64 stepMs)
{
    m_lines[line].stepMs = stepMs;
}

void TimeChart::setAxisFloor(Axis axis, double floor)
{
    axisOf(axis).floor = floor;
}

void TimeChart::setByteAxis(Axis axis, const QString &suffix)
{
    if (axis == Axis::Right)
        ensureRightAxis();
    ValueAxis &value = axisOf(axis);
    value.bytes = true;
    value.suffix = suffix;
    value.axis->setLabelFormat(QStringLiteral("%.3g"));
}

void TimeChart::setAxisTitle(Axis axis, const QString &title)
{
    if (axis == Axis::Right)
        ensureRightAxis();
    ValueAxis &value = axisOf(axis);
    value.title = title;
    QFont font = value.axis->labelsFont();
    value.axis->setTitleFont(font);
    value.axis->setTitleText(title);
}

void TimeChart::setTitleText(const QString &title)
{
    if (chart()->title() != title)
        chart()->setTitle(title);
}

void TimeChart::append(int line, qint64 timeMs, double value)
{
    advance(timeMs);
    QList<QPointF> &points = m_lines[line].points;
    points.append(QPointF(double(timeMs), value));
    // A hidden chart is not redrawn, and redraw() is where the window is trimmed: past a
    // tenth of the window of extra points, trim here, so a chart hidden all day stays small.
    if (points.constFirst().x() < double(m_nowMs - m_windowMs - m_windowMs / 10))
        trimPoints(points, m_nowMs - m_windowMs);
}

void TimeChart::advance(qint64 timeMs)
{
    if (m_firstMs == 0)
        m_firstMs = timeMs;
    m_nowMs = std::max(m_nowMs, timeMs);
    m_dirty = true;
}

const QList<QPointF> &TimeChart::drawnPoints(Line &line, double divisor)
{
    if (line.stepMs == 0 && divisor == 1)
        return line.points;
    line.drawn.clear();
    for (const QPointF &p : std::as_const(line.points)) {
        const QPointF scaled(p.x(), p.y() / divisor);
        line.drawn << scaled;
        if (line.stepMs > 0)
            line.drawn << QPointF(p.x() + double(line.stepMs), scaled.y());
    }
    return line.drawn;
}

void TimeChart::rescale(ValueAxis &axis, double maximum)
{
    if (!axis.axis)
        return;
    if (axis.bytes) {
        const ByteUnit unit = byteUnit(std::max(maximum, axis.floor));
        axis.divisor = unit.divisor;
        const QString title = QLatin1String(unit.name) + axis.suffix;
        if (axis.axis->titleText() != title) {
            axis.axis->setTitleFont(axis.axis->labelsFont());
            axis.axis->setTitleText(title);
            axis.top = 0; // a new unit: the scale starts again
        }
    }
    const NiceScale wanted = niceScale(std::max(maximum * Headroom, axis.floor) / axis.divisor);
    if (wanted.top > axis.top || wanted.top < axis.top * ShrinkBelow || axis.top == 0) {
        axis.top = wanted.top;
        axis.axis->setRange(0, wanted.top);
        axis.axis->setTickCount(wanted.intervals + 1);
    }
}

void TimeChart::redraw()
{
    if (!m_dirty)
        return;
    m_dirty = false;

    const qint64 oldest = m_nowMs - m_windowMs;
    double leftMax = 0;
    double rightMax = 0;
    for (Line &line : m_lines) {
        trimPoints(line.points, oldest);
        double &maximum = line.axis == Axis::Left ? leftMax : rightMax;
        maximum = std::max(maximum, maxY(line.points));
    }
    rescale(m_left, leftMax);
    rescale(m_right, rightMax);
    for (Line &line : m_lines)
        line.series->replace(drawnPoints(line, axisOf(line.axis).divisor));

    const qint64 start = std::max(m_firstMs, oldest);
    const qint64 span = std::max(MinSpanMs, m_nowMs - start);
    m_time->setRange(
        QDateTime::fromMSecsSinceEpoch(m_nowMs - span), QDateTime::fromMSecsSinceEpoch(m_nowMs));
}

} // namespace OddsDesk
