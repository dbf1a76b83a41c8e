#include "consoleoptions.h"
#include "footballdataimporter.h"
#include "optionreader.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QStandardPaths>
#include <QTextStream>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <initializer_list>

#ifdef Q_OS_UNIX
#include <pwd.h>
#include <unistd.h>
#endif

QStringList commandLineArguments(int argc, char **argv)
{
    QStringList arguments;
    for (int i = 0; i < argc; ++i) {
        const QString argument = QString::fromLocal8Bit(argv[i]);
        // A session manager restarts the window with -session ID, which QApplication takes
        // from argv itself: not the console's to refuse.
        if (argument == QLatin1String("-session") || argument == QLatin1String("--session")) {
            ++i;
            continue;
        }
        if (argument.startsWith(QLatin1String("-session="))
            || argument.startsWith(QLatin1String("--session=")))
            continue;
        arguments.append(argument);
    }
    return arguments;
}

namespace {

// The metrics endpoint's default port, in the range Prometheus exporters use.
constexpr int DefaultHttpPort = 9464;
// More network threads than any machine has cores only adds context switches.
constexpr int MaxNetworkThreads = 256;
// The ceiling of --max-publish-interval-ms catches a slip (a value meant in microseconds,
// say): a minute between publishes is far past any use.
constexpr int MaxPublishIntervalMs = 60 * 1000;

// The bookmakers the importer takes, in its own order: "B365 (default), BW, ... or Max".
QString bookmakerChoices(const QString &defaultName)
{
    QStringList names = OddsDesk::footballDataBookmakers();
    for (QString &name : names) {
        if (name == defaultName)
            name += QStringLiteral(" (default)");
    }
    const QString last = names.takeLast();
    return names.join(QStringLiteral(", ")) + QStringLiteral(" or ") + last;
}

// Who the audit log names: the desk's login name. A login sets USER and LOGNAME; where
// neither is set (a container, a service) the password database still knows whom the console
// runs as, and only a process it does not know either is "desk".
QString deskUserName()
{
    for (const char *variable : {"USER", "LOGNAME"}) {
        const QString name = qEnvironmentVariable(variable);
        if (!name.isEmpty())
            return name;
    }
#ifdef Q_OS_UNIX
    if (const passwd *entry = getpwuid(geteuid()); entry && entry->pw_name && *entry->pw_name)
        return QString::fromLocal8Bit(entry->pw_name);
#endif
    return QStringLiteral("desk");
}

// What the parser could not read, in a sentence of the same kind as the console's own, and
// where to look. Qt's own options are single-dash words (-platform, -style) meant for an
// application object the console makes only later, if at all; the parser reports them as
// unknown words, which are named here with what to use.
QString parseError(const QCommandLineParser &parser, const QStringList &arguments)
{
    for (const QString &name : parser.unknownOptionNames()) {
        for (const QString &argument : arguments.mid(1)) {
            const QString typed = argument.section(QLatin1Char('='), 0, 0);
            if (typed == QLatin1Char('-') + name) {
                return QStringLiteral("%1 is not an option of the console, and Qt's own "
                                      "options such as -platform or -style are not taken: set "
                                      "QT_QPA_PLATFORM or QT_STYLE_OVERRIDE instead")
                    .arg(typed);
            }
            if (typed == QStringLiteral("--") + name)
                return QStringLiteral("%1 is not an option of the console; see --help").arg(typed);
        }
    }
    // Qt's sentence ("Missing value after '--import'.").
    return parser.errorText() + QStringLiteral(" See --help.");
}

// An empty value is a slip (an unset shell variable, a stray =), never a choice: taken as
// given, --auth-key-file "" would open the feed to anyone and --issue-token "" would start
// the console instead of printing a token.
QString emptyValueError(const QCommandLineParser &parser, const QList<QCommandLineOption> &options)
{
    for (const QCommandLineOption &option : options) {
        if (option.valueName().isEmpty() || !parser.isSet(option))
            continue;
        for (const QString &value : parser.values(option)) {
            if (value.trimmed().isEmpty()) {
                return QStringLiteral("--%1 needs %2, not an empty value")
                    .arg(option.names().first(), option.valueName());
            }
        }
    }
    return QString();
}

// 0 turns the adapted publish interval off. Otherwise the engine adapts it from its first
// step up to the value given, so a value below that step would act as the step, unsaid.
QString readMaxPublishInterval(
    const QCommandLineParser &parser, const QCommandLineOption &option, int *value)
{
    const int least = OddsDesk::ServerConfig::MinAdaptedPublishIntervalMs;
    int parsed = *value;
    const bool whole = readIntOption(parser, option, 0, MaxPublishIntervalMs, &parsed).isEmpty();
    if (whole && (parsed == 0 || parsed >= least)) {
        *value = parsed;
        return QString();
    }
    QString error = QStringLiteral("--%1 takes 0 (off) or a whole number from %2 to %3, not \"%4\"")
                        .arg(option.names().first())
                        .arg(least)
                        .arg(MaxPublishIntervalMs)
                        .arg(parser.value(option));
    if (whole) {
        error += QStringLiteral(": the adapted interval starts at %1 ms, so a smaller maximum "
                                "would act as %1 ms")
                     .arg(least);
    }
    return error;
}

// An option that only shapes another one's work, and alone would be ignored without a word.
struct DependentOption
{
    const QCommandLineOption &option;
    const QCommandLineOption &needs;
    const char *why;
};

QString dependentOptionError(
    const QCommandLineParser &parser, std::initializer_list<DependentOption> list)
{
    for (const DependentOption &dependent : list) {
        if (parser.isSet(dependent.option) && !parser.isSet(dependent.needs)) {
            return QStringLiteral("--%1 needs --%2: %3")
                .arg(dependent.option.names().first(), dependent.needs.names().first(),
                    QLatin1String(dependent.why));
        }
    }
    return QString();
}

} // namespace

QString parseConsoleOptions(const QStringList &arguments, ConsoleOptions *options)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("OddsDesk: the trading desk's console and its live feed engine."));
    // Not addHelpOption(): its --help-all lists Qt's own options, which are not taken here.
    const QCommandLineOption help(
        {QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Displays this help."));
    parser.addOption(help);
    parser.addVersionOption();

    const QCommandLineOption headless(
        QStringLiteral("headless"), QStringLiteral("Run the engine without a window."));
    const QCommandLineOption import(QStringLiteral("import"),
        QStringLiteral("Load a football-data.co.uk season file."), QStringLiteral("PATH"));
    const QString defaultBookmaker = ConsoleOptions().bookmaker;
    const QCommandLineOption bookmaker(QStringLiteral("bookmaker"),
        QStringLiteral("With --import: whose 1X2 prices to take: %1.")
            .arg(bookmakerChoices(defaultBookmaker)),
        QStringLiteral("NAME"), defaultBookmaker);
    const QCommandLineOption bind(QStringLiteral("bind"),
        QStringLiteral("Address to listen on (default 127.0.0.1)."), QStringLiteral("ADDRESS"),
        QStringLiteral("127.0.0.1"));
    const QCommandLineOption port(QStringLiteral("port"),
        QStringLiteral("Port to listen on; 0 picks a free one "
                       "(default 8765)."),
        QStringLiteral("PORT"), QStringLiteral("8765"));
    const QCommandLineOption simulate(
        QStringLiteral("simulate"), QStringLiteral("Start the price simulator."));
    const QCommandLineOption simulateRate(QStringLiteral("simulate-rate"),
        QStringLiteral("Simulated price changes a second across the book (default 20)."),
        QStringLiteral("N"));
    const QCommandLineOption flushMs(QStringLiteral("flush-ms"),
        QStringLiteral("Collect changes for this many milliseconds per delta (default 10)."),
        QStringLiteral("MS"));
    const QCommandLineOption heartbeatMs(QStringLiteral("heartbeat-ms"),
        QStringLiteral("Heartbeat interval in milliseconds (default 2000)."), QStringLiteral("MS"));
    const QCommandLineOption retentionS(QStringLiteral("retention-s"),
        QStringLiteral("Seconds a disconnected session is kept for resume (default 120)."),
        QStringLiteral("SECONDS"));
    const QCommandLineOption httpPort(QStringLiteral("http-port"),
        QStringLiteral("Port of the HTTP endpoint (/metrics, /healthz, and the browser client "
                       "at /); 0 picks a free one, -1 turns it off (default 9464)."),
        QStringLiteral("PORT"));
    const QCommandLineOption httpBind(QStringLiteral("http-bind"),
        QStringLiteral("Address of the HTTP endpoint (default 127.0.0.1)."),
        QStringLiteral("ADDRESS"), QStringLiteral("127.0.0.1"));
    const QCommandLineOption replay(QStringLiteral("replay"),
        QStringLiteral("Replay a recorded Betfair Exchange Stream file into the book."),
        QStringLiteral("PATH"));
    const QCommandLineOption catalogue(QStringLiteral("catalogue"),
        QStringLiteral("With --replay: the recording's market catalogue, for runner names "
                       "(default: the file beside it with the same market id)."),
        QStringLiteral("PATH"));
    const QCommandLineOption speed(QStringLiteral("speed"),
        QStringLiteral(
            "With --replay: the replay's speed; 1 is as recorded, 10 ten times faster, 0 as "
            "fast as possible (default 1)."),
        QStringLiteral("X"));
    const QCommandLineOption demo(QStringLiteral("demo"),
        QStringLiteral("The demo: the generated book, the price simulator and a fleet of "
                       "clients on five network profiles, so every chart moves."));
    const QCommandLineOption data(QStringLiteral("data"),
        QStringLiteral("Folder for the book, the sequence numbers and the audit log "
                       "(default: the user's data folder)."),
        QStringLiteral("DIR"));
    const QCommandLineOption authKeyFile(QStringLiteral("auth-key-file"),
        QStringLiteral("Require every client to present a token signed with the key in this "
                       "file (at least 32 bytes). Without it the feed is open to anyone."),
        QStringLiteral("PATH"));
    const QCommandLineOption issueToken(QStringLiteral("issue-token"),
        QStringLiteral("Print a token for USER, signed with --auth-key-file, and exit."),
        QStringLiteral("USER"));
    const QCommandLineOption validFor(QStringLiteral("valid-for"),
        QStringLiteral("With --issue-token: the token's lifetime in seconds (default 86400)."),
        QStringLiteral("SECONDS"));
    const QCommandLineOption tlsCert(QStringLiteral("tls-cert"),
        QStringLiteral("Serve wss:// with this PEM certificate (with --tls-key)."),
        QStringLiteral("PATH"));
    const QCommandLineOption tlsKey(QStringLiteral("tls-key"),
        QStringLiteral("The PEM private key of --tls-cert."), QStringLiteral("PATH"));
    const QCommandLineOption origins(QStringLiteral("allowed-origins"),
        QStringLiteral("Comma-separated origins browsers may connect from; others get 403. "
                       "The console's own HTTP endpoint is always allowed (default: any)."),
        QStringLiteral("LIST"));
    const QCommandLineOption perAddress(QStringLiteral("max-connections-per-address"),
        QStringLiteral("Connections one source address may hold; 0 is no limit (default 0)."),
        QStringLiteral("N"));
    const QCommandLineOption helloRate(QStringLiteral("max-hellos-per-second-per-address"),
        QStringLiteral("Hellos one source address may send a second (in bursts of up to 20); "
                       "more are told to retry later (1013). 0 is no limit (default 0)."),
        QStringLiteral("N"));
    const QCommandLineOption maxMessage(QStringLiteral("max-message-bytes"),
        QStringLiteral("Largest message or frame a client may send; larger ones close the "
                       "connection with 1009 (default 65536)."),
        QStringLiteral("BYTES"));
    const QCommandLineOption helloTimeout(QStringLiteral("hello-timeout-ms"),
        QStringLiteral("Time a client has for the WebSocket handshake, and again for its "
                       "hello, before it is closed (default 10000)."),
        QStringLiteral("MS"));
    const QCommandLineOption telemetryRate(QStringLiteral("telemetry-per-second"),
        QStringLiteral("Telemetry messages one session may send a second (in bursts of up to "
                       "20); more are dropped and counted (default 5)."),
        QStringLiteral("N"));
    const QCommandLineOption networkThreads(QStringLiteral("network-threads"),
        QStringLiteral("Threads that own the clients' sockets; 0 is one per core (default 0)."),
        QStringLiteral("N"));
    const QCommandLineOption eventLoop(QStringLiteral("event-loop"),
        QStringLiteral("The network threads' event loop: epoll (default) or qt, Qt's own."),
        QStringLiteral("KIND"), QStringLiteral("epoll"));
    const QCommandLineOption ackPace(QStringLiteral("ack-pace-ms"),
        QStringLiteral("Hold back deltas for a session whose oldest unacknowledged one went out "
                       "longer ago than this, and send them conflated when it acks; 0 turns "
                       "pacing off (default 300)."),
        QStringLiteral("MS"));
    const QCommandLineOption publishInterval(QStringLiteral("max-publish-interval-ms"),
        QStringLiteral("While more than a quarter of the sessions are held back by their "
                       "acks, publish less often, one shared frame for all, up to every MS: "
                       "from %1 (where the adapted interval starts) to %2, or 0 (off) "
                       "(default 400).")
            .arg(OddsDesk::ServerConfig::MinAdaptedPublishIntervalMs)
            .arg(MaxPublishIntervalMs),
        QStringLiteral("MS"));
    const QList<QCommandLineOption> consoleOptions
        = {authKeyFile, issueToken, validFor, tlsCert, tlsKey, origins, perAddress, networkThreads,
            eventLoop, ackPace, publishInterval, helloRate, maxMessage, helloTimeout, telemetryRate,
            data, demo, headless, import, bookmaker, bind, port, simulate, simulateRate, flushMs,
            heartbeatMs, retentionS, httpPort, httpBind, replay, catalogue, speed};
    parser.addOptions(consoleOptions);
    // Read whole: -style is one unknown word that can be named, not five unknown letters (and
    // -port, one of ours with a single dash, is read as --port).
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);

    if (!parser.parse(arguments))
        return parseError(parser, arguments);
    if (parser.isSet(help)) {
        // Without an application object Qt's help cannot know the program's name.
        QTextStream(stdout) << parser.helpText().replace(
            QStringLiteral("<executable_name>"), arguments.value(0));
        std::exit(0);
    }
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();
    if (!parser.positionalArguments().isEmpty()) {
        return QStringLiteral("unexpected argument \"%1\"; see --help")
            .arg(parser.positionalArguments().first());
    }
    if (const QString error = emptyValueError(parser, consoleOptions); !error.isEmpty())
        return error;

    options->headless = parser.isSet(headless);
    options->demo = parser.isSet(demo);
    options->authKeyFile = parser.value(authKeyFile);
    if (parser.isSet(tlsCert) != parser.isSet(tlsKey))
        return QStringLiteral("--tls-cert and --tls-key go together");
    options->engine.server.tlsCertificatePath = parser.value(tlsCert);
    options->engine.server.tlsKeyPath = parser.value(tlsKey);
    for (const QString &origin : parser.value(origins).split(QLatin1Char(','))) {
        if (!origin.trimmed().isEmpty())
            options->engine.server.allowedOrigins.append(origin.trimmed());
    }
    // No origin at all would leave the feed open to every origin, the opposite of the ask.
    if (parser.isSet(origins) && options->engine.server.allowedOrigins.isEmpty())
        return QStringLiteral("--allowed-origins needs at least one origin, such as "
                              "https://desk.example.com");
    const QString perAddressError = readIntOption(
        parser, perAddress, 0, 1000000, &options->engine.server.maxConnectionsPerAddress);
    if (!perAddressError.isEmpty())
        return perAddressError;
    OddsDesk::ServerConfig &server = options->engine.server;
    QString limitError
        = readIntOption(parser, helloRate, 0, 1000000, &server.maxHellosPerSecondPerAddress);
    if (!limitError.isEmpty())
        return limitError;
    // Below a kilobyte no hello with a token fits; above 16 MiB one client could hold the
    // engine's memory.
    int maxMessageBytes = int(server.maxIncomingMessageBytes);
    limitError = readIntOption(parser, maxMessage, 1024, 16 * 1024 * 1024, &maxMessageBytes);
    if (!limitError.isEmpty())
        return limitError;
    server.maxIncomingMessageBytes = quint64(maxMessageBytes);
    limitError = readIntOption(parser, helloTimeout, 100, 600000, &server.helloTimeoutMs);
    if (!limitError.isEmpty())
        return limitError;
    server.handshakeTimeoutMs = server.helloTimeoutMs;
    limitError = readIntOption(parser, telemetryRate, 1, 1000, &server.telemetryPerSecond);
    if (!limitError.isEmpty())
        return limitError;
    const QString threadsError = readIntOption(
        parser, networkThreads, 0, MaxNetworkThreads, &options->engine.server.networkThreads);
    if (!threadsError.isEmpty())
        return threadsError;
    limitError = readIntOption(parser, ackPace, 0, 60000, &server.ackPaceMs);
    if (!limitError.isEmpty())
        return limitError;
    limitError = readMaxPublishInterval(parser, publishInterval, &server.maxPublishIntervalMs);
    if (!limitError.isEmpty())
        return limitError;
    if (!OddsDesk::parseEventLoopKind(parser.value(eventLoop), &server.eventLoop))
        return QStringLiteral("--event-loop takes epoll or qt, not \"%1\"")
            .arg(parser.value(eventLoop));
    options->issueTokenFor = parser.value(issueToken);
    if (parser.isSet(issueToken) && options->authKeyFile.isEmpty())
        return QStringLiteral("--issue-token needs the key: give --auth-key-file PATH");
    const QString validForError
        = readIntOption(parser, validFor, 1, 366 * 24 * 60 * 60, &options->tokenValidForS);
    if (!validForError.isEmpty())
        return validForError;
    OddsDesk::EngineConfig &config = options->engine;
    config.dataDirectory = parser.isSet(data)
        ? parser.value(data)
        : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    if (config.dataDirectory.isEmpty())
        return QStringLiteral("no data folder: give one with --data DIR");
    config.deskUser = deskUserName();
    // An import replaces the stored book; otherwise the console carries on where it was.
    config.preferStoredBook = !parser.isSet(import);
    options->replayPath = parser.value(replay);
    options->replayCatalogue = parser.value(catalogue);
    if (parser.isSet(speed)) {
        bool ok = false;
        options->replaySpeed = parser.value(speed).toDouble(&ok);
        // "nan" reads as a number, and compares as neither below 0 nor above 100000.
        if (!ok || !std::isfinite(options->replaySpeed) || options->replaySpeed < 0
            || options->replaySpeed > 100000) {
            return QStringLiteral("--speed takes a number from 0 to 100000, not \"%1\"")
                .arg(parser.value(speed));
        }
    }
    options->importPath = parser.value(import);
    // A name the importer does not know is a slip in the command line, found before the file
    // is read; the case is not part of the name (b365 is B365).
    const QStringList bookmakers = OddsDesk::footballDataBookmakers();
    const auto known
        = std::find_if(bookmakers.cbegin(), bookmakers.cend(), [&](const QString &name) {
              return name.compare(parser.value(bookmaker), Qt::CaseInsensitive) == 0;
          });
    if (known == bookmakers.cend()) {
        return QStringLiteral("--bookmaker takes %1, not \"%2\"")
            .arg(bookmakerChoices(defaultBookmaker), parser.value(bookmaker));
    }
    options->bookmaker = *known;

    OddsDesk::EngineConfig &engine = options->engine;
    if (!engine.server.bindAddress.setAddress(parser.value(bind)))
        return QStringLiteral("--bind takes an IP address, not \"%1\"").arg(parser.value(bind));
    int value = 0;
    QString error;
    value = engine.server.port;
    if (!(error = readIntOption(parser, port, 0, 65535, &value)).isEmpty())
        return error;
    engine.server.port = quint16(value);
    engine.simulate = parser.isSet(simulate) || options->demo;
    if (!(error = readIntOption(parser, simulateRate, 1, 100000, &engine.simulateRate)).isEmpty())
        return error;
    // The window's Feed > Simulate prices starts the simulator at this rate later; without a
    // window nothing would.
    if (options->headless && parser.isSet(simulateRate) && !engine.simulate) {
        return QStringLiteral("--simulate-rate needs --simulate (or --demo) in --headless: it is "
                              "the simulator's rate, and nothing else starts the simulator");
    }
    if (!(error = readIntOption(parser, flushMs, 0, 1000, &engine.feed.flushIntervalMs)).isEmpty())
        return error;
    if (!(error
            = readIntOption(parser, heartbeatMs, 100, 60000, &engine.server.heartbeatIntervalMs))
             .isEmpty())
        return error;
    value = engine.server.retentionMs / 1000;
    if (!(error = readIntOption(parser, retentionS, 0, 86400, &value)).isEmpty())
        return error;
    engine.server.retentionMs = value * 1000;

    if (!engine.httpAddress.setAddress(parser.value(httpBind))) {
        return QStringLiteral("--http-bind takes an IP address, not \"%1\"")
            .arg(parser.value(httpBind));
    }
    // The default port is a convenience: if another console holds it, run without.
    engine.httpPort = DefaultHttpPort;
    engine.httpOptional = !parser.isSet(httpPort);
    if (!(error = readIntOption(parser, httpPort, -1, 65535, &engine.httpPort)).isEmpty())
        return error;

    return dependentOptionError(parser,
        {{bookmaker, import, "it chooses whose prices the import takes"},
            {speed, replay, "it is the replay's speed"},
            {catalogue, replay, "it names the replayed market's runners"},
            {validFor, issueToken, "it is the issued token's lifetime"}});
}
