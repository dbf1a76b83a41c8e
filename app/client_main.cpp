// oddsdesk-client: the reference feed client. Connects to an OddsDesk feed, keeps its own
// copy of the book, acknowledges what it applied and prints what it receives.

#include "clock.h"
#include "codec.h"
#include "counted.h"
#include "feedclient.h"
#include "feedurl.h"
#include "optionreader.h"
#include "signalwatcher.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QTextStream>
#include <QTimer>

using namespace OddsDesk;

namespace {

// A week: longer than any measuring run, and well within what a timer counts in
// milliseconds. Without --duration the client runs until it is stopped.
constexpr int MaxDurationS = 7 * 24 * 60 * 60;

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

QTextStream &err()
{
    static QTextStream stream(stderr);
    return stream;
}

void printSummary(const FeedClient &client)
{
    const FeedClientStats &s = client.stats();
    err() << "summary: frames " << s.framesReceived << ", deltas " << s.deltasApplied
          << ", changes " << s.changesApplied << ", snapshots " << s.snapshots << ", gaps "
          << s.gaps << ", duplicates " << s.duplicates << ", reconnects " << s.reconnects
          << ", resumes " << s.resumes << ", fallbacks " << s.snapshotFallbacks << ", latency p50 "
          << client.latency().percentile(0.5) / 1000.0 << " ms, p99 "
          << client.latency().percentile(0.99) / 1000.0 << " ms, head " << client.lastSequence()
          << Qt::endl;
}

// What the parser could not read, in a sentence of the same kind as the console's: an unknown
// option as typed, or Qt's own sentence ("Missing value after '--duration'."), and where to
// look.
QString parseError(const QCommandLineParser &parser)
{
    const QStringList unknown = parser.unknownOptionNames();
    if (!unknown.isEmpty()) {
        const QString name = unknown.first();
        const QString typed
            = (name.size() == 1 ? QStringLiteral("-") : QStringLiteral("--")) + name;
        return QStringLiteral("%1 is not an option of oddsdesk-client; see --help").arg(typed);
    }
    return parser.errorText() + QStringLiteral(" See --help.");
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("oddsdesk-client"));
    QCoreApplication::setApplicationVersion(QStringLiteral(ODDSDESK_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Connects to an OddsDesk feed, keeps its own copy of the book from the "
                       "snapshot and the deltas, acknowledges them and measures delivery "
                       "latency."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        QStringLiteral("URL"), QStringLiteral("ws://host:port of the feed"));
    const QCommandLineOption json(
        QStringLiteral("json"), QStringLiteral("Print one JSON line per message received."));
    const QCommandLineOption format(QStringLiteral("format"),
        QStringLiteral("Wire format: binary (default) or json."), QStringLiteral("FORMAT"),
        QStringLiteral("binary"));
    const QCommandLineOption name(QStringLiteral("name"),
        QStringLiteral("Client name in the hello."), QStringLiteral("NAME"),
        QStringLiteral("oddsdesk-client"));
    const QCommandLineOption duration(QStringLiteral("duration"),
        QStringLiteral("Stop after this many seconds (default: run until stopped)."),
        QStringLiteral("SECONDS"));
    const QCommandLineOption deltas(QStringLiteral("deltas"),
        QStringLiteral("Stop after this many deltas (default: run until stopped)."),
        QStringLiteral("N"));
    const QCommandLineOption noReconnect(
        QStringLiteral("no-reconnect"), QStringLiteral("Exit when the connection closes."));
    const QCommandLineOption token(QStringLiteral("token"),
        QStringLiteral("Authentication token for the hello."), QStringLiteral("TOKEN"));
    const QCommandLineOption caFile(QStringLiteral("ca-file"),
        QStringLiteral("Trust this PEM certificate for wss://."), QStringLiteral("PATH"));
    parser.addOptions({json, format, name, duration, deltas, noReconnect, token, caFile});
    // Read whole, as the console does: -duration is --duration, and -bogus one unknown word,
    // not five unknown letters.
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    // Not process(): it ends a command-line mistake with status 1, which here means that no
    // feed welcomed the client.
    if (!parser.parse(QCoreApplication::arguments())) {
        err() << "oddsdesk-client: " << parseError(parser) << Qt::endl;
        return 2;
    }
    // --help-all would list Qt's own options too, which only process() can show.
    if (parser.isSet(QStringLiteral("help")) || parser.isSet(QStringLiteral("help-all")))
        parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();

    if (parser.positionalArguments().size() != 1) {
        err() << "oddsdesk-client: give exactly one feed URL, such as ws://127.0.0.1:8765"
              << Qt::endl;
        return 2;
    }
    FeedClientConfig config;
    if (const QString urlError = readFeedUrl(parser.positionalArguments().first(), &config.url);
        !urlError.isEmpty()) {
        err() << "oddsdesk-client: " << urlError << Qt::endl;
        return 2;
    }
    const QString formatName = parser.value(format).toLower();
    if (formatName != QLatin1String("binary") && formatName != QLatin1String("json")) {
        err() << "oddsdesk-client: --format takes binary or json, not \"" << formatName << "\""
              << Qt::endl;
        return 2;
    }
    config.format = formatName == QLatin1String("json") ? WireFormat::Json : WireFormat::Binary;
    config.clientName = parser.value(name);
    config.clientVersion = QCoreApplication::applicationVersion();
    config.autoReconnect = !parser.isSet(noReconnect);
    config.authToken = parser.value(token);
    if (parser.isSet(caFile)) {
        QFile pem(parser.value(caFile));
        if (!pem.open(QIODevice::ReadOnly)) {
            err() << "oddsdesk-client: cannot read " << parser.value(caFile) << Qt::endl;
            return 2;
        }
        config.trustedCertificates = QSslCertificate::fromDevice(&pem, QSsl::Pem);
        if (config.trustedCertificates.isEmpty()) {
            err() << "oddsdesk-client: " << parser.value(caFile) << " holds no PEM certificate"
                  << Qt::endl;
            return 2;
        }
    }

    // Leaving --duration or --deltas out is what runs without a limit; 0 has no meaning of its
    // own, and taken as given it ran until killed.
    int durationS = 0;
    if (const QString error = readIntOption(parser, duration, 1, MaxDurationS, &durationS);
        !error.isEmpty()) {
        err() << "oddsdesk-client: " << error << Qt::endl;
        return 2;
    }
    qint64 maxDeltas = 0;
    if (parser.isSet(deltas)
        && (!parseWholeNumber(parser.value(deltas), false, &maxDeltas) || maxDeltas < 1)) {
        err() << "oddsdesk-client: --deltas takes a whole number from 1 up, not \""
              << parser.value(deltas) << "\"" << Qt::endl;
        return 2;
    }

    FeedClient client(config);
    const bool printJson = parser.isSet(json);
    QObject::connect(&client, &FeedClient::messageReceived, &app,
        [printJson](const oddsdesk::v1::ServerMessage &message) {
            if (printJson)
                out() << Codec::toJson(message) << Qt::endl;
        });
    bool welcomed = false;
    QObject::connect(&client, &FeedClient::welcomed, &app, [&](bool resumed) {
        welcomed = true;
        if (!printJson)
            out() << "welcome: session " << client.sessionId() << ", epoch " << client.epoch()
                  << (resumed ? ", resumed" : ", new") << Qt::endl;
    });
    QObject::connect(&client, &FeedClient::snapshotApplied, &app, [&](quint64 sequence) {
        if (!printJson)
            out() << "snapshot at " << sequence << ": "
                  << counted(client.book().eventCount(), u"event", u"events") << ", "
                  << counted(client.book().marketCount(), u"market", u"markets") << Qt::endl;
    });
    QObject::connect(
        &client, &FeedClient::deltaApplied, &app, [&](const BookChanges &changes, quint64 to) {
            if (!printJson)
                out() << "delta to " << to << ": " << counted(changes.size(), u"change", u"changes")
                      << Qt::endl;
            if (maxDeltas > 0 && qint64(client.stats().deltasApplied) >= maxDeltas)
                QCoreApplication::quit();
        });
    QObject::connect(&client, &FeedClient::staleChanged, &app, [](bool stale) {
        err() << (stale ? "stale: no message from the feed for 3 heartbeats" : "live again")
              << Qt::endl;
    });
    QObject::connect(&client, &FeedClient::reconnectScheduled, &app, [](int attempt, int delay) {
        err() << "reconnecting: attempt " << attempt << " in " << delay << " ms" << Qt::endl;
    });
    QObject::connect(&client, &FeedClient::serverError, &app, [](int code, const QString &text) {
        err() << "server error " << code << ": " << text << Qt::endl;
    });
    QObject::connect(
        &client, &FeedClient::disconnected, &app, [&](int code, const QString &reason) {
            err() << "disconnected: " << code << " " << reason << Qt::endl;
            if (!config.autoReconnect)
                QCoreApplication::exit(code == 1000 || code == 1001 ? 0 : 1);
        });

    SignalWatcher watcher;
    QObject::connect(&watcher, &SignalWatcher::terminationRequested, &app, &QCoreApplication::quit);
    // Precise, as the fleet's run: a coarse timer may fire up to a twentieth early, and a run
    // of --duration 10 could end after 9.5 s.
    if (durationS > 0)
        QTimer::singleShot(durationS * 1000, Qt::PreciseTimer, &app, &QCoreApplication::quit);

    client.start();
    const int rc = app.exec();
    client.stop();
    printSummary(client);
    // A run that never reached a feed measured nothing, whatever ended it.
    if (!welcomed) {
        err() << "oddsdesk-client: the feed at " << config.url.toString()
              << " never welcomed this client" << Qt::endl;
        return 1;
    }
    return rc;
}
