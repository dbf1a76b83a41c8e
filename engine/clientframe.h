#pragma once

#include "codec.h"
#include "metrics.h"

#include <QByteArray>
#include <QString>
#include <QWebSocketProtocol>

namespace OddsDesk {

/// Where a connection is in the conversation when a frame arrives.
enum class ClientPhase { AwaitingHello, Live };

/// What the server makes of one frame a client sent: the message to act on, or why the
/// connection is closed (the error to send, the close code, the reason counted).
struct ClientFrameCheck
{
    bool ok = false;
    Refusal refusal = Refusal::BadMessage;
    pb::Error::Code code = pb::Error::CODE_UNSPECIFIED;
    QWebSocketProtocol::CloseCode closeCode = QWebSocketProtocol::CloseCodeNormal;
    QString reason; // may quote what the client sent: keep it to one line before logging it
};

/// Decodes and judges one frame, before anything acts on it; pure, so that it can be tested
/// and fuzzed without a socket. A client may send only a hello (first, once), acks and
/// telemetry: a frame of the wrong WebSocket type closes with 1003, one that does not parse
/// with 1007, a hello out of turn or an ack or telemetry before hello with 1002, and
/// anything else that parses with 1008, because a client can never change the book. That
/// "anything else" is a message with none of the three set, a JSON message whose top level
/// carries a server message or a change ("delta", "snapshot", "change", ...), and a binary
/// message with a field of the schema in the wire type of another, which no version of
/// ClientMessage can produce (a ServerMessage's delta read as telemetry, its welcome read as
/// a hello). Unknown fields are otherwise ignored, as the protocol promises.
ClientFrameCheck checkClientFrame(const QByteArray &data, WireFormat received, WireFormat expected,
    ClientPhase phase, pb::ClientMessage *message);

/// What a hello earns: the user its token names, or why the connection is closed.
struct HelloCheck
{
    bool ok = false;
    QString user; // empty on an open feed
    Refusal refusal = Refusal::Protocol;
    pb::Error::Code code = pb::Error::CODE_UNSPECIFIED;
    QWebSocketProtocol::CloseCode closeCode = QWebSocketProtocol::CloseCodeNormal;
    QString reason;
};

/// Checks a hello's protocol version and, when \a authKey is set, its token at \a nowMs
/// (UTC milliseconds). Pure, like checkClientFrame().
HelloCheck checkHello(const pb::Hello &hello, const QByteArray &authKey, qint64 nowMs);

/// The reason a close with \a code is counted under, where the caller names none.
Refusal refusalFor(pb::Error::Code code);

} // namespace OddsDesk
