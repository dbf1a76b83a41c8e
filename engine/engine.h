#pragma once

#include "audit.h"
#include "book.h"
#include "config.h"
#include "deskedit.h"
#include "metrics.h"
#include "sessioninfo.h"

#include <QObject>
#include <QThread>
#include <QUrl>

#include <memory>
#include <optional>

namespace OddsDesk {

class EngineCore;

struct EngineConfig
{
    ServerConfig server;
    FeedConfig feed;
    bool simulate = false;
    int simulateRate = 20; // price changes a second across the book
    // 250 ms: four chart points a second move smoothly and cost the UI almost nothing.
    int metricsIntervalMs = 250;
    // 50 ms: book changes reach the window at most 20 times a second, in one batch each.
    int uiBatchIntervalMs = 50;
    // The operators' HTTP endpoint (/metrics, /healthz); a negative port turns it off, 0
    // picks a free one.
    QHostAddress httpAddress = QHostAddress::LocalHost;
    int httpPort = -1;
    // When set, a port that cannot be had is a warning, not a failure (the console's
    // default port, which another console may already hold).
    bool httpOptional = false;
    // Where the book, the head sequence and the audit log are kept (SQLite); empty keeps
    // nothing. With a stored book, start() resumes it unless told to take the one given.
    QString dataDirectory;
    bool preferStoredBook = true;
    QString deskUser; // who the audit log names
    // A Betfair Exchange Stream recording to replay from the start, as startReplay() would.
    // It is loaded before the feed listens and started once it does. When it cannot be
    // loaded, replayFailed() says so first; with replayRequired the engine then stops there,
    // before it listens (neither started() nor failed() follows), else it carries on without.
    QString replayPath;
    QString replayCatalogue;
    double replaySpeed = 1.0;
    bool replayRequired = false;
};

/// The one door to the feed engine. Lives on the caller's (GUI) thread and runs the book,
/// the feed, the server and the simulator on a thread of its own, named "oddsdesk-engine".
/// Every command is asynchronous; results come back as signals, batched.
class Engine : public QObject
{
    Q_OBJECT

public:
    explicit Engine(const EngineConfig &config, QObject *parent = nullptr);
    /// Closes every session with "going away" (1001) and stops the engine thread.
    ~Engine() override;

    /// Starts the engine thread with \a book and starts listening. Emits started() or
    /// failed() once, unless a required replay (see EngineConfig) cannot be loaded. A book imported
    /// from the file \a importedFrom replaces the stored one, and the audit log records it.
    void start(const BookData &book, const QString &importedFrom = QString());
    /// Closes sessions with 1001 and stops the thread; blocks until done. Idempotent. Every
    /// request after it is dropped.
    void shutdown();

    QUrl url() const { return m_url; }
    const EngineConfig &config() const { return m_config; }

    // Commands. Refusals come back as editRejected().
    void setPrice(quint32 selectionId, Price price, std::optional<Price> expected = {});
    void setStatus(quint32 marketId, MarketStatus status);
    /// Sets every market of an event to \a status in one flush.
    void setEventStatus(quint32 eventId, MarketStatus status);
    /// Applies a desk edit whole or not at all, in one flush; the answer comes back as
    /// editFinished() with the returned request id. Before that signal, bookChanged() has
    /// delivered the edit's changes.
    quint64 submitEdit(const DeskEdit &edit);
    /// Replaces the whole book: a new epoch; clients get a new snapshot. A book imported from
    /// the file \a importedFrom is recorded in the audit log.
    void loadBook(const BookData &book, const QString &importedFrom = QString());
    void setSimulatorEnabled(bool enabled);
    void setSimulatorRate(int changesPerSecond);
    /// Drops every connection at once as a server restart would ("going away", with a
    /// window to spread the return over); sessions are kept so clients resume.
    void restartFeed();

    /// Replays a recorded Betfair Exchange Stream file into the book as a live source, at
    /// \a speed times the recorded pace (0: as fast as possible). Without a catalogue path,
    /// one named like the market id is looked for beside the stream file.
    void startReplay(const QString &streamPath, const QString &cataloguePath, double speed);
    void stopReplay();

    /// Reads the audit log; the answer comes back as auditReady() with the returned id. An
    /// engine without a data directory has no log and answers with an error.
    quint64 requestAudit(const AuditFilter &filter);
    /// Writes the filtered audit log to \a path as CSV; the answer is auditExported().
    void exportAudit(const AuditFilter &filter, const QString &path);

    // Support: sessionsUpdated() arrives once a second while someone watches.
    void watchSessions(bool watching);
    void requestSessionDetail(const QString &sessionId);
    void disconnectSession(const QString &sessionId, const QString &reason);
    /// Sends the session a fresh snapshot now.
    void resyncSession(const QString &sessionId);

Q_SIGNALS:
    void started(const QUrl &url);
    void failed(const QString &error);
    /// The metrics endpoint is serving at \a url.
    void httpStarted(const QUrl &url);
    /// The whole book, at start and after loadBook().
    void bookReset(const OddsDesk::BookData &book, quint64 sequence, const QString &epoch);
    /// Accepted changes since the last batch, in sequence order.
    void bookChanged(const OddsDesk::BookChanges &changes);
    void metricsUpdated(const OddsDesk::FeedMetrics &metrics);
    void editRejected(const QString &reason);
    void editFinished(const OddsDesk::EditResult &result);
    /// The answer to requestAudit(): the entries oldest first, or an error sentence.
    void auditReady(
        quint64 requestId, const QVector<OddsDesk::AuditEntry> &entries, const QString &error);
    /// The answer to exportAudit(); \a error is empty on success.
    void auditExported(const QString &path, int entries, const QString &error);
    void simulatorChanged(bool enabled, int rate);
    void sessionsUpdated(const QVector<OddsDesk::SessionSummary> &sessions);
    /// What the replay is doing, in a sentence: started; a skipped line or a refused change,
    /// up to ten of each a run; finished, with how many were skipped and refused.
    void replayStatus(const QString &message, bool running);
    /// startReplay() could not load the recording or its catalogue; replayStatus() has said
    /// why, with the same \a error, and nothing is replayed.
    void replayFailed(const QString &error);
    /// The answer to requestSessionDetail(); found is false for an unknown session.
    void sessionDetail(const QString &sessionId, bool found, const OddsDesk::SessionDetail &detail);

private:
    /// Queues \a call with the core on the engine thread; nothing once it has shut down.
    template <typename Call> void post(Call &&call);

    EngineConfig m_config;
    QThread m_thread;
    EngineCore *m_core = nullptr; // lives on m_thread
    QUrl m_url;
    quint64 m_lastRequestId = 0;
};

/// Registers the engine's types with Qt's meta-type system, for queued signals.
void registerEngineTypes();

} // namespace OddsDesk
