#pragma once

#include <QChartView>
#include <QList>
#include <QPointF>
#include <QString>
#include <QVector>

QT_BEGIN_NAMESPACE
class QDateTimeAxis;
class QLineSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace OddsDesk {

/// One chart of figures over the last few minutes, for the support dashboard: a time axis,
/// a value axis on the left and optionally one on the right, and lines fed one point at a
/// time into kept buffers. Nothing is drawn on append(); redraw() trims the buffers to the
/// window and hands each line its points in one replace(), so the owner paces the drawing
/// and stops it while the chart is hidden. A chart that is never redrawn still holds no
/// more than about a window of points.
class TimeChart : public QChartView
{
    Q_OBJECT

public:
    enum class Axis { Left, Right };

    TimeChart(const QString &title, qint64 windowMs, QWidget *parent = nullptr);
    ~TimeChart() override;

    /// Adds a line and returns its number for append().
    int addLine(const QString &name, const QColor &color, Qt::PenStyle style = Qt::SolidLine,
        Axis axis = Axis::Left);
    /// Draws the line's points as steps \a stepMs wide: a per-second count holds its value
    /// for its second instead of slanting to the next one.
    void setStepped(int line, qint64 stepMs);
    /// The least top the axis shows, so that a quiet chart is not scaled up to its noise.
    void setAxisFloor(Axis axis, double floor);
    /// The axis shows bytes: values are drawn in B, kB, MB or GB, whichever reads best, and
    /// \a suffix (such as "/s") follows the unit in the axis title.
    void setByteAxis(Axis axis, const QString &suffix);
    void setAxisTitle(Axis axis, const QString &title);

    void append(int line, qint64 timeMs, double value);
    /// Moves the chart's clock to \a timeMs without a point: the time axis runs on while
    /// no line has anything to show (no acks yet, say).
    void advance(qint64 timeMs);
    void setTitleText(const QString &title);

    /// Trims, replaces and rescales, if anything was appended since the last redraw.
    void redraw();
    /// The points the line holds (what the next redraw draws).
    const QList<QPointF> &points(int line) const { return m_lines.at(line).points; }
    QLineSeries *series(int line) const { return m_lines.at(line).series; }
    QValueAxis *valueAxis(Axis axis) const;

private:
    struct Line
    {
        QLineSeries *series = nullptr;
        Axis axis = Axis::Left;
        QList<QPointF> points; // x: UTC milliseconds, y: the value as appended
        QList<QPointF> drawn; // the points as handed to the series, reused between redraws
        qint64 stepMs = 0;
    };
    struct ValueAxis
    {
        QValueAxis *axis = nullptr;
        double floor = 1;
        double top = 0;
        bool bytes = false;
        double divisor = 1;
        QString title;
        QString suffix;
    };

    ValueAxis &axisOf(Axis axis) { return axis == Axis::Left ? m_left : m_right; }
    void ensureRightAxis();
    const QList<QPointF> &drawnPoints(Line &line, double divisor);
    void rescale(ValueAxis &axis, double maximum);

    qint64 m_windowMs;
    QDateTimeAxis *m_time = nullptr;
    ValueAxis m_left;
    ValueAxis m_right;
    QVector<Line> m_lines;
    qint64 m_firstMs = 0;
    qint64 m_nowMs = 0;
    bool m_dirty = false;
};

/// A round top for an axis at or above \a value, and the number of intervals that divide
/// it into round steps: 0 to 8 in steps of 2, 0 to 250 in steps of 50.
struct NiceScale
{
    double top = 1;
    int intervals = 5;
};
NiceScale niceScale(double value);

/// The look every support chart shares with the desk's own charts: a bold title, small
/// axis labels, square corners, the legend at the bottom.
void styleSupportChart(QChart *chart);

} // namespace OddsDesk
