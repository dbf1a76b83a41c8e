#pragma once

#include "book.h"

#include "oddsdesk/v1/feed.pb.h"

#include <QByteArray>
#include <QString>

namespace OddsDesk {

namespace pb = oddsdesk::v1;

/// How messages travel on a connection: the two WebSocket subprotocols of protocol v1.
enum class WireFormat { Binary, Json };

inline constexpr char BinarySubprotocol[] = "oddsdesk.v1+proto";
inline constexpr char JsonSubprotocol[] = "oddsdesk.v1+json";
constexpr quint32 ProtocolVersion = 1;

/// Encoding and decoding of protocol messages, and conversion between the wire types and
/// the book's own. Parsing never throws; it says what was wrong.
namespace Codec {

QByteArray encode(const google::protobuf::Message &message, WireFormat format);

/// Parses \a data into \a message. Unknown fields are ignored in both formats, so a peer
/// built against a newer schema is understood. On failure returns false and sets \a error.
bool decode(
    const QByteArray &data, WireFormat format, google::protobuf::Message *message, QString *error);

/// The JSON mapping of any message, on one line; what `oddsdesk-client --json` prints.
QByteArray toJson(const google::protobuf::Message &message);

pb::MarketStatus toProto(MarketStatus status);
/// A status this build does not know becomes MarketStatus::Unknown: never tradable.
MarketStatus fromProto(pb::MarketStatus status);
MarketStatus fromProtoValue(int status);

void toProto(const EventInfo &event, pb::Event *out);
void toProto(const MarketInfo &market, pb::Market *out);
EventInfo fromProto(const pb::Event &event);
MarketInfo fromProto(const pb::Market &market);

/// Appends a change to a delta.
void toProto(const BookChange &change, pb::Change *out);
/// A change as the book applies it. Returns false for a change kind this build does not know.
bool fromProto(const pb::Change &change, BookChange *out);

} // namespace Codec
} // namespace OddsDesk
