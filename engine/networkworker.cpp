#include "networkworker.h"

#include <QSslSocket>
#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketServer>

#include <unistd.h>

namespace OddsDesk {
namespace {

// The child timer that aborts a socket whose WebSocket handshake does not finish in time.
constexpr char UpgradeTimerName[] = "oddsdesk-upgrade-timer";

} // namespace

NetworkWorker::NetworkWorker(const Setup &setup)
    : housekeeping(this) // a child, so that it moves to the worker's thread with it
    , m_setup(setup)
{ }

NetworkWorker::~NetworkWorker() = default;

void NetworkWorker::start()
{
    m_upgrader = new QWebSocketServer(QStringLiteral("OddsDesk"),
        m_setup.secure ? QWebSocketServer::SecureMode : QWebSocketServer::NonSecureMode, this);
    m_upgrader->setSupportedSubprotocols(m_setup.subprotocols);
    m_upgrader->setMaxPendingConnections(m_setup.maxPendingUpgrades);
}

QString NetworkWorker::peerKey(const QTcpSocket *socket)
{
    return socket->peerAddress().toString() + QLatin1Char(' ')
        + QString::number(socket->peerPort());
}

void NetworkWorker::adopt(qintptr descriptor)
{
    QTcpSocket *socket = nullptr;
    QSslSocket *tls = nullptr;
    if (m_setup.secure) {
        tls = new QSslSocket(this);
        tls->setSslConfiguration(m_setup.tls);
        socket = tls;
    } else {
        socket = new QTcpSocket(this);
    }
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        ::close(int(descriptor));
        return;
    }
    // Deltas are small and must leave at once: never wait to fill a segment.
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    if (m_setup.sendBufferBytes > 0)
        socket->setSocketOption(
            QAbstractSocket::SendBufferSizeSocketOption, m_setup.sendBufferBytes);

    auto *timer = new QTimer(socket);
    timer->setObjectName(QLatin1String(UpgradeTimerName));
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, socket, [socket] { socket->abort(); });
    timer->start(m_setup.upgradeTimeoutMs);

    const QString key = peerKey(socket);
    m_upgrading.insert(key, socket);
    connect(socket, &QObject::destroyed, this, [this, key] {
        const auto it = m_upgrading.find(key);
        if (it != m_upgrading.end() && it->isNull())
            m_upgrading.erase(it);
    });
    if (tls)
        tls->startServerEncryption();
    m_upgrader->handleConnection(socket);
}

QTcpSocket *NetworkWorker::takeTcpSocket(QWebSocket *socket)
{
    const QString key
        = socket->peerAddress().toString() + QLatin1Char(' ') + QString::number(socket->peerPort());
    QPointer<QTcpSocket> tcp = m_upgrading.take(key);
    if (!tcp)
        return nullptr;
    delete tcp->findChild<QTimer *>(QLatin1String(UpgradeTimerName));
    return tcp;
}

void NetworkWorker::post(std::function<void()> work)
{
    QMetaObject::invokeMethod(this, std::move(work), Qt::QueuedConnection);
}

void NetworkWorker::addLatencySample(qint64 micros, int max)
{
    QMutexLocker lock(&m_samplesMutex);
    if (m_samples.size() < max)
        m_samples.append(micros);
}

QVector<qint64> NetworkWorker::takeLatencySamples()
{
    QMutexLocker lock(&m_samplesMutex);
    return std::exchange(m_samples, {});
}

const NetworkWorker::ConflatedFrame *NetworkWorker::findConflated(const ConflatedFrame &key) const
{
    for (const ConflatedFrame &frame : m_conflated) {
        if (frame.fromSequence == key.fromSequence && frame.toSequence == key.toSequence
            && frame.firstCommitUs == key.firstCommitUs && frame.formatIndex == key.formatIndex)
            return &frame;
    }
    return nullptr;
}

const NetworkWorker::ConflatedFrame &NetworkWorker::keepConflated(ConflatedFrame frame)
{
    ConflatedFrame &slot = m_conflated[m_nextConflated];
    m_nextConflated = (m_nextConflated + 1) % m_conflated.size();
    slot = std::move(frame);
    return slot;
}

NetworkThread::NetworkThread(const NetworkWorker::Setup &setup)
    : m_worker(new NetworkWorker(setup))
{
    m_thread.setObjectName(QStringLiteral("oddsdesk-net-%1").arg(setup.index + 1));
    if (QAbstractEventDispatcher *dispatcher = createEventDispatcher(setup.eventLoop))
        m_thread.setEventDispatcher(dispatcher);
    m_worker->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.start();
    NetworkWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker] { worker->start(); }, Qt::BlockingQueuedConnection);
}

NetworkThread::~NetworkThread()
{
    m_thread.quit();
    m_thread.wait();
}

} // namespace OddsDesk
