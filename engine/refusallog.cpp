#include "refusallog.h"

namespace OddsDesk {

bool isProtocolError(Refusal reason)
{
    switch (reason) {
    case Refusal::BadMessage:
    case Refusal::UnsupportedData:
    case Refusal::Protocol:
    case Refusal::UnsupportedVersion:
    case Refusal::NotAClientMessage:
    case Refusal::Policy:
    case Refusal::TooBig:
    case Refusal::Unauthorized:
    case Refusal::Origin:
    case Refusal::TelemetryFlood:
        return true;
    case Refusal::HelloTimeout:
    case Refusal::TooSlow:
    case Refusal::Overloaded:
    case Refusal::AddressLimit:
    case Refusal::HelloRate:
    case Refusal::BadHandshake:
    case Refusal::TelemetryDropped:
        return false;
    }
    return false;
}

const char *refusalName(Refusal reason)
{
    switch (reason) {
    case Refusal::BadMessage:
        return "bad_message";
    case Refusal::UnsupportedData:
        return "unsupported_data";
    case Refusal::Protocol:
        return "protocol";
    case Refusal::UnsupportedVersion:
        return "unsupported_version";
    case Refusal::NotAClientMessage:
        return "not_a_client_message";
    case Refusal::Policy:
        return "policy";
    case Refusal::TooBig:
        return "too_big";
    case Refusal::HelloTimeout:
        return "hello_timeout";
    case Refusal::Unauthorized:
        return "unauthorized";
    case Refusal::TooSlow:
        return "too_slow";
    case Refusal::Overloaded:
        return "overloaded";
    case Refusal::AddressLimit:
        return "address_limit";
    case Refusal::HelloRate:
        return "hello_rate";
    case Refusal::Origin:
        return "origin";
    case Refusal::BadHandshake:
        return "bad_handshake";
    case Refusal::TelemetryDropped:
        return "telemetry_dropped";
    case Refusal::TelemetryFlood:
        return "telemetry_flood";
    }
    return "unknown";
}

RefusalLog::RefusalLog(const QLoggingCategory &category, qint64 intervalUs)
    : m_category(category)
    , m_intervalUs(intervalUs)
{ }

bool RefusalLog::record(Refusal reason, const QString &line, qint64 nowUs)
{
    const QMutexLocker lock(&m_mutex);
    Entry &entry = m_entries[size_t(reason)];
    ++entry.total;
    if (entry.logged && nowUs - entry.lastLoggedUs < m_intervalUs) {
        ++entry.suppressed;
        return false;
    }
    if (m_category.isWarningEnabled()) {
        QString text = line;
        if (entry.suppressed > 0) {
            text += QStringLiteral(" (%1 more %2 since the last such line; %3 in all)")
                        .arg(entry.suppressed)
                        .arg(QLatin1String(refusalName(reason)))
                        .arg(entry.total);
        }
        QMessageLogger(nullptr, 0, nullptr, m_category.categoryName()).warning().noquote() << text;
    }
    entry.logged = true;
    entry.lastLoggedUs = nowUs;
    entry.suppressed = 0;
    return true;
}

void RefusalLog::count(Refusal reason)
{
    const QMutexLocker lock(&m_mutex);
    ++m_entries[size_t(reason)].total;
}

quint64 RefusalLog::total(Refusal reason) const
{
    const QMutexLocker lock(&m_mutex);
    return m_entries[size_t(reason)].total;
}

std::array<quint64, RefusalCount> RefusalLog::totals() const
{
    const QMutexLocker lock(&m_mutex);
    std::array<quint64, RefusalCount> out = {};
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = m_entries[i].total;
    return out;
}

QString printableLine(const QString &text, int maxLength)
{
    QString line = text.left(maxLength);
    for (QChar &c : line) {
        if (!c.isPrint())
            c = QLatin1Char(' ');
    }
    return line;
}

} // namespace OddsDesk
