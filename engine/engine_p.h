#pragma once

// The engine thread's side of the Engine facade. Internal to the engine library: the UI and
// app/ see engine.h only.

#include "engine.h"
#include "feed.h"
#include "server.h"

#include <QTimer>

#include <memory>

namespace OddsDesk {

class BetfairReplay;
class BookStore;
class MetricsEndpoint;
class PriceSimulator;

/// The engine's state on its own thread. Internal to the engine; the UI sees Engine only.
class EngineCore : public QObject
{
    Q_OBJECT

public:
    explicit EngineCore(const EngineConfig &config);
    ~EngineCore() override;

    Feed *feed() const { return m_feed; }
    FeedServer *server() const { return m_server; }

    void start(const BookData &book, const QString &importedFrom);
    void stop();
    void setPrice(quint32 selectionId, Price price, std::optional<Price> expected);
    void setStatus(quint32 marketId, MarketStatus status);
    void setEventStatus(quint32 eventId, MarketStatus status);
    void submitEdit(quint64 requestId, const DeskEdit &edit);
    void requestAudit(quint64 requestId, const AuditFilter &filter);
    void exportAudit(const AuditFilter &filter, const QString &path);
    void loadBook(const BookData &book, const QString &importedFrom);
    void setSimulatorEnabled(bool enabled);
    void setSimulatorRate(int changesPerSecond);
    void restartFeed();
    void startReplay(const QString &streamPath, const QString &cataloguePath, double speed);
    void stopReplay();
    void watchSessions(bool watching);
    void requestSessionDetail(const QString &sessionId);
    void disconnectSession(const QString &sessionId, const QString &reason);
    void resyncSession(const QString &sessionId);

Q_SIGNALS:
    void started(const QUrl &url);
    void failed(const QString &error);
    void httpStarted(const QUrl &url);
    void bookReset(const OddsDesk::BookData &book, quint64 sequence, const QString &epoch);
    void bookChanged(const OddsDesk::BookChanges &changes);
    void metricsUpdated(const OddsDesk::FeedMetrics &metrics);
    void editRejected(const QString &reason);
    void editFinished(const OddsDesk::EditResult &result);
    void auditReady(
        quint64 requestId, const QVector<OddsDesk::AuditEntry> &entries, const QString &error);
    void auditExported(const QString &path, int entries, const QString &error);
    void simulatorChanged(bool enabled, int rate);
    void sessionsUpdated(const QVector<OddsDesk::SessionSummary> &sessions);
    void replayStatus(const QString &message, bool running);
    void replayFailed(const QString &error);
    void sessionDetail(const QString &sessionId, bool found, const OddsDesk::SessionDetail &detail);

private:
    void emitBookReset();
    bool openStore(const BookData &book, const QString &importedFrom);
    bool loadReplay(const QString &streamPath, const QString &cataloguePath);
    void beginReplay(double speed);
    void emitPendingChanges();
    void emitMetrics();

    EngineConfig m_config;
    Feed *m_feed = nullptr;
    FeedServer *m_server = nullptr;
    PriceSimulator *m_simulator = nullptr;
    QTimer *m_uiTimer = nullptr;
    QTimer *m_metricsTimer = nullptr;
    MetricsEndpoint *m_http = nullptr;
    BetfairReplay *m_replay = nullptr;
    QString m_replayName; // the loaded recording's file name, for the status
    bool m_replayHasCatalogue = false;
    std::unique_ptr<BookStore> m_store;
    QTimer *m_sessionsTimer = nullptr;
    BookChanges m_uiPending;
};

} // namespace OddsDesk
