#pragma once

#include "metrics.h"

#include <QHostAddress>
#include <QLoggingCategory>
#include <QObject>
#include <QUrl>

#include <memory>

Q_DECLARE_LOGGING_CATEGORY(lcHttp)

class QHttpServer;

namespace OddsDesk {

/// The feed's figures since start, as Prometheus counts them: interval metrics summed into
/// counters, the latest value of each gauge, and a cumulative latency histogram.
class MetricsTotals
{
public:
    void add(const FeedMetrics &interval);

    /// The Prometheus text exposition format (version 0.0.4).
    QByteArray render() const;

    const FeedMetrics &latest() const { return m_latest; }

private:
    FeedMetrics m_latest;
    quint64 m_reconnects = 0;
    quint64 m_resumes = 0;
    quint64 m_fallbacks = 0;
    quint64 m_clientReconnectAttempts = 0;
    quint64 m_framesOut = 0;
    quint64 m_bytesOut = 0;
    std::array<quint64, LatencyBucketBoundsUs.size() + 1> m_buckets = {};
    quint64 m_latencyCount = 0;
    qint64 m_latencySumUs = 0;
};

/// The console's HTTP endpoint: GET /metrics (Prometheus text) and GET /healthz for
/// operators, and the browser client for support staff: the page at / with its script and
/// style (built into the program as a Qt resource) and /feed.json, which tells the page
/// where the feed is. It serves only those paths, only GET, and refuses requests with a
/// body. It renders from the totals it was last given, so a scrape never waits on the
/// engine's sessions.
class MetricsEndpoint : public QObject
{
    Q_OBJECT

public:
    explicit MetricsEndpoint(QObject *parent = nullptr);
    ~MetricsEndpoint() override;

    /// Returns false and sets errorString() when the port cannot be had.
    bool listen(const QHostAddress &address, quint16 port);
    QString errorString() const { return m_errorString; }
    QUrl url() const { return m_url; }
    /// The origins a browser names when it runs the page served here: the endpoint's own
    /// http://ADDRESS:PORT, and for a loopback address its localhost spelling too. Empty when
    /// the endpoint listens on every address, since the page's origin is then whatever host
    /// name the browser used.
    QStringList pageOrigins() const;

    /// The feed's ws:// or wss:// URL, which /feed.json hands to the page.
    void setFeedUrl(const QUrl &url) { m_feedUrl = url; }

    void update(const FeedMetrics &interval);
    const MetricsTotals &totals() const { return m_totals; }

private:
    std::unique_ptr<QHttpServer> m_server;
    MetricsTotals m_totals;
    QUrl m_url;
    QUrl m_feedUrl;
    QString m_errorString;
};

} // namespace OddsDesk
