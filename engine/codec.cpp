#include "codec.h"

#include "clock.h"

#include <QLoggingCategory>
#include <QMutex>

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>

#include <mutex>

Q_LOGGING_CATEGORY(lcProtobuf, "oddsdesk.engine.protobuf", QtWarningMsg)

namespace OddsDesk::Codec {
namespace {

// Protobuf writes a line to standard error of its own for some inputs it refuses (a string
// that is not UTF-8), once per message: a client sending such messages would write the
// operator's log. Its lines go to a category instead, at most one a second, with a count of
// those left out; the refusal itself is reported by whoever decoded the message.
constexpr qint64 ProtobufLogIntervalUs = 1000 * 1000;

void protobufLog(
    google::protobuf::LogLevel level, const char *file, int line, const std::string &message)
{
    static QMutex mutex;
    static qint64 lastUs = 0;
    static quint64 suppressed = 0;
    const qint64 nowUs = monotonicMicros();
    quint64 left = 0;
    {
        QMutexLocker lock(&mutex);
        if (lastUs != 0 && nowUs - lastUs < ProtobufLogIntervalUs
            && level < google::protobuf::LOGLEVEL_FATAL) {
            ++suppressed;
            return;
        }
        lastUs = nowUs;
        left = std::exchange(suppressed, 0);
    }
    const QString text
        = QStringLiteral("%1:%2: %3%4")
              .arg(QLatin1String(file))
              .arg(line)
              .arg(QString::fromStdString(message).left(300))
              .arg(left ? QStringLiteral(" (%1 more since the last)").arg(left) : QString());
    if (level >= google::protobuf::LOGLEVEL_WARNING)
        qCWarning(lcProtobuf).noquote() << text;
    else
        qCInfo(lcProtobuf).noquote() << text;
}

void routeProtobufLogs()
{
    static std::once_flag once;
    std::call_once(once, [] { google::protobuf::SetLogHandler(&protobufLog); });
}

} // namespace

QByteArray encode(const google::protobuf::Message &message, WireFormat format)
{
    if (format == WireFormat::Json)
        return toJson(message);
    QByteArray bytes(qsizetype(message.ByteSizeLong()), Qt::Uninitialized);
    message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t *>(bytes.data()));
    return bytes;
}

QByteArray toJson(const google::protobuf::Message &message)
{
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = false;
    options.preserve_proto_field_names = false;
    const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
    if (!status.ok())
        return QByteArray();
    return QByteArray::fromStdString(json);
}

bool decode(
    const QByteArray &data, WireFormat format, google::protobuf::Message *message, QString *error)
{
    routeProtobufLogs();
    if (format == WireFormat::Json) {
        message->Clear(); // a message parsed into before starts afresh, as ParseFromArray does
        google::protobuf::util::JsonParseOptions options;
        options.ignore_unknown_fields = true;
        const auto status = google::protobuf::util::JsonStringToMessage(
            google::protobuf::StringPiece(data.constData(), size_t(data.size())), message, options);
        if (!status.ok()) {
            if (error)
                *error = QStringLiteral("not a valid JSON message: %1")
                             .arg(QString::fromStdString(std::string(status.message())));
            return false;
        }
        return true;
    }
    if (!message->ParseFromArray(data.constData(), int(data.size()))) {
        if (error)
            *error = QStringLiteral("not a valid protobuf message (%1 bytes)").arg(data.size());
        return false;
    }
    return true;
}

pb::MarketStatus toProto(MarketStatus status)
{
    switch (status) {
    case MarketStatus::Open:
        return pb::MARKET_STATUS_OPEN;
    case MarketStatus::Suspended:
        return pb::MARKET_STATUS_SUSPENDED;
    case MarketStatus::Closed:
        return pb::MARKET_STATUS_CLOSED;
    case MarketStatus::Unknown:
        break;
    }
    return pb::MARKET_STATUS_UNSPECIFIED;
}

MarketStatus fromProtoValue(int status)
{
    switch (status) {
    case pb::MARKET_STATUS_OPEN:
        return MarketStatus::Open;
    case pb::MARKET_STATUS_SUSPENDED:
        return MarketStatus::Suspended;
    case pb::MARKET_STATUS_CLOSED:
        return MarketStatus::Closed;
    default:
        return MarketStatus::Unknown;
    }
}

MarketStatus fromProto(pb::MarketStatus status)
{
    return fromProtoValue(int(status));
}

void toProto(const EventInfo &event, pb::Event *out)
{
    out->set_id(event.id);
    out->set_name(event.name.toStdString());
    out->set_competition(event.competition.toStdString());
    out->set_start_time_ms(event.startTimeMs);
    out->set_home(event.home.toStdString());
    out->set_away(event.away.toStdString());
}

void toProto(const MarketInfo &market, pb::Market *out)
{
    out->set_id(market.id);
    out->set_event_id(market.eventId);
    out->set_name(market.name.toStdString());
    out->set_kind(market.kind.toStdString());
    out->set_status(toProto(market.status));
    out->mutable_selections()->Reserve(int(market.selections.size()));
    for (const SelectionInfo &s : market.selections) {
        pb::Selection *selection = out->add_selections();
        selection->set_id(s.id);
        selection->set_name(s.name.toStdString());
        selection->set_price(s.price);
        selection->set_winner(s.winner);
    }
}

EventInfo fromProto(const pb::Event &event)
{
    EventInfo info;
    info.id = event.id();
    info.name = QString::fromStdString(event.name());
    info.competition = QString::fromStdString(event.competition());
    info.startTimeMs = event.start_time_ms();
    info.home = QString::fromStdString(event.home());
    info.away = QString::fromStdString(event.away());
    return info;
}

MarketInfo fromProto(const pb::Market &market)
{
    MarketInfo info;
    info.id = market.id();
    info.eventId = market.event_id();
    info.name = QString::fromStdString(market.name());
    info.kind = QString::fromStdString(market.kind());
    info.status = fromProto(market.status());
    info.selections.reserve(market.selections_size());
    for (const pb::Selection &s : market.selections()) {
        info.selections.append(
            SelectionInfo {s.id(), QString::fromStdString(s.name()), s.price(), s.winner()});
    }
    return info;
}

void toProto(const BookChange &change, pb::Change *out)
{
    out->set_sequence(change.sequence);
    out->set_market_id(change.marketId);
    switch (change.kind) {
    case BookChange::Kind::Price: {
        pb::PriceChange *price = out->mutable_price();
        price->set_selection_id(change.selectionId);
        price->set_price(change.price);
        break;
    }
    case BookChange::Kind::Status:
        out->set_status(toProto(change.status));
        break;
    case BookChange::Kind::Winner:
        out->set_winner_selection_id(change.selectionId);
        break;
    case BookChange::Kind::MarketAdded:
        toProto(change.market, out->mutable_market());
        break;
    case BookChange::Kind::EventAdded:
        toProto(change.event, out->mutable_event());
        break;
    }
}

bool fromProto(const pb::Change &change, BookChange *out)
{
    out->sequence = change.sequence();
    out->marketId = change.market_id();
    switch (change.what_case()) {
    case pb::Change::kPrice:
        out->kind = BookChange::Kind::Price;
        out->selectionId = change.price().selection_id();
        out->price = change.price().price();
        return true;
    case pb::Change::kStatus:
        out->kind = BookChange::Kind::Status;
        out->status = fromProto(change.status());
        return true;
    case pb::Change::kWinnerSelectionId:
        out->kind = BookChange::Kind::Winner;
        out->selectionId = change.winner_selection_id();
        return true;
    case pb::Change::kMarket:
        out->kind = BookChange::Kind::MarketAdded;
        out->market = fromProto(change.market());
        out->marketId = out->market.id;
        return true;
    case pb::Change::kEvent:
        out->kind = BookChange::Kind::EventAdded;
        out->event = fromProto(change.event());
        return true;
    case pb::Change::WHAT_NOT_SET:
        break;
    }
    return false;
}

} // namespace OddsDesk::Codec
