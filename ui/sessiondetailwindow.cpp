#include "sessiondetailwindow.h"

#include "engine.h"
#include "sessionformat.h"
#include "sessionreport.h"
#include "supportlogging.h"
#include "timechart.h"
#include "timelinemodel.h"

#include <QAction>
#include <QChart>
#include <QChartView>
#include <QClipboard>
#include <QDateTime>
#include <QGridLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QScrollBar>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>

namespace OddsDesk {
namespace {

const QColor SamplesColor(0x6f, 0xa8, 0xdc); // lighter than the percentiles drawn over it
const QColor P50Color(0x1a, 0x7a, 0x1a);
const QColor P99Color(0xd6, 0x27, 0x28);

// A latency chart shows at least this many milliseconds: on loopback a session's
// deliveries take a fraction of one, and a scale of 0 to 0.2 would make noise look alarming.
constexpr double LatencyFloorMs = 1.0;

QString figureName(int figure)
{
    static const char *const Names[] = {
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "User"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Client"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Address"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "State"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Created"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Connected since"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Reconnects"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Resumes"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Snapshot fallbacks"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Gaps"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Lag (sequences)"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Queued"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Latency p50"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Latency p99"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Frames out"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Bytes out"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Time stale"),
        QT_TRANSLATE_NOOP("OddsDesk::SessionDetailWindow", "Telemetry dropped"),
    };
    return QCoreApplication::translate("OddsDesk::SessionDetailWindow", Names[figure]);
}

QString latencyText(qint64 micros)
{
    const QString ms = formatLatencyMs(micros);
    return ms.isEmpty() ? SessionDetailWindow::tr("no samples yet")
                        : SessionDetailWindow::tr("%1 ms").arg(ms);
}

} // namespace

SessionDetailWindow::SessionDetailWindow(Engine *engine, const QString &sessionId, QWidget *parent)
    : QWidget(parent, Qt::Window)
    , m_engine(engine)
    , m_sessionId(sessionId)
    , m_timeline(new TimelineModel(this))
{
    setObjectName(QStringLiteral("sessionDetail"));
    setWindowTitle(tr("Session %1 - OddsDesk support").arg(sessionId));

    m_title = new QLabel(this);
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.35);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_stateBadge = new QLabel(this);
    m_stateBadge->setAlignment(Qt::AlignCenter);
    m_stateBadge->setMinimumWidth(90);
    auto *header = new QHBoxLayout;
    header->addWidget(m_title, 1);
    header->addWidget(m_stateBadge);

    auto *top = new QHBoxLayout;
    top->addWidget(buildFigures(), 0);
    top->addWidget(buildChart(), 1);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(10, 8, 10, 8);
    layout->setSpacing(8);
    layout->addLayout(header);
    layout->addLayout(top);
    layout->addWidget(buildTimeline(), 1);
    layout->addWidget(buildActions());

    m_refreshTimer.setInterval(RefreshMs);
    connect(&m_refreshTimer, &QTimer::timeout, this, &SessionDetailWindow::refresh);
    connect(m_engine, &Engine::sessionDetail, this, &SessionDetailWindow::onDetail);
    connect(m_engine, &Engine::editRejected, this, &SessionDetailWindow::onEngineRefusal);

    showSummary(SessionSummary());
    m_title->setText(tr("Session %1").arg(sessionId));
    setStatus(tr("Asking the engine for the session..."));
    updateActions();
    resize(1000, 700);
}

SessionDetailWindow::~SessionDetailWindow() = default;

QWidget *SessionDetailWindow::buildFigures()
{
    auto *box = new QWidget(this);
    auto *grid = new QGridLayout(box);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setHorizontalSpacing(10);
    grid->setVerticalSpacing(3);
    // Two columns of name and value; the identity first, then the figures.
    const int rows = (FigureCount + 1) / 2;
    for (int figure = 0; figure < FigureCount; ++figure) {
        auto *name = new QLabel(figureName(figure), box);
        name->setStyleSheet(QStringLiteral("color: #606060;"));
        auto *value = new QLabel(box);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        value->setMinimumWidth(110);
        m_figures[figure] = value;
        const int row = figure % rows;
        const int column = (figure / rows) * 2;
        grid->addWidget(name, row, column);
        grid->addWidget(value, row, column + 1);
    }
    grid->setColumnMinimumWidth(2, 120);
    grid->setRowStretch(rows, 1);
    return box;
}

QWidget *SessionDetailWindow::buildChart()
{
    m_chart = new QChart;
    m_chart->setTitle(tr("Delivery latency, recent deliveries (ms)"));
    styleSupportChart(m_chart);

    m_sampleAxis = new QValueAxis(m_chart);
    m_sampleAxis->setLabelFormat(QStringLiteral("%d"));
    m_sampleAxis->setTitleText(tr("delivery, oldest to newest"));
    m_latencyAxis = new QValueAxis(m_chart);
    m_latencyAxis->setRange(0, LatencyFloorMs);
    QFont axisFont = m_sampleAxis->labelsFont();
    axisFont.setPointSizeF(axisFont.pointSizeF() * 0.85);
    m_sampleAxis->setLabelsFont(axisFont);
    m_sampleAxis->setTitleFont(axisFont);
    m_latencyAxis->setLabelsFont(axisFont);
    m_chart->addAxis(m_sampleAxis, Qt::AlignBottom);
    m_chart->addAxis(m_latencyAxis, Qt::AlignLeft);

    const auto addSeries = [this](const QString &name, const QColor &color, Qt::PenStyle style) {
        auto *series = new QLineSeries(m_chart);
        series->setName(name);
        QPen pen(color);
        pen.setWidthF(style == Qt::SolidLine ? 1.2 : 1.8);
        pen.setStyle(style);
        series->setPen(pen);
        m_chart->addSeries(series);
        series->attachAxis(m_sampleAxis);
        series->attachAxis(m_latencyAxis);
        return series;
    };
    m_samplesSeries = addSeries(tr("each delivery"), SamplesColor, Qt::SolidLine);
    m_p50Series = addSeries(tr("p50"), P50Color, Qt::DashLine);
    m_p99Series = addSeries(tr("p99"), P99Color, Qt::DashLine);

    auto *view = new QChartView(m_chart, this);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumSize(420, 250);
    return view;
}

QWidget *SessionDetailWindow::buildTimeline()
{
    m_timelineView = new QTableView(this);
    m_timelineView->setObjectName(QStringLiteral("timelineView"));
    m_timelineView->setModel(m_timeline);
    m_timelineView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_timelineView->setWordWrap(false);
    m_timelineView->setShowGrid(false);
    m_timelineView->setAlternatingRowColors(false);
    m_timelineView->verticalHeader()->hide();
    m_timelineView->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_timelineView->verticalHeader()->setDefaultSectionSize(
        m_timelineView->fontMetrics().height() + 6);
    QHeaderView *header = m_timelineView->horizontalHeader();
    header->setHighlightSections(false);
    header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    const int digit = m_timelineView->fontMetrics().horizontalAdvance(QLatin1Char('0'));
    m_timelineView->setColumnWidth(TimelineModel::TimeColumn, digit * 14);
    m_timelineView->setColumnWidth(TimelineModel::SourceColumn, digit * 8);
    m_timelineView->setColumnWidth(TimelineModel::KindColumn, digit * 22);
    header->setStretchLastSection(true);

    // The newest entry stays in sight while the reader is at the bottom; scrolled up to an
    // older entry, the view stays there.
    connect(m_timeline, &QAbstractItemModel::rowsAboutToBeInserted, this, [this] {
        const QScrollBar *bar = m_timelineView->verticalScrollBar();
        m_followTimeline = bar->value() >= bar->maximum();
    });
    connect(m_timeline, &QAbstractItemModel::rowsInserted, this, [this] {
        if (m_followTimeline)
            m_timelineView->scrollToBottom();
    });

    auto *hint = new QLabel(tr("Shaded rows are the client's own reports, placed when the client "
                               "says they happened (its clock, corrected by the offset measured "
                               "from its acks); a stale period sits where it began."),
        this);
    hint->setWordWrap(true);
    hint->setStyleSheet(QStringLiteral("color: #606060;"));
    auto *box = new QWidget(this);
    auto *column = new QVBoxLayout(box);
    column->setContentsMargins(0, 0, 0, 0);
    column->setSpacing(2);
    column->addWidget(m_timelineView, 1);
    column->addWidget(hint);
    return box;
}

QWidget *SessionDetailWindow::buildActions()
{
    m_disconnect = new QAction(tr("Disconnect..."), this);
    m_disconnect->setIconText(m_disconnect->text()); // a button keeps the "..." of a question
    m_disconnect->setObjectName(QStringLiteral("disconnectAction"));
    connect(m_disconnect, &QAction::triggered, this, &SessionDetailWindow::askDisconnectReason);

    m_resync = new QAction(tr("Force resync"), this);
    m_resync->setObjectName(QStringLiteral("resyncAction"));
    connect(m_resync, &QAction::triggered, this, &SessionDetailWindow::resyncSession);

    m_copyReport = new QAction(tr("Copy session report"), this);
    m_copyReport->setObjectName(QStringLiteral("copyReportAction"));
    m_copyReport->setToolTip(tr("Put the figures and the whole timeline on the clipboard as "
                                "JSON, for the ticket"));
    connect(m_copyReport, &QAction::triggered, this, &SessionDetailWindow::copyReport);

    auto *bar = new QWidget(this);
    auto *row = new QHBoxLayout(bar);
    row->setContentsMargins(0, 0, 0, 0);
    for (QAction *action : {m_disconnect, m_resync, m_copyReport}) {
        auto *button = new QToolButton(bar);
        button->setDefaultAction(action);
        button->setToolButtonStyle(Qt::ToolButtonTextOnly);
        button->setMinimumHeight(26);
        row->addWidget(button);
    }
    m_status = new QLabel(bar);
    m_status->setObjectName(QStringLiteral("detailStatus"));
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_status->setStyleSheet(QStringLiteral("color: #505050;"));
    row->addSpacing(12);
    row->addWidget(m_status, 1);
    return bar;
}

QString SessionDetailWindow::statusText() const
{
    return m_status->text();
}

void SessionDetailWindow::setStatus(const QString &text)
{
    m_status->setText(text);
}

void SessionDetailWindow::refresh()
{
    m_engine->requestSessionDetail(m_sessionId);
}

void SessionDetailWindow::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh();
    m_refreshTimer.start();
}

void SessionDetailWindow::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_refreshTimer.stop();
}

void SessionDetailWindow::onDetail(
    const QString &sessionId, bool found, const SessionDetail &detail)
{
    if (sessionId != m_sessionId)
        return;
    const bool first = !m_answered;
    m_answered = true;
    if (!found) {
        if (m_known || first) {
            qCInfo(lcUiInspector) << "session" << m_sessionId << "is no longer held";
            setStatus(m_known ? tr("The engine no longer holds this session: it was retained "
                                   "for resume and nobody came back. Its last figures stay "
                                   "here and in the report.")
                              : tr("The engine does not know this session."));
        }
        m_known = false;
        m_stateBadge->setText(tr("gone"));
        m_stateBadge->setStyleSheet(
            QStringLiteral("QLabel { background: #d0d0d0; padding: 3px 8px; }"));
        updateActions();
        return;
    }

    m_known = true;
    m_detail = detail;
    m_updatedMs = QDateTime::currentMSecsSinceEpoch();
    showSummary(detail.summary);
    showLatencies(detail);
    m_timeline->setEntries(detail.timeline);
    if (first)
        setStatus(tr("Refreshed every second while this window is open."));
    updateActions();
    Q_EMIT detailUpdated();
}

void SessionDetailWindow::showSummary(const SessionSummary &s)
{
    if (!s.id.isEmpty()) {
        const QString client = s.clientName.isEmpty() ? tr("unnamed client") : s.clientName;
        m_title->setText(s.clientVersion.isEmpty()
                ? tr("%1 - session %2").arg(client, s.id)
                : tr("%1 %2 - session %3").arg(client, s.clientVersion, s.id));
    }
    const SessionState state = sessionState(s);
    const QColor color = sessionStateColor(state);
    m_stateBadge->setText(s.id.isEmpty() ? QString() : sessionStateName(state));
    m_stateBadge->setStyleSheet(
        QStringLiteral("QLabel { background: %1; padding: 3px 8px; }")
            .arg(color.isValid() ? color.name() : QStringLiteral("#c8ecc8")));

    const auto set = [this](Figure figure, const QString &text) {
        m_figures[figure]->setText(text.isEmpty() ? QStringLiteral("-") : text);
    };
    set(UserFigure, s.user.isEmpty() && !s.id.isEmpty() ? tr("(not signed in)") : s.user);
    set(ClientFigure, (s.clientName + QLatin1Char(' ') + s.clientVersion).trimmed());
    set(AddressFigure, s.remoteAddress);
    set(StateFigure, s.id.isEmpty() ? QString() : sessionStateName(state));
    set(CreatedFigure, formatDateTime(s.createdMs));
    set(ConnectedSinceFigure, formatDateTime(s.connectedSinceMs));
    set(ReconnectsFigure, QString::number(s.reconnects));
    set(ResumesFigure, QString::number(s.resumes));
    set(FallbacksFigure, QString::number(s.snapshotFallbacks));
    set(GapsFigure, QString::number(s.gaps));
    set(LagFigure, QString::number(s.lag));
    set(QueueFigure, formatQueue(s.queuedBytes, s.owedDeltas));
    set(P50Figure, latencyText(s.latencyP50Us));
    set(P99Figure, latencyText(s.latencyP99Us));
    set(FramesFigure, formatCount(qint64(s.framesOut)));
    set(BytesFigure, formatBytes(double(s.bytesOut)));
    set(StaleFigure, formatDuration(s.staleMs));
    set(TelemetryDroppedFigure, QString::number(s.telemetryDropped));
}

void SessionDetailWindow::showLatencies(const SessionDetail &detail)
{
    const QVector<qint64> &samples = detail.recentLatencyUs;
    m_samplePoints.clear();
    double highest = 0;
    for (int i = 0; i < samples.size(); ++i) {
        const double ms = double(samples.at(i)) / 1000.0;
        m_samplePoints.append(QPointF(i, ms));
        highest = std::max(highest, ms);
    }
    const double last = std::max<double>(1, double(samples.size()) - 1);
    const double p50 = double(detail.summary.latencyP50Us) / 1000.0;
    const double p99 = double(detail.summary.latencyP99Us) / 1000.0;
    m_p50Points = {QPointF(0, p50), QPointF(last, p50)};
    m_p99Points = {QPointF(0, p99), QPointF(last, p99)};
    if (samples.isEmpty()) {
        m_p50Points.clear();
        m_p99Points.clear();
    }

    m_samplesSeries->replace(m_samplePoints);
    m_p50Series->replace(m_p50Points);
    m_p99Series->replace(m_p99Points);
    m_p50Series->setName(tr("p50 %1 ms").arg(formatLatencyMs(detail.summary.latencyP50Us)));
    m_p99Series->setName(tr("p99 %1 ms").arg(formatLatencyMs(detail.summary.latencyP99Us)));

    m_sampleAxis->setRange(0, last);
    // Ticks on round numbers of deliveries (0, 50, 100...) rather than on quarters of 255.
    const NiceScale deliveries = niceScale(last);
    m_sampleAxis->setTickType(QValueAxis::TicksDynamic);
    m_sampleAxis->setTickAnchor(0);
    m_sampleAxis->setTickInterval(deliveries.top / deliveries.intervals);
    const NiceScale scale = niceScale(std::max(highest * 1.1, LatencyFloorMs));
    if (scale.top != m_latencyTop) {
        m_latencyTop = scale.top;
        m_latencyAxis->setRange(0, scale.top);
        m_latencyAxis->setTickCount(scale.intervals + 1);
        m_latencyAxis->setLabelFormat(
            scale.top / scale.intervals >= 1 ? QStringLiteral("%.0f") : QStringLiteral("%.1f"));
    }
    m_chart->setTitle(samples.isEmpty()
            ? tr("Delivery latency: no acknowledged deliveries yet")
            : tr("Delivery latency of the last %n deliveries (ms)", nullptr, int(samples.size())));
}

void SessionDetailWindow::updateActions()
{
    const bool live = m_known && m_detail.summary.connected;
    m_disconnect->setEnabled(live);
    m_resync->setEnabled(live);
    m_copyReport->setEnabled(!m_detail.summary.id.isEmpty());
    m_disconnect->setToolTip(live
            ? tr("Close the session's connection with a reason; the client is told why, comes "
                 "back and resumes")
            : tr("The session is not connected: there is nothing to close"));
    m_resync->setToolTip(live ? tr("Send the session a fresh snapshot of the book now")
                              : tr("The session is not connected: it gets a snapshot or its "
                                   "missed deltas when it comes back"));
}

void SessionDetailWindow::askDisconnectReason()
{
    // Not blocking: the window keeps refreshing while the question is open.
    auto *dialog = new QInputDialog(this);
    dialog->setObjectName(QStringLiteral("disconnectReasonDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Disconnect session %1").arg(m_sessionId));
    dialog->setLabelText(tr("Why? The reason goes to the client with the close and into the "
                            "session's timeline. The client may reconnect and resume."));
    dialog->setTextValue(tr("disconnected by support"));
    dialog->setOkButtonText(tr("Disconnect"));
    connect(dialog, &QInputDialog::textValueSelected, this, [this](const QString &reason) {
        if (!reason.trimmed().isEmpty())
            disconnectSession(reason.trimmed());
    });
    dialog->open();
}

void SessionDetailWindow::disconnectSession(const QString &reason)
{
    qCInfo(lcUiInspector).noquote() << "disconnecting session" << m_sessionId << ":" << reason;
    m_engine->disconnectSession(m_sessionId, reason);
    setStatus(tr("Disconnect sent (\"%1\"); the timeline shows what follows.").arg(reason));
    refresh();
}

void SessionDetailWindow::resyncSession()
{
    qCInfo(lcUiInspector).noquote() << "resyncing session" << m_sessionId;
    m_engine->resyncSession(m_sessionId);
    setStatus(tr("Fresh snapshot sent."));
    refresh();
}

void SessionDetailWindow::copyReport()
{
    if (m_detail.summary.id.isEmpty())
        return;
    const QJsonDocument report = sessionReport(m_detail);
    QGuiApplication::clipboard()->setText(
        QString::fromUtf8(report.toJson(QJsonDocument::Indented)));
    setStatus(tr("Session report copied: the figures and %n timeline entries as of %1.", nullptr,
        int(m_detail.timeline.size()))
                  .arg(formatClockTime(m_updatedMs)));
}

void SessionDetailWindow::onEngineRefusal(const QString &reason)
{
    // The engine names the session it could not act on.
    if (reason.contains(m_sessionId))
        setStatus(tr("The engine refused: %1").arg(reason));
}

} // namespace OddsDesk
