#pragma once

// An event dispatcher for threads that own thousands of sockets. Qt's own dispatchers hand
// the kernel every socket of the thread on every pass of the event loop (poll(), or GLib's
// list walk), so a pass costs what the thread owns, not what is ready. This one keeps the
// sockets registered with the kernel (epoll) and asks only for the ready ones, and keeps
// timers in an ordered index instead of one sorted list. Linux only.

#include <QAbstractEventDispatcher>
#include <QList>

#include <atomic>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

class QSocketNotifier;

namespace OddsDesk {

/// Which event dispatcher a thread that owns many sockets runs.
enum class EventLoopKind {
    Epoll, // EpollEventDispatcher, where the system has epoll
    Qt, // Qt's default for the platform (GLib, or poll() with QT_NO_GLIB=1)
};

/// The dispatcher to give a new QThread (QThread::setEventDispatcher() before start()), or
/// null for Qt's own, which the thread then makes itself.
QAbstractEventDispatcher *createEventDispatcher(EventLoopKind kind);

/// Parses "epoll" or "qt"; false for anything else.
bool parseEventLoopKind(const QString &name, EventLoopKind *kind);
QString eventLoopKindName(EventLoopKind kind);

#ifdef Q_OS_LINUX

/// A level-triggered epoll dispatcher: socket notifiers behave as under Qt's poll()-based
/// dispatcher (read on input, hang-up or error; write on output or error; exception on
/// priority data), timers fire in deadline order, posted events are sent on every pass.
/// Every timer is kept to the millisecond, whatever its type: within what each type promises.
class EpollEventDispatcher : public QAbstractEventDispatcher
{
public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    /// False when the kernel refused the epoll instance or its wake-up descriptor.
    bool isValid() const { return m_epoll >= 0 && m_wakeFd >= 0; }

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;

    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;

    void registerTimer(
        int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;

    void wakeUp() override;
    void interrupt() override;

private:
    struct Watch
    {
        QSocketNotifier *read = nullptr;
        QSocketNotifier *write = nullptr;
        QSocketNotifier *exception = nullptr;
        quint32 events = 0; // what the kernel was asked to report
        bool changePending = false; // in m_pendingChanges
    };
    struct Timer
    {
        qint64 intervalMs = 0;
        Qt::TimerType type = Qt::CoarseTimer;
        QObject *object = nullptr;
        qint64 deadlineMs = 0;
        bool firing = false; // in its own timer event: not fired again from a nested loop
    };

    void updateWatch(int fd, Watch &watch);
    void applyPendingChanges();
    void tellKernel(int fd, Watch &watch, quint32 wanted);
    void removeTimer(std::map<int, Timer>::iterator timer);
    int waitTimeoutMs(qint64 nowMs) const;
    int activateTimers();
    void drainWakeUps();

    int m_epoll = -1;
    int m_wakeFd = -1;
    std::atomic<bool> m_wakeUpPending {false};
    std::atomic<bool> m_interrupted {false};
    std::unordered_map<int, Watch> m_watches;
    // Sockets watched both before and after a change of what they are watched for: the
    // kernel is told just before the next wait, so a change undone within one pass (a
    // socket that wants to write and then writes at once) costs no system call.
    std::vector<int> m_pendingChanges;
    std::map<int, Timer> m_timers;
    std::set<std::pair<qint64, int>> m_deadlines; // (deadline, timer id), soonest first
};

#endif

} // namespace OddsDesk
