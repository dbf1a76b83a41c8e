#pragma once

#include <QCommandLineParser>
#include <QString>
#include <QStringView>

/// Reads \a text as a whole number as written on a command line into \a value: ASCII digits
/// only, after a '-' if \a negativeAllowed, within 64 bits. QString::toLongLong also takes
/// " 5", "5 " and "+5", which are slips (a stray space, a sign no other value has), not
/// numbers to guess at. Returns false, leaving \a value alone, for anything else.
bool parseWholeNumber(QStringView text, bool negativeAllowed, qint64 *value);

/// Reads a whole number within [low, high] from a command-line option into \a value, if the
/// option was given; a '-' is taken only when \a low is below zero. Returns an empty string,
/// or a sentence naming the flag and its range.
QString readIntOption(const QCommandLineParser &parser, const QCommandLineOption &option, int low,
    int high, int *value);
