// A client's frame as the server reads it: the first byte picks the subprotocol, the frame
// type it came in and the connection's phase; the rest is the frame. What passes the check
// goes through the hello's checks (open and with a key) and is encoded back, as the server
// and the inspector would.

#include "clientframe.h"
#include "codec.h"

#include <cstddef>
#include <cstdint>

using namespace OddsDesk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t selector = data[0];
    const QByteArray frame(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    const WireFormat expected = selector & 1 ? WireFormat::Json : WireFormat::Binary;
    const WireFormat received = selector & 2
        ? (expected == WireFormat::Json ? WireFormat::Binary : WireFormat::Json)
        : expected;
    const ClientPhase phase = selector & 4 ? ClientPhase::Live : ClientPhase::AwaitingHello;

    pb::ClientMessage message;
    const ClientFrameCheck check = checkClientFrame(frame, received, expected, phase, &message);
    if (!check.ok) {
        // Every refusal says why, in a sentence that fits a log line once made printable.
        if (check.reason.isEmpty() || check.closeCode == QWebSocketProtocol::CloseCodeNormal)
            __builtin_trap();
        return 0;
    }
    if (message.body_case() == pb::ClientMessage::BODY_NOT_SET)
        __builtin_trap(); // the check lets only hello, ack and telemetry through
    if (message.has_hello()) {
        checkHello(message.hello(), QByteArray(), 0);
        checkHello(message.hello(), QByteArray(40, 'k'), 1700000000000);
    }
    Codec::toJson(message);
    return 0;
}
