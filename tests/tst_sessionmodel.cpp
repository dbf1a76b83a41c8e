#include "sessionfiltermodel.h"
#include "sessionformat.h"
#include "sessionmodel.h"

#include <QAbstractItemModelTester>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QtTest>

#include <memory>

using namespace OddsDesk;

namespace {

// The audience the inspector must stay usable with.
constexpr int ManySessions = 20000;
constexpr qint64 StartMs = 1715680800000; // 2024-05-14 10:00 UTC

QString sessionId(int n)
{
    return QStringLiteral("%1").arg(n, 16, 16, QLatin1Char('0'));
}

// A plausible session: names, versions and addresses repeat the way a real audience's do,
// latencies spread from under a millisecond to a few slow phones.
SessionSummary session(int n)
{
    static const QStringList clients
        = {QStringLiteral("web"), QStringLiteral("ios"), QStringLiteral("android")};
    SessionSummary s;
    s.id = sessionId(n);
    s.clientName = clients.at(n % clients.size());
    s.clientVersion = QStringLiteral("2.%1").arg(n % 7);
    s.user = n % 5 == 0 ? QString() : QStringLiteral("punter%1").arg(n);
    s.remoteAddress = QStringLiteral("10.%1.%2.%3:%4")
                          .arg((n >> 16) & 0xff)
                          .arg((n >> 8) & 0xff)
                          .arg(n & 0xff)
                          .arg(40000 + n % 20000);
    s.connected = n % 50 != 0;
    s.createdMs = StartMs + n;
    s.connectedSinceMs = StartMs + n;
    s.reconnects = n % 11 == 0 ? 2 : 0;
    s.resumes = s.reconnects;
    s.lag = n % 3;
    s.latencyP50Us = 400 + n % 900;
    s.latencyP99Us = 900 + (n * 7919) % 250000;
    s.framesOut = 100 + n % 1000;
    s.bytesOut = 40000 + n % 10000;
    s.queuedBytes = n % 4 == 3 ? 14200 + n : 0;
    s.owedDeltas = n % 8 == 7 ? 30 + n : 0;
    return s;
}

QVector<SessionSummary> sessions(int count, int first = 0)
{
    QVector<SessionSummary> list;
    list.reserve(count);
    for (int n = first; n < first + count; ++n)
        list.append(session(n));
    return list;
}

// Everything a model can say about its rows, recorded for one update.
struct Signals
{
    explicit Signals(QAbstractItemModel *model)
        : reset(model, &QAbstractItemModel::modelReset)
        , layout(model, &QAbstractItemModel::layoutChanged)
        , changed(model, &QAbstractItemModel::dataChanged)
        , inserted(model, &QAbstractItemModel::rowsInserted)
        , removed(model, &QAbstractItemModel::rowsRemoved)
    { }

    void clear()
    {
        for (QSignalSpy *spy : {&reset, &layout, &changed, &inserted, &removed})
            spy->clear();
    }

    QSignalSpy reset;
    QSignalSpy layout;
    QSignalSpy changed;
    QSignalSpy inserted;
    QSignalSpy removed;
};

struct Range
{
    int first;
    int last;
};

} // namespace

class tst_SessionModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void firstFillResets();
    void updatesAreMinimal_data();
    void updatesAreMinimal();
    void changedCellsAreTheSmallestRectangle_data();
    void changedCellsAreTheSmallestRectangle();
    void cells_data();
    void cells();
    void searchNarrows_data();
    void searchNarrows();
    void worstFirstAndKeptSorted();
    void twentyThousandSessions();

private:
    std::unique_ptr<SessionModel> m_model;
    std::unique_ptr<SessionFilterModel> m_proxy;
    std::unique_ptr<QAbstractItemModelTester> m_modelTester;
    std::unique_ptr<QAbstractItemModelTester> m_proxyTester;
};

void tst_SessionModel::init()
{
    m_model = std::make_unique<SessionModel>();
    m_proxy = std::make_unique<SessionFilterModel>();
    m_proxy->setSessionModel(m_model.get());
    m_modelTester = std::make_unique<QAbstractItemModelTester>(
        m_model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    m_proxyTester = std::make_unique<QAbstractItemModelTester>(
        m_proxy.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
}

void tst_SessionModel::cleanup()
{
    m_proxyTester.reset();
    m_modelTester.reset();
    m_proxy.reset();
    m_model.reset();
}

void tst_SessionModel::firstFillResets()
{
    Signals spy(m_model.get());
    m_model->updateSessions({});
    QCOMPARE(spy.reset.count(), 0); // nothing to show yet: nothing said
    m_model->updateSessions(sessions(100));
    QCOMPARE(spy.reset.count(), 1);
    QCOMPARE(spy.inserted.count(), 0);
    QCOMPARE(m_model->rowCount(), 100);
    QVERIFY(m_model->lastUpdate().reset);
    QCOMPARE(m_model->connectedCount(), 98); // sessions 0 and 50 are retained
    QCOMPARE(m_model->retainedCount(), 2);

    // Once filled, even emptied and filled again, it never resets.
    spy.clear();
    m_model->updateSessions({});
    QCOMPARE(m_model->rowCount(), 0);
    m_model->updateSessions(sessions(10));
    QCOMPARE(spy.reset.count(), 0);
    QCOMPARE(spy.removed.count(), 1);
    QCOMPARE(spy.inserted.count(), 1);
    QCOMPARE(m_model->rowCount(), 10);
}

void tst_SessionModel::updatesAreMinimal_data()
{
    QTest::addColumn<QVector<SessionSummary>>("next");
    QTest::addColumn<int>("changedSignals");
    QTest::addColumn<int>("insertedSignals");
    QTest::addColumn<QVector<int>>("removedRanges"); // first and last row of each, in order
    QTest::addColumn<int>("rows");

    const int n = 200;
    const auto base = [n] { return sessions(n); };

    QTest::newRow("nothing changed") << base() << 0 << 0 << QVector<int>() << n;

    QVector<SessionSummary> one = base();
    one[17].latencyP99Us += 1000;
    QTest::newRow("one latency") << one << 1 << 0 << QVector<int>() << n;

    QVector<SessionSummary> adjacent = base();
    for (int i = 40; i < 45; ++i)
        adjacent[i].bytesOut += 512;
    QTest::newRow("five adjacent rows: one rectangle") << adjacent << 1 << 0 << QVector<int>() << n;

    QVector<SessionSummary> apart = base();
    apart[3].lag = 99;
    apart[150].gaps = 1;
    apart[151].gaps = 1;
    QTest::newRow("two runs apart: two rectangles") << apart << 2 << 0 << QVector<int>() << n;

    QVector<SessionSummary> most = base();
    for (int i = 0; i < n; i += 2)
        most[i].framesOut += 1; // half the rows...
    most[1].framesOut += 1; // ...and one more: most of them
    QTest::newRow("most rows changed: one signal") << most << 1 << 0 << QVector<int>() << n;

    QTest::newRow("three new sessions: one insertion")
        << base() + sessions(3, 1000) << 0 << 1 << QVector<int>() << n + 3;

    QVector<SessionSummary> gone = base();
    gone.remove(60);
    QTest::newRow("one gone") << gone << 0 << 0 << QVector<int> {60, 60} << n - 1;

    QVector<SessionSummary> run = base();
    run.remove(10, 20);
    QTest::newRow("twenty adjacent gone: one removal")
        << run << 0 << 0 << QVector<int> {10, 29} << n - 20;

    QVector<SessionSummary> scattered = base();
    scattered.remove(150, 5);
    scattered.remove(20, 2);
    // Removed bottom up, so that each range is numbered as the view still has it.
    QTest::newRow("two runs gone: two removals, bottom first")
        << scattered << 0 << 0 << QVector<int> {150, 154, 20, 21} << n - 7;

    // The engine lists sessions in its own hash order: the order of the list is not news.
    QVector<SessionSummary> shuffled = base();
    std::reverse(shuffled.begin(), shuffled.end());
    QTest::newRow("same sessions, another order") << shuffled << 0 << 0 << QVector<int>() << n;

    QVector<SessionSummary> mixed = base();
    mixed[100].connected = false;
    mixed[101].latencyP50Us += 10;
    mixed.remove(5);
    mixed += sessions(2, 5000);
    QTest::newRow("changed, new and gone in one list")
        << mixed << 1 << 1 << QVector<int> {5, 5} << n - 1 + 2;
}

void tst_SessionModel::updatesAreMinimal()
{
    QFETCH(QVector<SessionSummary>, next);
    QFETCH(int, changedSignals);
    QFETCH(int, insertedSignals);
    QFETCH(QVector<int>, removedRanges);
    QFETCH(int, rows);

    m_model->updateSessions(sessions(200));
    Signals spy(m_model.get());
    m_model->updateSessions(next);

    QCOMPARE(spy.reset.count(), 0);
    QCOMPARE(spy.layout.count(), 0);
    QCOMPARE(spy.changed.count(), changedSignals);
    QCOMPARE(spy.inserted.count(), insertedSignals);
    QCOMPARE(spy.removed.count(), int(removedRanges.size() / 2));
    for (int i = 0; i < spy.removed.count(); ++i) {
        QCOMPARE(spy.removed.at(i).at(1).toInt(), removedRanges.at(2 * i));
        QCOMPARE(spy.removed.at(i).at(2).toInt(), removedRanges.at(2 * i + 1));
    }
    if (insertedSignals > 0)
        QCOMPARE(spy.inserted.at(0).at(2).toInt(), rows - 1); // appended at the end
    QCOMPARE(m_model->rowCount(), rows);

    // Whatever happened, every row holds the session the list had under its id.
    for (const SessionSummary &s : std::as_const(next)) {
        const int row = m_model->rowOfSession(s.id);
        QVERIFY(row >= 0);
        QCOMPARE(m_model->sessionAt(row)->id, s.id);
        QCOMPARE(m_model->sessionAt(row)->latencyP50Us, s.latencyP50Us);
        QCOMPARE(m_model->sessionAt(row)->connected, s.connected);
    }
}

void tst_SessionModel::changedCellsAreTheSmallestRectangle_data()
{
    QTest::addColumn<int>("row");
    QTest::addColumn<QString>("what");
    QTest::addColumn<int>("left");
    QTest::addColumn<int>("right");
    QTest::addColumn<bool>("background"); // the state cell's colour may have changed

    QTest::newRow("p99") << 7 << "p99" << int(SessionModel::P99Column)
                         << int(SessionModel::P99Column) << false;
    QTest::newRow("bytes and frames") << 8 << "output" << int(SessionModel::FramesColumn)
                                      << int(SessionModel::BytesColumn) << false;
    QTest::newRow("queue") << 11 << "queue" << int(SessionModel::QueueColumn)
                           << int(SessionModel::QueueColumn) << false;
    QTest::newRow("went stale") << 9 << "stale" << int(SessionModel::StateColumn)
                                << int(SessionModel::StateColumn) << true;
    QTest::newRow("resumed: state, since, counts")
        << 10 << "resumed" << int(SessionModel::StateColumn) << int(SessionModel::ResumesColumn)
        << true;
}

void tst_SessionModel::changedCellsAreTheSmallestRectangle()
{
    QFETCH(int, row);
    QFETCH(QString, what);
    QFETCH(int, left);
    QFETCH(int, right);
    QFETCH(bool, background);

    QVector<SessionSummary> list = sessions(50);
    m_model->updateSessions(list);
    SessionSummary &s = list[row];
    if (what == QLatin1String("p99")) {
        s.latencyP99Us *= 2;
    } else if (what == QLatin1String("output")) {
        s.framesOut += 3;
        s.bytesOut += 300;
    } else if (what == QLatin1String("queue")) {
        s.owedDeltas += 5;
    } else if (what == QLatin1String("stale")) {
        s.staleNow = true;
    } else if (what == QLatin1String("resumed")) {
        s.connected = false;
        m_model->updateSessions(list);
        s.connected = true;
        s.connectedSinceMs += 5000;
        s.reconnects += 1;
        s.resumes += 1;
    }

    Signals spy(m_model.get());
    m_model->updateSessions(list);
    QCOMPARE(spy.changed.count(), 1);
    const QModelIndex topLeft = spy.changed.at(0).at(0).value<QModelIndex>();
    const QModelIndex bottomRight = spy.changed.at(0).at(1).value<QModelIndex>();
    const auto roles = spy.changed.at(0).at(2).value<QList<int>>();
    QCOMPARE(topLeft.row(), m_model->rowOfSession(s.id));
    QCOMPARE(bottomRight.row(), topLeft.row());
    QCOMPARE(topLeft.column(), left);
    QCOMPARE(bottomRight.column(), right);
    QVERIFY(roles.contains(Qt::DisplayRole));
    QVERIFY(roles.contains(SessionModel::SortRole));
    QCOMPARE(roles.contains(Qt::BackgroundRole), background);
}

void tst_SessionModel::cells_data()
{
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("shown");

    QTest::newRow("session id") << int(SessionModel::IdColumn) << sessionId(7);
    QTest::newRow("user") << int(SessionModel::UserColumn) << "punter7";
    QTest::newRow("client") << int(SessionModel::ClientColumn) << "ios";
    QTest::newRow("version") << int(SessionModel::VersionColumn) << "2.0";
    QTest::newRow("address") << int(SessionModel::AddressColumn) << "10.0.0.7:40007";
    QTest::newRow("state") << int(SessionModel::StateColumn) << "connected";
    QTest::newRow("p50 in ms") << int(SessionModel::P50Column) << "0.4";
    QTest::newRow("p99 in ms") << int(SessionModel::P99Column) << "56.3";
    QTest::newRow("bytes") << int(SessionModel::BytesColumn) << "40.0 kB";
    QTest::newRow("no stale time: empty") << int(SessionModel::StaleTimeColumn) << "";
    QTest::newRow("queue: bytes and deltas held")
        << int(SessionModel::QueueColumn) << "14.2 kB, 37 held";
}

void tst_SessionModel::cells()
{
    QFETCH(int, column);
    QFETCH(QString, shown);

    m_model->updateSessions(sessions(10));
    const int row = m_model->rowOfSession(sessionId(7));
    QCOMPARE(m_model->index(row, column).data().toString(), shown);
}

void tst_SessionModel::searchNarrows_data()
{
    QTest::addColumn<QString>("search");
    QTest::addColumn<int>("matches");

    QTest::newRow("nothing typed") << "" << 300;
    QTest::newRow("a session id") << sessionId(123) << 1;
    QTest::newRow("part of an id, upper case") << sessionId(255).right(2).toUpper() << 1; // ff
    QTest::newRow("a user") << "punter42" << 1;
    QTest::newRow("a client, any case") << "IOS" << 100;
    QTest::newRow("two words, both must match") << "android retained" << 2; // 50 and 200
    QTest::newRow("an address") << "10.0.1.4:" << 1;
    QTest::newRow("a state") << "retained" << 6;
    QTest::newRow("nobody") << "no-such-punter" << 0;
}

void tst_SessionModel::searchNarrows()
{
    QFETCH(QString, search);
    QFETCH(int, matches);

    m_model->updateSessions(sessions(300));
    m_proxy->setFilterText(search);
    QCOMPARE(m_proxy->rowCount(), matches);
    // The search holds while the figures move under it.
    QVector<SessionSummary> next = sessions(300);
    for (SessionSummary &s : next)
        s.latencyP99Us += 77;
    m_model->updateSessions(next);
    QCOMPARE(m_proxy->rowCount(), matches);
}

void tst_SessionModel::worstFirstAndKeptSorted()
{
    QVector<SessionSummary> list = sessions(500);
    m_model->updateSessions(list);
    QCOMPARE(m_proxy->sortColumn(), int(SessionModel::P99Column));
    QCOMPARE(m_proxy->sortOrder(), Qt::DescendingOrder);
    const auto p99At = [this](int row) {
        const QString id = m_proxy->sessionIdAt(row);
        return m_model->sessionAt(m_model->rowOfSession(id))->latencyP99Us;
    };
    for (int row = 1; row < m_proxy->rowCount(); ++row)
        QVERIFY(p99At(row - 1) >= p99At(row));

    // A session that gets slow rises to the top within the update that says so.
    list[321].latencyP99Us = 5 * 1000 * 1000;
    m_model->updateSessions(list);
    QCOMPARE(m_proxy->sessionIdAt(0), sessionId(321));
    QCOMPARE(m_proxy->rowOfSession(sessionId(321)), 0);

    // Another column sorts as numbers, not as text: 9 frames before 10.
    m_proxy->sort(SessionModel::FramesColumn, Qt::AscendingOrder);
    const auto framesAt = [this](int row) {
        return m_proxy->index(row, SessionModel::FramesColumn)
            .data(SessionModel::SortRole)
            .toULongLong();
    };
    for (int row = 1; row < m_proxy->rowCount(); ++row)
        QVERIFY(framesAt(row - 1) <= framesAt(row));
}

// The inspector's load: 20,000 sessions, every one of them with new figures each second.
// The time is printed for information; the signals are what the test holds the model to.
void tst_SessionModel::twentyThousandSessions()
{
    // The testers walk every row after each signal, which would measure them, not us.
    m_proxyTester.reset();
    m_modelTester.reset();

    QVector<SessionSummary> list = sessions(ManySessions);
    QElapsedTimer timer;
    timer.start();
    m_model->updateSessions(list);
    const qint64 fillMs = timer.elapsed();
    QCOMPARE(m_proxy->rowCount(), ManySessions);

    Signals spy(m_model.get());
    for (SessionSummary &s : list) {
        s.latencyP99Us = 900 + (s.latencyP99Us * 31) % 250000;
        s.framesOut += 4;
        s.bytesOut += 400;
    }
    timer.restart();
    m_model->updateSessions(list);
    const qint64 allMs = timer.elapsed();
    QCOMPARE(spy.reset.count(), 0);
    QCOMPARE(spy.changed.count(), 1);
    QCOMPARE(spy.inserted.count(), 0);
    QCOMPARE(spy.removed.count(), 0);

    // A quiet second: a few sessions moved, a few came and went.
    spy.clear();
    list[10].latencyP99Us += 1;
    list[9000].lag += 1;
    list[19999].gaps += 1;
    list.remove(12000, 3);
    list.remove(500);
    list += sessions(5, 100000);
    timer.restart();
    m_model->updateSessions(list);
    const qint64 fewMs = timer.elapsed();
    QCOMPARE(spy.reset.count(), 0);
    QCOMPARE(spy.changed.count(), 3);
    QCOMPARE(spy.removed.count(), 2);
    QCOMPARE(spy.inserted.count(), 1);
    QCOMPARE(m_model->rowCount(), ManySessions - 4 + 5);
    QCOMPARE(m_proxy->rowCount(), m_model->rowCount());

    // And the same with a search narrowing the view.
    m_proxy->setFilterText(QStringLiteral("android 2.3"));
    for (SessionSummary &s : list)
        s.latencyP50Us += 3;
    timer.restart();
    m_model->updateSessions(list);
    const qint64 searchedMs = timer.elapsed();

    qInfo("%d sessions, model and sorted view: first fill %lld ms; every session changed "
          "%lld ms; a few changed, added and removed %lld ms; every session changed under a "
          "search %lld ms",
        ManySessions, fillMs, allMs, fewMs, searchedMs);
}

QTEST_GUILESS_MAIN(tst_SessionModel)
#include "tst_sessionmodel.moc"
