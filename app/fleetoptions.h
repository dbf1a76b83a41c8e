#pragma once

#include "codec.h"
#include "epolldispatcher.h"
#include "feedclient.h"
#include "impairmentproxy.h"

#include <QHostAddress>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

/// The most source addresses the sessions spread over: 127.0.0.1 to 127.0.0.254.
constexpr int MaxSourceAddresses = 254;

/// What the load generator's command line asks for.
struct FleetOptions
{
    QUrl url;
    int sessions = 0;
    int durationS = 0;
    // Without a profile the sessions connect to the feed directly.
    std::optional<OddsDesk::Testing::ImpairmentProfile> profile;
    // With a profile the proxies forward to this address and port (the URL's).
    QHostAddress upstreamHost;
    quint16 upstreamPort = 0;
    int threads = 0;
    OddsDesk::WireFormat format = OddsDesk::WireFormat::Binary;
    int rampPerSecond = 500;
    QString namePrefix = QStringLiteral("oddsdesk-fleet");
    // Seconds into the run at which every session drops its connection at once (a storm of
    // returns follows), or at which the proxies stop forwarding (readers that stopped); 0
    // for never.
    int dropAtS = 0;
    int blackholeAtS = 0;
    // Latency and frames count from this many seconds into the run (after the ramp-up),
    // so that a benchmark measures the steady state; 0 counts the whole run.
    int measureAfterS = 0;
    int ackIntervalMs = OddsDesk::FeedClientConfig().ackIntervalMs;
    // How many addresses of 127.0.0.x the sessions connect from, each with its own local
    // ports towards the feed; 0 leaves it to the fleet (one, unless one's ports are too few).
    int sourceAddresses = 0;
    OddsDesk::EventLoopKind eventLoop = OddsDesk::EventLoopKind::Epoll;
};

/// Whether \a host is an IPv4 address of the loopback network, 127.x.x.x.
bool isLoopbackIPv4(const QString &host);

/// Parses the fleet's command line. --help and --version print and exit. Returns an empty
/// string on success, or a sentence naming the bad flag.
QString parseFleetOptions(const QStringList &arguments, FleetOptions *options);
