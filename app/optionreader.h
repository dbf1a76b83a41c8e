#pragma once

#include <QCommandLineParser>
#include <QString>
#include <QStringView>

/// Whether \a text is a whole number as written on a command line: ASCII digits only, after
/// a '-' if \a negativeAllowed. QString::toInt also takes " 5", "5 " and "+5", which are
/// slips (a stray space, a sign no other value has), not numbers to guess at.
bool isPlainWholeNumber(QStringView text, bool negativeAllowed);

/// Reads a whole number within [low, high] from a command-line option into \a value, if the
/// option was given; a '-' is taken only when \a low is below zero. Returns an empty string,
/// or a sentence naming the flag and its range.
QString readIntOption(const QCommandLineParser &parser, const QCommandLineOption &option, int low,
    int high, int *value);
