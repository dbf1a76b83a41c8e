#include "epolldispatcher.h"

#include <QCoreApplication>
#include <QEvent>
#include <QLoggingCategory>
#include <QSocketNotifier>

#include <chrono>
#include <climits>
#include <utility>

#ifdef Q_OS_LINUX
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#endif

namespace OddsDesk {

namespace {

Q_LOGGING_CATEGORY(lcDispatch, "oddsdesk.engine.dispatch", QtWarningMsg)

} // namespace

bool parseEventLoopKind(const QString &name, EventLoopKind *kind)
{
    if (name == QLatin1String("epoll")) {
        *kind = EventLoopKind::Epoll;
        return true;
    }
    if (name == QLatin1String("qt")) {
        *kind = EventLoopKind::Qt;
        return true;
    }
    return false;
}

QString eventLoopKindName(EventLoopKind kind)
{
    return kind == EventLoopKind::Epoll ? QStringLiteral("epoll") : QStringLiteral("qt");
}

#ifndef Q_OS_LINUX

QAbstractEventDispatcher *createEventDispatcher(EventLoopKind)
{
    return nullptr;
}

#else

QAbstractEventDispatcher *createEventDispatcher(EventLoopKind kind)
{
    if (kind != EventLoopKind::Epoll)
        return nullptr;
    auto *dispatcher = new EpollEventDispatcher;
    if (dispatcher->isValid())
        return dispatcher;
    qCWarning(lcDispatch) << "epoll is not available here; the thread runs Qt's own loop";
    delete dispatcher;
    return nullptr;
}

namespace {

// Most passes find a handful of sockets ready; a burst larger than this is taken over
// several passes, level-triggered, so nothing is lost.
constexpr int MaxReadyPerPass = 256;

qint64 nowMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

quint32 eventsFor(
    const QSocketNotifier *read, const QSocketNotifier *write, const QSocketNotifier *exception)
{
    return (read ? quint32(EPOLLIN) : 0u) | (write ? quint32(EPOLLOUT) : 0u)
        | (exception ? quint32(EPOLLPRI) : 0u);
}

// The notifiers of one pass that are still to be activated. Each pass has its own (a
// notifier's handler may run a nested event loop); unregistering a notifier nulls it in
// every pass in progress.
struct Activations
{
    std::vector<QSocketNotifier *> notifiers;
};
thread_local std::vector<Activations *> t_activations;

int activate(Activations &pass)
{
    if (pass.notifiers.empty())
        return 0;
    t_activations.push_back(&pass);
    int activated = 0;
    for (size_t i = 0; i < pass.notifiers.size(); ++i) {
        QSocketNotifier *notifier = std::exchange(pass.notifiers[i], nullptr);
        if (!notifier)
            continue; // unregistered by an earlier handler of this pass
        QEvent event(QEvent::SockAct);
        QCoreApplication::sendEvent(notifier, &event);
        ++activated;
    }
    t_activations.pop_back();
    return activated;
}

} // namespace

EpollEventDispatcher::EpollEventDispatcher(QObject *parent)
    : QAbstractEventDispatcher(parent)
    , m_epoll(epoll_create1(EPOLL_CLOEXEC))
    , m_wakeFd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
{
    if (m_epoll < 0 || m_wakeFd < 0) {
        qCWarning(lcDispatch) << "cannot make the epoll instance:" << std::strerror(errno);
        return;
    }
    epoll_event event {};
    event.events = EPOLLIN;
    event.data.fd = m_wakeFd;
    if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wakeFd, &event) != 0) {
        qCWarning(lcDispatch) << "cannot watch the wake-up descriptor:" << std::strerror(errno);
        ::close(m_wakeFd);
        m_wakeFd = -1;
    }
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    if (m_wakeFd >= 0)
        ::close(m_wakeFd);
    if (m_epoll >= 0)
        ::close(m_epoll);
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    Watch &watch = m_watches[fd];
    QSocketNotifier **slot = notifier->type() == QSocketNotifier::Read ? &watch.read
        : notifier->type() == QSocketNotifier::Write                   ? &watch.write
                                                                       : &watch.exception;
    if (*slot && *slot != notifier)
        qCWarning(lcDispatch) << "a second notifier of one type for socket" << fd;
    *slot = notifier;
    updateWatch(fd, watch);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    for (Activations *pass : t_activations) {
        for (QSocketNotifier *&pending : pass->notifiers) {
            if (pending == notifier)
                pending = nullptr;
        }
    }
    const int fd = int(notifier->socket());
    const auto found = m_watches.find(fd);
    if (found == m_watches.end())
        return;
    Watch &watch = found->second;
    for (QSocketNotifier **slot : {&watch.read, &watch.write, &watch.exception}) {
        if (*slot == notifier)
            *slot = nullptr;
    }
    updateWatch(fd, watch);
    if (!watch.read && !watch.write && !watch.exception)
        m_watches.erase(found);
}

void EpollEventDispatcher::updateWatch(int fd, Watch &watch)
{
    const quint32 wanted = eventsFor(watch.read, watch.write, watch.exception);
    if (wanted == watch.events)
        return;
    // A socket that starts or stops being watched is told at once: its descriptor may be
    // closed next, and its number reused.
    if (wanted == 0 || watch.events == 0) {
        tellKernel(fd, watch, wanted);
        return;
    }
    if (!watch.changePending) {
        watch.changePending = true;
        m_pendingChanges.push_back(fd);
    }
}

void EpollEventDispatcher::applyPendingChanges()
{
    for (const int fd : m_pendingChanges) {
        const auto found = m_watches.find(fd);
        if (found == m_watches.end() || !found->second.changePending)
            continue; // no longer watched, or watched afresh since
        Watch &watch = found->second;
        watch.changePending = false;
        const quint32 wanted = eventsFor(watch.read, watch.write, watch.exception);
        if (wanted != watch.events)
            tellKernel(fd, watch, wanted);
    }
    m_pendingChanges.clear();
}

void EpollEventDispatcher::tellKernel(int fd, Watch &watch, quint32 wanted)
{
    watch.changePending = false;
    epoll_event event {};
    event.events = wanted;
    event.data.fd = fd;
    int result = 0;
    if (wanted == 0) {
        // A descriptor closed already left the epoll set by itself: ENOENT and EBADF say so.
        result = epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, &event);
        if (result != 0 && (errno == ENOENT || errno == EBADF))
            result = 0;
    } else if (watch.events == 0) {
        result = epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event);
        if (result != 0 && errno == EEXIST)
            result = epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &event);
    } else {
        // The descriptor may have been closed and its number reused since it was added.
        result = epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &event);
        if (result != 0 && errno == ENOENT)
            result = epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event);
    }
    if (result != 0) {
        qCWarning(lcDispatch) << "cannot watch socket" << fd << ":" << std::strerror(errno);
        watch.events = 0;
        return;
    }
    watch.events = wanted;
}

void EpollEventDispatcher::registerTimer(
    int timerId, qint64 interval, Qt::TimerType timerType, QObject *object)
{
    if (timerId <= 0 || interval < 0 || !object) {
        qCWarning(lcDispatch) << "invalid timer" << timerId << interval << object;
        return;
    }
    const auto existing = m_timers.find(timerId);
    if (existing != m_timers.end())
        removeTimer(existing);
    Timer timer;
    timer.intervalMs = interval;
    timer.type = timerType;
    timer.object = object;
    timer.deadlineMs = nowMs() + interval;
    m_timers.emplace(timerId, timer);
    m_deadlines.emplace(timer.deadlineMs, timerId);
}

void EpollEventDispatcher::removeTimer(std::map<int, Timer>::iterator timer)
{
    m_deadlines.erase({timer->second.deadlineMs, timer->first});
    m_timers.erase(timer);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    const auto found = m_timers.find(timerId);
    if (found == m_timers.end())
        return false;
    removeTimer(found);
    return true;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    bool any = false;
    for (auto it = m_timers.begin(); it != m_timers.end();) {
        if (it->second.object == object) {
            m_deadlines.erase({it->second.deadlineMs, it->first});
            it = m_timers.erase(it);
            any = true;
        } else {
            ++it;
        }
    }
    return any;
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(
    QObject *object) const
{
    QList<TimerInfo> timers;
    for (const auto &[id, timer] : m_timers) {
        if (timer.object == object)
            timers.append(TimerInfo(id, int(timer.intervalMs), timer.type));
    }
    return timers;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    const auto found = m_timers.find(timerId);
    if (found == m_timers.end())
        return -1;
    return int(qMax<qint64>(0, found->second.deadlineMs - nowMs()));
}

void EpollEventDispatcher::wakeUp()
{
    // Any thread may call this; one pending wake-up is enough however many are asked for.
    if (m_wakeUpPending.exchange(true, std::memory_order_acq_rel))
        return;
    const quint64 one = 1;
    while (::write(m_wakeFd, &one, sizeof one) < 0 && errno == EINTR) { }
}

void EpollEventDispatcher::interrupt()
{
    m_interrupted.store(true, std::memory_order_release);
    wakeUp();
}

void EpollEventDispatcher::drainWakeUps()
{
    // Cleared after reading, never before: cleared first, a wake-up between the two would
    // write, be read here and leave the flag set with nothing to read, and every later
    // wake-up would be skipped. A wake-up that falls between the read and the clearing is
    // skipped, but what it was for was posted before it, and this pass ends by returning
    // to the loop, which sends posted events and checks for exit before waiting again.
    quint64 count = 0;
    while (::read(m_wakeFd, &count, sizeof count) < 0 && errno == EINTR) { }
    m_wakeUpPending.store(false, std::memory_order_release);
}

int EpollEventDispatcher::waitTimeoutMs(qint64 now) const
{
    if (m_deadlines.empty())
        return -1;
    return int(qBound<qint64>(0, m_deadlines.begin()->first - now, qint64(INT_MAX)));
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupted.store(false, std::memory_order_relaxed);
    Q_EMIT awake();
    // Whatever these post wakes the wait below at once: posting calls wakeUp().
    QCoreApplication::sendPostedEvents();

    const bool includeTimers = !(flags & QEventLoop::X11ExcludeTimers);
    const bool includeNotifiers = !(flags & QEventLoop::ExcludeSocketNotifiers);
    const bool canWait
        = (flags & QEventLoop::WaitForMoreEvents) && !m_interrupted.load(std::memory_order_acquire);
    if (canWait)
        Q_EMIT aboutToBlock();
    if (m_interrupted.load(std::memory_order_acquire))
        return false;

    int timeoutMs = 0;
    if (canWait)
        timeoutMs = includeTimers ? waitTimeoutMs(nowMs()) : -1;

    int handled = 0;
    if (includeNotifiers) {
        applyPendingChanges();
        epoll_event ready[MaxReadyPerPass];
        const int count = epoll_wait(m_epoll, ready, MaxReadyPerPass, timeoutMs);
        if (count < 0 && errno != EINTR)
            qCWarning(lcDispatch) << "epoll_wait:" << std::strerror(errno);

        Activations pass;
        pass.notifiers.reserve(size_t(qMax(0, count)));
        for (int i = 0; i < count; ++i) {
            const int fd = ready[i].data.fd;
            const quint32 events = ready[i].events;
            if (fd == m_wakeFd) {
                drainWakeUps();
                ++handled;
                continue;
            }
            const auto found = m_watches.find(fd);
            if (found == m_watches.end())
                continue;
            const Watch &watch = found->second;
            // As under Qt's poll() dispatcher; a hang-up also wakes a lone write notifier,
            // which would otherwise be reported ready for ever without being told.
            if (watch.read && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                pass.notifiers.push_back(watch.read);
            if (watch.write && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                pass.notifiers.push_back(watch.write);
            if (watch.exception && (events & EPOLLPRI))
                pass.notifiers.push_back(watch.exception);
        }
        handled += activate(pass);
    } else {
        // Only the wake-up descriptor counts while socket notifiers are excluded.
        pollfd wake {m_wakeFd, POLLIN, 0};
        if (::poll(&wake, 1, timeoutMs) > 0) {
            drainWakeUps();
            ++handled;
        }
    }

    if (includeTimers)
        handled += activateTimers();
    return handled > 0;
}

int EpollEventDispatcher::activateTimers()
{
    const qint64 now = nowMs();
    // Only the timers due when the pass began: one started by a timer event waits for the
    // next pass, so a zero timer that restarts itself cannot starve the sockets.
    std::vector<int> due;
    for (auto it = m_deadlines.begin(); it != m_deadlines.end() && it->first <= now; ++it)
        due.push_back(it->second);

    int fired = 0;
    for (const int id : due) {
        auto found = m_timers.find(id);
        if (found == m_timers.end() || found->second.firing || found->second.deadlineMs > now)
            continue; // stopped, still in its own event, or an id reused by a new timer
        Timer &timer = found->second;
        m_deadlines.erase({timer.deadlineMs, id});
        // Keep the beat of a timer that is on time; a late one starts counting again now.
        timer.deadlineMs += timer.intervalMs;
        if (timer.deadlineMs <= now)
            timer.deadlineMs = now + timer.intervalMs;
        m_deadlines.emplace(timer.deadlineMs, id);
        timer.firing = true;
        QObject *object = timer.object;

        QTimerEvent event(id);
        QCoreApplication::sendEvent(object, &event);
        ++fired;

        found = m_timers.find(id);
        if (found != m_timers.end())
            found->second.firing = false;
    }
    return fired;
}

#endif

} // namespace OddsDesk
