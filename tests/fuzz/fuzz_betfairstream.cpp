// An exchange recording as the replay reads it, one line at a time; when the input starts
// with a '#' line, that line is the market catalogue. Every update it makes is one the feed
// can take: prices in range, ids from the replay's own range.

#include "betfairstream.h"

#include <cstddef>
#include <cstdint>

using namespace OddsDesk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    QList<QByteArray> lines = input.split('\n');
    BetfairStream stream;
    if (!lines.isEmpty() && lines.first().startsWith('#'))
        stream.setCatalogue(lines.takeFirst().mid(1));
    for (const QByteArray &line : std::as_const(lines)) {
        const BetfairLineResult result = stream.feed(line);
        for (const BetfairUpdate &update : result.updates) {
            if (update.kind == BetfairUpdate::Kind::Price
                && (update.price < MinPrice || update.price > MaxPrice))
                __builtin_trap();
            if (update.kind != BetfairUpdate::Kind::EventDefined && update.marketId < BetfairIdBase)
                __builtin_trap();
        }
    }
    return 0;
}
