#pragma once

#include "epolldispatcher.h"
#include "feedclient.h"
#include "fleethistogram.h"
#include "impairmentproxy.h"

#include <QHostAddress>
#include <QObject>
#include <QSet>
#include <QThread>
#include <QTimer>
#include <QVector>

#include <memory>
#include <optional>
#include <vector>

/// What one worker (or, added up, the whole fleet) has seen so far.
struct FleetFigures
{
    qint64 takenUs = 0; // on the monotonic clock; for a sum, the latest of its parts
    int sessions = 0; // started
    int live = 0; // in the Live state now
    int everLive = 0; // welcomed at least once
    quint64 frames = 0;
    quint64 measuredFrames = 0; // since the worker started measuring (--measure-after)
    quint64 bytes = 0;
    quint64 deltas = 0;
    quint64 changes = 0;
    quint64 snapshots = 0;
    quint64 gaps = 0;
    quint64 duplicates = 0;
    quint64 reconnects = 0;
    quint64 resumes = 0;
    quint64 snapshotFallbacks = 0;
    quint64 staleEvents = 0;
    quint64 decodeErrors = 0;
    quint64 disconnects = 0;
    quint64 serverErrors = 0;
    // Deltas whose commit time lies after their receive time: the feed is not on this
    // machine's clock. Dropped from the latency figures, never drawn as negative.
    quint64 latencyUntrusted = 0;
    // Sessions that stopped for good: refused by the feed, or unable to connect from their
    // source address.
    int stopped = 0;
    // The addresses sessions were welcomed from: 127.0.0.x, one or several.
    QSet<QString> sourceAddresses;
    LatencyHistogram latency; // the whole run
    LatencyHistogram recent; // since the previous collect
    OddsDesk::Testing::ImpairmentCounters impairment;

    void add(const FleetFigures &other);
};
Q_DECLARE_METATYPE(FleetFigures)

struct FleetWorkerConfig
{
    int index = 0;
    OddsDesk::FeedClientConfig client;
    QString namePrefix;
    // With a profile, the worker's sessions go through its own proxy to this upstream.
    std::optional<OddsDesk::Testing::ImpairmentProfile> profile;
    QHostAddress upstreamHost;
    quint16 upstreamPort = 0;
    OddsDesk::EventLoopKind eventLoop = OddsDesk::EventLoopKind::Epoll;
    // More than one: session n connects from 127.0.0.(1 + n % sourceAddresses).
    int sourceAddresses = 1;
};

/// One worker of the load generator: owns a share of the fleet's feed clients and, with a
/// network profile, the impairment proxy they connect through, all on its own thread and
/// event loop. Every function is called on that thread (queued by the fleet). It reports its
/// figures by signal, so that however busy it is the fleet's own thread never waits on it.
class FleetWorker : public QObject
{
    Q_OBJECT

public:
    explicit FleetWorker(const FleetWorkerConfig &config);
    ~FleetWorker() override;

    /// Opens the proxy if there is a profile. Returns an error sentence, or an empty string.
    QString setUp();
    /// Creates and starts one client per index; index n introduces itself as PREFIX-n.
    void startSessions(const QVector<int> &indexes);
    /// Reports the figures every \a intervalMs from now on.
    void startReporting(int intervalMs);
    /// Drops every session's connection at once, as a network that failed would; they
    /// come back on their own.
    void dropAll();
    /// Stops the proxy forwarding anything, for good, on the connections open now and on any
    /// opened later (accepted, then nothing moves either way): readers that stopped.
    void blackholeAll();
    /// Forgets the latencies so far and counts frames from now: what follows is the steady
    /// state.
    void startMeasuring();
    /// Reports the final figures, then closes every connection with a normal close and stops
    /// reconnecting; drained() follows once the connections are closed or after a bounded
    /// grace period.
    void finish();

Q_SIGNALS:
    void reported(const FleetFigures &figures);
    void finalReported(const FleetFigures &figures);
    void drained();

private:
    struct Entry
    {
        std::unique_ptr<OddsDesk::FeedClient> client;
        bool everLive = false;
        bool closing = false; // stopped with an open connection: its close is awaited
    };

    void watch(size_t entry);
    void onMessage(const OddsDesk::FeedClient *client, const oddsdesk::v1::ServerMessage &message);
    void onDeltaApplied(const OddsDesk::FeedClient *client);
    /// The figures so far; FleetFigures::recent starts again.
    FleetFigures collect();
    void stopAll();
    void closed(size_t entry);
    void finishDraining();

    FleetWorkerConfig m_config;
    std::unique_ptr<OddsDesk::Testing::ImpairmentProxy> m_proxy;
    std::vector<Entry> m_entries;

    // The delta being applied: its commit time and when it arrived. messageReceived and
    // deltaApplied of one frame follow each other within one call on this thread.
    const OddsDesk::FeedClient *m_pendingClient = nullptr;
    qint64 m_pendingCommitUs = 0;
    qint64 m_pendingReceivedUs = 0;

    int m_everLive = 0;
    quint64 m_disconnects = 0;
    quint64 m_serverErrors = 0;
    quint64 m_latencyUntrusted = 0;
    QSet<QString> m_sourceAddresses; // where welcomed sessions connected from
    bool m_measuring = false;
    quint64 m_framesBeforeMeasuring = 0;
    LatencyHistogram m_latency;
    LatencyHistogram m_recent;
    QTimer m_reportTimer;

    bool m_draining = false;
    bool m_drained = false;
    int m_awaitingClose = 0;
};

/// A worker on its own named thread. Destroying it quits the thread's event loop and waits
/// for it; the worker and everything it owns are deleted on that thread as it finishes.
class FleetWorkerThread
{
public:
    explicit FleetWorkerThread(const FleetWorkerConfig &config);
    ~FleetWorkerThread();
    FleetWorkerThread(const FleetWorkerThread &) = delete;
    FleetWorkerThread &operator=(const FleetWorkerThread &) = delete;

    FleetWorker *worker() const { return m_worker; }

private:
    QThread m_thread;
    FleetWorker *m_worker;
};
