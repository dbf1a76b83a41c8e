#include "demofleet.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QProcess>

#ifdef Q_OS_LINUX
#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>
#endif

Q_LOGGING_CATEGORY(lcDemo, "oddsdesk.app.demo", QtWarningMsg)

namespace {

// A demo runs for an afternoon at most; the fleets stop by themselves after that even if
// the console were killed without a chance to stop them and the system cannot tie them to
// it (see stopWithTheConsole()).
constexpr int FleetDurationS = 8 * 60 * 60;
// Time a fleet gets to print its summary and leave before it is killed.
constexpr int StopGraceMs = 3000;

// A console killed without a chance to stop its fleets (SIGKILL, a crash) takes them with
// it: on Linux the kernel sends a fleet SIGTERM, on which it prints its summary and leaves,
// when the thread that started it ends. That is the console's main thread, which lives as
// long as the console.
void stopWithTheConsole(QProcess *fleet)
{
#ifdef Q_OS_LINUX
    const pid_t console = getpid();
    fleet->setChildProcessModifier([console] {
        // Runs in the child between fork and exec. A console already gone by now sent no
        // signal; the child is then someone else's and leaves at once.
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != console)
            _exit(1);
    });
#else
    Q_UNUSED(fleet);
#endif
}

} // namespace

DemoFleet::DemoFleet(QObject *parent)
    : QObject(parent)
{ }

DemoFleet::~DemoFleet()
{
    stop();
}

QStringList DemoFleet::profiles()
{
    return {QStringLiteral("stable-broadband"), QStringLiteral("urban-4g"),
        QStringLiteral("weak-signal"), QStringLiteral("network-switch"),
        QStringLiteral("match-day-burst")};
}

QString DemoFleet::start(const QUrl &url, int sessionsPerProfile)
{
    const QString program
        = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("oddsdesk-fleet"));
    if (!QFileInfo(program).isExecutable())
        return QStringLiteral("the demo needs oddsdesk-fleet beside the console (%1)").arg(program);

    for (const QString &profile : profiles()) {
        auto fleet = std::make_unique<QProcess>();
        fleet->setProgram(program);
        fleet->setArguments({url.toString(), QStringLiteral("--sessions"),
            QString::number(sessionsPerProfile), QStringLiteral("--duration"),
            QString::number(FleetDurationS), QStringLiteral("--profile"), profile,
            QStringLiteral("--threads"), QStringLiteral("1"), QStringLiteral("--name"), profile});
        // The summary and progress lines are the fleet's own business during a demo.
        fleet->setStandardOutputFile(QProcess::nullDevice());
        fleet->setStandardErrorFile(QProcess::nullDevice());
        stopWithTheConsole(fleet.get());
        fleet->start();
        if (!fleet->waitForStarted(5000))
            return QStringLiteral("cannot start the %1 fleet: %2")
                .arg(profile, fleet->errorString());
        qCInfo(lcDemo).noquote() << "demo fleet" << profile << "pid" << fleet->processId();
        m_fleets.push_back(std::move(fleet));
    }
    return QString();
}

void DemoFleet::stop()
{
    for (const auto &fleet : m_fleets)
        fleet->terminate();
    for (const auto &fleet : m_fleets) {
        if (!fleet->waitForFinished(StopGraceMs))
            fleet->kill();
        fleet->waitForFinished(1000);
    }
    m_fleets.clear();
}
