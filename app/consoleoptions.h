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

/// The command line as main() received it, program name first, for parsing before any
/// application object exists: a window needs a QApplication, which needs a display, and a
/// command-line mistake, --help or --issue-token must not.
QStringList commandLineArguments(int argc, char **argv);

/// Parses the console's command line. --help and --version print and exit. Returns an
/// empty string on success, or a sentence naming the bad flag. Needs no application object;
/// Qt's own options (-platform, -style) are therefore not taken: use QT_QPA_PLATFORM and
/// QT_STYLE_OVERRIDE instead.
QString parseConsoleOptions(const QStringList &arguments, ConsoleOptions *options);
