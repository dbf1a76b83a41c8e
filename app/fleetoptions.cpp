#include "fleetoptions.h"
#include "feedclient.h"
#include "feedurl.h"
#include "optionreader.h"

#include <QCommandLineParser>
#include <QThread>

using OddsDesk::Testing::ImpairmentProfile;

namespace {

// Bounds that catch a typo, not a machine's capacity: the open-file limit and the local
// port range are checked against the real machine once the options are read.
constexpr int MaxSessions = 1000 * 1000;
// A day: a soak test longer than that is several runs.
constexpr int MaxDurationS = 24 * 60 * 60;
// Far more event loops than any machine has cores only adds context switches.
constexpr int MaxThreads = 256;
constexpr int MaxRampPerSecond = 100 * 1000;
// Past three heartbeats without an ack the desk calls a session stale.
constexpr int MaxAckIntervalMs = 5000;

// The address the proxies forward to: the URL's host, which must be an IP address (the
// proxy does not resolve names) or localhost.
QString readUpstream(const QUrl &url, FleetOptions *options)
{
    if (url.scheme() != QLatin1String("ws")) {
        return QStringLiteral("--profile needs a ws:// URL: through the proxy a wss:// "
                              "certificate would not match the proxy's address");
    }
    const QString host = url.host();
    if (host == QLatin1String("localhost"))
        options->upstreamHost = QHostAddress(QHostAddress::LocalHost);
    else if (!options->upstreamHost.setAddress(host))
        return QStringLiteral("--profile needs the feed URL's host as an IP address, such as "
                              "ws://127.0.0.1:8765, not \"%1\"")
            .arg(host);
    options->upstreamPort = quint16(url.port(80));
    return QString();
}

// A moment of the run (--drop-at 10) at or past its end would never come: a mistake, refused
// rather than a run that silently does less than asked. 0 is the option not given.
QString momentError(const QCommandLineOption &option, int seconds, int durationS)
{
    if (seconds < durationS)
        return QString();
    return QStringLiteral("--%1 %2 would never come: the run ends after --duration %3; give "
                          "fewer seconds than that")
        .arg(option.names().first())
        .arg(seconds)
        .arg(durationS);
}

} // namespace

bool isLoopbackIPv4(const QString &host)
{
    QHostAddress address;
    return address.setAddress(host) && address.protocol() == QAbstractSocket::IPv4Protocol
        && address.isLoopback();
}

QString parseFleetOptions(const QStringList &arguments, FleetOptions *options)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Opens many sessions to an OddsDesk feed as real clients (they decode, "
                       "apply, acknowledge, resume and back off), optionally through a bad "
                       "network, and prints one JSON summary: rates, delivery latency, gaps, "
                       "duplicates, reconnects and resumes. Latency is measured on the "
                       "machine's monotonic clock, so it is right only when the feed runs on "
                       "the same machine."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        QStringLiteral("URL"), QStringLiteral("ws://host:port of the feed"));

    const QCommandLineOption sessions(QStringLiteral("sessions"),
        QStringLiteral("How many sessions to open (required)."), QStringLiteral("N"));
    const QCommandLineOption duration(QStringLiteral("duration"),
        QStringLiteral("How long the run lasts, ramp-up included (required)."),
        QStringLiteral("SECONDS"));
    const QCommandLineOption profile(QStringLiteral("profile"),
        QStringLiteral("Send the traffic through an impairment proxy with this network "
                       "profile: %1.")
            .arg(ImpairmentProfile::profileNames().join(QStringLiteral(", "))),
        QStringLiteral("NAME"));
    const QCommandLineOption threads(QStringLiteral("threads"),
        QStringLiteral("Worker threads with their own event loop (default: one per core)."),
        QStringLiteral("T"));
    const QCommandLineOption format(QStringLiteral("format"),
        QStringLiteral("Wire format: binary (default) or json."), QStringLiteral("FORMAT"),
        QStringLiteral("binary"));
    const QCommandLineOption ramp(QStringLiteral("ramp-per-second"),
        QStringLiteral("New sessions a second while ramping up (default 500)."),
        QStringLiteral("R"));
    const QCommandLineOption name(QStringLiteral("name"),
        QStringLiteral("Client name prefix in each hello; session n says PREFIX-n (default "
                       "oddsdesk-fleet)."),
        QStringLiteral("PREFIX"));
    const QCommandLineOption dropAt(QStringLiteral("drop-at"),
        QStringLiteral("Every session drops its connection at once this many seconds into "
                       "the run, and comes back as a client does (default: never)."),
        QStringLiteral("SECONDS"));
    const QCommandLineOption blackholeAt(QStringLiteral("blackhole-at"),
        QStringLiteral("With --profile: the proxies stop forwarding anything, in either "
                       "direction, this many seconds into the run, on new connections too "
                       "(default: never)."),
        QStringLiteral("SECONDS"));
    const QCommandLineOption measureAfter(QStringLiteral("measure-after"),
        QStringLiteral("Count latency (and frames, in measured_frames) only from this many "
                       "seconds into the run (default: the whole run)."),
        QStringLiteral("SECONDS"));
    const QCommandLineOption ackInterval(QStringLiteral("ack-interval-ms"),
        QStringLiteral("Each session acknowledges deltas at most this often; 0 acknowledges "
                       "every delta (default: the client library's, %1).")
            .arg(OddsDesk::FeedClientConfig().ackIntervalMs),
        QStringLiteral("MS"));
    const QCommandLineOption eventLoop(QStringLiteral("event-loop"),
        QStringLiteral("The worker threads' event loop: epoll (default) or qt, Qt's own."),
        QStringLiteral("KIND"), QStringLiteral("epoll"));
    const QCommandLineOption sourceAddresses(QStringLiteral("source-addresses"),
        QStringLiteral("Connect from this many addresses, 127.0.0.1 upwards, each with its own "
                       "local ports towards the feed (default: one, or as many as the "
                       "sessions need past about 25,000 on a default port range). Needs the "
                       "feed on a 127.x.x.x address and no --profile."),
        QStringLiteral("N"));
    parser.addOptions({sessions, duration, profile, threads, format, ramp, name, dropAt,
        blackholeAt, measureAfter, ackInterval, eventLoop, sourceAddresses});

    // Read whole, as the console does: -sessions is --sessions, and -bogus one unknown word,
    // not six unknown letters.
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    if (!parser.parse(arguments))
        return parser.errorText() + QStringLiteral(" See --help.");
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();

    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 1)
        return QStringLiteral("give exactly one feed URL, such as ws://127.0.0.1:8765");
    if (const QString urlError = readFeedUrl(positional.first(), &options->url);
        !urlError.isEmpty())
        return urlError;

    if (!parser.isSet(sessions))
        return QStringLiteral("--sessions is required: how many sessions to open");
    if (!parser.isSet(duration))
        return QStringLiteral("--duration is required: the run always stops by itself");
    QString error;
    if (!(error = readIntOption(parser, sessions, 1, MaxSessions, &options->sessions)).isEmpty())
        return error;
    if (!(error = readIntOption(parser, duration, 1, MaxDurationS, &options->durationS)).isEmpty())
        return error;
    options->threads = QThread::idealThreadCount();
    if (!(error = readIntOption(parser, threads, 1, MaxThreads, &options->threads)).isEmpty())
        return error;
    if (!(error = readIntOption(parser, ramp, 1, MaxRampPerSecond, &options->rampPerSecond))
             .isEmpty())
        return error;

    if (!(error = readIntOption(parser, dropAt, 1, MaxDurationS, &options->dropAtS)).isEmpty())
        return error;
    if (!(error = readIntOption(parser, blackholeAt, 1, MaxDurationS, &options->blackholeAtS))
             .isEmpty())
        return error;
    if (!(error = readIntOption(parser, measureAfter, 1, MaxDurationS, &options->measureAfterS))
             .isEmpty())
        return error;
    if (!(error = momentError(dropAt, options->dropAtS, options->durationS)).isEmpty())
        return error;
    if (!(error = momentError(blackholeAt, options->blackholeAtS, options->durationS)).isEmpty())
        return error;
    if (!(error = momentError(measureAfter, options->measureAfterS, options->durationS)).isEmpty())
        return error;
    if (!(error = readIntOption(parser, ackInterval, 0, MaxAckIntervalMs, &options->ackIntervalMs))
             .isEmpty())
        return error;
    if (!OddsDesk::parseEventLoopKind(parser.value(eventLoop), &options->eventLoop))
        return QStringLiteral("--event-loop takes epoll or qt, not \"%1\"")
            .arg(parser.value(eventLoop));
    if (options->blackholeAtS > 0 && !parser.isSet(profile))
        return QStringLiteral("--blackhole-at needs --profile: the proxies do it");

    if (parser.isSet(profile)) {
        options->profile = ImpairmentProfile::profile(parser.value(profile));
        if (!options->profile) {
            return QStringLiteral("--profile takes one of %1, not \"%2\"")
                .arg(ImpairmentProfile::profileNames().join(QStringLiteral(", ")),
                    parser.value(profile));
        }
        if (!(error = readUpstream(options->url, options)).isEmpty())
            return error;
    }

    if (!(error = readIntOption(
              parser, sourceAddresses, 1, MaxSourceAddresses, &options->sourceAddresses))
             .isEmpty())
        return error;
    if (parser.isSet(sourceAddresses) && options->sourceAddresses > 1) {
        if (options->profile)
            return QStringLiteral("--source-addresses cannot go with --profile: the proxies, "
                                  "not the sessions, connect to the feed");
        if (!isLoopbackIPv4(options->url.host()))
            return QStringLiteral("--source-addresses needs the feed on a 127.x.x.x address, "
                                  "such as ws://127.0.0.1:8765: the sessions connect from "
                                  "127.0.0.x, not \"%1\"")
                .arg(options->url.host());
    }

    const QString formatName = parser.value(format).toLower();
    if (formatName != QLatin1String("binary") && formatName != QLatin1String("json"))
        return QStringLiteral("--format takes binary or json, not \"%1\"").arg(formatName);
    options->format = formatName == QLatin1String("json") ? OddsDesk::WireFormat::Json
                                                          : OddsDesk::WireFormat::Binary;

    if (parser.isSet(name)) {
        options->namePrefix = parser.value(name).trimmed();
        if (options->namePrefix.isEmpty())
            return QStringLiteral("--name takes a non-empty prefix");
    }
    return QString();
}
