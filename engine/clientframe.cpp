#include "clientframe.h"

#include "authtoken.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>

namespace OddsDesk {
namespace {

ClientFrameCheck refuse(Refusal refusal, pb::Error::Code code,
    QWebSocketProtocol::CloseCode closeCode, const QString &reason)
{
    ClientFrameCheck check;
    check.refusal = refusal;
    check.code = code;
    check.closeCode = closeCode;
    check.reason = reason;
    return check;
}

ClientFrameCheck notAClientMessage(const QString &what)
{
    return refuse(Refusal::NotAClientMessage, pb::Error::CODE_POLICY,
        QWebSocketProtocol::CloseCodePolicyViolated,
        QStringLiteral("%1: a client may send only hello, ack and telemetry, and can never "
                       "change the book")
            .arg(what));
}

// The names a client message may never carry at its top level: every message the server
// sends and the changes a delta is made of, in both spellings of the JSON mapping. Taken
// from the schema, so that a message added to ServerMessage is refused as well.
const QSet<QString> &reservedJsonNames()
{
    static const QSet<QString> names = [] {
        QSet<QString> out {QStringLiteral("change"), QStringLiteral("changes")};
        const auto *server = pb::ServerMessage::descriptor();
        for (int i = 0; i < server->field_count(); ++i) {
            out.insert(QString::fromStdString(server->field(i)->name()));
            out.insert(QString::fromStdString(server->field(i)->json_name()));
        }
        return out;
    }();
    return names;
}

// The first reserved name at the top level of a JSON client message, or an empty string.
// Runs after protobuf's parser accepted the text, so the text is an object.
QString reservedNameIn(const QByteArray &json, bool *readable)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json, &error);
    *readable = error.error == QJsonParseError::NoError && document.isObject();
    if (!*readable)
        return QString();
    const QJsonObject object = document.object();
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        if (reservedJsonNames().contains(it.key()))
            return it.key();
    }
    return QString();
}

// What a parsed message holds beyond its schema: whether any field was unknown, and the
// first field number the schema knows that came in the wire type of another ("telemetry.1"),
// which no version of the schema produces (fields are never renumbered or retyped).
struct FieldScan
{
    bool unknown = false;
    QString conflict;
};

void scanFields(const google::protobuf::Message &message, FieldScan *scan, int depth = 0)
{
    // The schema nests four deep (ClientMessage, Hello, ResumeRequest); protobuf's own
    // recursion limit stops anything much deeper before it gets here.
    constexpr int MaxDepth = 16;
    if (depth > MaxDepth || !scan->conflict.isEmpty())
        return;
    const auto *descriptor = message.GetDescriptor();
    const auto *reflection = message.GetReflection();
    const google::protobuf::UnknownFieldSet &unknown = reflection->GetUnknownFields(message);
    for (int i = 0; i < unknown.field_count(); ++i) {
        scan->unknown = true;
        if (descriptor->FindFieldByNumber(unknown.field(i).number())) {
            scan->conflict = QString::number(unknown.field(i).number());
            return;
        }
    }
    std::vector<const google::protobuf::FieldDescriptor *> fields;
    reflection->ListFields(message, &fields);
    for (const auto *field : fields) {
        if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE)
            continue;
        const int count = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
        for (int j = 0; j < count && scan->conflict.isEmpty(); ++j) {
            scanFields(field->is_repeated() ? reflection->GetRepeatedMessage(message, field, j)
                                            : reflection->GetMessage(message, field),
                scan, depth + 1);
            if (!scan->conflict.isEmpty())
                scan->conflict.prepend(QString::fromStdString(field->name()) + QLatin1Char('.'));
        }
    }
}

// Whether any part of \a message holds a field its schema does not know: the typed walk,
// without reflection, since it runs on every binary frame. It names every message type a
// ClientMessage holds (tst_clientinput counts them, so that a new one is not forgotten).
bool hasOwnUnknownFields(const google::protobuf::Message &message)
{
    return !message.GetReflection()->GetUnknownFields(message).empty();
}

bool hasUnknownFields(const pb::ClientMessage &message)
{
    if (hasOwnUnknownFields(message))
        return true;
    switch (message.body_case()) {
    case pb::ClientMessage::kHello:
        return hasOwnUnknownFields(message.hello())
            || (message.hello().has_resume() && hasOwnUnknownFields(message.hello().resume()));
    case pb::ClientMessage::kAck:
        return hasOwnUnknownFields(message.ack());
    case pb::ClientMessage::kTelemetry:
        if (hasOwnUnknownFields(message.telemetry()))
            return true;
        for (const pb::TelemetryEvent &event : message.telemetry().events()) {
            if (hasOwnUnknownFields(event))
                return true;
        }
        return false;
    case pb::ClientMessage::BODY_NOT_SET:
        break;
    }
    return false;
}

// Why a binary frame is not a client message though it parsed as one, or an empty string.
// Protobuf reads almost any bytes as almost any message, so the frame is also read as what
// the server sends: a frame with fields a ClientMessage does not know, all of which a
// ServerMessage does, is the server's (a snapshot with its markets reads as an ack with
// unknown fields, and as a snapshot with none).
QString serverShapeOf(const QByteArray &data, const pb::ClientMessage &message)
{
    // Without unknown fields there is nothing to explain: the common case, and a quick one.
    if (!hasUnknownFields(message))
        return QString();
    FieldScan asClient;
    scanFields(message, &asClient);
    if (!asClient.conflict.isEmpty())
        return QStringLiteral("field %1 of another message's type").arg(asClient.conflict);
    if (!asClient.unknown)
        return QString();
    pb::ServerMessage server;
    if (!server.ParseFromArray(data.constData(), int(data.size())))
        return QString();
    FieldScan asServer;
    scanFields(server, &asServer);
    if (asServer.unknown || !asServer.conflict.isEmpty()
        || server.body_case() == pb::ServerMessage::BODY_NOT_SET)
        return QString();
    return QStringLiteral("a server's %1 message")
        .arg(QString::fromStdString(
            pb::ServerMessage::descriptor()->FindFieldByNumber(server.body_case())->name()));
}

} // namespace

ClientFrameCheck checkClientFrame(const QByteArray &data, WireFormat received, WireFormat expected,
    ClientPhase phase, pb::ClientMessage *message)
{
    if (received != expected) {
        return refuse(Refusal::UnsupportedData, pb::Error::CODE_UNSUPPORTED_DATA,
            QWebSocketProtocol::CloseCodeDatatypeNotSupported,
            expected == WireFormat::Binary
                ? QStringLiteral("text frame on the binary subprotocol")
                : QStringLiteral("binary frame on the JSON subprotocol"));
    }
    message->Clear();
    QString error;
    if (!Codec::decode(data, expected, message, &error)) {
        return refuse(Refusal::BadMessage, pb::Error::CODE_BAD_MESSAGE,
            QWebSocketProtocol::CloseCodeWrongDatatype, error);
    }

    if (expected == WireFormat::Json) {
        bool readable = false;
        const QString reserved = reservedNameIn(data, &readable);
        if (!readable) {
            return refuse(Refusal::BadMessage, pb::Error::CODE_BAD_MESSAGE,
                QWebSocketProtocol::CloseCodeWrongDatatype,
                QStringLiteral("not a JSON object this server reads"));
        }
        if (!reserved.isEmpty())
            return notAClientMessage(QStringLiteral("\"%1\" in a client message").arg(reserved));
    } else {
        const QString shape = serverShapeOf(data, *message);
        if (!shape.isEmpty())
            return notAClientMessage(shape);
    }

    switch (message->body_case()) {
    case pb::ClientMessage::kHello:
        if (phase != ClientPhase::AwaitingHello) {
            return refuse(Refusal::Protocol, pb::Error::CODE_PROTOCOL,
                QWebSocketProtocol::CloseCodeProtocolError,
                QStringLiteral("a second hello on one connection"));
        }
        break;
    case pb::ClientMessage::kAck:
    case pb::ClientMessage::kTelemetry:
        if (phase != ClientPhase::Live) {
            return refuse(Refusal::Protocol, pb::Error::CODE_PROTOCOL,
                QWebSocketProtocol::CloseCodeProtocolError,
                QStringLiteral("a message before hello"));
        }
        break;
    case pb::ClientMessage::BODY_NOT_SET:
        return notAClientMessage(QStringLiteral("a message that is none of them"));
    }
    ClientFrameCheck check;
    check.ok = true;
    return check;
}

Refusal refusalFor(pb::Error::Code code)
{
    switch (code) {
    case pb::Error::CODE_BAD_MESSAGE:
        return Refusal::BadMessage;
    case pb::Error::CODE_UNSUPPORTED_DATA:
        return Refusal::UnsupportedData;
    case pb::Error::CODE_PROTOCOL:
        return Refusal::Protocol;
    case pb::Error::CODE_TOO_BIG:
        return Refusal::TooBig;
    case pb::Error::CODE_OVERLOADED:
        return Refusal::Overloaded;
    case pb::Error::CODE_TOO_SLOW:
        return Refusal::TooSlow;
    case pb::Error::CODE_UNSUPPORTED_VERSION:
        return Refusal::UnsupportedVersion;
    case pb::Error::CODE_HANDSHAKE_TIMEOUT:
        return Refusal::HelloTimeout;
    case pb::Error::CODE_UNAUTHORIZED:
        return Refusal::Unauthorized;
    default:
        return Refusal::Policy;
    }
}

HelloCheck checkHello(const pb::Hello &hello, const QByteArray &authKey, qint64 nowMs)
{
    HelloCheck check;
    if (hello.protocol_version() != ProtocolVersion) {
        check.refusal = Refusal::UnsupportedVersion;
        check.code = pb::Error::CODE_UNSUPPORTED_VERSION;
        check.closeCode = QWebSocketProtocol::CloseCodeProtocolError;
        check.reason = QStringLiteral("protocol version %1 is not served; this server speaks 1")
                           .arg(hello.protocol_version());
        return check;
    }
    if (!authKey.isEmpty()) {
        const AuthResult auth
            = verifyAuthToken(authKey, QString::fromStdString(hello.auth_token()), nowMs);
        if (!auth.ok()) {
            check.refusal = Refusal::Unauthorized;
            check.code = pb::Error::CODE_UNAUTHORIZED;
            check.closeCode = QWebSocketProtocol::CloseCodePolicyViolated;
            check.reason = QStringLiteral("not authorised: %1").arg(auth.error);
            return check;
        }
        check.user = auth.claims.userId;
    }
    check.ok = true;
    return check;
}

} // namespace OddsDesk
