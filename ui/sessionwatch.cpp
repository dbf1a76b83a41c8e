#include "sessionwatch.h"

#include "engine.h"
#include "supportlogging.h"

namespace OddsDesk {

SessionWatch::SessionWatch(Engine *engine)
    : QObject(engine)
    , m_engine(engine)
{ }

SessionWatch *SessionWatch::of(Engine *engine)
{
    if (auto *watch = engine->findChild<SessionWatch *>(QString(), Qt::FindDirectChildrenOnly))
        return watch;
    return new SessionWatch(engine);
}

void SessionWatch::setWatching(QObject *watcher, bool watching)
{
    const bool was = isWatching();
    if (watching) {
        if (m_watchers.contains(watcher))
            return;
        m_watchers.insert(watcher);
        connect(watcher, &QObject::destroyed, this,
            [this](QObject *gone) { setWatching(gone, false); });
        // Every new watcher asks again: the engine answers with the list at once rather than
        // at its next second, so a window that opens is filled straight away.
        m_engine->watchSessions(true);
    } else {
        if (!m_watchers.remove(watcher))
            return;
        disconnect(watcher, &QObject::destroyed, this, nullptr);
        if (was && !isWatching())
            m_engine->watchSessions(false);
    }
    if (was != isWatching())
        qCDebug(lcUiInspector) << "session list" << (isWatching() ? "watched" : "not watched");
}

} // namespace OddsDesk
