#include "engine.h"
#include "engine_p.h"

#include "betfairreplay.h"
#include "betfairstream.h"
#include "bookstore.h"
#include "counted.h"
#include "metricsendpoint.h"
#include "simulator.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QMetaObject>

namespace OddsDesk {
namespace {

// Skipped lines and refused changes of a replay are told up to this many of each a run, then
// only counted in its closing line: a broken file must not flood the log or the status bar.
constexpr int MaxToldReplayProblems = 10;

} // namespace

void registerEngineTypes()
{
    qRegisterMetaType<BookData>();
    qRegisterMetaType<BookChanges>();
    qRegisterMetaType<FeedMetrics>();
    qRegisterMetaType<FeedBatchPtr>();
    qRegisterMetaType<SessionSummary>();
    qRegisterMetaType<SessionDetail>();
    qRegisterMetaType<QVector<SessionSummary>>();
    qRegisterMetaType<DeskEdit>();
    qRegisterMetaType<EditResult>();
    qRegisterMetaType<AuditFilter>();
    qRegisterMetaType<QVector<AuditEntry>>();
}

Engine::Engine(const EngineConfig &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
{
    registerEngineTypes();
    m_thread.setObjectName(QStringLiteral("oddsdesk-engine"));
    m_core = new EngineCore(m_config);
    m_core->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_core, &QObject::deleteLater);

    connect(m_core, &EngineCore::started, this, [this](const QUrl &url) {
        m_url = url;
        Q_EMIT started(url);
    });
    connect(m_core, &EngineCore::failed, this, &Engine::failed);
    connect(m_core, &EngineCore::httpStarted, this, &Engine::httpStarted);
    connect(m_core, &EngineCore::bookReset, this, &Engine::bookReset);
    connect(m_core, &EngineCore::bookChanged, this, &Engine::bookChanged);
    connect(m_core, &EngineCore::metricsUpdated, this, &Engine::metricsUpdated);
    connect(m_core, &EngineCore::editRejected, this, &Engine::editRejected);
    connect(m_core, &EngineCore::editFinished, this, &Engine::editFinished);
    connect(m_core, &EngineCore::auditReady, this, &Engine::auditReady);
    connect(m_core, &EngineCore::auditExported, this, &Engine::auditExported);
    connect(m_core, &EngineCore::simulatorChanged, this, &Engine::simulatorChanged);
    connect(m_core, &EngineCore::sessionsUpdated, this, &Engine::sessionsUpdated);
    connect(m_core, &EngineCore::replayStatus, this, &Engine::replayStatus);
    connect(m_core, &EngineCore::replayFailed, this, &Engine::replayFailed);
    connect(m_core, &EngineCore::sessionDetail, this, &Engine::sessionDetail);
    m_thread.start();
}

Engine::~Engine()
{
    shutdown();
}

template <typename Call> void Engine::post(Call &&call)
{
    if (!m_core)
        return;
    QMetaObject::invokeMethod(
        m_core, [core = m_core, call = std::forward<Call>(call)] { call(core); });
}

void Engine::start(const BookData &book, const QString &importedFrom)
{
    post([book, importedFrom](EngineCore *core) { core->start(book, importedFrom); });
}

void Engine::shutdown()
{
    if (!m_thread.isRunning())
        return;
    QMetaObject::invokeMethod(m_core, &EngineCore::stop, Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
    // The core was deleted as its thread finished. A window closing after this (a SIGTERM
    // quits the application after the engine) may still ask for something: post() drops it.
    m_core = nullptr;
}

quint64 Engine::submitEdit(const DeskEdit &edit)
{
    const quint64 id = ++m_lastRequestId;
    post([id, edit](EngineCore *core) { core->submitEdit(id, edit); });
    return id;
}

quint64 Engine::requestAudit(const AuditFilter &filter)
{
    const quint64 id = ++m_lastRequestId;
    post([id, filter](EngineCore *core) { core->requestAudit(id, filter); });
    return id;
}

void Engine::exportAudit(const AuditFilter &filter, const QString &path)
{
    post([filter, path](EngineCore *core) { core->exportAudit(filter, path); });
}

void Engine::setPrice(quint32 selectionId, Price price, std::optional<Price> expected)
{
    post([selectionId, price, expected](
             EngineCore *core) { core->setPrice(selectionId, price, expected); });
}

void Engine::setStatus(quint32 marketId, MarketStatus status)
{
    post([marketId, status](EngineCore *core) { core->setStatus(marketId, status); });
}

void Engine::setEventStatus(quint32 eventId, MarketStatus status)
{
    post([eventId, status](EngineCore *core) { core->setEventStatus(eventId, status); });
}

void Engine::loadBook(const BookData &book, const QString &importedFrom)
{
    post([book, importedFrom](EngineCore *core) { core->loadBook(book, importedFrom); });
}

void Engine::setSimulatorEnabled(bool enabled)
{
    post([enabled](EngineCore *core) { core->setSimulatorEnabled(enabled); });
}

void Engine::setSimulatorRate(int changesPerSecond)
{
    post([changesPerSecond](EngineCore *core) { core->setSimulatorRate(changesPerSecond); });
}

void Engine::restartFeed()
{
    post([](EngineCore *core) { core->restartFeed(); });
}

void Engine::startReplay(const QString &streamPath, const QString &cataloguePath, double speed)
{
    post([streamPath, cataloguePath, speed](
             EngineCore *core) { core->startReplay(streamPath, cataloguePath, speed); });
}

void Engine::stopReplay()
{
    post([](EngineCore *core) { core->stopReplay(); });
}

void Engine::watchSessions(bool watching)
{
    post([watching](EngineCore *core) { core->watchSessions(watching); });
}

void Engine::requestSessionDetail(const QString &sessionId)
{
    post([sessionId](EngineCore *core) { core->requestSessionDetail(sessionId); });
}

void Engine::disconnectSession(const QString &sessionId, const QString &reason)
{
    post([sessionId, reason](EngineCore *core) { core->disconnectSession(sessionId, reason); });
}

void Engine::resyncSession(const QString &sessionId)
{
    post([sessionId](EngineCore *core) { core->resyncSession(sessionId); });
}

EngineCore::EngineCore(const EngineConfig &config)
    : m_config(config)
{ }

EngineCore::~EngineCore() = default;

void EngineCore::start(const BookData &book, const QString &importedFrom)
{
    // Everything is created here, on the engine thread, so that its timers and sockets
    // belong to this thread.
    m_feed = new Feed(m_config.feed, this);
    m_server = new FeedServer(m_feed, m_config.server, this);
    m_simulator = new PriceSimulator(m_feed, this);
    m_simulator->setRate(m_config.simulateRate);
    // Replayed exchange markets move with the recording, not at random.
    m_simulator->setMarketFilter([](const MarketInfo &m) { return m.id < BetfairIdBase; });

    m_replay = new BetfairReplay(m_feed, this);
    connect(m_replay, &BetfairReplay::finished, this, [this] {
        QString message = QStringLiteral("replay finished: %1")
                              .arg(counted(m_replay->lineCount(), u"line", u"lines"));
        if (m_replay->linesSkipped() > 0 || m_replay->changesRefused() > 0) {
            message += QStringLiteral(", %1 skipped, %2 refused")
                           .arg(m_replay->linesSkipped())
                           .arg(counted(m_replay->changesRefused(), u"change", u"changes"));
        }
        Q_EMIT replayStatus(message, false);
    });
    connect(m_replay, &BetfairReplay::lineSkipped, this, [this](int line, const QString &why) {
        if (m_replay->linesSkipped() <= MaxToldReplayProblems) {
            Q_EMIT replayStatus(
                QStringLiteral("replay line %1 skipped: %2").arg(line).arg(why), true);
        }
    });
    connect(m_replay, &BetfairReplay::changeRefused, this, [this](int line, const QString &why) {
        if (m_replay->changesRefused() <= MaxToldReplayProblems) {
            Q_EMIT replayStatus(
                QStringLiteral("replay line %1 refused: %2").arg(line).arg(why), true);
        }
    });
    // A new book has no replayed market; the replay would only be refused from here on.
    connect(m_feed, &Feed::bookReset, this, [this] {
        if (m_replay->isRunning()) {
            m_replay->stop();
            Q_EMIT replayStatus(QStringLiteral("replay stopped: the book was replaced"), false);
        }
    });

    m_uiTimer = new QTimer(this);
    m_uiTimer->setInterval(m_config.uiBatchIntervalMs);
    m_uiTimer->setSingleShot(true);
    connect(m_uiTimer, &QTimer::timeout, this, &EngineCore::emitPendingChanges);
    connect(m_feed, &Feed::flushed, this, [this](const FeedBatchPtr &batch) {
        m_uiPending.append(batch->changes);
        if (!m_uiTimer->isActive())
            m_uiTimer->start();
    });
    connect(m_feed, &Feed::bookReset, this, &EngineCore::emitBookReset);

    // The inspector's list refreshes once a second: current enough to follow an incident,
    // cheap enough with 20,000 sessions.
    m_sessionsTimer = new QTimer(this);
    m_sessionsTimer->setInterval(1000);
    connect(m_sessionsTimer, &QTimer::timeout, this,
        [this] { Q_EMIT sessionsUpdated(m_server->sessionSummaries()); });

    m_metricsTimer = new QTimer(this);
    m_metricsTimer->setInterval(m_config.metricsIntervalMs);
    connect(m_metricsTimer, &QTimer::timeout, this, &EngineCore::emitMetrics);

    if (m_config.dataDirectory.isEmpty())
        m_feed->resetBook(book);
    else if (!openStore(book, importedFrom))
        return;
    // A replay asked for at start that cannot be loaded is told before anything listens, so
    // that a console that stops for it never announces a feed.
    const bool replay = !m_config.replayPath.isEmpty()
        && loadReplay(m_config.replayPath, m_config.replayCatalogue);
    if (!m_config.replayPath.isEmpty() && !replay && m_config.replayRequired)
        return;
    if (!m_server->listen()) {
        Q_EMIT failed(m_server->errorString());
        return;
    }
    if (m_config.httpPort >= 0) {
        m_http = new MetricsEndpoint(this);
        if (!m_http->listen(m_config.httpAddress, quint16(m_config.httpPort))) {
            if (!m_config.httpOptional) {
                Q_EMIT failed(m_http->errorString());
                return;
            }
            qCWarning(lcHttp).noquote() << m_http->errorString() << "- running without it";
            delete std::exchange(m_http, nullptr);
        }
    }
    if (m_http) {
        m_http->setFeedUrl(m_server->url());
        m_server->allowOrigins(m_http->pageOrigins());
    }
    m_metricsTimer->start();
    setSimulatorEnabled(m_config.simulate);
    Q_EMIT started(m_server->url());
    if (m_http)
        Q_EMIT httpStarted(m_http->url());
    if (replay)
        beginReplay(m_config.replaySpeed);
}

bool EngineCore::openStore(const BookData &book, const QString &importedFrom)
{
    m_store = std::make_unique<BookStore>();
    if (!m_store->open(m_config.dataDirectory)) {
        Q_EMIT failed(m_store->errorString());
        return false;
    }
    const std::optional<StoredState> state = m_store->load();
    if (!state && !m_store->errorString().isEmpty()) {
        Q_EMIT failed(m_store->errorString());
        return false;
    }

    // The journal of recent deltas lives in memory only, so a restart cannot promise a
    // client continuity: a new epoch, while the sequence numbers carry on increasing.
    const quint64 head = state ? state->headSequence : 0;
    const bool resume = state && m_config.preferStoredBook && !state->book.markets.isEmpty();
    const BookData &start = resume ? state->book : book;
    m_feed->restore(start, Feed::newEpoch(), head);
    if (resume) {
        qCInfo(lcFeed).noquote() << "resumed the stored book at sequence" << head
                                 << (state->cleanShutdown ? "after a clean stop"
                                                          : "after an unclean stop");
    }
    QVector<AuditEntry> audit;
    if (!resume && !importedFrom.isEmpty()) {
        const int events = state ? int(state->book.events.size()) : 0;
        const int markets = state ? int(state->book.markets.size()) : 0;
        audit.append(
            importAuditEntry(importedFrom, events, markets, book, m_config.deskUser, head));
    }
    if (!m_store->saveBook(start, m_feed->epoch(), head, audit)) {
        Q_EMIT failed(m_store->errorString());
        return false;
    }
    m_feed->setStore(m_store.get(), m_config.deskUser);
    connect(m_feed, &Feed::storageFailed, this, [this](const QString &error) {
        Q_EMIT editRejected(QStringLiteral("not saved, so not sent: %1").arg(error));
    });
    return true;
}

void EngineCore::stop()
{
    if (!m_server)
        return;
    m_simulator->setEnabled(false);
    m_metricsTimer->stop();
    m_feed->flush();
    if (m_store && m_store->isOpen() && !m_store->markCleanShutdown())
        qCWarning(lcStore).noquote() << m_store->errorString();
    m_server->closeAll(
        QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("the server is shutting down"));
    // Give the close frames a moment to leave before the sockets are destroyed.
    QCoreApplication::processEvents(QEventLoop::AllEvents, 100);
}

void EngineCore::setPrice(quint32 selectionId, Price price, std::optional<Price> expected)
{
    const QString error = m_feed->setPrice(selectionId, price, expected);
    if (!error.isEmpty())
        Q_EMIT editRejected(error);
}

void EngineCore::setStatus(quint32 marketId, MarketStatus status)
{
    const QString error = m_feed->setStatus(marketId, status);
    if (!error.isEmpty())
        Q_EMIT editRejected(error);
}

void EngineCore::setEventStatus(quint32 eventId, MarketStatus status)
{
    QVector<quint32> ids;
    for (const MarketInfo &market : m_feed->book().markets()) {
        if (market.eventId == eventId)
            ids.append(market.id);
    }
    const Feed::OriginScope bulk(m_feed, ChangeOrigin::Desk, m_feed->nextBulkId());
    for (quint32 id : std::as_const(ids)) {
        const MarketInfo *market = m_feed->book().market(id);
        if (market->status == MarketStatus::Closed)
            continue;
        setStatus(id, status);
    }
    m_feed->flush(); // one frame for the whole event
}

void EngineCore::submitEdit(quint64 requestId, const DeskEdit &edit)
{
    EditResult result = m_feed->applyEdit(edit);
    result.requestId = requestId;
    if (result.applied && !result.done.isEmpty()) {
        m_feed->flush(); // one frame for the whole edit
        // The desk sees its own edit at once rather than with the next batch, and before
        // the answer, so the answer never describes a book the window does not show yet.
        emitPendingChanges();
    }
    Q_EMIT editFinished(result);
}

void EngineCore::requestAudit(quint64 requestId, const AuditFilter &filter)
{
    if (!m_store || !m_store->isOpen()) {
        Q_EMIT auditReady(requestId, {},
            QStringLiteral("this console keeps no audit log: it was started without a data "
                           "folder"));
        return;
    }
    const QVector<AuditEntry> entries = m_store->audit(filter);
    Q_EMIT auditReady(requestId, entries, entries.isEmpty() ? m_store->errorString() : QString());
}

void EngineCore::exportAudit(const AuditFilter &filter, const QString &path)
{
    if (!m_store || !m_store->isOpen()) {
        Q_EMIT auditExported(path, 0,
            QStringLiteral("this console keeps no audit log: it was started without a data "
                           "folder"));
        return;
    }
    QString error;
    int written = 0;
    if (!m_store->exportAuditCsv(filter, path, &error, &written)) {
        Q_EMIT auditExported(path, 0, error);
        return;
    }
    Q_EMIT auditExported(path, written, QString());
}

void EngineCore::loadBook(const BookData &book, const QString &importedFrom)
{
    m_uiPending.clear();
    m_feed->resetBook(book, importedFrom);
}

void EngineCore::setSimulatorEnabled(bool enabled)
{
    m_simulator->setEnabled(enabled);
    Q_EMIT simulatorChanged(m_simulator->isEnabled(), m_simulator->rate());
}

void EngineCore::setSimulatorRate(int changesPerSecond)
{
    m_simulator->setRate(changesPerSecond);
    Q_EMIT simulatorChanged(m_simulator->isEnabled(), m_simulator->rate());
}

void EngineCore::restartFeed()
{
    m_server->closeAll(
        QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("the feed is restarting"));
}

namespace {

// A recording's catalogue, when none was named: a JSON file beside it whose name holds the
// same market id ("1.197931750").
QString findCatalogue(const QString &streamPath)
{
    const QFileInfo stream(streamPath);
    static const QRegularExpression marketId(QStringLiteral("\\d+\\.\\d{6,}"));
    const QRegularExpressionMatch match = marketId.match(stream.fileName());
    if (!match.hasMatch())
        return QString();
    const QStringList candidates = stream.dir().entryList(
        {QStringLiteral("*catalogue*%1*.json").arg(match.captured())}, QDir::Files);
    return candidates.isEmpty() ? QString() : stream.dir().filePath(candidates.first());
}

} // namespace

void EngineCore::startReplay(const QString &streamPath, const QString &cataloguePath, double speed)
{
    if (loadReplay(streamPath, cataloguePath))
        beginReplay(speed);
}

bool EngineCore::loadReplay(const QString &streamPath, const QString &cataloguePath)
{
    const QString catalogue = cataloguePath.isEmpty() ? findCatalogue(streamPath) : cataloguePath;
    const QString error = m_replay->load(streamPath, catalogue);
    if (!error.isEmpty()) {
        Q_EMIT replayStatus(error, false);
        Q_EMIT replayFailed(error);
        return false;
    }
    m_replayName = QFileInfo(streamPath).fileName();
    m_replayHasCatalogue = !catalogue.isEmpty();
    return true;
}

void EngineCore::beginReplay(double speed)
{
    m_replay->start(speed);
    Q_EMIT replayStatus(
        QStringLiteral("replaying %1 (%2) at %3x%4")
            .arg(m_replayName, counted(m_replay->lineCount(), u"line", u"lines"))
            .arg(speed)
            .arg(m_replayHasCatalogue ? QString() : QStringLiteral(", no catalogue")),
        true);
}

void EngineCore::stopReplay()
{
    m_replay->stop();
    Q_EMIT replayStatus(QStringLiteral("replay stopped"), false);
}

void EngineCore::watchSessions(bool watching)
{
    if (!watching) {
        m_sessionsTimer->stop();
        return;
    }
    m_sessionsTimer->start();
    Q_EMIT sessionsUpdated(m_server->sessionSummaries());
}

void EngineCore::requestSessionDetail(const QString &sessionId)
{
    const std::optional<SessionDetail> detail = m_server->sessionDetail(sessionId);
    Q_EMIT sessionDetail(sessionId, detail.has_value(), detail.value_or(SessionDetail()));
}

void EngineCore::disconnectSession(const QString &sessionId, const QString &reason)
{
    if (!m_server->disconnectSession(sessionId, reason))
        Q_EMIT editRejected(QStringLiteral("no connected session %1").arg(sessionId));
}

void EngineCore::resyncSession(const QString &sessionId)
{
    if (!m_server->resyncSession(sessionId))
        Q_EMIT editRejected(QStringLiteral("no connected session %1").arg(sessionId));
}

void EngineCore::emitBookReset()
{
    m_uiPending.clear();
    Q_EMIT bookReset(m_feed->book().toData(), m_feed->headSequence(), m_feed->epoch());
}

void EngineCore::emitPendingChanges()
{
    if (m_uiPending.isEmpty())
        return;
    Q_EMIT bookChanged(std::exchange(m_uiPending, {}));
}

void EngineCore::emitMetrics()
{
    const FeedMetrics metrics = m_server->takeMetrics();
    if (m_http)
        m_http->update(metrics);
    Q_EMIT metricsUpdated(metrics);
}

} // namespace OddsDesk
