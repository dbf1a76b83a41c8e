#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace OddsDesk {

// A key shorter than the HMAC-SHA256 output would weaken the signature below its 256 bits.
constexpr int MinAuthKeyBytes = 32;

// Tokens travel in a connection request's header or first message; a few hundred
// subscriptions fit well within this, and a larger input is refused before it is decoded.
constexpr int MaxAuthTokenChars = 4096;

// Longer user ids are certainly not ours, and they end up in logs and the session inspector.
constexpr int MaxAuthUserIdChars = 128;

/// What a client's token says about it.
struct AuthClaims
{
    QString userId;
    /// Milliseconds since the epoch (UTC); the token is expired from this instant on.
    qint64 expiresAtMs = 0;
    /// Market subscriptions the client may take; empty means everything.
    QStringList subscriptions;
};

/// The outcome of verifying a token: the claims, or a short sentence safe to send to the
/// client.
struct AuthResult
{
    AuthClaims claims;
    QString error;
    bool ok() const { return error.isEmpty(); }
};

/// Reads the key shared by the token issuer and the server: the raw bytes of the file at
/// \a path, with one trailing newline trimmed, at least MinAuthKeyBytes long. On failure returns
/// an empty array and sets \a error (if given) to a sentence naming the path.
QByteArray readAuthKey(const QString &path, QString *error);

/// A signed token: base64url(JSON {"sub", "exp", "subs"}) "." base64url(HMAC-SHA256(key, the
/// first part)), both without padding. Returns an empty string if \a key is shorter than
/// MinAuthKeyBytes. The claims are signed as given; verifyAuthToken() judges them.
QString issueAuthToken(const QByteArray &key, const AuthClaims &claims);

/// Checks \a token's size, structure and signature (compared in constant time), then its claims:
/// a user id that is non-empty, at most MaxAuthUserIdChars long and printable, and an expiry
/// later than \a nowMs. Nothing from the payload is parsed before the signature matches.
AuthResult verifyAuthToken(const QByteArray &key, const QString &token, qint64 nowMs);

} // namespace OddsDesk
