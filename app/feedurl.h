#pragma once

#include <QString>
#include <QUrl>

/// Reads the feed URL a command-line tool was given: ws:// or wss://, with a host. Returns an
/// empty string, or a sentence saying what is wrong with \a text.
QString readFeedUrl(const QString &text, QUrl *url);
