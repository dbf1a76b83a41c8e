#include "feedurl.h"

QString readFeedUrl(const QString &text, QUrl *url)
{
    const QUrl parsed(text);
    // Without a host a client would retry a connection that can never be made, for ever.
    if (!parsed.isValid() || parsed.host().isEmpty()
        || (parsed.scheme() != QLatin1String("ws") && parsed.scheme() != QLatin1String("wss"))) {
        return QStringLiteral("\"%1\" is not a ws:// or wss:// URL with a host, such as "
                              "ws://127.0.0.1:8765")
            .arg(text);
    }
    *url = parsed;
    return QString();
}
