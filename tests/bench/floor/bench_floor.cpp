// What the kernel alone costs a fan-out on this machine: the floor under the console's and
// the fleet's figures. N loopback TCP connections; one process writes frames of a given size
// to them, another takes them with epoll and one read per ready socket, as the fleet's threads
// do. Nothing else runs: no WebSocket framing, no protobuf, no book, no acks.
//
// Two measures:
// - cost (the default): round after round, a frame to every connection in turn, the writer at
//   most half a round ahead of the reader. Prints each side's CPU time per frame (the
//   threads' own clocks) and how long a round took.
// - latency (--changes-per-s C): changes are committed at C a second, evenly spaced, for
//   --seconds S; threads on each side, as the console's network threads and the fleet's
//   workers, each with its share of the connections. A writer goes round its connections and
//   sends each, at its turn, one frame carrying every change committed since its last frame,
//   the fastest any fan-out of one frame per session can be. The reader times each frame
//   as the fleet times a delta, from the commit of the oldest change in it to its arrival
//   (both processes read the same monotonic clock), and prints the percentiles: the fleet's
//   figures with no code of ours on either side.
//
//   bench_floor [--sessions N] [--bytes B] [--rounds R]
//   bench_floor --changes-per-s C [--seconds S] [--threads T] [--sessions N] [--bytes B]
//
// It is not a test: it prints figures, and tests/bench/run prints them beside the fan-out's.

#include "fleethistogram.h"
#include "openfilelimit.h"
#include "optionreader.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>
#include <QThread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <new>
#include <thread>
#include <vector>

namespace {

/// Descriptors each process needs beside its connections: standard streams, the listener,
/// epoll instances, Qt's own.
constexpr int SpareDescriptors = 64;
/// A reader that gets no byte for this long gives up: the writer has failed.
constexpr int ReaderPatienceMs = 5000;
/// What a latency frame starts with: the index of the last change the connection had before
/// it and the last it carries. The rest of the frame is padding to --bytes.
constexpr int HeaderBytes = 2 * int(sizeof(qint64));

/// What --help says of the one JSON line on standard output.
const char OutputHelp[] = R"(
Prints one JSON object. Both measures: sessions, bytes, frames_per_s (frames the writing
side sent a second), send_us_per_frame and receive_us_per_frame (each side's thread CPU
time over the frames). The cost measure: rounds, round_ms (wall time of a round). The
latency measure: changes_per_s, seconds, threads (on each side), frames_timed, gaps (frames
that did not follow on from the connection's last: always 0 unless the kernel lost
data), latency_ms {p50, p95, p99, max}.
)";

struct Options
{
    int sessions = 5000;
    int bytes = 128;
    int rounds = 100;
    int changesPerSecond = 0; // 0: the cost measure
    int seconds = 10;
    int threads = 1;
};

double threadCpuSeconds()
{
    timespec t {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

qint64 monotonicNs()
{
    timespec t {};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return qint64(t.tv_sec) * 1000000000 + t.tv_nsec;
}

/// What the two processes share: how far the reader is, and what it measured. It lives in
/// memory mapped before the fork, so it holds no pointers.
struct Shared
{
    std::atomic<long long> received {0};
    std::atomic<int> failedErrno {0};
    /// When change 0 was committed (latency measure); change k follows k / C seconds later.
    std::atomic<qint64> startNs {0};
    double receiveCpu = 0;
    LatencyHistogram latency; // a sample a frame
    long long gaps = 0;
};

/// Opens \a count connections to \a address for the reading side, without Nagle's delay and
/// not blocking. Returns false, with the errno in \a shared, when one fails.
bool connectAll(const sockaddr_in &address, int count, Shared *shared, std::vector<int> *sockets)
{
    const int one = 1;
    for (int i = 0; i < count; ++i) {
        const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0
            || connect(s, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0) {
            shared->failedErrno = errno;
            return false;
        }
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(s, F_SETFL, O_NONBLOCK);
        sockets->push_back(s);
    }
    return true;
}

/// \a sockets dealt out in turn to \a threads shares, one a thread on each side.
std::vector<std::vector<int>> shareOut(const std::vector<int> &sockets, int threads)
{
    std::vector<std::vector<int>> shares(static_cast<size_t>(threads));
    for (size_t i = 0; i < sockets.size(); ++i)
        shares[i % shares.size()].push_back(sockets[i]);
    return shares;
}

/// An epoll instance watching \a sockets for input, each known by its index.
int pollerFor(const std::vector<int> &sockets)
{
    const int poller = epoll_create1(EPOLL_CLOEXEC);
    for (size_t i = 0; i < sockets.size(); ++i) {
        epoll_event event {};
        event.events = EPOLLIN;
        event.data.u32 = quint32(i);
        epoll_ctl(poller, EPOLL_CTL_ADD, sockets[i], &event);
    }
    return poller;
}

/// The cost measure's reading side: reads until \a expected bytes have come.
int receiveForCost(const std::vector<int> &sockets, long long expected, Shared *shared)
{
    const int poller = pollerFor(sockets);
    std::vector<epoll_event> ready(512);
    std::vector<char> buffer(64 * 1024);
    long long total = 0;
    const double cpu0 = threadCpuSeconds();
    while (total < expected) {
        const int n = epoll_wait(poller, ready.data(), int(ready.size()), ReaderPatienceMs);
        if (n <= 0)
            return 1;
        for (int k = 0; k < n; ++k) {
            const ssize_t got
                = read(sockets[ready[size_t(k)].data.u32], buffer.data(), buffer.size());
            if (got > 0)
                total += got;
        }
        shared->received.store(total, std::memory_order_release);
    }
    shared->receiveCpu = threadCpuSeconds() - cpu0;
    return 0;
}

/// One reading thread of the latency measure: its connections, each with the frame it is
/// putting together (a read can end inside a frame) and the last change it has had.
class LatencyReader
{
public:
    LatencyReader(std::vector<int> sockets, const Options &options, qint64 startNs)
        : m_sockets(std::move(sockets))
        , m_options(options)
        , m_startNs(startNs)
        , m_partial(m_sockets.size() * size_t(options.bytes))
        , m_filled(m_sockets.size(), 0)
        , m_last(m_sockets.size(), 0)
    { }

    /// Reads until every connection has closed. False when nothing came for too long.
    bool run()
    {
        const double cpu0 = threadCpuSeconds();
        const int poller = pollerFor(m_sockets);
        std::vector<epoll_event> ready(512);
        std::vector<char> buffer(64 * 1024);
        size_t open = m_sockets.size();
        bool ok = true;
        while (open > 0) {
            const int n = epoll_wait(poller, ready.data(), int(ready.size()), ReaderPatienceMs);
            if (n <= 0) {
                ok = false;
                break;
            }
            for (int k = 0; k < n; ++k) {
                const size_t i = ready[size_t(k)].data.u32;
                const ssize_t got = read(m_sockets[i], buffer.data(), buffer.size());
                if (got > 0) {
                    take(i, buffer.data(), size_t(got), monotonicNs());
                } else if (got == 0) {
                    epoll_ctl(poller, EPOLL_CTL_DEL, m_sockets[i], nullptr);
                    close(m_sockets[i]);
                    --open;
                }
            }
        }
        close(poller);
        m_cpu = threadCpuSeconds() - cpu0;
        return ok;
    }

    const LatencyHistogram &latency() const { return m_latency; }
    long long gaps() const { return m_gaps; }
    double cpu() const { return m_cpu; }

private:
    void take(size_t i, const char *data, size_t size, qint64 nowNs)
    {
        const size_t frameBytes = size_t(m_options.bytes);
        // Whole frames are read where they lie; only one cut by the end of a read is copied.
        while (m_filled[i] == 0 && size >= frameBytes) {
            finish(i, data, nowNs);
            data += frameBytes;
            size -= frameBytes;
        }
        char *frame = m_partial.data() + i * frameBytes;
        while (size > 0) {
            const size_t part = std::min(size, frameBytes - m_filled[i]);
            memcpy(frame + m_filled[i], data, part);
            m_filled[i] += part;
            data += part;
            size -= part;
            if (m_filled[i] == frameBytes) {
                m_filled[i] = 0;
                finish(i, frame, nowNs);
            }
        }
    }

    void finish(size_t i, const char *frame, qint64 nowNs)
    {
        qint64 before = 0;
        qint64 last = 0;
        memcpy(&before, frame, sizeof before);
        memcpy(&last, frame + sizeof before, sizeof last);
        if (before != m_last[i])
            ++m_gaps;
        m_last[i] = last;
        // As the fleet times a delta: from the commit of the oldest change it carries.
        const qint64 oldestNs = m_startNs + (before + 1) * 1000000000 / m_options.changesPerSecond;
        m_latency.add((nowNs - oldestNs) / 1000);
    }

    std::vector<int> m_sockets;
    const Options m_options;
    const qint64 m_startNs;
    std::vector<char> m_partial;
    std::vector<size_t> m_filled;
    std::vector<qint64> m_last;
    LatencyHistogram m_latency;
    long long m_gaps = 0;
    double m_cpu = 0;
};

/// The latency measure's reading side: its connections shared out over the threads.
int receiveForLatency(const std::vector<int> &sockets, const Options &options, Shared *shared)
{
    while (shared->startNs.load(std::memory_order_acquire) == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const qint64 startNs = shared->startNs.load();
    std::vector<LatencyReader> readers;
    readers.reserve(size_t(options.threads));
    for (std::vector<int> &share : shareOut(sockets, options.threads))
        readers.emplace_back(std::move(share), options, startNs);
    std::vector<std::thread> threads;
    std::atomic<bool> failed {false};
    for (LatencyReader &reader : readers)
        threads.emplace_back([&reader, &failed] {
            if (!reader.run())
                failed = true;
        });
    for (std::thread &thread : threads)
        thread.join();
    for (const LatencyReader &reader : readers) {
        shared->latency.merge(reader.latency());
        shared->gaps += reader.gaps();
        shared->receiveCpu += reader.cpu();
    }
    return failed ? 1 : 0;
}

/// The reading process: connects, then reads for the measure asked.
int receive(const sockaddr_in &address, const Options &options, Shared *shared)
{
    std::vector<int> sockets;
    if (!connectAll(address, options.sessions, shared, &sockets))
        return 1;
    if (options.changesPerSecond > 0)
        return receiveForLatency(sockets, options, shared);
    return receiveForCost(
        sockets, (long long)options.sessions * options.rounds * options.bytes, shared);
}

/// Writes all of \a size bytes to the blocking socket \a s.
bool writeAll(int s, const char *data, size_t size)
{
    return send(s, data, size, MSG_NOSIGNAL) == ssize_t(size);
}

/// The cost measure's writing side. Returns an error, or an empty string.
QString sendForCost(const std::vector<int> &sockets, const Options &options, pid_t reader,
    Shared *shared, double *sendCpu)
{
    const std::vector<char> frame(size_t(options.bytes), 'x');
    const double cpu0 = threadCpuSeconds();
    const long long sessions = options.sessions;
    QString error;
    for (int round = 0; round < options.rounds && error.isEmpty(); ++round) {
        for (const int s : sockets) {
            if (!writeAll(s, frame.data(), frame.size())) {
                error = QStringLiteral("a write fell short: %1").arg(strerror(errno));
                break;
            }
        }
        // At most half a round ahead of the reader, as a fan-out whose clients keep up.
        const long long owed = ((round + 1) * sessions - sessions / 2) * options.bytes;
        while (error.isEmpty() && shared->received.load(std::memory_order_acquire) < owed) {
            if (waitpid(reader, nullptr, WNOHANG) == reader)
                error = QStringLiteral("the reading process stopped");
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    }
    *sendCpu = threadCpuSeconds() - cpu0;
    return error;
}

/// One writing thread of the latency measure: goes round its connections until the last
/// change, sending each connection the changes committed since its last frame, then closes
/// them. Returns 0, or the errno of a write that failed.
int sendShareForLatency(const std::vector<int> &sockets, const Options &options, qint64 startNs,
    double *cpu, long long *frames)
{
    const double cpu0 = threadCpuSeconds();
    const qint64 lastChange = qint64(options.changesPerSecond) * options.seconds;
    const auto committedBy = [&](qint64 nowNs) {
        return std::min(lastChange, (nowNs - startNs) * options.changesPerSecond / 1000000000);
    };
    std::vector<qint64> sent(sockets.size(), 0);
    std::vector<char> frame(size_t(options.bytes), 'x');
    bool ok = true;
    int failure = 0;
    while (ok) {
        bool wrote = false;
        for (size_t i = 0; i < sockets.size() && ok; ++i) {
            const qint64 last = committedBy(monotonicNs());
            if (last == sent[i])
                continue;
            memcpy(frame.data(), &sent[i], sizeof(qint64));
            memcpy(frame.data() + sizeof(qint64), &last, sizeof(qint64));
            ok = writeAll(sockets[i], frame.data(), frame.size());
            failure = ok ? 0 : errno;
            sent[i] = last;
            wrote = true;
            ++*frames;
        }
        if (!wrote && committedBy(monotonicNs()) == lastChange)
            break;
        if (!wrote) {
            // Nothing owed anywhere: sleep to the next commit.
            const qint64 next = committedBy(monotonicNs()) + 1;
            const qint64 nextNs = startNs + next * 1000000000 / options.changesPerSecond;
            const qint64 waitNs = nextNs - monotonicNs();
            if (waitNs > 0)
                std::this_thread::sleep_for(std::chrono::nanoseconds(waitNs));
        }
    }
    for (const int s : sockets)
        close(s);
    *cpu = threadCpuSeconds() - cpu0;
    return failure;
}

/// The latency measure's writing side, its connections shared out over the threads.
QString sendForLatency(std::vector<int> sockets, const Options &options, Shared *shared,
    double *sendCpu, long long *frames)
{
    const qint64 startNs = monotonicNs();
    shared->startNs.store(startNs, std::memory_order_release);
    const std::vector<std::vector<int>> shares = shareOut(sockets, options.threads);
    std::vector<double> cpu(shares.size(), 0);
    std::vector<long long> written(shares.size(), 0);
    std::atomic<int> failure {0};
    std::vector<std::thread> threads;
    for (size_t t = 0; t < shares.size(); ++t)
        threads.emplace_back([&, t] {
            if (const int e
                = sendShareForLatency(shares[t], options, startNs, &cpu[t], &written[t]))
                failure = e;
        });
    for (std::thread &thread : threads)
        thread.join();
    for (size_t t = 0; t < shares.size(); ++t) {
        *sendCpu += cpu[t];
        *frames += written[t];
    }
    return failure ? QStringLiteral("a write fell short: %1").arg(strerror(failure)) : QString();
}

/// Reads the command line into \a options. Returns an empty string or what is wrong with it.
QString parseOptions(QCoreApplication &app, Options *options)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "The kernel's own cost of a fan-out over loopback TCP, read with epoll, nothing else. "
        "Without --changes-per-s: the CPU time of a frame on each side. With it: each frame's "
        "time from the commit of its oldest change to its arrival, when every connection gets, "
        "at its turn, one frame with all it is owed."));
    const QCommandLineOption help(
        {QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Shows this help."));
    const QCommandLineOption sessions(QStringLiteral("sessions"),
        QStringLiteral("Connections, 1 to the open-file limit less %1 (default 5000).")
            .arg(SpareDescriptors),
        QStringLiteral("N"));
    const QCommandLineOption bytes(QStringLiteral("bytes"),
        QStringLiteral("Bytes a frame, 1 to 65536 (default 128; at least %1 with "
                       "--changes-per-s).")
            .arg(HeaderBytes),
        QStringLiteral("B"));
    const QCommandLineOption rounds(QStringLiteral("rounds"),
        QStringLiteral("Cost measure: rounds, a frame to every connection each, 1 to 100000 "
                       "(default 100)."),
        QStringLiteral("R"));
    const QCommandLineOption changes(QStringLiteral("changes-per-s"),
        QStringLiteral("Latency measure: changes committed a second, 1 to 100000."),
        QStringLiteral("C"));
    const QCommandLineOption seconds(QStringLiteral("seconds"),
        QStringLiteral("Latency measure: how long changes are committed, 1 to 3600 (default "
                       "10)."),
        QStringLiteral("S"));
    const QCommandLineOption threads(QStringLiteral("threads"),
        QStringLiteral("Latency measure: threads on each side, 1 to 64 (default: one per "
                       "core)."),
        QStringLiteral("T"));
    parser.addOptions({help, sessions, bytes, rounds, changes, seconds, threads});
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    if (!parser.parse(app.arguments()))
        return parser.errorText();
    if (parser.isSet(help)) {
        QTextStream(stdout) << parser.helpText() << OutputHelp;
        exit(0);
    }
    if (!parser.positionalArguments().isEmpty()) {
        return QStringLiteral("takes no arguments, only options; not \"%1\"")
            .arg(parser.positionalArguments().first());
    }

    QString warning;
    const quint64 files = raiseOpenFileLimit(&warning);
    const int most
        = int(std::min<quint64>(1000000, files > SpareDescriptors ? files - SpareDescriptors : 1));
    options->threads = std::max(1, QThread::idealThreadCount());
    for (const QString &error : {readIntOption(parser, sessions, 1, most, &options->sessions),
             readIntOption(parser, bytes, 1, 65536, &options->bytes),
             readIntOption(parser, rounds, 1, 100000, &options->rounds),
             readIntOption(parser, changes, 1, 100000, &options->changesPerSecond),
             readIntOption(parser, seconds, 1, 3600, &options->seconds),
             readIntOption(parser, threads, 1, 64, &options->threads)}) {
        if (!error.isEmpty())
            return error;
    }
    const bool latency = options->changesPerSecond > 0;
    if (latency && parser.isSet(rounds))
        return QStringLiteral("--rounds is for the cost measure, not with --changes-per-s");
    if (!latency && (parser.isSet(seconds) || parser.isSet(threads)))
        return QStringLiteral("--seconds and --threads need --changes-per-s");
    if (latency && options->bytes < HeaderBytes) {
        return QStringLiteral("--bytes is at least %1 with --changes-per-s, for the change "
                              "numbers a frame carries")
            .arg(HeaderBytes);
    }
    if (options->sessions > most) {
        return QStringLiteral("%1 connections need more open files than this process may "
                              "have; --sessions takes 1 to %2 here")
            .arg(options->sessions)
            .arg(most);
    }
    options->threads = std::min(options->threads, options->sessions);
    return QString();
}

/// Accepts the reader's \a count connections. Returns an error, or an empty string.
QString acceptAll(int listener, int count, const Shared *shared, std::vector<int> *sockets)
{
    const int one = 1;
    while (int(sockets->size()) < count) {
        pollfd waiting {listener, POLLIN, 0};
        const int s = poll(&waiting, 1, ReaderPatienceMs) == 1
            ? accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)
            : -1;
        if (s < 0) {
            const int reason = shared->failedErrno ? int(shared->failedErrno) : errno;
            return QStringLiteral("connection %1 of %2 failed: %3")
                .arg(sockets->size() + 1)
                .arg(count)
                .arg(strerror(reason ? reason : ETIMEDOUT));
        }
        // As the console's sockets: no Nagle delay.
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockets->push_back(s);
    }
    return QString();
}

QString percentileMs(const LatencyHistogram &latency, double q)
{
    return QString::number(double(latency.percentile(q)) / 1000, 'f', 2);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QTextStream err(stderr);
    Options options;
    if (const QString error = parseOptions(app, &options); !error.isEmpty()) {
        err << "bench_floor: " << error << "\n";
        return 2;
    }

    // The two ends in two processes, as the console and the fleet: one process holding both
    // would need two descriptors a connection.
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0
        || listen(listener, 1024) != 0
        || getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
        err << "bench_floor: cannot listen on 127.0.0.1: " << strerror(errno) << '\n';
        return 1;
    }
    void *memory
        = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        err << "bench_floor: " << strerror(errno) << '\n';
        return 1;
    }
    auto *shared = new (memory) Shared;
    const pid_t reader = fork();
    if (reader < 0) {
        err << "bench_floor: cannot start the reading process: " << strerror(errno) << '\n';
        return 1;
    }
    if (reader == 0) {
        close(listener);
        _exit(receive(address, options, shared));
    }

    std::vector<int> sockets;
    QString error = acceptAll(listener, options.sessions, shared, &sockets);
    close(listener);

    double sendCpu = 0;
    long long frames = 0;
    const auto started = std::chrono::steady_clock::now();
    if (error.isEmpty() && options.changesPerSecond > 0) {
        error = sendForLatency(std::move(sockets), options, shared, &sendCpu, &frames);
        sockets.clear();
    } else if (error.isEmpty()) {
        error = sendForCost(sockets, options, reader, shared, &sendCpu);
        frames = (long long)options.sessions * options.rounds;
    }
    int status = 0;
    if (error.isEmpty()
        && !(waitpid(reader, &status, 0) == reader && WIFEXITED(status)
            && WEXITSTATUS(status) == 0)) {
        error = QStringLiteral("the reading process failed");
    }
    const double wall
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    for (const int s : sockets)
        close(s);
    if (!error.isEmpty()) {
        kill(reader, SIGKILL);
        waitpid(reader, nullptr, 0);
        err << "bench_floor: " << error << '\n';
        return 1;
    }

    QTextStream out(stdout);
    const double perFrameUs = frames > 0 ? 1e6 / double(frames) : 0;
    if (options.changesPerSecond > 0) {
        const LatencyHistogram &latency = shared->latency;
        out << QStringLiteral("{\"sessions\": %1, \"bytes\": %2, \"changes_per_s\": %3, "
                              "\"seconds\": %4, \"threads\": %5, \"frames_per_s\": %6, "
                              "\"send_us_per_frame\": %7, \"receive_us_per_frame\": %8, "
                              "\"frames_timed\": %9, \"gaps\": %10, ")
                   .arg(options.sessions)
                   .arg(options.bytes)
                   .arg(options.changesPerSecond)
                   .arg(options.seconds)
                   .arg(options.threads)
                   .arg(double(frames) / wall, 0, 'f', 0)
                   .arg(sendCpu * perFrameUs, 0, 'f', 2)
                   .arg(shared->receiveCpu * perFrameUs, 0, 'f', 2)
                   .arg(latency.count())
                   .arg(shared->gaps)
            << QStringLiteral("\"latency_ms\": {\"p50\": %1, \"p95\": %2, \"p99\": %3, "
                              "\"max\": %4}}\n")
                   .arg(percentileMs(latency, 0.50), percentileMs(latency, 0.95),
                       percentileMs(latency, 0.99),
                       QString::number(double(latency.max()) / 1000, 'f', 2));
        return 0;
    }
    out << QStringLiteral("{\"sessions\": %1, \"bytes\": %2, \"rounds\": %3, "
                          "\"send_us_per_frame\": %4, \"receive_us_per_frame\": %5, "
                          "\"frames_per_s\": %6, \"round_ms\": %7}\n")
               .arg(options.sessions)
               .arg(options.bytes)
               .arg(options.rounds)
               .arg(sendCpu * perFrameUs, 0, 'f', 2)
               .arg(shared->receiveCpu * perFrameUs, 0, 'f', 2)
               .arg(double(frames) / wall, 0, 'f', 0)
               .arg(wall / options.rounds * 1e3, 0, 'f', 2);
    return 0;
}
