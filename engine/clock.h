#pragma once

#include <QtGlobal>

#include <chrono>

namespace OddsDesk {

/// Microseconds on the machine's monotonic clock. On Linux this is CLOCK_MONOTONIC, which
/// every process on the machine shares: the engine stamps commits with it and a client on
/// the same machine can subtract directly.
inline qint64 monotonicMicros()
{
    using namespace std::chrono;
    return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

/// UTC wall time in milliseconds since 1970, for display only; it may step.
inline qint64 wallMillis()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace OddsDesk
