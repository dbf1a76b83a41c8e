#pragma once

#include "engine.h"

#include <QString>
#include <QStringList>

/// What the console's command line asks for.
struct ConsoleOptions
{
    OddsDesk::EngineConfig engine;
    bool headless = false;
    bool demo = false; // the generated book, the simulator and a fleet of clients
    QString importPath;
    QString bookmaker = QStringLiteral("B365");
    QString replayPath;
    QString replayCatalogue;
    double replaySpeed = 1.0;
    QString authKeyFile;
    QString issueTokenFor; // print a token for this user and exit
    int tokenValidForS = 24 * 60 * 60;
};

/// True when the command line asks for no window; read before any application object
/// exists, since a window needs a QApplication and a server must not.
bool wantsHeadless(int argc, char **argv);

/// Parses the console's command line. --help and --version print and exit. Returns an
/// empty string on success, or a sentence naming the bad flag.
QString parseConsoleOptions(const QStringList &arguments, ConsoleOptions *options);
