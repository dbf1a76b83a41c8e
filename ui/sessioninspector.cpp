#include "sessioninspector.h"
#include "filteredit.h"

#include "engine.h"
#include "sessiondetailwindow.h"
#include "sessionfiltermodel.h"
#include "sessionformat.h"
#include "sessionmodel.h"
#include "sessionwatch.h"
#include "supportlogging.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <utility>

namespace OddsDesk {
SessionInspector::SessionInspector(Engine *engine, QWidget *parent)
    : QWidget(parent, Qt::Window)
    , m_engine(engine)
    , m_model(new SessionModel(this))
    , m_proxy(new SessionFilterModel(this))
{
    setObjectName(QStringLiteral("sessionInspector"));
    setWindowTitle(tr("Sessions - OddsDesk support"));
    m_proxy->setSessionModel(m_model);

    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("sessionTable"));
    auto *search = new FilterEdit(this);
    search->next = m_table;
    m_search = search;
    m_search->setObjectName(QStringLiteral("sessionSearch"));
    m_search->setPlaceholderText(
        tr("Search sessions: id, user, client, version, address, state or a figure (Ctrl+F)"));
    m_search->setClearButtonEnabled(true);
    connect(m_search, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_proxy->setFilterText(text);
        updateSummary();
    });
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("sessionSummary"));

    m_table->setModel(m_proxy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setTabKeyNavigation(false);
    m_table->setWordWrap(false);
    m_table->setShowGrid(false);
    m_table->setAlternatingRowColors(true);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setHighlightSections(false);
    m_table->horizontalHeader()->setSortIndicator(SessionModel::P99Column, Qt::DescendingOrder);
    m_table->setSortingEnabled(true);
    setColumnWidths();
    connect(m_table, &QAbstractItemView::activated, this,
        [this](const QModelIndex &index) { openDetail(m_proxy->sessionIdAt(index.row())); });
    connect(
        m_table, &QWidget::customContextMenuRequested, this, &SessionInspector::showContextMenu);
    connect(m_model, &SessionModel::sessionsUpdated, this, [this] {
        if (!m_pendingSelection.isEmpty() && m_model->rowOfSession(m_pendingSelection) >= 0)
            selectSession(std::exchange(m_pendingSelection, QString()));
        updateSummary();
    });
    // The dashboard may keep the list coming while this window is hidden; a hidden list is
    // not kept current, and showing the window asks for a fresh one straight away.
    connect(m_engine, &Engine::sessionsUpdated, m_model,
        [this](const QVector<SessionSummary> &sessions) {
            if (m_watching)
                m_model->updateSessions(sessions);
        });
    buildActions();

    auto *hint = new QLabel(
        tr("Enter or double-click opens a session: its timeline, latency chart and the "
           "disconnect, resync and report actions. Worst first: stale sessions, then by p99, "
           "until you click a column."),
        this);
    hint->setStyleSheet(QStringLiteral("color: #606060;"));
    hint->setWordWrap(true);

    auto *top = new QHBoxLayout;
    top->addWidget(m_search, 3);
    top->addSpacing(8);
    top->addWidget(m_summary, 2);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(4);
    layout->addLayout(top);
    layout->addWidget(m_table, 1);
    layout->addWidget(hint);
    setFocusProxy(m_table);

    updateSummary();
    resize(1500, 760);
}

SessionInspector::~SessionInspector()
{
    // The detail windows go first, while the hash they remove themselves from still exists.
    const auto details = std::exchange(m_details, {});
    for (const QPointer<SessionDetailWindow> &window : details)
        delete window.data();
    setWatching(false);
}

void SessionInspector::buildActions()
{
    auto *find = new QAction(tr("Search sessions"), this);
    find->setShortcut(QKeySequence::Find);
    find->setShortcutContext(Qt::WindowShortcut);
    connect(find, &QAction::triggered, this, [this] {
        m_search->setFocus(Qt::ShortcutFocusReason);
        m_search->selectAll();
    });
    addAction(find);

    m_openDetail = new QAction(tr("Open session detail"), this);
    connect(m_openDetail, &QAction::triggered, this, [this] {
        const QString id = currentSessionId();
        if (!id.isEmpty())
            openDetail(id);
    });
    m_copyId = new QAction(tr("Copy session id"), this);
    connect(m_copyId, &QAction::triggered, this, [this] {
        const QString id = currentSessionId();
        if (!id.isEmpty())
            QGuiApplication::clipboard()->setText(id);
    });
}

void SessionInspector::setColumnWidths()
{
    // Wide enough for the header (and its sort arrow) and for a typical value, no wider:
    // seventeen columns must fit the window without scrolling sideways.
    const QFontMetrics cells = m_table->fontMetrics();
    const QFontMetrics headers = m_table->horizontalHeader()->fontMetrics();
    const struct
    {
        int column;
        const char *sample;
    } samples[] = {
        {SessionModel::IdColumn, "0123456789abcdef"},
        {SessionModel::UserColumn, "punter-12345"},
        {SessionModel::ClientColumn, "oddsdesk-android"},
        {SessionModel::VersionColumn, "10.10.1"},
        {SessionModel::AddressColumn, "203.0.113.255:65535"},
        {SessionModel::StateColumn, "connected"},
        {SessionModel::ConnectedSinceColumn, "00:00:00"},
        {SessionModel::ReconnectsColumn, "999"},
        {SessionModel::ResumesColumn, "999"},
        {SessionModel::FallbacksColumn, "999"},
        {SessionModel::LagColumn, "9999"},
        {SessionModel::QueueColumn, "999.9 kB, 999 held"},
        {SessionModel::P50Column, "999.9"},
        {SessionModel::P99Column, "9999.9"},
        {SessionModel::FramesColumn, "9999999"},
        {SessionModel::BytesColumn, "999.9 MB"},
        {SessionModel::StaleTimeColumn, "59 min 59 s"},
        {SessionModel::GapsColumn, "999"},
    };
    constexpr int Padding = 14; // the cell's margins
    constexpr int SortArrow = 16;
    for (const auto &s : samples) {
        const QString header
            = m_model->headerData(s.column, Qt::Horizontal, Qt::DisplayRole).toString();
        const int width = std::max(cells.horizontalAdvance(QLatin1String(s.sample)) + Padding,
            headers.horizontalAdvance(header) + Padding + SortArrow);
        m_table->setColumnWidth(s.column, width);
    }
    m_table->horizontalHeader()->setStretchLastSection(true);
}

QString SessionInspector::summaryText() const
{
    return m_summary->text();
}

void SessionInspector::updateSummary()
{
    const int total = m_model->rowCount();
    QString text
        = tr("%1 sessions: %2 connected (%3 stale), %4 retained")
              .arg(formatCount(total), formatCount(m_model->connectedCount()),
                  formatCount(m_model->staleCount()), formatCount(m_model->retainedCount()));
    if (!m_proxy->filterText().isEmpty())
        text += tr("; %1 match").arg(formatCount(m_proxy->rowCount()));
    m_summary->setText(text);
}

QString SessionInspector::currentSessionId() const
{
    const QModelIndex current = m_table->currentIndex();
    return current.isValid() ? m_proxy->sessionIdAt(current.row()) : QString();
}

SessionDetailWindow *SessionInspector::detailWindow(const QString &sessionId) const
{
    return m_details.value(sessionId).data();
}

SessionDetailWindow *SessionInspector::openDetail(const QString &sessionId)
{
    if (sessionId.isEmpty())
        return nullptr;
    SessionDetailWindow *window = detailWindow(sessionId);
    if (!window) {
        qCInfo(lcUiInspector) << "opening session" << sessionId;
        window = new SessionDetailWindow(m_engine, sessionId, this);
        window->setAttribute(Qt::WA_DeleteOnClose);
        m_details.insert(sessionId, window);
        connect(
            window, &QObject::destroyed, this, [this, sessionId] { m_details.remove(sessionId); });
    }
    window->show();
    window->raise();
    window->activateWindow();
    return window;
}

SessionDetailWindow *SessionInspector::showSession(const QString &sessionId)
{
    if (m_proxy->rowOfSession(sessionId) < 0 && !m_search->text().isEmpty())
        m_search->clear();
    if (m_model->rowOfSession(sessionId) >= 0)
        selectSession(sessionId);
    else
        m_pendingSelection = sessionId; // the list has not arrived yet
    return openDetail(sessionId);
}

void SessionInspector::selectSession(const QString &sessionId)
{
    const int row = m_proxy->rowOfSession(sessionId);
    if (row < 0)
        return;
    const QModelIndex index = m_proxy->index(row, SessionModel::IdColumn);
    m_table->setCurrentIndex(index);
    m_table->scrollTo(index, QAbstractItemView::PositionAtCenter);
}

void SessionInspector::showContextMenu(const QPoint &position)
{
    const QModelIndex index = m_table->indexAt(position);
    if (!index.isValid())
        return;
    m_table->setCurrentIndex(index);
    QMenu menu(this);
    menu.addAction(m_openDetail);
    menu.addAction(m_copyId);
    menu.exec(m_table->viewport()->mapToGlobal(position));
}

void SessionInspector::setWatching(bool watching)
{
    if (watching == m_watching)
        return;
    m_watching = watching;
    SessionWatch::of(m_engine)->setWatching(this, watching);
}

void SessionInspector::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    setWatching(true);
}

void SessionInspector::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    setWatching(false);
}

} // namespace OddsDesk
