// oddsdesk: the trading desk's console with the live feed engine inside it, or with
// --headless the engine alone.

#include "consoleoptions.h"
#include "counted.h"
#include "demobook.h"
#include "authtoken.h"
#include "demofleet.h"
#include "engine.h"
#include "footballdataimporter.h"
#include "mainwindow.h"
#include "openfilelimit.h"
#include "signalwatcher.h"
#include "translations.h"

#include <QApplication>
#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QIcon>
#include <QMessageBox>
#include <QSettings>
#include <QStringList>
#include <QTextStream>

#include <memory>

using namespace OddsDesk;

namespace {

QTextStream &err()
{
    static QTextStream stream(stderr);
    return stream;
}

// The book to start with: the imported season, or the generated demo book. Returns false
// when an import was asked for and failed; nothing starts on half a book. \a imported is what
// the importer said, for the window.
bool initialBook(const ConsoleOptions &options, BookData *book, ImportReport *imported)
{
    if (options.importPath.isEmpty()) {
        *book = generateDemoBook();
        return true;
    }
    const ImportReport report = importFootballData(options.importPath, options.bookmaker);
    for (const ImportIssue &issue : report.issues) {
        // A row kept without its over/under market is in the book: a warning, not a skip.
        err() << options.importPath << ":" << issue.line
              << (issue.isSkipped() ? ": skipped: " : ": warning: ") << issue.reason << Qt::endl;
    }
    if (!report.ok()) {
        err() << "oddsdesk: " << report.error << Qt::endl;
        return false;
    }
    err() << "imported " << counted(report.book.events.size(), u"event", u"events") << " and "
          << counted(report.book.markets.size(), u"market", u"markets") << " from "
          << options.importPath;
    QStringList issues;
    const qsizetype skipped = report.skippedRows();
    if (skipped > 0)
        issues << counted(skipped, u"row", u"rows") + QStringLiteral(" skipped");
    if (const qsizetype warnings = report.warnings(); warnings > 0)
        issues << counted(warnings, u"warning", u"warnings");
    if (!issues.isEmpty())
        err() << " (" << issues.join(QStringLiteral(", ")) << ", listed above)";
    err() << Qt::endl;
    *book = report.book;
    *imported = report;
    return true;
}

// Why the file \a what names cannot be read ("the recording PATH is a folder, not a file",
// "cannot read the recording PATH: No such file or directory"), or an empty string.
QString unreadableFileError(const QString &what, const QString &path)
{
    if (QFileInfo(path).isDir())
        return QStringLiteral("the %1 %2 is a folder, not a file").arg(what, path);
    // Opening it is the one way to learn why it cannot be read, in the system's words.
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("cannot read the %1 %2: %3").arg(what, path, file.errorString());
    return QString();
}

// What is wrong with the files --replay and --catalogue name, found before anything starts;
// what is wrong inside them is found when the replay loads them.
QString replayFilesError(const ConsoleOptions &options)
{
    const QString recordingError
        = unreadableFileError(QStringLiteral("recording"), options.replayPath);
    if (!recordingError.isEmpty() || options.replayCatalogue.isEmpty())
        return recordingError; // without --catalogue the replay looks for one beside it
    return unreadableFileError(QStringLiteral("catalogue"), options.replayCatalogue);
}

// Whether a console with a window has nowhere to open it. On Linux Qt then aborts in its
// platform plugin, advising a reinstall; an explicit QT_QPA_PLATFORM is the user's choice.
bool displayMissing()
{
#ifdef Q_OS_LINUX
    return !qEnvironmentVariableIsSet("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY")
        && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
#else
    return false;
#endif
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication::setOrganizationName(QStringLiteral("OddsDesk"));
    QCoreApplication::setApplicationName(QStringLiteral("oddsdesk"));
    QCoreApplication::setApplicationVersion(QStringLiteral(ODDSDESK_VERSION));

    // Read before any application object exists: a mistake, --help or --issue-token needs no
    // display, and only a console with a window may make a QApplication.
    ConsoleOptions options;
    const QString error = parseConsoleOptions(commandLineArguments(argc, argv), &options);
    if (!error.isEmpty()) {
        err() << "oddsdesk: " << error << Qt::endl;
        return 2;
    }
    if (!options.authKeyFile.isEmpty()) {
        QString keyError;
        options.engine.server.authKey = readAuthKey(options.authKeyFile, &keyError);
        if (!keyError.isEmpty()) {
            err() << "oddsdesk: " << keyError << Qt::endl;
            return 2;
        }
    }
    if (!options.issueTokenFor.isEmpty()) {
        AuthClaims claims;
        claims.userId = options.issueTokenFor;
        claims.expiresAtMs
            = QDateTime::currentMSecsSinceEpoch() + qint64(options.tokenValidForS) * 1000;
        QTextStream(stdout) << issueAuthToken(options.engine.server.authKey, claims) << Qt::endl;
        return 0;
    }
    if (!options.headless && displayMissing()) {
        err() << "oddsdesk: no display to open the desk's window on: set DISPLAY, or use "
                 "--headless, or QT_QPA_PLATFORM=offscreen"
              << Qt::endl;
        return 2;
    }
    if (options.engine.server.authKey.isEmpty()) {
        err() << "oddsdesk: the feed is open: without --auth-key-file anyone who can reach it "
                 "may connect"
              << Qt::endl;
    }
    if (!options.replayPath.isEmpty()) {
        const QString replayError = replayFilesError(options);
        if (!replayError.isEmpty()) {
            err() << "oddsdesk: " << replayError << Qt::endl;
            return 2;
        }
    }

    const bool headless = options.headless;
    std::unique_ptr<QCoreApplication> app;
    if (headless)
        app = std::make_unique<QCoreApplication>(argc, argv);
    else
        app = std::make_unique<QApplication>(argc, argv);
    if (!headless) {
        // Lets the desktop match the window to the installed entry and its icon.
        QGuiApplication::setDesktopFileName(QStringLiteral("oddsdesk"));
        QGuiApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral("oddsdesk")));
        installTranslations(app.get());
    }

    BookData book;
    ImportReport imported;
    if (!initialBook(options, &book, &imported))
        return 1;

    // Every client session holds a socket: the feed may hold as many as the machine allows.
    QString limitWarning;
    raiseOpenFileLimit(&limitWarning);
    if (!limitWarning.isEmpty())
        err() << "oddsdesk: " << limitWarning << Qt::endl;

    // The replay is loaded before the feed listens: one that cannot be used stops a headless
    // console before it announces a feed; the window says why and carries on without it.
    options.engine.replayPath = options.replayPath;
    options.engine.replayCatalogue = options.replayCatalogue;
    options.engine.replaySpeed = options.replaySpeed;
    options.engine.replayRequired = headless;
    Engine engine(options.engine);
    QObject::connect(&engine, &Engine::started, app.get(), [](const QUrl &url) {
        QTextStream out(stdout);
        out << "listening on " << url.toString() << Qt::endl;
    });
    QObject::connect(&engine, &Engine::replayStatus, app.get(),
        [](const QString &message) { err() << "oddsdesk: " << message << Qt::endl; });
    // A replay asked for on the command line that cannot start stops a headless console, as
    // a recording that cannot be read does.
    QObject::connect(&engine, &Engine::replayFailed, app.get(), [headless] {
        if (headless)
            QCoreApplication::exit(2);
    });
    QObject::connect(&engine, &Engine::httpStarted, app.get(), [](const QUrl &url) {
        QTextStream out(stdout);
        out << "http on " << url.toString() << Qt::endl;
    });

    SignalWatcher watcher;
    QObject::connect(&watcher, &SignalWatcher::terminationRequested, app.get(), [&engine] {
        engine.shutdown();
        QCoreApplication::quit();
    });

    // Forty clients per profile: two hundred sessions make every chart move on a laptop
    // without the audience's clients costing the console its smoothness.
    constexpr int DemoSessionsPerProfile = 40;
    DemoFleet demoFleet;
    if (options.demo) {
        QObject::connect(&engine, &Engine::started, app.get(), [&demoFleet](const QUrl &url) {
            const QString error = demoFleet.start(url, DemoSessionsPerProfile);
            if (!error.isEmpty())
                err() << "oddsdesk: " << error << Qt::endl;
        });
    }

    std::unique_ptr<MainWindow> window;
    if (!headless) {
        window = std::make_unique<MainWindow>(&engine);
        window->setDemoMode(options.demo);
        window->restoreSettings(QSettings());
        if (!options.importPath.isEmpty())
            window->showStartupImport(options.importPath, imported);
        window->show();
    }
    // A console that cannot start (the port is taken, the database is damaged or another
    // console holds it) says why and what to do, in the window too when there is one, and
    // touches nothing.
    QObject::connect(&engine, &Engine::failed, app.get(), [&window](const QString &reason) {
        err() << "oddsdesk: " << reason << Qt::endl;
        if (!window) {
            QCoreApplication::exit(1);
            return;
        }
        auto *box = new QMessageBox(QMessageBox::Critical, QObject::tr("OddsDesk cannot start"),
            QObject::tr("The feed engine could not start."), QMessageBox::Ok, window.get());
        box->setObjectName(QStringLiteral("startFailure"));
        box->setInformativeText(reason);
        QObject::connect(box, &QMessageBox::finished, qApp, [] { QCoreApplication::exit(1); });
        box->open();
    });
    engine.start(book, options.importPath);
    const int rc = app->exec();
    demoFleet.stop();
    if (window) {
        QSettings settings;
        window->saveSettings(settings);
    }
    window.reset();
    engine.shutdown();
    return rc;
}
