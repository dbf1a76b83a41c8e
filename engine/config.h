#pragma once

#include "epolldispatcher.h"

#include <QHostAddress>
#include <QStringList>

namespace OddsDesk {

/// How the feed sequences, batches and remembers changes.
struct FeedConfig
{
    // 10 ms: collects a burst of edits into one frame while adding at most 10 ms
    // (5 ms on average) to delivery latency.
    int flushIntervalMs = 10;
    // The journal keeps the last 10 minutes or 100,000 batches, whichever is less.
    int journalMaxBatches = 100000;
    int journalMaxAgeMs = 10 * 60 * 1000;
    // And never more than 64 MiB of it: at a thousand changes a second ten minutes of
    // journal would otherwise take gigabytes. A resume beyond it falls back to a snapshot.
    qint64 journalMaxBytes = 64 * 1024 * 1024;
    // Markets per snapshot frame: keeps each frame well under a client's message limit.
    int snapshotMarketsPerFrame = 500;
};

/// How the WebSocket server treats its connections. Every limit is a named default here,
/// with the reason for its value.
struct ServerConfig
{
    QHostAddress bindAddress = QHostAddress::LocalHost; // nothing exposed unless asked
    quint16 port = 8765;
    // 2 s: a punter must not look at frozen odds for long.
    int heartbeatIntervalMs = 2000;
    // A connection silent for this many heartbeats is dead.
    int deadAfterHeartbeats = 3;
    // 120 s: covers a tunnel or a network switch.
    int retentionMs = 120 * 1000;
    // A client that connects must say hello within this time.
    int helloTimeoutMs = 10 * 1000;
    // And complete the WebSocket handshake (the HTTP upgrade) within this time: a
    // connection that opens and sends nothing holds a socket and nothing else.
    int handshakeTimeoutMs = 10 * 1000;
    // Client messages are small (hello, ack, telemetry batches); 64 KiB is generous. The
    // same bound holds for one frame of a fragmented message, so a client cannot make the
    // server buffer more than this before it is refused (1009).
    quint64 maxIncomingMessageBytes = 64 * 1024;
    // 1 MiB per session: past it the reader is too slow and is told to resume later.
    qint64 maxQueuedBytes = 1024 * 1024;
    // Above a quarter of that queued, a session is sent no more frames as they come: what it
    // is owed is held back and goes out as one conflated delta (the latest value of each
    // selection) once its queue drains. A reader that falls behind catches up in one frame
    // instead of many, and its queue stops growing with the feed's rate.
    qint64 conflateAboveQueuedBytes = 256 * 1024;
    // A session whose oldest unacknowledged delta went out longer ago than this is paced:
    // what comes next is held back and goes out as one conflated delta when an ack comes
    // (or after ackPaceMaxHoldMs). A client that falls behind the feed (a busy phone, an
    // overloaded machine) then gets fewer, fuller frames, instead of a backlog of seconds
    // in the kernel's buffers, which hold far more small deltas than the byte bound above
    // ever sees. The reference client acks at most every 100 ms and sends a pending ack
    // within 250 ms at the latest; 300 ms leaves room for its round trip. 0 turns pacing off.
    int ackPaceMs = 300;
    // A paced session that acknowledges is sent what it is owed at its next ack, however
    // late. One that stopped acknowledging three heartbeats ago (the stale mark) is sent it
    // this often instead. A client that has never acknowledged anything is not paced.
    int ackPaceMaxHoldMs = 1000;
    // Natural batching: a flush that comes while the network threads are still sending the
    // previous one waits for them, and the waiting flushes go out as one delta, encoded once
    // for everyone. Off, every flush goes out on its own, however far behind the threads are.
    bool mergeFlushesWhileSending = true;
    // With it, and above zero, the longest the server waits between publishes when many
    // sessions are held back by their acks: the interval grows by a quarter while more than
    // a quarter of the sessions are held back, and shrinks by an eighth while at most one in
    // twenty are. Fewer, fuller frames for everyone, when most clients cannot keep up with a
    // frame per flush (at 10,000 sessions on the benchmark's two cores, three in four were
    // held back on every publish, and the p99 fell from 2.6 s to 0.7 s with it). A minority
    // held back by their own networks does not move it: the demo's punters on weak signals
    // are one in eight, and at 5 % they made every other client's delivery 20 times slower.
    // 0 turns it off.
    int maxPublishIntervalMs = 400;
    // The adapted interval starts here when sessions fall behind, and drops to nothing below
    // it: a flush interval's worth at the default 10 ms. A maxPublishIntervalMs between 0 and
    // this, set from code, acts as this; the console's command line refuses it.
    static constexpr int MinAdaptedPublishIntervalMs = 10;
    // The kernel's send buffer for each client socket, in bytes; 0 leaves it to the kernel,
    // which grows it as the connection needs (up to megabytes on a fast path). A smaller
    // buffer makes a stalled reader's queue show here, where it is bounded, sooner.
    int socketSendBufferBytes = 0;
    // Network threads that own the sockets; 0 is one per core. The engine thread keeps the
    // sessions and hellos; these send the frames, take the acks and heartbeat.
    int networkThreads = 0;
    // The network threads' event loop. Qt's own hands the kernel every socket of the thread
    // on each pass (poll(), or GLib's walk of its list); epoll asks only for the ready ones,
    // which at thousands of sockets a thread is most of a pass. Qt's is kept for comparing.
    EventLoopKind eventLoop = EventLoopKind::Epoll;
    // Qt's default of 30 pending handshakes refuses a reconnect storm; this many is cheap.
    // It is also the listening socket's backlog (the kernel caps it at somaxconn).
    int maxPendingConnections = 5000;
    // Timeline entries kept per session: enough for an afternoon of a bad connection.
    int timelineCapacity = 500;
    // New connections accepted per second before the server answers "overloaded, retry
    // after". A snapshot costs the engine thread about a millisecond for a season's book;
    // 2,000 a second leaves room for everyone else's deltas.
    int maxAcceptsPerSecond = 2000;
    // Telemetry messages per session and second (a burst of a few more is allowed); past
    // it they are dropped and the session is flagged.
    int telemetryPerSecond = 5;
    int telemetryBurst = 20;
    // A client that keeps the protocol's pace (one message a second) never has one dropped;
    // one that has had this many dropped is flooding, and is closed (1008) rather than
    // decoded forever.
    int telemetryDropsBeforeClose = 100;
    // When the server goes away, it asks clients to spread their return over a window of
    // two milliseconds per session (500 returns a second, a quarter of the accept rate),
    // at least 3 s and at most 30 s. Three seconds keeps any 100 ms of a 500-client storm
    // under a tenth of the returns, with the randomness of full jitter taken into account.
    int reconnectWindowPerSessionMs = 2;
    int minReconnectWindowMs = 3000;
    int maxReconnectWindowMs = 30000;
    // With a key, every hello must carry a token signed with it (HMAC-SHA256); empty keeps
    // the feed open to anyone who connects.
    QByteArray authKey;
    // Both set: the feed is served as wss:// with this PEM certificate and key.
    QString tlsCertificatePath;
    QString tlsKeyPath;
    // Browsers send the page's origin; with a list, any other origin is refused with 403
    // during the handshake. Clients that send no origin (apps, servers) are not browsers
    // and are let through. Empty: every origin.
    QStringList allowedOrigins;
    // Connections one source address may hold at once; 0 is no limit. A public feed sets
    // it (a household, an office behind one address, rarely needs more than a few dozen);
    // the default leaves it off because load tests and demos run thousands on loopback.
    int maxConnectionsPerAddress = 0;
    // Hellos one source address may send a second, on average, with bursts of up to
    // helloBurstPerAddress; past it a hello is answered "overloaded, retry after" (1013)
    // before it costs a snapshot. 0 is no limit, for the same reason as above. A burst of 20
    // lets a household's devices all come back at once after a network switch.
    int maxHellosPerSecondPerAddress = 0;
    int helloBurstPerAddress = 20;
};

} // namespace OddsDesk
