#pragma once

#include <QObject>
#include <QStringList>
#include <QUrl>

#include <memory>
#include <vector>

class QProcess;

/// The demo's audience: one load generator per network profile, each a separate
/// oddsdesk-fleet process of real clients, so every chart has something to show within
/// seconds. The fleets are stopped, by their process ids, when this object goes.
class DemoFleet : public QObject
{
    Q_OBJECT

public:
    explicit DemoFleet(QObject *parent = nullptr);
    ~DemoFleet() override;

    /// Starts the fleets against \a url. Returns an error sentence, or an empty string.
    QString start(const QUrl &url, int sessionsPerProfile);
    void stop();

    static QStringList profiles();

private:
    std::vector<std::unique_ptr<QProcess>> m_fleets;
};
