// What the kernel alone costs a fan-out on this machine: the floor under the console's and
// the fleet's CPU per frame. N loopback TCP connections; one process writes a frame of the
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
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <new>
#include <thread>
#include <vector>

namespace {

double threadCpuSeconds()
{
    timespec t {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

/// What the two processes share: how far the reader is, and what it measured.
struct Shared
{
    std::atomic<long long> received {0};
    std::atomic<int> failedErrno {0};
    double receiveCpu = 0;
};

/// The reading side, in a process of its own as the fleet is: connects \a count times to
/// \a address and reads until \a expected bytes have come.
int receive(const sockaddr_in &address, int count, long long expected, Shared *shared)
{
    const int one = 1;
    std::vector<int> sockets;
    const int poller = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < count; ++i) {
        const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0
            || connect(s, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0) {
            shared->failedErrno = errno;
            return 1;
        }
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(s, F_SETFL, O_NONBLOCK);
        epoll_event event {};
        event.events = EPOLLIN;
        event.data.u32 = quint32(i);
        epoll_ctl(poller, EPOLL_CTL_ADD, s, &event);
        sockets.push_back(s);
    }
    std::vector<epoll_event> ready(512);
    std::vector<char> buffer(64 * 1024);
    long long total = 0;
    const double cpu0 = threadCpuSeconds();
    while (total < expected) {
        const int n = epoll_wait(poller, ready.data(), int(ready.size()), 5000);
        if (n <= 0)
            return 1; // five seconds without a byte: the sender failed
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

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "The kernel's own cost of a fan-out over loopback TCP: one write per connection a "
        "round, read with epoll, nothing else."));
    parser.addHelpOption();
    const QCommandLineOption sessionsOption(QStringLiteral("sessions"),
        QStringLiteral("Connections."), QStringLiteral("N"), QStringLiteral("5000"));
    const QCommandLineOption bytesOption(QStringLiteral("bytes"), QStringLiteral("Bytes a frame."),
        QStringLiteral("B"), QStringLiteral("128"));
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
    const long long expected = (long long)sessions * rounds * bytes;
    const pid_t reader = fork();
    if (reader < 0) {
        err << "bench_floor: cannot start the reading process: " << strerror(errno) << '\n';
        return 1;
    }
    if (reader == 0) {
        close(listener);
        _exit(receive(address, sessions, expected, shared));
    }

    const int one = 1;
    std::vector<int> sockets;
    QString error;
    while (int(sockets.size()) < sessions && error.isEmpty()) {
        pollfd waiting {listener, POLLIN, 0};
        const int s
            = poll(&waiting, 1, 5000) == 1 ? accept4(listener, nullptr, nullptr, SOCK_CLOEXEC) : -1;
        if (s < 0) {
            const int reason = shared->failedErrno ? int(shared->failedErrno) : errno;
            error = QStringLiteral("connection %1 of %2 failed: %3 (open-file limit?)")
                        .arg(sockets.size() + 1)
                        .arg(sessions)
                        .arg(strerror(reason ? reason : ETIMEDOUT));
            break;
        }
        // As the console's sockets: no Nagle delay.
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockets.push_back(s);
    }
    close(listener);

    bool failed = !error.isEmpty();
    double sendCpu = 0;
    const auto started = std::chrono::steady_clock::now();
    const std::vector<char> frame(size_t(bytes), 'x');
    const double cpu0 = threadCpuSeconds();
    for (int round = 0; round < rounds && !failed; ++round) {
        for (const int s : sockets) {
            if (send(s, frame.data(), frame.size(), MSG_NOSIGNAL) != ssize_t(frame.size())) {
                error = QStringLiteral("a write fell short: %1").arg(strerror(errno));
                failed = true;
                break;
            }
        }
        // At most half a round ahead of the reader, as a fan-out whose clients keep up.
        const long long owed = ((long long)(round + 1) * sessions - sessions / 2) * bytes;
        while (!failed && shared->received.load(std::memory_order_acquire) < owed) {
            if (waitpid(reader, nullptr, WNOHANG) == reader) {
                error = QStringLiteral("the reading process stopped");
                failed = true;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    }
    sendCpu = threadCpuSeconds() - cpu0;
    int status = 0;
    if (!failed && waitpid(reader, &status, 0) == reader && WIFEXITED(status)
        && WEXITSTATUS(status) == 0) {
        // Done.
    } else if (!failed) {
        error = QStringLiteral("the reading process failed");
        failed = true;
    }
    const double wall
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    for (const int s : sockets)
        close(s);
    if (failed) {
        kill(reader, SIGKILL);
        waitpid(reader, nullptr, 0);
        err << "bench_floor: " << error << '\n';
        return 1;
    }
    const double receiveCpu = shared->receiveCpu;
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
