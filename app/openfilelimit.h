#pragma once

#include <QString>
#include <QtGlobal>

/// Raises this process's soft limit on open files to its hard limit, so that a server or a
/// load generator can hold as many connections as the machine allows. Returns the limit in
/// force afterwards (0 when it cannot be read); \a warning says why it could not be raised.
quint64 raiseOpenFileLimit(QString *warning);
