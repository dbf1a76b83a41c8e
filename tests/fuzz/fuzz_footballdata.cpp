// A season file as the importer reads it: the first byte picks the bookmaker's columns, the
// rest is the file. Either the import fails with a sentence and no book, or every event it
// made has its markets, each with valid prices.

#include "footballdataimporter.h"
#include "price.h"

#include <cstddef>
#include <cstdint>

using namespace OddsDesk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const QStringList bookmakers = footballDataBookmakers();
    const QString bookmaker = bookmakers.at(data[0] % bookmakers.size());
    const QByteArray content(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    const ImportReport report = importFootballData(content, QStringLiteral("fuzz.csv"), bookmaker);
    if (!report.ok()) {
        if (!report.book.events.isEmpty() || !report.book.markets.isEmpty())
            __builtin_trap(); // never half a book
        return 0;
    }
    for (const MarketInfo &market : report.book.markets) {
        for (const SelectionInfo &selection : market.selections) {
            if (selection.price < MinPrice || selection.price > MaxPrice)
                __builtin_trap();
        }
    }
    return 0;
}
