// What the kernel alone costs a fan-out on this machine: the floor under the console's and
// the fleet's CPU per frame. N loopback TCP connections; one thread writes a frame of the
// given size to each in turn, round after round, and another takes them with epoll and one
// read per ready socket, as the fleet's threads do. Nothing else runs: no WebSocket framing,
// no protobuf, no book, no acks. Prints the CPU time of each side per frame (the threads'
// own clocks) and how long a round to every connection took.
//
//   bench_floor [--sessions N] [--bytes B] [--rounds R]
//
// It is not a test: it prints figures, and tests/bench/run prints them beside the fan-out's.

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <thread>
#include <vector>

namespace {

double threadCpuSeconds()
{
    timespec t {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

struct Pair
{
    int sending = -1; // the server's end
    int receiving = -1; // the client's end
};

/// Opens \a count connections over loopback; returns an empty list and says why on failure.
std::vector<Pair> connectPairs(int count, QString *error)
{
    std::vector<Pair> pairs;
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0
        || listen(listener, 1024) != 0
        || getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
        *error = QStringLiteral("cannot listen on 127.0.0.1: %1").arg(strerror(errno));
        return {};
    }
    const int one = 1;
    for (int i = 0; i < count; ++i) {
        Pair pair;
        pair.receiving = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (pair.receiving < 0
            || connect(pair.receiving, reinterpret_cast<sockaddr *>(&address), sizeof address)
                != 0
            || (pair.sending = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)) < 0) {
            *error = QStringLiteral("connection %1 of %2 failed: %3 (open-file limit?)")
                         .arg(i + 1)
                         .arg(count)
                         .arg(strerror(errno));
            for (const Pair &p : pairs) {
                close(p.sending);
                close(p.receiving);
            }
            close(listener);
            return {};
        }
        // As the console's and the fleet's sockets: no Nagle delay, a reader that never blocks.
        setsockopt(pair.sending, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(pair.receiving, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(pair.receiving, F_SETFL, O_NONBLOCK);
        pairs.push_back(pair);
    }
    close(listener);
    return pairs;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "The kernel's own cost of a fan-out over loopback TCP: one write per connection a "
        "round, read with epoll, nothing else."));
    parser.addHelpOption();
    const QCommandLineOption sessionsOption(
        QStringLiteral("sessions"), QStringLiteral("Connections."), QStringLiteral("N"),
        QStringLiteral("5000"));
    const QCommandLineOption bytesOption(QStringLiteral("bytes"),
        QStringLiteral("Bytes a frame."), QStringLiteral("B"), QStringLiteral("128"));
    const QCommandLineOption roundsOption(QStringLiteral("rounds"),
        QStringLiteral("Rounds, a frame to every connection each."), QStringLiteral("R"),
        QStringLiteral("100"));
    parser.addOptions({sessionsOption, bytesOption, roundsOption});
    parser.process(app);
    QTextStream err(stderr);
    bool ok[3] = {};
    const int sessions = parser.value(sessionsOption).toInt(&ok[0]);
    const int bytes = parser.value(bytesOption).toInt(&ok[1]);
    const int rounds = parser.value(roundsOption).toInt(&ok[2]);
    if (!ok[0] || !ok[1] || !ok[2] || sessions < 1 || sessions > 100000 || bytes < 1
        || bytes > 65536 || rounds < 1 || rounds > 100000) {
        err << "bench_floor: --sessions 1 to 100000, --bytes 1 to 65536 and --rounds 1 to "
               "100000, whole numbers\n";
        return 2;
    }
    rlimit files {};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }

    QString error;
    const std::vector<Pair> pairs = connectPairs(sessions, &error);
    if (pairs.empty()) {
        err << "bench_floor: " << error << '\n';
        return 1;
    }

    const long long expected = (long long)sessions * rounds * bytes;
    std::atomic<long long> received {0};
    double sendCpu = 0;
    double receiveCpu = 0;
    bool failed = false;
    const auto started = std::chrono::steady_clock::now();
    std::thread receiver([&] {
        const int poller = epoll_create1(EPOLL_CLOEXEC);
        for (int i = 0; i < sessions; ++i) {
            epoll_event event {};
            event.events = EPOLLIN;
            event.data.u32 = quint32(i);
            epoll_ctl(poller, EPOLL_CTL_ADD, pairs[size_t(i)].receiving, &event);
        }
        std::vector<epoll_event> ready(512);
        std::vector<char> buffer(64 * 1024);
        long long total = 0;
        const double cpu0 = threadCpuSeconds();
        while (total < expected) {
            const int n = epoll_wait(poller, ready.data(), int(ready.size()), 5000);
            if (n <= 0)
                break; // five seconds without a byte: the sender failed
            for (int k = 0; k < n; ++k) {
                const ssize_t got = read(pairs[ready[size_t(k)].data.u32].receiving,
                    buffer.data(), buffer.size());
                if (got > 0)
                    total += got;
            }
            received.store(total, std::memory_order_release);
        }
        receiveCpu = threadCpuSeconds() - cpu0;
        close(poller);
    });
    std::thread sender([&] {
        const std::vector<char> frame(size_t(bytes), 'x');
        const double cpu0 = threadCpuSeconds();
        for (int round = 0; round < rounds && !failed; ++round) {
            for (const Pair &pair : pairs) {
                if (send(pair.sending, frame.data(), frame.size(), MSG_NOSIGNAL)
                    != ssize_t(frame.size())) {
                    failed = true;
                    break;
                }
            }
            // At most half a round ahead of the reader, as a fan-out whose clients keep up.
            const long long owed = (long long)(round + 1) * sessions * bytes;
            while (!failed && received.load(std::memory_order_acquire) < owed - sessions / 2 * bytes)
                std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        sendCpu = threadCpuSeconds() - cpu0;
    });
    sender.join();
    receiver.join();
    const double wall
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    for (const Pair &pair : pairs) {
        close(pair.sending);
        close(pair.receiving);
    }
    if (failed || received.load() < expected) {
        err << "bench_floor: a write or read fell short: " << strerror(errno) << '\n';
        return 1;
    }
    const double frames = double(sessions) * rounds;
    QTextStream out(stdout);
    out << QStringLiteral("{\"sessions\": %1, \"bytes\": %2, \"rounds\": %3, "
                          "\"send_us_per_frame\": %4, \"receive_us_per_frame\": %5, "
                          "\"frames_per_s\": %6, \"round_ms\": %7}\n")
               .arg(sessions)
               .arg(bytes)
               .arg(rounds)
               .arg(sendCpu / frames * 1e6, 0, 'f', 2)
               .arg(receiveCpu / frames * 1e6, 0, 'f', 2)
               .arg(frames / wall, 0, 'f', 0)
               .arg(wall / rounds * 1e3, 0, 'f', 2);
    return 0;
}
