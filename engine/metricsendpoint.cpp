#include "metricsendpoint.h"

#include <QCoreApplication>
#include <QFile>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QHttpServerResponse>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

Q_LOGGING_CATEGORY(lcHttp, "oddsdesk.engine.http", QtWarningMsg)

// The browser client's files live in the engine library as a Qt resource (web.qrc); a
// static library's resources must be pulled in by name, and only outside any namespace.
static void initWebResources()
{
    Q_INIT_RESOURCE(web);
}

namespace OddsDesk {
namespace {

// The browser client's files, by the path they are served at.
struct WebFile
{
    const char *path;
    const char *resource;
    const char *contentType;
};

constexpr WebFile WebFiles[] = {
    {"/", ":/web/index.html", "text/html; charset=utf-8"},
    {"/app.js", ":/web/app.js", "text/javascript; charset=utf-8"},
    {"/style.css", ":/web/style.css", "text/css; charset=utf-8"},
    {"/favicon.svg", ":/web/favicon.svg", "image/svg+xml"},
};

// The page may load only its own files and talk only to its own server and a WebSocket
// feed; it may not be framed by another site.
constexpr char WebSecurityPolicy[]
    = "default-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'";

// Prometheus' own media type for the text format.
constexpr char PrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

class Writer
{
public:
    void family(const char *name, const char *type, const char *help)
    {
        m_out += QByteArray("# HELP ") + name + ' ' + help + '\n';
        m_out += QByteArray("# TYPE ") + name + ' ' + type + '\n';
    }

    void sample(const QByteArray &name, double value)
    {
        m_out += name + ' ' + QByteArray::number(value, 'g', 15) + '\n';
    }

    void sample(const QByteArray &name, quint64 value)
    {
        m_out += name + ' ' + QByteArray::number(value) + '\n';
    }

    QByteArray take() { return std::move(m_out); }

private:
    QByteArray m_out;
};

// A GET carries no body. A few bytes are a client's slip (a stray line end, an empty form),
// told as a bad request; past a kilobyte, far more than any such slip, the body is a payload
// this endpoint never takes, and "too large" is what it is.
constexpr qsizetype MaxMistakenBodyBytes = 1024;

QHttpServerResponse refuseBody(const QHttpServerRequest &request)
{
    if (request.body().size() > MaxMistakenBodyBytes) {
        return QHttpServerResponse(QByteArray("text/plain"),
            QByteArray("requests to this endpoint carry no body, and this one is too large\n"),
            QHttpServerResponse::StatusCode::PayloadTooLarge);
    }
    return QHttpServerResponse(QByteArray("text/plain"),
        QByteArray("a GET to this endpoint carries no body: send the request without one\n"),
        QHttpServerResponse::StatusCode::BadRequest);
}

QHttpServerResponse webResponse(const QByteArray &contentType, const QByteArray &body)
{
    QHttpServerResponse response(contentType, body);
    response.setHeader("Content-Security-Policy", WebSecurityPolicy);
    response.setHeader("X-Content-Type-Options", "nosniff");
    // A console upgraded in place serves a new page; the browser must not keep the old one.
    response.setHeader("Cache-Control", "no-cache");
    return response;
}

QHttpServerResponse webFile(const WebFile &file)
{
    QFile resource(QString::fromLatin1(file.resource));
    if (!resource.open(QIODevice::ReadOnly)) {
        qCWarning(lcHttp) << "the web client's" << file.resource << "is missing from the build";
        return QHttpServerResponse(QHttpServerResponse::StatusCode::NotFound);
    }
    return webResponse(file.contentType, resource.readAll());
}

} // namespace

void MetricsTotals::add(const FeedMetrics &interval)
{
    m_latest = interval;
    m_reconnects += quint64(interval.reconnects);
    m_resumes += quint64(interval.resumes);
    m_fallbacks += quint64(interval.snapshotFallbacks);
    m_clientReconnectAttempts += quint64(interval.clientReconnectAttempts);
    m_framesOut += interval.framesOut;
    m_bytesOut += interval.bytesOut;
    for (size_t i = 0; i < m_buckets.size(); ++i) {
        m_buckets[i] += interval.latencyBuckets[i];
        m_latencyCount += interval.latencyBuckets[i];
    }
    m_latencySumUs += interval.latencySumUs;
}

QByteArray MetricsTotals::render() const
{
    Writer w;
    w.family("oddsdesk_sessions", "gauge", "Client sessions, by whether a connection is live.");
    w.sample("oddsdesk_sessions{state=\"connected\"}", quint64(m_latest.connected));
    w.sample("oddsdesk_sessions{state=\"retained\"}", quint64(m_latest.retained));
    w.family("oddsdesk_stale_sessions", "gauge",
        "Connected sessions owing acknowledgements older than three heartbeats.");
    w.sample("oddsdesk_stale_sessions", quint64(m_latest.staleSessions));
    w.family("oddsdesk_head_sequence", "gauge", "The last sequence number the feed gave out.");
    w.sample("oddsdesk_head_sequence", m_latest.headSequence);
    w.family("oddsdesk_connections_total", "counter", "WebSocket connections accepted.");
    w.sample("oddsdesk_connections_total", m_latest.totalConnections);
    w.family("oddsdesk_resume_requests_total", "counter", "Hellos that asked to resume a session.");
    w.sample("oddsdesk_resume_requests_total", m_reconnects);
    w.family("oddsdesk_resumes_total", "counter", "Resume requests answered with a replay.");
    w.sample("oddsdesk_resumes_total", m_resumes);
    w.family("oddsdesk_snapshot_fallbacks_total", "counter",
        "Resume requests answered with a fresh snapshot.");
    w.sample("oddsdesk_snapshot_fallbacks_total", m_fallbacks);
    w.family("oddsdesk_client_reconnect_attempts_total", "counter",
        "Reconnect attempts as clients reported them.");
    w.sample("oddsdesk_client_reconnect_attempts_total", m_clientReconnectAttempts);
    w.family("oddsdesk_frames_sent_total", "counter", "WebSocket messages sent to clients.");
    w.sample("oddsdesk_frames_sent_total", m_framesOut);
    w.family("oddsdesk_bytes_sent_total", "counter", "Payload bytes sent to clients.");
    w.sample("oddsdesk_bytes_sent_total", m_bytesOut);
    w.family("oddsdesk_protocol_errors_total", "counter",
        "Sessions closed because of what the client sent: a message it should not have, or a "
        "token that is not valid (not a client too slow or silent, nor the server's limits).");
    w.sample("oddsdesk_protocol_errors_total", m_latest.protocolErrors);
    w.family("oddsdesk_overload_refusals_total", "counter",
        "Connections answered \"overloaded, retry after\".");
    w.sample("oddsdesk_overload_refusals_total", m_latest.overloadRefusals);
    w.family("oddsdesk_refusals_total", "counter",
        "Clients refused or closed, and telemetry dropped, by reason.");
    for (int i = 0; i < RefusalCount; ++i) {
        w.sample(QByteArray("oddsdesk_refusals_total{reason=\"") + refusalName(Refusal(i)) + "\"}",
            m_latest.refusals[size_t(i)]);
    }

    w.family("oddsdesk_delivery_latency_seconds", "histogram",
        "From the engine committing a change to the client receiving it.");
    quint64 cumulative = 0;
    for (size_t i = 0; i < LatencyBucketBoundsUs.size(); ++i) {
        cumulative += m_buckets[i];
        w.sample("oddsdesk_delivery_latency_seconds_bucket{le=\""
                + QByteArray::number(double(LatencyBucketBoundsUs[i]) / 1e6, 'g', 6) + "\"}",
            cumulative);
    }
    w.sample("oddsdesk_delivery_latency_seconds_bucket{le=\"+Inf\"}", m_latencyCount);
    w.sample("oddsdesk_delivery_latency_seconds_sum", double(m_latencySumUs) / 1e6);
    w.sample("oddsdesk_delivery_latency_seconds_count", m_latencyCount);
    return w.take();
}

MetricsEndpoint::MetricsEndpoint(QObject *parent)
    : QObject(parent)
    , m_server(std::make_unique<QHttpServer>())
{
    using Method = QHttpServerRequest::Method;
    m_server->route(
        QStringLiteral("/metrics"), Method::Get, [this](const QHttpServerRequest &request) {
            if (!request.body().isEmpty())
                return refuseBody(request);
            QHttpServerResponse response(PrometheusContentType, m_totals.render());
            return response;
        });
    m_server->route(QStringLiteral("/healthz"), Method::Get, [](const QHttpServerRequest &request) {
        if (!request.body().isEmpty())
            return refuseBody(request);
        return QHttpServerResponse(QByteArray("text/plain"), QByteArray("ok\n"));
    });

    initWebResources();
    for (const WebFile &file : WebFiles) {
        m_server->route(QString::fromLatin1(file.path), Method::Get,
            [&file](const QHttpServerRequest &request) {
                if (!request.body().isEmpty())
                    return refuseBody(request);
                return webFile(file);
            });
    }
    m_server->route(
        QStringLiteral("/feed.json"), Method::Get, [this](const QHttpServerRequest &request) {
            if (!request.body().isEmpty())
                return refuseBody(request);
            QJsonObject feed;
            feed.insert(QStringLiteral("url"), m_feedUrl.toString());
            feed.insert(QStringLiteral("version"), QCoreApplication::applicationVersion());
            return webResponse(
                "application/json", QJsonDocument(feed).toJson(QJsonDocument::Compact) + '\n');
        });

    // Every path above takes GET alone: another method there is told so (405, with the one it
    // takes), not that nothing is there.
    QSet<QString> served {
        QStringLiteral("/metrics"), QStringLiteral("/healthz"), QStringLiteral("/feed.json")};
    for (const WebFile &file : WebFiles)
        served.insert(QString::fromLatin1(file.path));
    m_server->setMissingHandler([served = std::move(served)](const QHttpServerRequest &request,
                                    QHttpServerResponder &&responder) {
        using Status = QHttpServerResponder::StatusCode;
        if (served.contains(request.url().path())) {
            responder.write(QByteArray("this address takes GET only\n"),
                {{"Content-Type", "text/plain"}, {"Allow", "GET"}}, Status::MethodNotAllowed);
            return;
        }
        responder.write(QByteArray("nothing is served at this address\n"),
            {{"Content-Type", "text/plain"}}, Status::NotFound);
    });
}

MetricsEndpoint::~MetricsEndpoint() = default;

bool MetricsEndpoint::listen(const QHostAddress &address, quint16 port)
{
    const quint16 bound = m_server->listen(address, port);
    if (bound == 0) {
        m_errorString = QStringLiteral("cannot serve metrics on %1:%2: the port is taken or "
                                       "not allowed")
                            .arg(address.toString())
                            .arg(port);
        return false;
    }
    m_url.setScheme(QStringLiteral("http"));
    m_url.setHost(address.toString());
    m_url.setPort(bound);
    return true;
}

QStringList MetricsEndpoint::pageOrigins() const
{
    if (!m_url.isValid())
        return {};
    const QHostAddress address(m_url.host());
    if (address == QHostAddress::Any || address == QHostAddress::AnyIPv6
        || address == QHostAddress::AnyIPv4)
        return {};
    // Scheme, host and port, as a browser writes an origin: no path, no trailing slash.
    QStringList origins {QStringLiteral("http://") + m_url.authority()};
    if (address.isLoopback())
        origins.append(QStringLiteral("http://localhost:%1").arg(m_url.port()));
    return origins;
}

void MetricsEndpoint::update(const FeedMetrics &interval)
{
    m_totals.add(interval);
}

} // namespace OddsDesk
