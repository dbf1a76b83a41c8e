#include "authtoken.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>

#include <algorithm>
#include <cmath>

namespace OddsDesk {
namespace {

constexpr QByteArray::Base64Options Base64Url
    = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

// The size of an HMAC-SHA256; a signature of any other size is not one of ours.
constexpr int MacBytes = 32;

// Every integer up to this magnitude survives JSON's doubles exactly; an expiry beyond it
// could not have been written by issueAuthToken().
constexpr double MaxExactJsonInteger = 9007199254740992.0; // 2^53

const QString SignatureMismatch = QStringLiteral("token signature does not match");
const QString Malformed = QStringLiteral("token is malformed");

QByteArray sign(const QByteArray &key, const QByteArray &payloadPart)
{
    return QMessageAuthenticationCode::hash(payloadPart, key, QCryptographicHash::Sha256);
}

// The time taken depends only on the sizes, never on where the first difference is, so a
// client cannot find a valid signature byte by byte. The sizes themselves are no secret.
bool equalInConstantTime(const QByteArray &a, const QByteArray &b)
{
    if (a.size() != b.size())
        return false;

    unsigned char difference = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        difference |= static_cast<unsigned char>(a.at(i) ^ b.at(i));
    return difference == 0;
}

bool isBase64UrlOrDot(QChar c)
{
    const char16_t u = c.unicode();
    return (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-'
        || u == '_' || u == '.';
}

// Accepts only the one encoding issueAuthToken() writes for the bytes, so that no two tokens
// differ in their text yet carry the same payload and signature.
bool decodeBase64Url(const QByteArray &text, QByteArray *decoded)
{
    *decoded = QByteArray::fromBase64(text, Base64Url);
    return !text.isEmpty() && decoded->toBase64(Base64Url) == text;
}

bool isPrintable(const QString &text)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (c.isHighSurrogate() && i + 1 < text.size() && text.at(i + 1).isLowSurrogate()) {
            if (!QChar::isPrint(QChar::surrogateToUcs4(c, text.at(i + 1))))
                return false;
            ++i;
        } else if (!c.isPrint()) { // also a surrogate without its partner
            return false;
        }
    }
    return true;
}

bool parseClaims(const QByteArray &payload, AuthClaims *claims)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(payload, &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return false;

    const QJsonObject object = document.object();
    const QJsonValue sub = object.value(QLatin1String("sub"));
    const QJsonValue exp = object.value(QLatin1String("exp"));
    const QJsonValue subs = object.value(QLatin1String("subs"));
    if (!sub.isString() || !exp.isDouble() || !subs.isArray())
        return false;

    const double expiresAt = exp.toDouble();
    if (expiresAt != std::floor(expiresAt) || std::abs(expiresAt) > MaxExactJsonInteger)
        return false;

    claims->subscriptions.clear();
    for (const QJsonValue &subscription : subs.toArray()) {
        if (!subscription.isString())
            return false;
        claims->subscriptions.append(subscription.toString());
    }
    claims->userId = sub.toString();
    claims->expiresAtMs = static_cast<qint64>(expiresAt);
    return true;
}

// A failure carries no claims, so that nobody can act on a token that did not verify.
AuthResult failure(const QString &error)
{
    AuthResult result;
    result.error = error;
    return result;
}

QString checkClaims(const AuthClaims &claims, qint64 nowMs)
{
    if (claims.userId.isEmpty())
        return QStringLiteral("token has no user id");
    if (claims.userId.size() > MaxAuthUserIdChars)
        return QStringLiteral("token user id is longer than %1 characters").arg(MaxAuthUserIdChars);
    if (!isPrintable(claims.userId))
        return QStringLiteral("token user id has characters that cannot be printed");
    if (claims.expiresAtMs <= nowMs)
        return QStringLiteral("token expired");
    return {};
}

} // namespace

QByteArray readAuthKey(const QString &path, QString *error)
{
    QString message;
    QByteArray key;

    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        message = QStringLiteral("Cannot read the authentication key file %1 (%2).")
                      .arg(path, file.errorString());
    } else {
        key = file.readAll();
        if (key.endsWith('\n'))
            key.chop(1);
        if (key.endsWith('\r'))
            key.chop(1);
        if (key.size() < MinAuthKeyBytes) {
            message = QStringLiteral("The authentication key file %1 holds %2 bytes; a key needs "
                                     "at least %3 random bytes.")
                          .arg(path)
                          .arg(key.size())
                          .arg(MinAuthKeyBytes);
            key.clear();
        }
    }

    if (error)
        *error = message;
    return key;
}

QString issueAuthToken(const QByteArray &key, const AuthClaims &claims)
{
    if (key.size() < MinAuthKeyBytes)
        return {};

    QJsonObject object;
    object.insert(QLatin1String("sub"), claims.userId);
    object.insert(QLatin1String("exp"), claims.expiresAtMs);
    object.insert(QLatin1String("subs"), QJsonArray::fromStringList(claims.subscriptions));

    const QByteArray payloadPart
        = QJsonDocument(object).toJson(QJsonDocument::Compact).toBase64(Base64Url);
    const QByteArray signaturePart = sign(key, payloadPart).toBase64(Base64Url);
    return QString::fromLatin1(payloadPart + '.' + signaturePart);
}

AuthResult verifyAuthToken(const QByteArray &key, const QString &token, qint64 nowMs)
{
    if (key.size() < MinAuthKeyBytes)
        return failure(QStringLiteral("server cannot verify tokens"));
    // The commonest mistake of a client writer, told as such rather than as a bad token.
    if (token.isEmpty())
        return failure(QStringLiteral("this feed needs a token and the hello carried none"));
    if (token.size() > MaxAuthTokenChars)
        return failure(QStringLiteral("token is longer than %1 characters").arg(MaxAuthTokenChars));
    if (!std::all_of(token.cbegin(), token.cend(), isBase64UrlOrDot))
        return failure(Malformed);

    const QList<QByteArray> parts = token.toLatin1().split('.');
    QByteArray payload;
    QByteArray signature;
    if (parts.size() != 2 || !decodeBase64Url(parts.at(0), &payload)
        || !decodeBase64Url(parts.at(1), &signature) || signature.size() != MacBytes)
        return failure(Malformed);

    if (!equalInConstantTime(signature, sign(key, parts.at(0))))
        return failure(SignatureMismatch);

    AuthResult result;
    if (!parseClaims(payload, &result.claims))
        return failure(Malformed);
    const QString problem = checkClaims(result.claims, nowMs);
    if (!problem.isEmpty())
        return failure(problem);
    return result;
}

} // namespace OddsDesk
