#pragma once

#include "feedclient.h"

#include <QMetaObject>
#include <QObject>
#include <QThread>
#include <QVector>

#include <functional>

namespace OddsDesk::Testing {

/// Real feed clients on a thread of their own, as punters' devices would be, so that their
/// work does not share the event loop of the window or the engine under test. Every call
/// waits for the clients' thread.
class ClientThread
{
public:
    ClientThread()
    {
        m_thread.setObjectName(QStringLiteral("test-fleet"));
        m_thread.start();
        m_context = new QObject;
        m_context->moveToThread(&m_thread);
    }
    ~ClientThread()
    {
        QMetaObject::invokeMethod(
            m_context, [context = m_context] { delete context; }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }

    int add(const FeedClientConfig &config)
    {
        QMetaObject::invokeMethod(
            m_context,
            [this, config] {
                auto *client = new FeedClient(config, m_context);
                m_clients.append(client);
                client->start();
            },
            Qt::BlockingQueuedConnection);
        return int(m_clients.size()) - 1;
    }

    int size() const { return int(m_clients.size()); }

    template <typename Result>
    Result read(int client, const std::function<Result(const FeedClient &)> &what)
    {
        Result result {};
        QMetaObject::invokeMethod(
            m_context, [&] { result = what(*m_clients.at(client)); }, Qt::BlockingQueuedConnection);
        return result;
    }

    QString sessionId(int client)
    {
        return read<QString>(client, [](const FeedClient &c) { return c.sessionId(); });
    }
    FeedClientStats stats(int client)
    {
        return read<FeedClientStats>(client, [](const FeedClient &c) { return c.stats(); });
    }
    bool isLive(int client)
    {
        return read<bool>(
            client, [](const FeedClient &c) { return c.state() == FeedClient::State::Live; });
    }
    /// The punter closes the app: a normal close, and no coming back.
    void stop(int client)
    {
        QMetaObject::invokeMethod(
            m_context, [this, client] { m_clients.at(client)->stop(); },
            Qt::BlockingQueuedConnection);
    }
    /// Runs \a what with the client on the clients' thread, for example to connect to its
    /// signals there.
    void run(int client, const std::function<void(FeedClient &)> &what)
    {
        QMetaObject::invokeMethod(
            m_context, [&] { what(*m_clients.at(client)); }, Qt::BlockingQueuedConnection);
    }
    void drop(int client, const QString &reason)
    {
        QMetaObject::invokeMethod(
            m_context, [this, client, reason] { m_clients.at(client)->dropConnection(reason); },
            Qt::BlockingQueuedConnection);
    }

private:
    QThread m_thread;
    QObject *m_context = nullptr;
    QVector<FeedClient *> m_clients; // written and read on m_thread only
};

} // namespace OddsDesk::Testing
