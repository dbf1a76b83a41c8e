#pragma once

#include <QObject>
#include <QSet>

namespace OddsDesk {

class Engine;

/// Who is watching the engine's session list. The engine has one switch
/// (Engine::watchSessions()), and several windows want the list while they are visible:
/// the inspector and the dashboard. Each says so here; the engine is asked for the list
/// while at least one of them watches, and told to stop when the last one stops or goes.
class SessionWatch : public QObject
{
    Q_OBJECT

public:
    /// The one watch of \a engine, created on first use as the engine's child.
    static SessionWatch *of(Engine *engine);

    void setWatching(QObject *watcher, bool watching);
    bool isWatching() const { return !m_watchers.isEmpty(); }

private:
    explicit SessionWatch(Engine *engine);

    Engine *m_engine;
    QSet<QObject *> m_watchers;
};

} // namespace OddsDesk
