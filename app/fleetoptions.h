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
    OddsDesk::EventLoopKind eventLoop = OddsDesk::EventLoopKind::Epoll;
};

/// Parses the fleet's command line. --help and --version print and exit. Returns an empty
/// string on success, or a sentence naming the bad flag.
QString parseFleetOptions(const QStringList &arguments, FleetOptions *options);
