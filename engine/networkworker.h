#pragma once

// The feed server's network threads. Internal to the engine: the server hands each accepted
// connection to one of them, and that thread owns the socket from then on.

#include "epolldispatcher.h"

#include <QHash>
#include <QList>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QSslConfiguration>
#include <QThread>
#include <QTimer>
#include <QVector>

#include <array>
#include <atomic>
#include <functional>

class QTcpSocket;
class QWebSocket;
class QWebSocketServer;

namespace OddsDesk {

class Connection;

/// One network thread's share of the feed server: an upgrader (its own QWebSocketServer,
/// never listening) that turns the descriptors handed to it into WebSocket connections, the
/// connections it owns from then on, and the figures the engine thread collects from it.
/// Everything but the figures and post() is used on the worker's own thread only.
class NetworkWorker : public QObject
{
public:
    struct Setup
    {
        int index = 0;
        bool secure = false;
        QSslConfiguration tls; // with secure: the certificate and key to serve
        QStringList subprotocols;
        int upgradeTimeoutMs = 10000;
        int maxPendingUpgrades = 5000;
        int sendBufferBytes = 0; // 0: the kernel's choice
        EventLoopKind eventLoop = EventLoopKind::Epoll;
    };

    explicit NetworkWorker(const Setup &setup);
    ~NetworkWorker() override;

    int index() const { return m_setup.index; }
    /// The upgrader, made on the worker's thread by start(); for its signals.
    QWebSocketServer *upgrader() const { return m_upgrader; }

    /// Makes the upgrader. Runs on the worker's thread before any descriptor arrives.
    void start();
    /// Takes over an accepted descriptor: wraps it in a socket (TLS first when secure) and
    /// lets the upgrader run the WebSocket handshake. A socket not upgraded within the
    /// upgrade timeout is aborted.
    void adopt(qintptr descriptor);
    /// The TCP socket under \a socket, which the worker made for it; null once it is gone.
    /// Frames written to it directly go out in order with the WebSocket's own.
    QTcpSocket *takeTcpSocket(QWebSocket *socket);

    /// Runs \a work on the worker's thread, after what was posted before it.
    void post(std::function<void()> work);

    /// The connections this thread owns; the feed server keeps the list.
    QList<Connection *> connections;
    /// Passes over this thread's connections (heartbeats, dead ones), driven by the server.
    QTimer housekeeping;
    qint64 lastHeartbeatUs = 0;

    /// Conflated deltas framed for the wire, by the range of sequences they cover: sessions
    /// held back together are owed the same range and share one encoding, as every session
    /// shares each flush's. A few recent ranges, the oldest replaced first. The first
    /// batch's commit time is part of the key, so that a range of an earlier book never
    /// answers for a later one.
    struct ConflatedFrame
    {
        quint64 fromSequence = 0;
        quint64 toSequence = 0;
        qint64 firstCommitUs = 0;
        int formatIndex = -1;
        qint64 oldestCommitUs = 0; // of the changes it holds
        QByteArray wire;
    };
    const ConflatedFrame *findConflated(const ConflatedFrame &key) const;
    const ConflatedFrame &keepConflated(ConflatedFrame frame);

    // Figures written on the worker's thread, read and reset by the engine thread.
    std::atomic<quint64> framesOut {0};
    std::atomic<quint64> bytesOut {0};
    void addLatencySample(qint64 micros, int max);
    QVector<qint64> takeLatencySamples();

private:
    static QString peerKey(const QTcpSocket *socket);

    Setup m_setup;
    QWebSocketServer *m_upgrader = nullptr;
    // Sockets handed to the upgrader and not upgraded yet, by peer address and port.
    QHash<QString, QPointer<QTcpSocket>> m_upgrading;
    QMutex m_samplesMutex;
    QVector<qint64> m_samples;
    std::array<ConflatedFrame, 16> m_conflated;
    size_t m_nextConflated = 0;
};

/// A network worker on its own named thread. Destroying it quits the thread's event loop and
/// waits; the worker and everything it owns are deleted on that thread as it finishes.
class NetworkThread
{
public:
    explicit NetworkThread(const NetworkWorker::Setup &setup);
    ~NetworkThread();
    NetworkThread(const NetworkThread &) = delete;
    NetworkThread &operator=(const NetworkThread &) = delete;

    NetworkWorker *worker() const { return m_worker; }
    QThread *thread() { return &m_thread; }

private:
    QThread m_thread;
    NetworkWorker *m_worker;
};

} // namespace OddsDesk
