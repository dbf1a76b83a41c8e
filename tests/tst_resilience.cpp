// Sessions that survive real networks: drops, blackholes, network switches, storms.
// Real QWebSockets over loopback, through the impairment proxy where the network must be bad.

#include "clock.h"
#include "feed.h"
#include "feedclient.h"
#include "impairmentproxy.h"
#include "server.h"
#include "simulator.h"
#ifdef ODDSDESK_WITH_UI
#include "sessionreport.h"
#endif

#include <QJsonArray>
#include <QJsonObject>
#include <QSignalSpy>
#include <QtTest>

#include <algorithm>
#include <memory>
#include <vector>

using namespace OddsDesk;
using OddsDesk::Testing::ImpairmentProfile;
using OddsDesk::Testing::ImpairmentProxy;

namespace {

BookData testBook(int events)
{
    BookData book;
    quint32 selectionId = 1;
    for (int e = 1; e <= events; ++e) {
        const quint32 id = quint32(e);
        book.events.append(EventInfo {id, QStringLiteral("Home %1 v Away %1").arg(e),
            QStringLiteral("Test League"), QString(), QString(), 0});
        MarketInfo market;
        market.id = id;
        market.eventId = id;
        market.name = QStringLiteral("Match Odds");
        market.kind = QStringLiteral("1x2");
        market.selections = {{selectionId++, QStringLiteral("Home"), 250, false},
            {selectionId++, QStringLiteral("Draw"), 330, false},
            {selectionId++, QStringLiteral("Away"), 300, false}};
        book.markets.append(market);
    }
    return book;
}

// Checks every selection's price and every market's status, the way a punter would see them.
bool sameBook(const Book &a, const Book &b, QString *difference)
{
    for (const MarketInfo &market : b.markets()) {
        const MarketInfo *mine = a.market(market.id);
        if (!mine) {
            *difference = QStringLiteral("market %1 missing").arg(market.id);
            return false;
        }
        if (mine->status != market.status) {
            *difference = QStringLiteral("market %1 status differs").arg(market.id);
            return false;
        }
        for (const SelectionInfo &s : market.selections) {
            const SelectionInfo *theirs = mine->selection(s.id);
            if (!theirs || theirs->price != s.price) {
                *difference = QStringLiteral("selection %1: %2 against %3")
                                  .arg(s.id)
                                  .arg(theirs ? theirs->price : 0)
                                  .arg(s.price);
                return false;
            }
        }
    }
    return a.marketCount() == b.marketCount();
}

} // namespace

class tst_Resilience : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void reconnectStormIsSpreadByJitter();
    void blackholedClientGoesStaleAndResumes();
    void blackholedSessionTimelineTellsTheStory();
    void lateTimeoutOfOldConnectionSparesNewOne();
    void impairedNetworkEndsWithEqualBook_data();
    void impairedNetworkEndsWithEqualBook();
    void overloadAnswersRetryAfter();

private:
    FeedClientConfig clientConfig(const QUrl &url) const;

    std::unique_ptr<Feed> m_feed;
    std::unique_ptr<FeedServer> m_server;
    ServerConfig m_config;
};

void tst_Resilience::init()
{
    m_config = ServerConfig();
    m_config.port = 0;
    // Short heartbeats keep the suite quick; the logic is the same at 2 s.
    m_config.heartbeatIntervalMs = 300;
    m_feed = std::make_unique<Feed>();
    m_feed->resetBook(testBook(50));
    m_server = std::make_unique<FeedServer>(m_feed.get(), m_config);
    QVERIFY2(m_server->listen(), qPrintable(m_server->errorString()));
}

void tst_Resilience::cleanup()
{
    m_server.reset();
    m_feed.reset();
}

FeedClientConfig tst_Resilience::clientConfig(const QUrl &url) const
{
    FeedClientConfig config;
    config.url = url;
    config.backoffBaseMs = 100;
    config.backoffCapMs = 1000;
    return config;
}

void tst_Resilience::reconnectStormIsSpreadByJitter()
{
    // The default heartbeat: 500 clients in this one thread must not look dead to each
    // other while the storm keeps the event loop busy.
    m_server.reset();
    m_config.heartbeatIntervalMs = ServerConfig().heartbeatIntervalMs;
    m_server = std::make_unique<FeedServer>(m_feed.get(), m_config);
    QVERIFY(m_server->listen());

    constexpr int Clients = 500;
    std::vector<std::unique_ptr<FeedClient>> clients;
    std::vector<qint64> reconnectAtUs;
    clients.reserve(Clients);
    FeedClientConfig config = clientConfig(m_server->url());
    config.backoffBaseMs = 500; // the defaults a punter's app has
    config.backoffCapMs = 20000;
    for (int i = 0; i < Clients; ++i) {
        auto client = std::make_unique<FeedClient>(config);
        FeedClient *c = client.get();
        // The moment each client chose to come back. (When the timers fire in this one test
        // process they also queue behind each other's work, which punters' phones do not.)
        connect(c, &FeedClient::reconnectScheduled, this, [&reconnectAtUs](int, int delayMs) {
            reconnectAtUs.push_back(monotonicMicros() + qint64(delayMs) * 1000);
        });
        client->start();
        clients.push_back(std::move(client));
    }
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(clients.cbegin(), clients.cend(),
                                 [](const auto &c) { return c->stats().snapshots == 1; }),
        30000);

    // The server restarts: everyone is dropped in the same instant.
    m_server->closeAll(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("restarting"));
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(clients.cbegin(), clients.cend(),
                                 [](const auto &c) { return c->stats().resumes >= 1; }),
        40000);
    for (const auto &c : clients)
        QCOMPARE(c->stats().resumes, 1u);

    QCOMPARE(int(reconnectAtUs.size()), Clients);
    std::sort(reconnectAtUs.begin(), reconnectAtUs.end());
    // The largest number of reconnects in any 100 ms window.
    int worst = 0;
    for (size_t i = 0, j = 0; i < reconnectAtUs.size(); ++i) {
        while (reconnectAtUs[i] - reconnectAtUs[j] >= 100000)
            ++j;
        worst = qMax(worst, int(i - j + 1));
    }
    qInfo("reconnects spread over %.2f s; at most %d in any 100 ms window",
        double(reconnectAtUs.back() - reconnectAtUs.front()) / 1e6, worst);
    QVERIFY2(worst <= Clients / 10, qPrintable(QString::number(worst)));
    for (const auto &c : clients) {
        QCOMPARE(c->stats().snapshotFallbacks, 0u);
        QCOMPARE(c->stats().snapshots, 1u);
    }
}

void tst_Resilience::blackholedClientGoesStaleAndResumes()
{
    ImpairmentProxy proxy(QHostAddress::LocalHost, m_server->port());
    QVERIFY(proxy.listen());
    FeedClientConfig config = clientConfig(proxy.wsUrl());
    FeedClient client(config);
    QSignalSpy stale(&client, &FeedClient::staleChanged);
    QSignalSpy welcomed(&client, &FeedClient::welcomed);
    client.start();
    QTRY_COMPARE(client.stats().snapshots, 1u);
    const QString session = client.sessionId();

    // The network goes silent without closing anything.
    const qint64 blackholedUs = monotonicMicros();
    const qint64 blackholedMs = wallMillis();
    proxy.blackholeAll(true);
    QVERIFY(m_feed->setPrice(1, 400).isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(stale.count() >= 1, 5000);
    QCOMPARE(stale.first().first().toBool(), true);
    const qint64 staleAfterMs = (monotonicMicros() - blackholedUs) / 1000;
    // Three heartbeats of silence, plus the liveness check's own granularity.
    QVERIFY2(staleAfterMs <= 3 * m_config.heartbeatIntervalMs + 600,
        qPrintable(QString::number(staleAfterMs)));

    // The server, too, is done with the dead half within three heartbeats of silence: it
    // closes it as dead, or, if the client came back first over a fresh connection (the
    // proxy blackholes only the connections it had), the resume takes it over.
    const Session *record = m_server->session(session);
    QVERIFY(record);
    auto deadHalfClosed = [&] {
        return std::any_of(
            record->timeline.cbegin(), record->timeline.cend(), [&](const TimelineEntry &e) {
                return e.timeMs >= blackholedMs
                    && (e.kind == QLatin1String("dead") || e.kind == QLatin1String("taken-over"));
            });
    };
    QTRY_VERIFY_WITH_TIMEOUT(deadHalfClosed(), 5000);
    const auto closing = std::find_if(
        record->timeline.cbegin(), record->timeline.cend(), [&](const TimelineEntry &e) {
            return e.timeMs >= blackholedMs
                && (e.kind == QLatin1String("dead") || e.kind == QLatin1String("taken-over"));
        });
    QVERIFY2(closing->timeMs - blackholedMs <= 3 * m_config.heartbeatIntervalMs + 600,
        qPrintable(QString::number(closing->timeMs - blackholedMs)));

    // The network comes back: the client resumes the same session and catches up.
    proxy.blackholeAll(false);
    QTRY_VERIFY_WITH_TIMEOUT(welcomed.count() >= 2 && welcomed.last().first().toBool(), 10000);
    QCOMPARE(client.sessionId(), session);
    QTRY_COMPARE(client.book().market(1)->selection(1)->price, 400u);
    QCOMPARE(client.stats().duplicates, 0u);
    QVERIFY(client.lastSequence() == m_feed->headSequence());

    // The stale period arrives in the session's timeline as the client reported it.
    QTRY_VERIFY_WITH_TIMEOUT(std::any_of(m_server->session(session)->timeline.cbegin(),
                                 m_server->session(session)->timeline.cend(),
                                 [](const TimelineEntry &e) {
                                     return e.source == TimelineEntry::Source::Client
                                         && e.kind == QLatin1String("stale");
                                 }),
        5000);
}

namespace {

// The index of the first entry at or after \a from that \a matches, or -1.
template <typename Match>
int indexOf(const QVector<TimelineEntry> &timeline, int from, Match matches)
{
    for (int i = qMax(0, from); i < timeline.size(); ++i) {
        if (matches(timeline.at(i)))
            return i;
    }
    return -1;
}

QString describe(const QVector<TimelineEntry> &timeline)
{
    QStringList lines;
    for (const TimelineEntry &e : timeline) {
        lines.append(QStringLiteral("%1 %2 %3: %4")
                         .arg(e.timeMs)
                         .arg(e.source == TimelineEntry::Source::Client ? "client" : "engine")
                         .arg(e.kind, e.detail));
    }
    return lines.join(QLatin1Char('\n'));
}

} // namespace

void tst_Resilience::blackholedSessionTimelineTellsTheStory()
{
    // A heartbeat of a second keeps the test near half a minute while the twenty seconds of
    // blackhole are still twenty heartbeats.
    m_server.reset();
    m_config.heartbeatIntervalMs = 1000;
    m_server = std::make_unique<FeedServer>(m_feed.get(), m_config);
    QVERIFY(m_server->listen());
    ImpairmentProxy proxy(QHostAddress::LocalHost, m_server->port());
    QVERIFY(proxy.listen());

    FeedClientConfig config = clientConfig(proxy.wsUrl());
    // Both sides wait for three heartbeats of silence by default, so the server's close of
    // the dead connection and the client's first reconnect attempt come within the same
    // quarter second, in either order. A client more patient by one heartbeat makes the
    // order certain: the server closes first.
    config.staleAfterHeartbeats = m_config.deadAfterHeartbeats + 1;
    // An app that gives a hanging attempt three seconds: twenty seconds hold several.
    config.connectTimeoutMs = 3000;
    FeedClient client(config);
    QSignalSpy welcomed(&client, &FeedClient::welcomed);
    QSignalSpy scheduled(&client, &FeedClient::reconnectScheduled);
    client.start();
    QTRY_COMPARE(client.stats().snapshots, 1u);
    const QString session = client.sessionId();

    // Prices move all along, so both sides hear from each other (deltas one way, acks the
    // other) up to the moment the network goes; each side's silence starts there.
    PriceSimulator simulator(m_feed.get());
    simulator.setSeed(7);
    simulator.setRate(20);
    simulator.setEnabled(true);
    QTRY_VERIFY(client.stats().deltasApplied >= 10);

    // Twenty seconds of a network that drops every packet, reconnect attempts included.
    constexpr int BlackholeMs = 20000;
    proxy.blackholeNetwork(true);
    QTest::qWait(BlackholeMs);
    proxy.blackholeNetwork(false);
    QTRY_VERIFY_WITH_TIMEOUT(welcomed.count() >= 2, 10000);
    QVERIFY(welcomed.last().first().toBool());
    QCOMPARE(client.sessionId(), session);
    simulator.setEnabled(false);
    m_feed->flush();
    QTRY_COMPARE(client.lastSequence(), m_feed->headSequence());

    // Each attempt into the blackhole was given up after the connect timeout.
    QVERIFY2(scheduled.count() >= 3, qPrintable(QString::number(scheduled.count())));
    QStringList attempts;
    for (const QList<QVariant> &s : std::as_const(scheduled))
        attempts.append(
            QStringLiteral("attempt %1 after %2 ms").arg(s.at(0).toInt()).arg(s.at(1).toInt()));

    // The client's reports of the stale period and of the resume arrive after the welcome.
    const auto hasClientEntry = [&](const QString &kind) {
        const std::optional<SessionDetail> detail = m_server->sessionDetail(session);
        return detail && indexOf(detail->timeline, 0, [&](const TimelineEntry &e) {
            return e.source == TimelineEntry::Source::Client && e.kind == kind;
        }) >= 0;
    };
    QTRY_VERIFY_WITH_TIMEOUT(hasClientEntry(QStringLiteral("client-resumed")), 5000);
    const std::optional<SessionDetail> detail = m_server->sessionDetail(session);
    QVERIFY(detail);
    const QVector<TimelineEntry> &timeline = detail->timeline;
    const QString story = describe(timeline);

    // In order: the stale period as the client reported it, timed from when it began...
    const int stale = indexOf(timeline, 0, [](const TimelineEntry &e) {
        return e.source == TimelineEntry::Source::Client && e.kind == QLatin1String("stale");
    });
    QVERIFY2(stale >= 0, qPrintable(story));
    // ...and lasting from the last message before the blackhole to the welcome after it.
    const qint64 staleMs = timeline.at(stale).detail.section(QLatin1Char(' '), 0, 0).toLongLong();
    QVERIFY2(staleMs >= BlackholeMs - 100, qPrintable(story));
    // The server's close of the dead connection.
    const int dead = indexOf(timeline, stale, [](const TimelineEntry &e) {
        return e.source == TimelineEntry::Source::Engine && e.kind == QLatin1String("dead");
    });
    QVERIFY2(dead > stale, qPrintable(story));
    const int closed = indexOf(timeline, dead, [](const TimelineEntry &e) {
        return e.source == TimelineEntry::Source::Engine && e.kind == QLatin1String("closed");
    });
    QVERIFY2(closed > dead, qPrintable(story));
    QVERIFY2(
        timeline.at(closed).detail.contains(QStringLiteral("presumed dead")), qPrintable(story));
    // The reconnect attempts with their delays, as the client made them.
    int at = closed;
    for (const QString &attempt : std::as_const(attempts)) {
        at = indexOf(timeline, at + 1, [&](const TimelineEntry &e) {
            return e.source == TimelineEntry::Source::Client
                && e.kind == QLatin1String("reconnect-attempt") && e.detail == attempt;
        });
        QVERIFY2(
            at >= 0, qPrintable(attempt + QStringLiteral(" missing or out of order in\n") + story));
    }
    // And the resume.
    const int resumed = indexOf(timeline, at, [](const TimelineEntry &e) {
        return e.source == TimelineEntry::Source::Engine && e.kind == QLatin1String("resumed");
    });
    QVERIFY2(resumed > at, qPrintable(story));
    // No attempt sorts before the server's close.
    const int firstAttempt = indexOf(timeline, 0,
        [](const TimelineEntry &e) { return e.kind == QLatin1String("reconnect-attempt"); });
    QVERIFY2(firstAttempt > closed, qPrintable(story));

#ifdef ODDSDESK_WITH_UI
    // The report support staff copy into a ticket holds the same entries in the same order.
    const QJsonArray report
        = sessionReport(*detail).object().value(QStringLiteral("timeline")).toArray();
    QCOMPARE(report.size(), timeline.size());
    for (int i = 0; i < timeline.size(); ++i) {
        const QJsonObject entry = report.at(i).toObject();
        const TimelineEntry &e = timeline.at(i);
        QCOMPARE(entry.value(QStringLiteral("timeMs")).toInteger(), e.timeMs);
        QCOMPARE(entry.value(QStringLiteral("source")).toString(),
            e.source == TimelineEntry::Source::Client ? QStringLiteral("client")
                                                      : QStringLiteral("engine"));
        QCOMPARE(entry.value(QStringLiteral("kind")).toString(), e.kind);
        QCOMPARE(entry.value(QStringLiteral("detail")).toString(), e.detail);
    }
#endif
}

void tst_Resilience::lateTimeoutOfOldConnectionSparesNewOne()
{
    ImpairmentProxy proxy(QHostAddress::LocalHost, m_server->port());
    QVERIFY(proxy.listen());
    FeedClient client(clientConfig(proxy.wsUrl()));
    QSignalSpy welcomed(&client, &FeedClient::welcomed);
    client.start();
    QTRY_COMPARE(client.stats().snapshots, 1u);
    const QString session = client.sessionId();

    // The phone moves to another network: its side dies at once, the server's side is left
    // half-open. The client comes back and takes the session over before the server has
    // given up on the old connection.
    proxy.networkSwitch(0);
    QTRY_VERIFY_WITH_TIMEOUT(welcomed.count() == 2, 5000);
    QVERIFY(welcomed.last().first().toBool());
    QCOMPARE(client.sessionId(), session);

    // Well past the old connection's dead-connection deadline, the new one still works.
    QTest::qWait(4 * m_config.heartbeatIntervalMs);
    QCOMPARE(client.state(), FeedClient::State::Live);
    QVERIFY(m_server->session(session)->connection);
    QVERIFY(m_feed->setPrice(4, 555).isEmpty());
    QTRY_COMPARE(client.book().market(2)->selection(4)->price, 555u);
    QCOMPARE(welcomed.count(), 2);
    const auto &timeline = m_server->session(session)->timeline;
    QVERIFY(std::any_of(timeline.cbegin(), timeline.cend(),
        [](const TimelineEntry &e) { return e.kind == QLatin1String("taken-over"); }));
}

void tst_Resilience::impairedNetworkEndsWithEqualBook_data()
{
    QTest::addColumn<QString>("profile");
    QTest::newRow("urban 4g") << "urban-4g";
    QTest::newRow("weak signal") << "weak-signal";
    QTest::newRow("network switch") << "network-switch";
    QTest::newRow("match-day burst") << "match-day-burst";
}

void tst_Resilience::impairedNetworkEndsWithEqualBook()
{
    QFETCH(QString, profile);
    ImpairmentProxy proxy(QHostAddress::LocalHost, m_server->port());
    QVERIFY(proxy.listen());
    proxy.setSeed(42);
    const auto chosen = ImpairmentProfile::profile(profile);
    QVERIFY(chosen);
    proxy.setProfile(*chosen);

    constexpr int Clients = 4;
    std::vector<std::unique_ptr<FeedClient>> clients;
    QHash<FeedClient *, quint64> appliedUpTo;
    int interruptions = 0;
    int told = 0;
    int comebacks = 0;
    for (int i = 0; i < Clients; ++i) {
        auto client = std::make_unique<FeedClient>(clientConfig(proxy.wsUrl()));
        FeedClient *c = client.get();
        // Every sequence applied exactly once: each delta starts right after the last.
        connect(c, &FeedClient::snapshotApplied, this,
            [c, &appliedUpTo](quint64 s) { appliedUpTo[c] = s; });
        connect(c, &FeedClient::deltaApplied, this,
            [c, &appliedUpTo](const BookChanges &changes, quint64 to) {
                if (!changes.isEmpty())
                    QVERIFY(changes.first().sequence > appliedUpTo.value(c));
                appliedUpTo[c] = to;
            });
        connect(c, &FeedClient::disconnected, this, [&interruptions] { ++interruptions; });
        connect(c, &FeedClient::welcomed, this, [&told] { ++told; });
        client->start();
        clients.push_back(std::move(client));
    }

    // A long simulated feed under the profile's drops, stalls, blackholes and switches.
    PriceSimulator simulator(m_feed.get());
    simulator.setSeed(3);
    simulator.setRate(300);
    simulator.setEnabled(true);
    // Besides the profile's own random faults, one of each kind at a known moment, so that
    // every run has interruptions of every sort to come back from.
    QTimer::singleShot(2000, &proxy, [&proxy] { proxy.reset(0); });
    QTimer::singleShot(4000, &proxy, [&proxy] { proxy.networkSwitch(1); });
    QTimer::singleShot(5000, &proxy, [&proxy] { proxy.blackhole(2, true); });
    QTimer::singleShot(7000, &proxy, [&proxy] { proxy.resetAll(); });
    QTimer::singleShot(9000, &proxy, [&proxy] { proxy.blackholeAll(false); });
    QTest::qWait(12000);
    simulator.setEnabled(false);
    m_feed->flush();

    // Then the network heals and every client catches up.
    proxy.setProfile(*ImpairmentProfile::profile(QStringLiteral("stable-broadband")));
    proxy.blackholeAll(false);
    for (const auto &c : clients) {
        QTRY_VERIFY_WITH_TIMEOUT(
            c->state() == FeedClient::State::Live && c->lastSequence() == m_feed->headSequence(),
            40000);
        QString difference;
        QVERIFY2(sameBook(c->book(), m_feed->book(), &difference), qPrintable(difference));
        QCOMPARE(c->stats().duplicates, 0u);
        QCOMPARE(c->stats().decodeErrors, 0u);
        comebacks += int(c->stats().resumes + c->stats().snapshotFallbacks);
    }
    qInfo("%s: %d interruptions, %d welcomes, head %llu", qPrintable(profile), interruptions, told,
        m_feed->headSequence());
    // Every interruption was either resumed or re-snapshotted, and the welcome said which.
    QVERIFY(interruptions > 0);
    QVERIFY(comebacks > 0);
    QVERIFY(told >= Clients + comebacks);
}

void tst_Resilience::overloadAnswersRetryAfter()
{
    m_server.reset();
    m_config.maxAcceptsPerSecond = 5;
    m_server = std::make_unique<FeedServer>(m_feed.get(), m_config);
    QVERIFY(m_server->listen());

    std::vector<std::unique_ptr<FeedClient>> clients;
    int overloaded = 0;
    for (int i = 0; i < 20; ++i) {
        auto client = std::make_unique<FeedClient>(clientConfig(m_server->url()));
        connect(client.get(), &FeedClient::serverError, this, [&overloaded](int code) {
            if (code == pb::Error::CODE_OVERLOADED)
                ++overloaded;
        });
        client->start();
        clients.push_back(std::move(client));
    }
    // Some are told to come back later; they do, after the hint, and all get in.
    QTRY_VERIFY_WITH_TIMEOUT(overloaded > 0, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(clients.cbegin(), clients.cend(),
                                 [](const auto &c) { return c->stats().snapshots >= 1; }),
        30000);
    QVERIFY(m_server->takeMetrics().overloadRefusals > 0);
}

QTEST_GUILESS_MAIN(tst_Resilience)
#include "tst_resilience.moc"
