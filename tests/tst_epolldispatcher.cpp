// The epoll event dispatcher, on real timers and real loopback sockets. The suite's own main
// thread runs on it (see main() below), so every wait and QTRY here goes through it too.

#include "epolldispatcher.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QPointer>
#include <QSignalSpy>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

using namespace OddsDesk;

namespace {

// A thread running the epoll dispatcher, stopped and joined when it goes.
class EpollThread
{
public:
    EpollThread()
    {
        m_thread.setEventDispatcher(new EpollEventDispatcher);
        m_thread.start();
    }
    ~EpollThread()
    {
        m_thread.quit();
        m_thread.wait();
    }
    QThread *thread() { return &m_thread; }

private:
    QThread m_thread;
};

// Records each timer event's id, in order.
class TimerLog : public QObject
{
public:
    QList<int> fired;
    std::function<void(int)> onTimer;

protected:
    void timerEvent(QTimerEvent *event) override
    {
        fired.append(event->timerId());
        if (onTimer)
            onTimer(event->timerId());
    }
};

} // namespace

class tst_EpollDispatcher : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mainThreadRunsOnIt();
    void timersFireInDeadlineOrder();
    void repeatingTimerKeepsItsBeat();
    void stoppedTimerNeverFires();
    void remainingTimeAndRegisteredTimers();
    void zeroTimerDoesNotStarveSockets();
    void timerIsNotReenteredFromNestedLoop();
    void notifierFiresOnReadableAndStopsWhenDisabled();
    void notifierDeletedByAnEarlierHandlerIsNotActivated();
    void changeUndoneWithinAPassIsNeverReported();
    void hangUpWakesTheReader();
    void tcpEchoOfAMegabyte();
    void webSocketOnAnEpollThread();
    void postedEventsWakeABlockedThread();
    void wakeUpsAreNeverLost();
    void quitStopsAnIdleThreadAtOnce();
    void objectWithTimerMovesToAnotherThread();
    void parsesKinds();
};

void tst_EpollDispatcher::mainThreadRunsOnIt()
{
    QVERIFY(dynamic_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance()));
}

void tst_EpollDispatcher::timersFireInDeadlineOrder()
{
    TimerLog log;
    const int late = log.startTimer(60);
    const int early = log.startTimer(10);
    const int middle = log.startTimer(30);
    QTRY_VERIFY(log.fired.contains(late));
    // Registered late, middle, early; due early, middle, late.
    QCOMPARE(log.fired.first(), early);
    QVERIFY(log.fired.indexOf(middle) > log.fired.indexOf(early));
    QVERIFY(log.fired.indexOf(late) > log.fired.indexOf(middle));
    // By the first 60 ms tick the 10 ms timer has had its five or more.
    QVERIFY2(log.fired.indexOf(late) >= 5, qPrintable(QString::number(log.fired.indexOf(late))));
    log.killTimer(late);
    log.killTimer(early);
    log.killTimer(middle);
}

void tst_EpollDispatcher::repeatingTimerKeepsItsBeat()
{
    QTimer timer;
    timer.setTimerType(Qt::PreciseTimer);
    timer.setInterval(20);
    int ticks = 0;
    qint64 elapsed = 0;
    QElapsedTimer clock;
    connect(&timer, &QTimer::timeout, this, [&] {
        if (++ticks == 10) {
            elapsed = clock.elapsed();
            timer.stop();
        }
    });
    clock.start();
    timer.start();
    QTRY_COMPARE_WITH_TIMEOUT(ticks, 10, 2000);
    QTest::qWait(60);
    QCOMPARE(ticks, 10);
    // Ten intervals of 20 ms: never early; late only by what a shared machine adds.
    QVERIFY2(elapsed >= 199, qPrintable(QString::number(elapsed)));
    QVERIFY2(elapsed < 1000, qPrintable(QString::number(elapsed)));
}

void tst_EpollDispatcher::stoppedTimerNeverFires()
{
    bool fired = false;
    QTimer timer;
    timer.setSingleShot(true);
    connect(&timer, &QTimer::timeout, this, [&fired] { fired = true; });
    timer.start(20);
    timer.stop();
    // Restarted and stopped again from inside another timer's event.
    QTimer::singleShot(5, this, [&timer] {
        timer.start(10);
        timer.stop();
    });
    QTest::qWait(80);
    QVERIFY(!fired);
}

void tst_EpollDispatcher::remainingTimeAndRegisteredTimers()
{
    auto *dispatcher = QAbstractEventDispatcher::instance();
    TimerLog log;
    const int id = log.startTimer(500, Qt::CoarseTimer);
    const int remaining = dispatcher->remainingTime(id);
    QVERIFY2(remaining > 400 && remaining <= 500, qPrintable(QString::number(remaining)));
    const auto timers = dispatcher->registeredTimers(&log);
    QCOMPARE(timers.size(), 1);
    QCOMPARE(timers.first().timerId, id);
    QCOMPARE(timers.first().interval, 500);
    QCOMPARE(timers.first().timerType, Qt::CoarseTimer);
    log.killTimer(id);
    QCOMPARE(dispatcher->remainingTime(id), -1);
    QVERIFY(dispatcher->registeredTimers(&log).isEmpty());
}

void tst_EpollDispatcher::zeroTimerDoesNotStarveSockets()
{
    int fds[2];
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    QSocketNotifier notifier(fds[0], QSocketNotifier::Read);
    int reads = 0;
    connect(&notifier, &QSocketNotifier::activated, this, [&reads, fd = fds[0]] {
        char byte;
        QCOMPARE(::read(fd, &byte, 1), 1);
        ++reads;
    });
    int spins = 0;
    QTimer idle;
    idle.setInterval(0);
    connect(&idle, &QTimer::timeout, this, [&spins] { ++spins; });
    idle.start();
    for (int i = 0; i < 5; ++i) {
        QCOMPARE(::write(fds[1], "x", 1), 1);
        QTRY_COMPARE(reads, i + 1);
    }
    idle.stop();
    QVERIFY(spins > 0);
    ::close(fds[0]);
    ::close(fds[1]);
}

void tst_EpollDispatcher::timerIsNotReenteredFromNestedLoop()
{
    TimerLog log;
    int depth = 0;
    int deepest = 0;
    log.onTimer = [&](int) {
        ++depth;
        deepest = qMax(deepest, depth);
        if (log.fired.size() == 1) {
            // A nested loop inside the timer's own event: other timers run, this one waits.
            QEventLoop nested;
            QTimer::singleShot(60, &nested, &QEventLoop::quit);
            nested.exec();
        }
        --depth;
    };
    const int id = log.startTimer(5);
    QTRY_VERIFY(log.fired.size() >= 3);
    log.killTimer(id);
    QCOMPARE(deepest, 1);
}

void tst_EpollDispatcher::notifierFiresOnReadableAndStopsWhenDisabled()
{
    int fds[2];
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    QSocketNotifier notifier(fds[0], QSocketNotifier::Read);
    int activations = 0;
    connect(&notifier, &QSocketNotifier::activated, this, [&] {
        ++activations;
        notifier.setEnabled(false); // level-triggered: unread data would fire again
    });
    QTest::qWait(20);
    QCOMPARE(activations, 0);
    QCOMPARE(::write(fds[1], "ab", 2), 2);
    QTRY_COMPARE(activations, 1);
    QTest::qWait(30);
    QCOMPARE(activations, 1);
    notifier.setEnabled(true);
    QTRY_COMPARE(activations, 2);

    // A write notifier on the same descriptor beside the read one.
    QSocketNotifier writable(fds[0], QSocketNotifier::Write);
    int writes = 0;
    connect(&writable, &QSocketNotifier::activated, this, [&] {
        ++writes;
        writable.setEnabled(false);
    });
    QTRY_COMPARE(writes, 1);
    ::close(fds[1]);
    ::close(fds[0]);
}

void tst_EpollDispatcher::changeUndoneWithinAPassIsNeverReported()
{
    // What a socket is watched for changes lazily, just before the wait; these are the
    // ways that could go wrong: a change lost, a stale one left with the kernel (an idle
    // loop that spins on a writable socket), a descriptor reused in between.
    int fds[2];
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    auto reader = std::make_unique<QSocketNotifier>(fds[0], QSocketNotifier::Read);
    int reads = 0;
    connect(reader.get(), &QSocketNotifier::activated, this, [&] { ++reads; });
    auto writer = std::make_unique<QSocketNotifier>(fds[0], QSocketNotifier::Write);
    int writes = 0;
    connect(writer.get(), &QSocketNotifier::activated, this, [&] { ++writes; });
    QTRY_VERIFY(writes > 0); // always writable
    writer->setEnabled(false);
    QTest::qWait(20);
    const int writesBefore = writes;

    // Switched on and off many times between two waits, ending off: never reported, and
    // the loop sleeps while nothing happens.
    for (int i = 0; i < 1000; ++i) {
        writer->setEnabled(true);
        writer->setEnabled(false);
    }
    int passes = 0;
    const auto counting = connect(QAbstractEventDispatcher::instance(),
        &QAbstractEventDispatcher::awake, this, [&] { ++passes; });
    QEventLoop idle; // waits, unlike QTest::qWait(), which sleeps between passes
    QTimer::singleShot(100, &idle, &QEventLoop::quit);
    idle.exec();
    disconnect(counting);
    QCOMPARE(writes, writesBefore);
    QVERIFY2(passes < 50, qPrintable(QStringLiteral("%1 passes in 100 ms idle").arg(passes)));

    // Switched on from a handler of one pass: reported in the next.
    QTimer::singleShot(0, this, [&] { writer->setEnabled(true); });
    QTRY_VERIFY(writes > writesBefore);
    writer->setEnabled(false);

    // Both notifiers gone while a change is pending, the descriptor closed and its number
    // given to a new socket: the new socket's notifier works.
    writer->setEnabled(true);
    writer->setEnabled(false);
    const int oldFd = fds[0];
    writer.reset();
    reader.reset();
    ::close(fds[0]);
    ::close(fds[1]);
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    QCOMPARE(fds[0], oldFd);
    QSocketNotifier again(fds[0], QSocketNotifier::Read);
    int readsAgain = 0;
    connect(&again, &QSocketNotifier::activated, this, [&] {
        ++readsAgain;
        char buffer[8];
        QVERIFY(::read(fds[0], buffer, sizeof buffer) > 0);
    });
    QTest::qWait(20);
    QCOMPARE(readsAgain, 0);
    QCOMPARE(::write(fds[1], "x", 1), 1);
    QTRY_COMPARE(readsAgain, 1);
    QCOMPARE(reads, 0);
    ::close(fds[0]);
    ::close(fds[1]);
}

void tst_EpollDispatcher::notifierDeletedByAnEarlierHandlerIsNotActivated()
{
    int a[2];
    int b[2];
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    auto first = std::make_unique<QSocketNotifier>(a[0], QSocketNotifier::Read);
    auto second = std::make_unique<QSocketNotifier>(b[0], QSocketNotifier::Read);
    int activations = 0;
    // Whichever fires first deletes the other, which was ready in the same pass.
    connect(first.get(), &QSocketNotifier::activated, this, [&] {
        ++activations;
        second.reset();
        first->setEnabled(false);
    });
    connect(second.get(), &QSocketNotifier::activated, this, [&] {
        ++activations;
        first.reset();
        second->setEnabled(false);
    });
    QCOMPARE(::write(a[1], "x", 1), 1);
    QCOMPARE(::write(b[1], "x", 1), 1);
    QTRY_COMPARE(activations, 1);
    QTest::qWait(30);
    QCOMPARE(activations, 1);
    first.reset();
    second.reset();
    for (int fd : {a[0], a[1], b[0], b[1]})
        ::close(fd);
}

void tst_EpollDispatcher::hangUpWakesTheReader()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost));
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_VERIFY(server.hasPendingConnections());
    std::unique_ptr<QTcpSocket> accepted(server.nextPendingConnection());
    QTRY_COMPARE(client.state(), QAbstractSocket::ConnectedState);
    QSignalSpy gone(accepted.get(), &QTcpSocket::disconnected);
    client.abort();
    QTRY_COMPARE(gone.count(), 1);
}

void tst_EpollDispatcher::tcpEchoOfAMegabyte()
{
    // The echo side on a thread of its own, also on epoll; the socket's write notifier is
    // switched on and off as its buffer fills and drains.
    EpollThread echoThread;
    auto *server = new QTcpServer;
    QVERIFY(server->listen(QHostAddress::LocalHost));
    const quint16 port = server->serverPort();
    // Its listening notifier moves with it, off this thread's epoll set onto the other's.
    server->moveToThread(echoThread.thread());
    connect(server, &QTcpServer::newConnection, server, [server] {
        QTcpSocket *socket = server->nextPendingConnection();
        connect(
            socket, &QTcpSocket::readyRead, socket, [socket] { socket->write(socket->readAll()); });
    });

    QByteArray payload(1024 * 1024, Qt::Uninitialized);
    for (int i = 0; i < payload.size(); ++i)
        payload[i] = char((unsigned(i) * 7919u) >> 3);
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, port);
    QByteArray received;
    connect(&client, &QTcpSocket::readyRead, this, [&] { received += client.readAll(); });
    QTRY_COMPARE(client.state(), QAbstractSocket::ConnectedState);
    client.write(payload);
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), payload.size(), 20000);
    QVERIFY(received == payload);
    client.disconnectFromHost();
    server->deleteLater(); // on its own thread, at the latest as that thread finishes
}

void tst_EpollDispatcher::webSocketOnAnEpollThread()
{
    EpollThread serverThread;
    auto *server = new QWebSocketServer(QStringLiteral("echo"), QWebSocketServer::NonSecureMode);
    QVERIFY(server->listen(QHostAddress::LocalHost));
    const quint16 port = server->serverPort();
    server->moveToThread(serverThread.thread());
    connect(server, &QWebSocketServer::newConnection, server, [server] {
        QWebSocket *socket = server->nextPendingConnection();
        connect(socket, &QWebSocket::binaryMessageReceived, socket,
            [socket](const QByteArray &message) { socket->sendBinaryMessage(message); });
        connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
    });

    QWebSocket client;
    QList<QByteArray> echoed;
    connect(&client, &QWebSocket::binaryMessageReceived, this,
        [&echoed](const QByteArray &message) { echoed.append(message); });
    client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(port)));
    QTRY_COMPARE(client.state(), QAbstractSocket::ConnectedState);
    for (int i = 0; i < 200; ++i)
        client.sendBinaryMessage(QByteArray::number(i).repeated(i + 1));
    QTRY_COMPARE(echoed.size(), 200);
    for (int i = 0; i < 200; ++i)
        QCOMPARE(echoed.at(i), QByteArray::number(i).repeated(i + 1));
    client.close();
    server->deleteLater();
}

void tst_EpollDispatcher::postedEventsWakeABlockedThread()
{
    EpollThread worker;
    QObject context;
    context.moveToThread(worker.thread());
    QTest::qWait(20); // the worker is blocked in epoll_wait with nothing to do
    QElapsedTimer clock;
    clock.start();
    int ran = 0;
    for (int i = 0; i < 100; ++i)
        QMetaObject::invokeMethod(
            &context, [&ran] { ++ran; }, Qt::BlockingQueuedConnection);
    QCOMPARE(ran, 100);
    // A hundred round trips, each woken at once rather than at some timeout.
    QVERIFY2(clock.elapsed() < 2000, qPrintable(QString::number(clock.elapsed())));
    QPointer<QObject> doomed = new QObject;
    doomed->moveToThread(worker.thread());
    doomed->deleteLater();
    QTRY_VERIFY(doomed.isNull());
    QMetaObject::invokeMethod(
        &context, [&context] { context.moveToThread(qApp->thread()); },
        Qt::BlockingQueuedConnection);
}

void tst_EpollDispatcher::wakeUpsAreNeverLost()
{
    // Four threads post in short bursts to one that goes back to waiting between them, so
    // that wake-ups keep racing its draining of the previous one. A wake-up lost there left
    // the thread waiting for ever (a console once hung in its shutdown that way).
    EpollThread worker;
    QObject context;
    context.moveToThread(worker.thread());
    std::atomic<int> ran {0};
    constexpr int Posters = 4;
    constexpr int Bursts = 1500;
    constexpr int PerBurst = 8;
    std::vector<std::unique_ptr<QThread>> posters;
    for (int p = 0; p < Posters; ++p) {
        posters.emplace_back(QThread::create([&context, &ran] {
            for (int b = 0; b < Bursts; ++b) {
                for (int i = 0; i < PerBurst; ++i)
                    QMetaObject::invokeMethod(
                        &context, [&ran] { ++ran; }, Qt::QueuedConnection);
                QThread::usleep(50 + (b % 7) * 20);
            }
        }));
        posters.back()->start();
    }
    for (const auto &poster : posters)
        QVERIFY(poster->wait(60000));
    QTRY_COMPARE_WITH_TIMEOUT(ran.load(), Posters * Bursts * PerBurst, 10000);
    QMetaObject::invokeMethod(
        &context, [&context] { context.moveToThread(qApp->thread()); },
        Qt::BlockingQueuedConnection);
}

void tst_EpollDispatcher::quitStopsAnIdleThreadAtOnce()
{
    QThread thread;
    thread.setEventDispatcher(new EpollEventDispatcher);
    thread.start();
    QTest::qWait(20);
    QElapsedTimer clock;
    clock.start();
    thread.quit();
    QVERIFY(thread.wait(5000));
    QVERIFY2(clock.elapsed() < 1000, qPrintable(QString::number(clock.elapsed())));
}

void tst_EpollDispatcher::objectWithTimerMovesToAnotherThread()
{
    // Moving an object carries its running timers over: Qt asks registeredTimers().
    EpollThread worker;
    auto *ticking = new QTimer;
    std::atomic<int> ticks {0};
    connect(ticking, &QTimer::timeout, ticking, [&ticks] { ++ticks; });
    ticking->start(10);
    QTRY_VERIFY(ticks.load() >= 2);
    QVERIFY(QAbstractEventDispatcher::instance()->registeredTimers(ticking).size() == 1);
    ticking->moveToThread(worker.thread());
    QVERIFY(QAbstractEventDispatcher::instance()->registeredTimers(ticking).isEmpty());
    const int before = ticks.load();
    QTRY_VERIFY(ticks.load() >= before + 3);
    ticking->deleteLater();
}

void tst_EpollDispatcher::parsesKinds()
{
    EventLoopKind kind = EventLoopKind::Qt;
    QVERIFY(parseEventLoopKind(QStringLiteral("epoll"), &kind));
    QCOMPARE(kind, EventLoopKind::Epoll);
    QVERIFY(parseEventLoopKind(QStringLiteral("qt"), &kind));
    QCOMPARE(kind, EventLoopKind::Qt);
    QVERIFY(!parseEventLoopKind(QStringLiteral("glib"), &kind));
    QCOMPARE(eventLoopKindName(EventLoopKind::Epoll), QStringLiteral("epoll"));
    QVERIFY(createEventDispatcher(EventLoopKind::Qt) == nullptr);
    std::unique_ptr<QAbstractEventDispatcher> made(createEventDispatcher(EventLoopKind::Epoll));
    QVERIFY(dynamic_cast<EpollEventDispatcher *>(made.get()));
}

int main(int argc, char *argv[])
{
    // Before the application exists, so that its thread, the suite's, runs on epoll.
    QCoreApplication::setEventDispatcher(new EpollEventDispatcher);
    QCoreApplication app(argc, argv);
    tst_EpollDispatcher suite;
    return QTest::qExec(&suite, argc, argv);
}

#include "tst_epolldispatcher.moc"
