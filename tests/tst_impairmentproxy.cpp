// The impairment proxy between a real WebSocket client and a real WebSocket echo server, all on
// loopback. Timing checks use generous bounds and lower bounds only: the machine is shared.

#include "impairmentproxy.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QWebSocket>
#include <QWebSocketServer>
#include <QtTest>

#include <memory>

using namespace OddsDesk::Testing;

namespace {

// How long anything asynchronous may take before a check gives up: far above what a loopback
// hop needs, so only a real failure (not a busy machine) fails a test.
constexpr int SlowMs = 10000;
// How long "nothing happens" is watched for: long enough to notice a forwarded frame or a close
// on loopback many times over.
constexpr int QuietMs = 1000;
// Asks the echo server for a binary message of N pattern bytes instead of an echo.
const QString BlobRequest = QStringLiteral("blob ");

QByteArray pattern(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    // 251 is prime, so the pattern does not line up with any power-of-two chunk size and a
    // misplaced or repeated chunk shows.
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char(i % 251);
    return bytes;
}

// A WebSocket server on 127.0.0.1 that echoes every message, counting what it sees.
class EchoServer : public QObject
{
public:
    EchoServer()
        : m_server(QStringLiteral("echo"), QWebSocketServer::NonSecureMode)
    {
        connect(&m_server, &QWebSocketServer::newConnection, this, &EchoServer::accept);
    }

    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }

    QList<QWebSocket *> sockets;
    int messagesReceived = 0;
    int disconnects = 0;

private:
    void accept()
    {
        while (QWebSocket *socket = m_server.nextPendingConnection()) {
            socket->setParent(this);
            sockets.append(socket);
            connect(socket, &QWebSocket::textMessageReceived, this,
                [this, socket](const QString &text) {
                    ++messagesReceived;
                    if (text.startsWith(BlobRequest))
                        socket->sendBinaryMessage(pattern(text.mid(BlobRequest.size()).toInt()));
                    else
                        socket->sendTextMessage(text);
                });
            connect(socket, &QWebSocket::disconnected, this, [this] { ++disconnects; });
        }
    }

    QWebSocketServer m_server;
};

// A WebSocket client that records what comes back.
class Client : public QObject
{
public:
    Client()
    {
        connect(&socket, &QWebSocket::textMessageReceived, this,
            [this](const QString &text) { texts.append(text); });
        connect(&socket, &QWebSocket::binaryMessageReceived, this,
            [this](const QByteArray &bytes) { binaries.append(bytes); });
        connect(&socket, &QWebSocket::disconnected, this, [this] { ++disconnects; });
    }

    bool isConnected() const { return socket.state() == QAbstractSocket::ConnectedState; }

    QWebSocket socket;
    QStringList texts;
    QList<QByteArray> binaries;
    int disconnects = 0;
};

enum class Fault { Reset, Stall, Blackhole, Switch };

quint64 faultCount(const ImpairmentCounters &counters, Fault fault)
{
    switch (fault) {
    case Fault::Reset:
        return counters.resets;
    case Fault::Stall:
        return counters.stalls;
    case Fault::Blackhole:
        return counters.blackholes;
    case Fault::Switch:
        return counters.networkSwitches;
    }
    return 0;
}

QStringList numberedMessages(int count)
{
    QStringList messages;
    for (int i = 0; i < count; ++i)
        messages.append(QStringLiteral("message %1").arg(i));
    return messages;
}

} // namespace

Q_DECLARE_METATYPE(Fault)
Q_DECLARE_METATYPE(OddsDesk::Testing::ImpairmentProfile)

class tst_ImpairmentProxy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void lookUpProfile_data();
    void lookUpProfile();
    void listenOnlyOnLoopback_data();
    void listenOnlyOnLoopback();
    void upstreamRefusedClosesClient();
    void cleanCloseGoesThrough_data();
    void cleanCloseGoesThrough();
    void orderUnderLatencyAndJitter_data();
    void orderUnderLatencyAndJitter();
    void latencyAddsDelay_data();
    void latencyAddsDelay();
    void bandwidthLimitsTransfer_data();
    void bandwidthLimitsTransfer();
    void stallHoldsBothDirections_data();
    void stallHoldsBothDirections();
    void resetDisconnects_data();
    void resetDisconnects();
    void blackholeHoldsWithoutClosing_data();
    void blackholeHoldsWithoutClosing();
    void networkSwitchLeavesServerSideOpen();
    void destructorClosesEverything();
    void randomFaultsFire_data();
    void randomFaultsFire();
    void namedProfileForwards_data();
    void namedProfileForwards();

private:
    // Opens a client through the proxy and waits until the server holds its connection.
    std::unique_ptr<Client> connectClient();
    // The time a text message takes there and back, at best over a few tries.
    qint64 bestRoundTripMs(Client &client, int tries);

    std::unique_ptr<EchoServer> m_echo;
    std::unique_ptr<ImpairmentProxy> m_proxy;
};

void tst_ImpairmentProxy::init()
{
    m_echo = std::make_unique<EchoServer>();
    QVERIFY(m_echo->listen());
    m_proxy = std::make_unique<ImpairmentProxy>(QHostAddress::LocalHost, m_echo->port());
    QVERIFY2(m_proxy->listen(), qPrintable(m_proxy->errorString()));
}

void tst_ImpairmentProxy::cleanup()
{
    m_proxy.reset();
    m_echo.reset();
}

std::unique_ptr<Client> tst_ImpairmentProxy::connectClient()
{
    auto client = std::make_unique<Client>();
    const int serverSockets = m_echo->sockets.size();
    client->socket.open(m_proxy->wsUrl());
    if (!QTest::qWaitFor([&] { return client->isConnected(); }, SlowMs))
        return nullptr;
    if (!QTest::qWaitFor([&] { return m_echo->sockets.size() > serverSockets; }, SlowMs))
        return nullptr;
    return client;
}

qint64 tst_ImpairmentProxy::bestRoundTripMs(Client &client, int tries)
{
    qint64 best = -1;
    for (int i = 0; i < tries; ++i) {
        // A spy's wait runs the event loop without polling, so it adds no delay of its own.
        QSignalSpy echoed(&client.socket, &QWebSocket::textMessageReceived);
        QElapsedTimer timer;
        timer.start();
        client.socket.sendTextMessage(QStringLiteral("ping %1").arg(i));
        if (!echoed.wait(SlowMs))
            return -1;
        const qint64 elapsed = timer.elapsed();
        best = best < 0 ? elapsed : std::min(best, elapsed);
    }
    return best;
}

void tst_ImpairmentProxy::lookUpProfile_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("known");

    for (const QString &name : ImpairmentProfile::profileNames())
        QTest::newRow(qPrintable(name)) << name << true;
    QTest::newRow("unknown name") << QStringLiteral("dial-up") << false;
    QTest::newRow("names are case-sensitive") << QStringLiteral("Urban-4G") << false;
    QTest::newRow("empty name") << QString() << false;
}

void tst_ImpairmentProxy::lookUpProfile()
{
    QFETCH(QString, name);
    QFETCH(bool, known);

    const std::optional<ImpairmentProfile> profile = ImpairmentProfile::profile(name);
    QCOMPARE(profile.has_value(), known);
    if (!known)
        return;
    QCOMPARE(profile->name, name);
    QVERIFY(profile->latencyMs > 0);
    QVERIFY(profile->jitterMs >= 0 && profile->jitterMs <= profile->latencyMs);
    QVERIFY(profile->bandwidthBytesPerSecond >= 0);
    QVERIFY(profile->stallProbabilityPerSecond >= 0);
    QVERIFY(profile->resetProbabilityPerSecond >= 0);
    QVERIFY(profile->blackholeProbabilityPerSecond >= 0);
    QVERIFY(profile->networkSwitchProbabilityPerSecond >= 0);
    QVERIFY(profile->stallProbabilityPerSecond == 0 || profile->stallMs > 0);
    QVERIFY(profile->blackholeProbabilityPerSecond == 0 || profile->blackholeMs > 0);
}

void tst_ImpairmentProxy::listenOnlyOnLoopback_data()
{
    QTest::addColumn<QHostAddress>("address");
    QTest::addColumn<bool>("accepted");

    QTest::newRow("IPv4 loopback") << QHostAddress(QHostAddress::LocalHost) << true;
    QTest::newRow("any address") << QHostAddress(QHostAddress::Any) << false;
    QTest::newRow("any IPv4 address") << QHostAddress(QHostAddress::AnyIPv4) << false;
}

void tst_ImpairmentProxy::listenOnlyOnLoopback()
{
    QFETCH(QHostAddress, address);
    QFETCH(bool, accepted);

    ImpairmentProxy proxy(QHostAddress::LocalHost, m_echo->port());
    QCOMPARE(proxy.listen(address), accepted);
    if (!accepted) {
        QVERIFY(!proxy.errorString().isEmpty());
        return;
    }
    QVERIFY(proxy.port() != 0);
    QCOMPARE(proxy.wsUrl(), QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(proxy.port())));
}

void tst_ImpairmentProxy::upstreamRefusedClosesClient()
{
    // A port that was free a moment ago: nothing listens there.
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    const quint16 closedPort = probe.serverPort();
    probe.close();

    ImpairmentProxy proxy(QHostAddress::LocalHost, closedPort);
    QVERIFY(proxy.listen());
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("upstream .* failed")));
    Client client;
    client.socket.open(proxy.wsUrl());
    QTRY_COMPARE_WITH_TIMEOUT(client.disconnects, 1, SlowMs);
    QTRY_COMPARE_WITH_TIMEOUT(proxy.connectionCount(), 0, SlowMs);
    QCOMPARE(proxy.counters().connectionsAccepted, quint64(1));
    QCOMPARE(proxy.counters().resets, quint64(0));
}

void tst_ImpairmentProxy::cleanCloseGoesThrough_data()
{
    QTest::addColumn<int>("latencyMs");

    QTest::newRow("no latency") << 0;
    QTest::newRow("30 ms each way") << 30;
}

void tst_ImpairmentProxy::cleanCloseGoesThrough()
{
    QFETCH(int, latencyMs);

    m_proxy->setLatency(latencyMs, 0);
    const std::unique_ptr<Client> client = connectClient();
    QVERIFY(client);
    QSignalSpy countChanged(m_proxy.get(), &ImpairmentProxy::connectionCountChanged);

    // The close handshake crosses the proxy both ways, then each TCP close follows its bytes.
    client->socket.close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("done"));
    QTRY_COMPARE_WITH_TIMEOUT(client->disconnects, 1, SlowMs);
    QTRY_COMPARE_WITH_TIMEOUT(m_echo->disconnects, 1, SlowMs);
    QCOMPARE(m_echo->sockets.first()->closeCode(), QWebSocketProtocol::CloseCodeNormal);
    QTRY_COMPARE_WITH_TIMEOUT(m_proxy->connectionCount(), 0, SlowMs);
    QCOMPARE(countChanged.size(), 1);
    QCOMPARE(m_proxy->counters().resets, quint64(0));
}

void tst_ImpairmentProxy::orderUnderLatencyAndJitter_data()
{
    QTest::addColumn<int>("latencyMs");
    QTest::addColumn<int>("jitterMs");

    QTest::newRow("no impairment") << 0 << 0;
    QTest::newRow("20 ms with 15 ms of jitter") << 20 << 15;
    QTest::newRow("jitter larger than the latency") << 5 << 30;
}

void tst_ImpairmentProxy::orderUnderLatencyAndJitter()
{
    QFETCH(int, latencyMs);
    QFETCH(int, jitterMs);
    const int messageCount = 200;

    m_proxy->setLatency(latencyMs, jitterMs);
    const std::unique_ptr<Client> client = connectClient();
    QVERIFY(client);

    const QStringList sent = numberedMessages(messageCount);
    for (const QString &message : sent)
        client->socket.sendTextMessage(message);

    QTRY_COMPARE_WITH_TIMEOUT(client->texts.size(), messageCount, SlowMs);
    QCOMPARE(client->texts, sent);
    QCOMPARE(m_echo->messagesReceived, messageCount);
    QCOMPARE(client->disconnects, 0);
}

void tst_ImpairmentProxy::latencyAddsDelay_data()
{
    QTest::addColumn<int>("latencyMs");

    QTest::newRow("50 ms each way") << 50;
    QTest::newRow("150 ms each way") << 150;
}

void tst_ImpairmentProxy::latencyAddsDelay()
{
    QFETCH(int, latencyMs);
    // A round trip crosses the proxy twice. The bound allows timers to round a millisecond
    // either way; the upper bound only catches a proxy that holds bytes far too long.
    const qint64 minimumMs = 2 * latencyMs - 2;
    const qint64 maximumMs = 2 * latencyMs + SlowMs / 2;

    m_proxy->setLatency(latencyMs, 0);
    const std::unique_ptr<Client> client = connectClient();
    QVERIFY(client);

    const qint64 roundTripMs = bestRoundTripMs(*client, 3);
    QVERIFY(roundTripMs >= 0);
    QVERIFY2(roundTripMs >= minimumMs, qPrintable(QString::number(roundTripMs)));
    QVERIFY2(roundTripMs <= maximumMs, qPrintable(QString::number(roundTripMs)));
}

void tst_ImpairmentProxy::bandwidthLimitsTransfer_data()
{
    QTest::addColumn<qint64>("bytesPerSecond");

    QTest::newRow("128 KiB/s") << qint64(128 * 1024);
    QTest::newRow("256 KiB/s") << qint64(256 * 1024);
}

void tst_ImpairmentProxy::bandwidthLimitsTransfer()
{
    QFETCH(qint64, bytesPerSecond);
    const int size = 256 * 1024;
    // Only a lower bound, and a loose one: the last slice may leave early, a slow machine only
    // makes it longer.
    const qint64 minimumMs = qint64(size) * 1000 / bytesPerSecond * 3 / 4;

    m_proxy->setBandwidth(bytesPerSecond);
    const std::unique_ptr<Client> client = connectClient();
    QVERIFY(client);

    QElapsedTimer timer;
    timer.start();
    client->socket.sendTextMessage(BlobRequest + QString::number(size));
    QTRY_COMPARE_WITH_TIMEOUT(client->binaries.size(), 1, SlowMs);
    const qint64 elapsedMs = timer.elapsed();

    QVERIFY2(elapsedMs >= minimumMs, qPrintable(QString::number(elapsedMs)));
    QVERIFY(client->binaries.first() == pattern(size));
    QVERIFY(m_proxy->counters().bytesUpstreamToClient > quint64(size));
}

void tst_ImpairmentProxy::stallHoldsBothDirections_data()
{
    QTest::addColumn<int>("stallMs");

    QTest::newRow("300 ms") << 300;
    QTest::newRow("700 ms") << 700;
}

void tst_ImpairmentProxy::stallHoldsBothDirections()
{
    QFETCH(int, stallMs);

    const std::unique_ptr<Client> client = connectClient();
    QVERIFY(client);

    m_proxy->stallAll(stallMs);
    const qint64 roundTripMs = bestRoundTripMs(*client, 1);
    QVERIFY2(roundTripMs >= stallMs - 2, qPrintable(QString::number(roundTripMs)));
    QCOMPARE(m_proxy->counters().stalls, quint64(1));
    QCOMPARE(client->disconnects, 0);

    // Once the stall is over the path is fast again.
    QVERIFY(bestRoundTripMs(*client, 1) >= 0);
}

void tst_ImpairmentProxy::resetDisconnects_data()
{
    QTest::addColumn<int>("clientCount");
    QTest::addColumn<int>("index"); // -1: resetAll()

    QTest::newRow("resetAll with one client") << 1 << -1;
    QTest::newRow("resetAll with three clients") << 3 << -1;
    QTest::newRow("reset of the second of three") << 3 << 1;
}

void tst_ImpairmentProxy::resetDisconnects()
{
    QFETCH(int, clientCount);
    QFETCH(int, index);

    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < clientCount; ++i) {
        clients.push_back(connectClient());
        QVERIFY(clients.back());
    }
    QCOMPARE(m_proxy->connectionCount(), clientCount);

    if (index < 0)
        m_proxy->resetAll();
    else
        QVERIFY(m_proxy->reset(index));

    const int expectedResets = index < 0 ? clientCount : 1;
    QTRY_COMPARE_WITH_TIMEOUT(m_echo->disconnects, expectedResets, SlowMs);
    for (int i = 0; i < clientCount; ++i) {
        const int expected = index < 0 || index == i ? 1 : 0;
        QTRY_COMPARE_WITH_TIMEOUT(clients[size_t(i)]->disconnects, expected, SlowMs);
    }
    QCOMPARE(m_proxy->counters().resets, quint64(expectedResets));
    QCOMPARE(m_proxy->connectionCount(), clientCount - expectedResets);
    QCOMPARE(m_proxy->counters().connectionsOpen, quint64(clientCount - expectedResets));
    QCOMPARE(m_proxy->counters().connectionsAccepted, quint64(clientCount));
    QVERIFY(!m_proxy->reset(clientCount));
}

void tst_ImpairmentProxy::blackholeHoldsWithoutClosing_data()
{
    QTest::addColumn<bool>("byIndex");

    QTest::newRow("blackholeAll") << false;
    QTest::newRow("blackhole of one connection") << true;
}

void tst_ImpairmentProxy::blackholeHoldsWithoutClosing()
{
    QFETCH(bool, byIndex);

    const std::unique_ptr<Client> client = connectClient();
    QVERIFY(client);
    QVERIFY(bestRoundTripMs(*client, 1) >= 0);
    const int textsBefore = client->texts.size();
    const int serverReceivedBefore = m_echo->messagesReceived;

    if (byIndex)
        QVERIFY(m_proxy->blackhole(0, true));
    else
        m_proxy->blackholeAll(true);
    client->socket.sendTextMessage(QStringLiteral("into the dark"));
    m_echo->sockets.first()->sendTextMessage(QStringLiteral("from the server"));
    QTest::qWait(QuietMs);

    QCOMPARE(client->texts.size(), textsBefore);
    QCOMPARE(m_echo->messagesReceived, serverReceivedBefore);
    QVERIFY(client->isConnected());
    QCOMPARE(m_echo->sockets.first()->state(), QAbstractSocket::ConnectedState);
    QCOMPARE(client->disconnects, 0);
    QCOMPARE(m_echo->disconnects, 0);
    QCOMPARE(m_proxy->counters().blackholes, quint64(1));

    // What was held is delivered once the path is back, in order, as TCP would retransmit it.
    if (byIndex)
        QVERIFY(m_proxy->blackhole(0, false));
    else
        m_proxy->blackholeAll(false);
    QTRY_COMPARE_WITH_TIMEOUT(client->texts.size(), textsBefore + 2, SlowMs);
    QCOMPARE(client->texts.mid(textsBefore),
        QStringList({QStringLiteral("from the server"), QStringLiteral("into the dark")}));
    QVERIFY(bestRoundTripMs(*client, 1) >= 0);
}

void tst_ImpairmentProxy::networkSwitchLeavesServerSideOpen()
{
    std::unique_ptr<Client> client = connectClient();
    QVERIFY(client);
    QVERIFY(bestRoundTripMs(*client, 1) >= 0);
    const quint16 oldPort = client->socket.localPort();

    m_proxy->networkSwitchAll();
    QTRY_COMPARE_WITH_TIMEOUT(client->disconnects, 1, SlowMs);

    // The server's side stays up: it has to find the dead connection by itself.
    QTest::qWait(QuietMs + QuietMs / 5);
    QCOMPARE(m_echo->disconnects, 0);
    QWebSocket *halfOpen = m_echo->sockets.first();
    QCOMPARE(halfOpen->state(), QAbstractSocket::ConnectedState);
    halfOpen->sendTextMessage(QStringLiteral("to nobody"));
    QCOMPARE(m_proxy->connectionCount(), 1);
    QCOMPARE(m_proxy->counters().networkSwitches, quint64(1));

    // The client comes back from a new source port as a new connection.
    client = connectClient();
    QVERIFY(client);
    QVERIFY(client->socket.localPort() != oldPort);
    QVERIFY(bestRoundTripMs(*client, 1) >= 0);
    QCOMPARE(m_echo->sockets.size(), 2);
    QCOMPARE(m_proxy->connectionCount(), 2);

    // When the server finally drops the dead connection, the proxy lets go of it too.
    halfOpen->abort();
    QTRY_COMPARE_WITH_TIMEOUT(m_proxy->connectionCount(), 1, SlowMs);
    QVERIFY(client->isConnected());
}

void tst_ImpairmentProxy::destructorClosesEverything()
{
    const std::unique_ptr<Client> live = connectClient();
    QVERIFY(live);
    const std::unique_ptr<Client> switched = connectClient();
    QVERIFY(switched);
    QVERIFY(m_proxy->networkSwitch(1));
    QTRY_COMPARE_WITH_TIMEOUT(switched->disconnects, 1, SlowMs);
    m_proxy->setProfile(*ImpairmentProfile::profile(QStringLiteral("urban-4g")));

    m_proxy.reset();
    QTRY_COMPARE_WITH_TIMEOUT(live->disconnects, 1, SlowMs);
    QTRY_COMPARE_WITH_TIMEOUT(m_echo->disconnects, 2, SlowMs);
}

void tst_ImpairmentProxy::randomFaultsFire_data()
{
    QTest::addColumn<Fault>("fault");
    QTest::addColumn<ImpairmentProfile>("profile");
    QTest::addColumn<bool>("clientDisconnects");

    // Rates far above any real network's, so each fault fires within a few ticks.
    const double often = 20.0;
    ImpairmentProfile resets;
    resets.name = QStringLiteral("resets");
    resets.resetProbabilityPerSecond = often;
    ImpairmentProfile stalls;
    stalls.name = QStringLiteral("stalls");
    stalls.latencyMs = 5;
    stalls.jitterMs = 5;
    stalls.stallProbabilityPerSecond = often;
    stalls.stallMs = 30;
    ImpairmentProfile blackholes;
    blackholes.name = QStringLiteral("blackholes");
    blackholes.blackholeProbabilityPerSecond = often;
    blackholes.blackholeMs = 100;
    ImpairmentProfile switches;
    switches.name = QStringLiteral("switches");
    switches.networkSwitchProbabilityPerSecond = often;

    QTest::newRow("resets") << Fault::Reset << resets << true;
    QTest::newRow("stalls keep order") << Fault::Stall << stalls << false;
    QTest::newRow("blackholes keep order") << Fault::Blackhole << blackholes << false;
    QTest::newRow("network switches") << Fault::Switch << switches << true;
}

void tst_ImpairmentProxy::randomFaultsFire()
{
    QFETCH(Fault, fault);
    QFETCH(ImpairmentProfile, profile);
    QFETCH(bool, clientDisconnects);
    const int messageCount = 50;

    const std::unique_ptr<Client> client = connectClient();
    QVERIFY(client);
    m_proxy->setSeed(42);
    m_proxy->setProfile(profile);

    const QStringList sent = numberedMessages(messageCount);
    for (const QString &message : sent)
        client->socket.sendTextMessage(message);
    QTRY_VERIFY_WITH_TIMEOUT(faultCount(m_proxy->counters(), fault) > 0, SlowMs);

    if (clientDisconnects) {
        QTRY_COMPARE_WITH_TIMEOUT(client->disconnects, 1, SlowMs);
        // Whatever arrived before the fault arrived in order.
        QCOMPARE(client->texts, sent.mid(0, client->texts.size()));
        // A reset closes the server's side too; a switch leaves it open.
        QTRY_COMPARE_WITH_TIMEOUT(m_echo->disconnects, fault == Fault::Reset ? 1 : 0, SlowMs);
        return;
    }
    QTRY_COMPARE_WITH_TIMEOUT(client->texts.size(), messageCount, SlowMs);
    QCOMPARE(client->texts, sent);
    QCOMPARE(client->disconnects, 0);
}

void tst_ImpairmentProxy::namedProfileForwards_data()
{
    QTest::addColumn<QString>("name");

    for (const QString &name : ImpairmentProfile::profileNames())
        QTest::newRow(qPrintable(name)) << name;
}

void tst_ImpairmentProxy::namedProfileForwards()
{
    QFETCH(QString, name);
    const int messageCount = 5;
    // Long enough for a few round trips on the slowest profile.
    const int runMs = 3000;

    const std::optional<ImpairmentProfile> profile = ImpairmentProfile::profile(name);
    QVERIFY(profile);
    const bool faultFree = profile->stallProbabilityPerSecond == 0
        && profile->resetProbabilityPerSecond == 0 && profile->blackholeProbabilityPerSecond == 0
        && profile->networkSwitchProbabilityPerSecond == 0;
    m_proxy->setSeed(7);
    m_proxy->setProfile(*profile);

    Client client;
    client.socket.open(m_proxy->wsUrl());
    // The upgrade itself crosses the impaired path both ways.
    QTRY_VERIFY_WITH_TIMEOUT(m_proxy->counters().bytesUpstreamToClient > 0, SlowMs);
    QVERIFY(m_proxy->counters().bytesClientToUpstream > 0);
    QVERIFY(
        QTest::qWaitFor([&] { return client.isConnected() || client.disconnects > 0; }, SlowMs));

    const QStringList sent = numberedMessages(messageCount);
    bool ranToEnd = false;
    if (client.isConnected()) {
        for (const QString &message : sent)
            client.socket.sendTextMessage(message);
        ranToEnd = QTest::qWaitFor(
            [&] { return client.texts.size() == messageCount || client.disconnects > 0; }, runMs);
    }

    // A fault may cut the run short, but what arrived is intact and in order.
    QCOMPARE(client.texts, sent.mid(0, client.texts.size()));
    if (faultFree) {
        QVERIFY(ranToEnd);
        QCOMPARE(client.texts, sent);
        QCOMPARE(client.disconnects, 0);
    }
}

QTEST_GUILESS_MAIN(tst_ImpairmentProxy)

#include "tst_impairmentproxy.moc"
