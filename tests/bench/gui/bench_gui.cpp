// How the desk's window keeps up with a busy book: the real window on the real season (or
// the demo book), the simulator moving prices, clients of the feed on their own thread, and
// the window's event loop watched by its stall probe. Prints the distribution of stalls and
// how often the grid repainted, for a quiet run and for loaded runs side by side.
//
//   bench_gui [--seconds N] [--rate CHANGES_PER_S] [--runs N] [--clients N]
//             [--season PATH | --events N]

#include "engine.h"
#include "footballdataimporter.h"
#include "demobook.h"
#include "mainwindow.h"
#include "bookmodel.h"
#include "gridview.h"
#include "stallprobe.h"
#include "support/clientthread.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>
#include <QTextStream>
#include <QTimer>

#include <algorithm>

using namespace OddsDesk;

namespace {

// Counts the paint events of the grid's viewport: the repaint rate.
class PaintCounter : public QObject
{
public:
    int paints = 0;

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (event->type() == QEvent::Paint)
            ++paints;
        return QObject::eventFilter(watched, event);
    }
};

struct Run
{
    QString name;
    StallProbe::Stats stats;
    QVector<qint64> stallsUs;
    double repaintsPerS = 0;
    double changesPerS = 0;
};

// The event loop, running as the application's would. (QTest::qWait sleeps between passes,
// which the probe would count as stalls.)
void runFor(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

double median(QVector<double> values)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    return values.at(values.size() / 2);
}

QString bucketLine(const QVector<qint64> &stallsUs)
{
    static const qint64 boundsMs[] = {2, 5, 10, 20, 50, 100};
    QVector<int> counts(std::size(boundsMs) + 1, 0);
    for (qint64 us : stallsUs) {
        int i = 0;
        while (i < int(std::size(boundsMs)) && us >= boundsMs[i] * 1000)
            ++i;
        ++counts[i];
    }
    return QStringLiteral("%1 %2 %3 %4 %5 %6 %7")
        .arg(counts[0], 7)
        .arg(counts[1], 7)
        .arg(counts[2], 7)
        .arg(counts[3], 7)
        .arg(counts[4], 7)
        .arg(counts[5], 7)
        .arg(counts[6], 7);
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("The desk window's event-loop stalls"));
    parser.addHelpOption();
    parser.addOption({QStringLiteral("seconds"), QStringLiteral("Seconds per run"),
        QStringLiteral("N"), QStringLiteral("15")});
    parser.addOption({QStringLiteral("rate"), QStringLiteral("Simulated changes a second"),
        QStringLiteral("N"), QStringLiteral("1000")});
    parser.addOption({QStringLiteral("runs"), QStringLiteral("Loaded runs"), QStringLiteral("N"),
        QStringLiteral("3")});
    parser.addOption({QStringLiteral("clients"), QStringLiteral("Feed clients beside the window"),
        QStringLiteral("N"), QStringLiteral("20")});
    parser.addOption({QStringLiteral("season"), QStringLiteral("A football-data season file"),
        QStringLiteral("PATH"),
        QStringLiteral(ODDSDESK_SHARED_DATA_DIR "/football-data_E0_2018-19.csv")});
    parser.addOption({QStringLiteral("events"),
        QStringLiteral("Use a generated book of N events (two markets each) instead"),
        QStringLiteral("N")});
    parser.process(app);
    const auto number = [&parser](const char *name) {
        bool ok = false;
        const int value = parser.value(QString::fromLatin1(name)).toInt(&ok);
        if (!ok || value <= 0) {
            QTextStream(stderr) << "bench_gui: --" << name << " needs a positive whole number\n";
            std::exit(2);
        }
        return value;
    };
    const int seconds = number("seconds");
    const int rate = number("rate");
    const int runs = number("runs");
    const int clients = number("clients");

    BookData book;
    QString bookName;
    const ImportReport season = parser.isSet(QStringLiteral("events"))
        ? ImportReport {}
        : importFootballData(parser.value(QStringLiteral("season")));
    if (parser.isSet(QStringLiteral("events"))) {
        book = generateDemoBook(1, number("events"));
        bookName = QStringLiteral("a generated book");
    } else if (season.ok()) {
        book = season.book;
        bookName = QStringLiteral("the real season");
    } else {
        book = generateDemoBook(1, 400);
        bookName = QStringLiteral("the demo book (%1)").arg(season.error);
    }

    EngineConfig config;
    config.server.port = 0;
    Engine engine(config);
    MainWindow window(&engine);
    window.show();
    QSignalSpy started(&engine, &Engine::started);
    engine.start(book);
    if (!started.wait(10000)) {
        QTextStream(stderr) << "bench_gui: the engine did not start\n";
        return 1;
    }
    runFor(500);

    Testing::ClientThread fleet;
    for (int i = 0; i < clients; ++i) {
        FeedClientConfig client;
        client.url = engine.url();
        client.clientName = QStringLiteral("bench-%1").arg(i);
        fleet.add(client);
    }

    PaintCounter painter;
    window.gridView()->tableView()->viewport()->installEventFilter(&painter);
    qint64 changes = 0;
    QObject::connect(&engine, &Engine::bookChanged, &app,
        [&changes](const BookChanges &batch) { changes += batch.size(); });

    StallProbe *probe = window.stallProbe();
    const auto measure = [&](const QString &name, bool simulate) {
        engine.setSimulatorRate(rate);
        engine.setSimulatorEnabled(simulate);
        runFor(1000); // settle
        painter.paints = 0;
        changes = 0;
        probe->reset();
        QElapsedTimer clock;
        clock.start();
        runFor(seconds * 1000);
        Run run;
        run.name = name;
        run.stats = probe->stats();
        run.stallsUs = probe->stallsUs();
        const double elapsedS = double(clock.elapsed()) / 1000.0;
        run.repaintsPerS = painter.paints / elapsedS;
        run.changesPerS = double(changes) / elapsedS;
        return run;
    };

    QVector<Run> results;
    results.append(measure(QStringLiteral("quiet"), false));
    for (int i = 0; i < runs; ++i)
        results.append(measure(QStringLiteral("loaded %1").arg(i + 1), true));
    // The hardest order for the grid: by time of last change, so that every batch moves rows.
    window.gridView()->tableView()->sortByColumn(BookModel::LastChangeColumn, Qt::DescendingOrder);
    results.append(measure(QStringLiteral("by change"), true));
    engine.setSimulatorEnabled(false);

    QTextStream out(stdout);
    out << "The desk window under " << rate << " simulated price changes a second, "
        << book.markets.size() << " markets of " << bookName << ", " << clients << " feed clients; "
        << seconds << " s a run\n\n";
    out << QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8 %9\n")
               .arg(QStringLiteral("run"), -10)
               .arg(QStringLiteral("changes/s"), 10)
               .arg(QStringLiteral("repaints/s"), 10)
               .arg(QStringLiteral("stalls"), 7)
               .arg(QStringLiteral("p50 ms"), 7)
               .arg(QStringLiteral("p99 ms"), 7)
               .arg(QStringLiteral("max ms"), 7)
               .arg(QStringLiteral(">50 ms"), 7)
               .arg(QStringLiteral("wakes"), 7);
    QVector<double> p99s;
    QVector<double> maxes;
    for (const Run &r : std::as_const(results)) {
        out << QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8 %9\n")
                   .arg(r.name, -10)
                   .arg(r.changesPerS, 10, 'f', 0)
                   .arg(r.repaintsPerS, 10, 'f', 1)
                   .arg(r.stats.stalls, 7)
                   .arg(r.stats.p50Us / 1000.0, 7, 'f', 1)
                   .arg(r.stats.p99Us / 1000.0, 7, 'f', 1)
                   .arg(r.stats.maxUs / 1000.0, 7, 'f', 1)
                   .arg(r.stats.over50Ms, 7)
                   .arg(r.stats.wakes, 7);
        if (r.name.startsWith(QStringLiteral("loaded"))) {
            p99s.append(r.stats.p99Us / 1000.0);
            maxes.append(r.stats.maxUs / 1000.0);
        }
    }
    out << "\nStalls by length (ms):\n";
    out << QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8\n")
               .arg(QStringLiteral("run"), -10)
               .arg(QStringLiteral("1-2"), 7)
               .arg(QStringLiteral("2-5"), 7)
               .arg(QStringLiteral("5-10"), 7)
               .arg(QStringLiteral("10-20"), 7)
               .arg(QStringLiteral("20-50"), 7)
               .arg(QStringLiteral("50-100"), 7)
               .arg(QStringLiteral(">100"), 7);
    for (const Run &r : std::as_const(results))
        out << QStringLiteral("%1 ").arg(r.name, -10) << bucketLine(r.stallsUs) << "\n";
    out << "\n\"by change\" is a loaded run with the grid sorted by time of last change.\n";
    out << "Loaded runs: median p99 stall " << QString::number(median(p99s), 'f', 1)
        << " ms, median longest stall " << QString::number(median(maxes), 'f', 1)
        << " ms (goal: never above 50 ms)\n";
    out.flush();
    window.close();
    return 0;
}
