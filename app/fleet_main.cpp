// oddsdesk-fleet: the load generator. Opens many sessions to an OddsDesk feed as real
// clients of the client library, spread over worker threads, optionally through a bad
// network, and prints one JSON summary of what they received.

#include "fleet.h"
#include "fleetoptions.h"
#include "openfilelimit.h"
#include "signalwatcher.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QHash>
#include <QLoggingCategory>
#include <QMutex>
#include <QTextStream>

#include <algorithm>

namespace {

// Descriptors the program needs besides its sessions: standard streams, each event loop's
// wakeup descriptors, the proxies' listening sockets and whatever Qt opens on the side.
// A few dozen is plenty; a few per thread covers the event loops.
constexpr quint64 FixedDescriptors = 64;
constexpr quint64 DescriptorsPerThread = 4;
// A direct session holds one socket. Through a proxy it holds three: its own, and the
// proxy's two sides (a network switch briefly leaves a half-open upstream side more).
constexpr quint64 DirectSessionDescriptors = 1;
constexpr quint64 ProxiedSessionDescriptors = 3;

QTextStream &err()
{
    static QTextStream stream(stderr);
    return stream;
}

// Thousands of sessions can run into the same warning from inside Qt at the same moment
// (a socket that closed under a write, say). Each distinct message is printed once; its
// repeats are counted and summed up at the end, so standard error stays readable.
// Distinct messages kept: beyond this many, further new ones are counted, not printed.
constexpr int MaxDistinctMessages = 100;
QMutex messageMutex;
QHash<QString, quint64> messageRepeats;
quint64 messagesDropped = 0;
QtMessageHandler defaultMessageHandler = nullptr;

void collapseRepeats(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    {
        QMutexLocker lock(&messageMutex);
        const auto it = messageRepeats.find(message);
        if (it != messageRepeats.end()) {
            ++it.value();
            return;
        }
        if (messageRepeats.size() >= MaxDistinctMessages) {
            ++messagesDropped;
            return;
        }
        messageRepeats.insert(message, 0);
    }
    if (defaultMessageHandler)
        defaultMessageHandler(type, context, message);
    else
        err() << qFormatLogMessage(type, context, message) << Qt::endl;
}

void reportRepeats()
{
    QMutexLocker lock(&messageMutex);
    for (auto it = messageRepeats.cbegin(); it != messageRepeats.cend(); ++it) {
        if (it.value() > 0)
            err() << "oddsdesk-fleet: the message \"" << it.key() << "\" came " << it.value()
                  << " more times" << Qt::endl;
    }
    if (messagesDropped > 0)
        err() << "oddsdesk-fleet: " << messagesDropped << " more messages were not printed"
              << Qt::endl;
}

// Raises the soft limit on open files to the hard limit and returns the limit in force.
quint64 raiseOpenFileLimit()
{
    QString warning;
    const quint64 limit = ::raiseOpenFileLimit(&warning);
    if (!warning.isEmpty())
        err() << "oddsdesk-fleet: " << warning << Qt::endl;
    return limit;
}

// How many source ports the kernel hands out for connections to one address and port, or
// 0 when that cannot be read.
quint64 localPortCount()
{
    QFile file(QStringLiteral("/proc/sys/net/ipv4/ip_local_port_range"));
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    const QList<QByteArray> bounds = file.readAll().simplified().split(' ');
    if (bounds.size() != 2)
        return 0;
    const quint64 low = bounds.at(0).toULongLong();
    const quint64 high = bounds.at(1).toULongLong();
    return high >= low ? high - low + 1 : 0;
}

// Whether this machine lets one process open the sessions asked for; an error sentence if not.
// Chooses how many source addresses the sessions need, unless --source-addresses did.
QString checkCapacity(FleetOptions *options_)
{
    FleetOptions &options = *options_;
    const quint64 sessions = quint64(options.sessions);
    const quint64 perSession
        = options.profile ? ProxiedSessionDescriptors : DirectSessionDescriptors;
    const quint64 threads = quint64(std::min(options.threads, options.sessions));
    const quint64 fixed = FixedDescriptors + DescriptorsPerThread * threads;
    const quint64 needed = sessions * perSession + fixed;
    const quint64 limit = raiseOpenFileLimit();
    if (limit != 0 && needed > limit) {
        return QStringLiteral("--sessions %1 needs about %2 open files (%3 a session%4, plus %5 "
                              "for the program), but this process may open at most %6, the "
                              "hard limit; run fewer sessions, or several fleets")
            .arg(sessions)
            .arg(needed)
            .arg(perSession)
            .arg(options.profile ? QStringLiteral(" through the proxy") : QString())
            .arg(fixed)
            .arg(limit);
    }

    // Every session connects to one feed address and port (the proxies' upstream sides too),
    // so each needs a local port of its source address. Past nine tenths of an address's
    // ports, finding a free one gets slow, so the sessions spread over 127.0.0.x, each
    // address with ports of its own. That needs the feed on 127.x.x.x, and no proxy.
    const quint64 ports = localPortCount();
    const bool canSpread = !options.profile && isLoopbackIPv4(options.url.host());
    if (options.sourceAddresses == 0) {
        options.sourceAddresses = 1;
        const quint64 perAddress = ports * 9 / 10;
        if (canSpread && perAddress != 0 && sessions > perAddress) {
            options.sourceAddresses = int(
                std::min<quint64>(MaxSourceAddresses, (sessions + perAddress - 1) / perAddress));
            err() << "oddsdesk-fleet: " << sessions << " sessions connect from "
                  << options.sourceAddresses << " addresses, 127.0.0.1 upwards: one has " << ports
                  << " local ports towards the feed" << Qt::endl;
        }
    }
    const quint64 addresses = quint64(options.sourceAddresses);
    if (ports != 0 && sessions > ports * addresses) {
        return QStringLiteral("--sessions %1 needs a local port each towards the feed, but this "
                              "machine hands out %2 to each source address, and the sessions "
                              "connect from %3; %4")
            .arg(sessions)
            .arg(ports)
            .arg(addresses)
            .arg(canSpread ? QStringLiteral("give more --source-addresses")
                    : options.profile
                    ? QStringLiteral("with --profile the proxies connect to the feed, from one "
                                     "address: run fewer sessions, or several fleets")
                    : QStringLiteral("the feed is not on 127.x.x.x, so the sessions cannot "
                                     "spread over 127.0.0.x: run fewer sessions, or several "
                                     "fleets"));
    }
    return QString();
}

} // namespace

int main(int argc, char **argv)
{
    // Each client acknowledges what it applies; a write switches its socket's notifier on
    // and off, and GLib's dispatcher finds the one to switch off by walking a list of every
    // socket of the thread: with thousands of sessions a thread, that walk is the fleet's
    // biggest cost. Qt's own dispatcher keeps them in a hash. An empty QT_NO_GLIB= keeps GLib.
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("oddsdesk-fleet"));
    QCoreApplication::setApplicationVersion(QStringLiteral(ODDSDESK_VERSION));
    // Thousands of clients would each warn about their own gaps and failed connections and
    // drown the progress lines; the summary counts all of it.
    defaultMessageHandler = qInstallMessageHandler(collapseRepeats);
    QLoggingCategory::setFilterRules(QStringLiteral("oddsdesk.client.warning=false\n"
                                                    "oddsdesk.testing.impairment.warning=false"));

    FleetOptions options;
    QString error = parseFleetOptions(QCoreApplication::arguments(), &options);
    if (error.isEmpty())
        error = checkCapacity(&options);
    if (!error.isEmpty()) {
        err() << "oddsdesk-fleet: " << error << Qt::endl;
        return 2;
    }

    Fleet fleet(options);
    QObject::connect(&fleet, &Fleet::finished, &app, &QCoreApplication::quit);
    SignalWatcher watcher;
    QObject::connect(
        &watcher, &SignalWatcher::terminationRequested, &fleet, [&fleet] { fleet.finish(true); });

    error = fleet.start();
    if (!error.isEmpty()) {
        err() << "oddsdesk-fleet: " << error << Qt::endl;
        return 1;
    }
    app.exec();

    QTextStream out(stdout);
    out << QJsonDocument(fleet.summary()).toJson(QJsonDocument::Compact) << Qt::endl;
    reportRepeats();
    if (!fleet.reachedFeed()) {
        err() << "oddsdesk-fleet: no session was welcomed by the feed at " << options.url.toString()
              << Qt::endl;
        return 1;
    }
    return 0;
}
