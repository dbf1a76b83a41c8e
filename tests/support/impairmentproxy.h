#pragma once

#include <QElapsedTimer>
#include <QHostAddress>
#include <QLoggingCategory>
#include <QObject>
#include <QRandomGenerator>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QUrl>

#include <optional>
#include <vector>

Q_DECLARE_LOGGING_CATEGORY(lcImpairment)

class QTcpServer;
class QTcpSocket;

namespace OddsDesk::Testing {

/// How bad the network between a client and the feed server is. Probabilities are rates of a
/// Poisson process per connection: 0.1 means "about once every 10 s on each connection".
/// Latency, jitter and bandwidth apply to each direction of each connection on its own.
struct ImpairmentProfile
{
    QString name;
    // One-way delay added to every chunk of bytes, in each direction.
    int latencyMs = 0;
    // Each chunk's delay is latencyMs plus a uniform draw in [-jitterMs, +jitterMs], never
    // below zero; a chunk never overtakes the one before it, so jitter never reorders bytes.
    int jitterMs = 0;
    // Per direction; 0 means unlimited.
    qint64 bandwidthBytesPerSecond = 0;
    // A stall holds the stream in both directions for stallMs, then releases what queued up
    // in one burst: what TCP does while it retransmits lost segments.
    double stallProbabilityPerSecond = 0.0;
    int stallMs = 0;
    // A reset aborts both sides at once: each peer sees its connection die.
    double resetProbabilityPerSecond = 0.0;
    // A blackhole forwards nothing in either direction and closes nothing (a half-open
    // connection). Forwarding resumes after blackholeMs, by when the peers have usually given
    // up on the connection through their own heartbeats.
    double blackholeProbabilityPerSecond = 0.0;
    int blackholeMs = 0;
    // See ImpairmentProxy::networkSwitchAll().
    double networkSwitchProbabilityPerSecond = 0.0;

    /// A wired home connection: the baseline the others are compared with.
    static ImpairmentProfile stableBroadband();
    /// A phone on a busy city cell: noticeable latency, short stalls, a rare reset.
    static ImpairmentProfile urban4g();
    /// One bar of signal: slow, jittery, narrow, stalling, now and then gone.
    static ImpairmentProfile weakSignal();
    /// A phone walking from Wi-Fi to mobile data and back.
    static ImpairmentProfile networkSwitch();
    /// A stadium cell on a goal: everyone's connection drops and reconnects.
    static ImpairmentProfile matchDayBurst();

    /// The named profile, or nothing if no profile has that name.
    static std::optional<ImpairmentProfile> profile(const QString &name);
    /// The names profile() knows, in order from best to worst network.
    static QStringList profileNames();
};

/// What a proxy has done so far.
struct ImpairmentCounters
{
    quint64 connectionsAccepted = 0;
    // Connections the proxy still holds, including upstream sides left half-open by a switch.
    quint64 connectionsOpen = 0;
    quint64 bytesClientToUpstream = 0;
    quint64 bytesUpstreamToClient = 0;
    quint64 resets = 0;
    quint64 blackholes = 0;
    quint64 networkSwitches = 0;
    quint64 stalls = 0;
};

/// A loopback TCP proxy that sits between WebSocket clients and the feed server and makes the
/// network bad on purpose: latency, jitter, limited bandwidth, stalls, resets, blackholes and
/// network switches, from a profile (random, seeded) or by explicit calls (deterministic).
///
/// Whatever the impairment, the bytes it forwards arrive in order, once and intact; bytes are
/// only ever lost with the connection that carried them. The proxy stops taking bytes from a
/// socket while its connection is blackholed or switched and while a direction has too much
/// queued; past a small socket buffer the kernel's buffers fill, so a peer that writes into a
/// bad network sees its own send buffer fill, as it would on a real one.
///
/// It listens only on a loopback address and only ever connects to the upstream it was given.
/// The TCP handshake itself is not delayed: the client's connect succeeds at once and the
/// upstream connection is opened behind it; everything after (the WebSocket upgrade included)
/// goes through the impairment.
///
/// Connection indexes count the connections the proxy currently holds, oldest first; one whose
/// upstream side a network switch left half-open counts until that side closes.
///
/// Lives on one thread (the one it was created on) and needs that thread's event loop.
class ImpairmentProxy : public QObject
{
    Q_OBJECT

public:
    ImpairmentProxy(QHostAddress upstreamHost, quint16 upstreamPort, QObject *parent = nullptr);
    /// Aborts every connection it holds, on both sides, and stops all its timers.
    ~ImpairmentProxy() override;

    /// Listens on a loopback address; any other address is refused. Port 0 picks a free port.
    bool listen(const QHostAddress &address = QHostAddress::LocalHost, quint16 port = 0);
    quint16 port() const;
    /// The URL a WebSocket client uses to reach the upstream through the proxy.
    QUrl wsUrl() const;
    QString errorString() const { return m_errorString; }

    /// Applies to the connections open now and to later ones.
    void setProfile(const ImpairmentProfile &profile);
    const ImpairmentProfile &currentProfile() const { return m_profile; }
    /// Seeds the draws for jitter and random faults, so a run can be repeated.
    void setSeed(quint32 seed);

    /// Aborts both sides of every connection.
    void resetAll();
    bool reset(int index);
    /// While on, forwards nothing in either direction and closes nothing. Bytes already
    /// queued are delivered once it is turned off, as TCP would retransmit them.
    void blackholeAll(bool on);
    bool blackhole(int index, bool on);
    /// The whole path is gone: like blackholeAll(), and while on, every new connection is
    /// blackholed from its start too (its TCP handshake succeeds, on loopback, and then
    /// nothing moves, not even the WebSocket upgrade), as on a network that drops every
    /// packet. Turning it off releases them all.
    void blackholeNetwork(bool on);
    /// Holds both directions of every connection for ms milliseconds.
    void stallAll(int ms);
    bool stall(int index, int ms);
    /// Simulates each client moving to another network. The client-facing side is aborted:
    /// the client sees its connection die and reconnects, from a new source port, as a new
    /// connection. The upstream side is left half-open: the proxy never forwards anything to
    /// it or from it and never closes it, so the server must find the dead connection by
    /// itself, through its heartbeats. It is closed only when the server closes it or the
    /// proxy is destroyed. Bytes in flight on the old path are lost with it.
    void networkSwitchAll();
    bool networkSwitch(int index);
    /// Changes the latency and jitter of the current profile.
    void setLatency(int ms, int jitterMs = 0);
    /// Changes the bandwidth of the current profile; 0 means unlimited.
    void setBandwidth(qint64 bytesPerSecond);

    int connectionCount() const { return int(m_links.size()); }
    const ImpairmentCounters &counters() const { return m_counters; }

Q_SIGNALS:
    void connectionCountChanged(int count);

private:
    class Link;

    void acceptPending();
    void removeLink(Link *link);
    Link *linkAt(int index) const;
    void rollFaults();
    void updateFaultTimer();
    qint64 nowUs() const { return m_clock.nsecsElapsed() / 1000; }

    QHostAddress m_upstreamHost;
    quint16 m_upstreamPort = 0;
    QTcpServer *m_server = nullptr;
    QString m_errorString;
    ImpairmentProfile m_profile;
    QRandomGenerator m_random;
    QElapsedTimer m_clock;
    QTimer m_faultTimer;
    qint64 m_lastFaultRollUs = 0;
    std::vector<Link *> m_links;
    ImpairmentCounters m_counters;
    bool m_networkBlackholed = false;
};

} // namespace OddsDesk::Testing
