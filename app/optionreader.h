#pragma once

#include <QCommandLineParser>
#include <QString>

/// Reads a whole number within [low, high] from a command-line option into \a value, if the
/// option was given. Returns an empty string, or a sentence naming the flag and its range.
QString readIntOption(const QCommandLineParser &parser, const QCommandLineOption &option, int low,
    int high, int *value);
