#include "authtoken.h"

#include <QCryptographicHash>
#include <QFile>
#include <QMessageAuthenticationCode>
#include <QTemporaryDir>
#include <QtTest>

using namespace OddsDesk;

namespace {

const QByteArray Key = QByteArrayLiteral("the desk's own key, 32 bytes or more");
const QByteArray OtherKey = QByteArrayLiteral("somebody else's key, also long enough");

// 2030-03-01 00:00 UTC; the tests never read the clock.
constexpr qint64 NowMs = 1898553600000;
constexpr qint64 HourMs = 60 * 60 * 1000;

constexpr QByteArray::Base64Options Base64Url
    = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

const QString Malformed = QStringLiteral("token is malformed");
const QString SignatureMismatch = QStringLiteral("token signature does not match");

QString tokenFor(const QByteArray &key, const QString &userId, qint64 expiresAtMs,
    const QStringList &subscriptions = {})
{
    AuthClaims claims;
    claims.userId = userId;
    claims.expiresAtMs = expiresAtMs;
    claims.subscriptions = subscriptions;
    return issueAuthToken(key, claims);
}

// Signs any payload bytes the way the format says, without going through issueAuthToken(), so
// that a payload the issuer would never write still reaches the checks after the signature.
QString signedPayload(const QByteArray &key, const QByteArray &payload)
{
    const QByteArray payloadPart = payload.toBase64(Base64Url);
    const QByteArray mac
        = QMessageAuthenticationCode::hash(payloadPart, key, QCryptographicHash::Sha256);
    return QString::fromLatin1(payloadPart + '.' + mac.toBase64(Base64Url));
}

QByteArray payloadOf(const QString &token)
{
    return QByteArray::fromBase64(token.section(QLatin1Char('.'), 0, 0).toLatin1(), Base64Url);
}

QString signatureOf(const QString &token)
{
    return token.section(QLatin1Char('.'), 1);
}

QString withPayload(const QByteArray &payload, const QString &signature)
{
    return QString::fromLatin1(payload.toBase64(Base64Url)) + QLatin1Char('.') + signature;
}

QString flipCharacter(QString text, qsizetype index)
{
    text[index] = text.at(index) == QLatin1Char('A') ? QLatin1Char('B') : QLatin1Char('A');
    return text;
}

// The last character of a 32-byte signature carries four bits of it and two unused ones; setting
// an unused bit leaves the decoded bytes as they were.
QString withUnusedSignatureBitSet(QString token)
{
    const QByteArray alphabet
        = QByteArrayLiteral("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
    const qsizetype last = token.size() - 1;
    const qsizetype value = alphabet.indexOf(token.at(last).toLatin1());
    token[last] = QLatin1Char(alphabet.at(value ^ 0x01));
    return token;
}

} // namespace

class tst_AuthToken : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrip_data();
    void roundTrip();
    void rejected_data();
    void rejected();
    void shortKeyNeitherIssuesNorVerifies();
    void readKey_data();
    void readKey();
};

void tst_AuthToken::roundTrip_data()
{
    QTest::addColumn<QString>("userId");
    QTest::addColumn<QStringList>("subscriptions");

    QTest::newRow("everything") << QStringLiteral("trader-7") << QStringList();
    QTest::newRow("some markets") << QStringLiteral("trader-7")
                                  << QStringList {QStringLiteral("1.2"), QStringLiteral("3.4")};
    QTest::newRow("accented user id with a space")
        << QStringLiteral("Jürgen Sørensen") << QStringList {QStringLiteral("Brøndvik IF")};
    QTest::newRow("user id outside the basic plane")
        << QString::fromUtf8("trader \xF0\x9F\x8E\xAF") << QStringList();
    QTest::newRow("longest user id")
        << QString(MaxAuthUserIdChars, QLatin1Char('u')) << QStringList();
}

void tst_AuthToken::roundTrip()
{
    QFETCH(QString, userId);
    QFETCH(QStringList, subscriptions);

    const qint64 expiresAtMs = NowMs + HourMs;
    const QString token = tokenFor(Key, userId, expiresAtMs, subscriptions);
    QVERIFY(!token.contains(QLatin1Char('=')));

    const AuthResult result = verifyAuthToken(Key, token, NowMs);
    QVERIFY2(result.ok(), qPrintable(result.error));
    QCOMPARE(result.claims.userId, userId);
    QCOMPARE(result.claims.expiresAtMs, expiresAtMs);
    QCOMPARE(result.claims.subscriptions, subscriptions);

    // One millisecond before expiry is the last moment the token is good.
    QVERIFY(verifyAuthToken(Key, token, expiresAtMs - 1).ok());
}

void tst_AuthToken::rejected_data()
{
    QTest::addColumn<QString>("token");
    QTest::addColumn<QString>("error");

    const QString good = tokenFor(Key, QStringLiteral("trader-7"), NowMs + HourMs);
    const QString goodSignature = signatureOf(good);
    const qsizetype dot = good.indexOf(QLatin1Char('.'));

    QTest::newRow("forged: signed with another key")
        << tokenFor(OtherKey, QStringLiteral("trader-7"), NowMs + HourMs) << SignatureMismatch;
    QTest::newRow("expired an hour ago") << tokenFor(Key, QStringLiteral("trader-7"),
        NowMs - HourMs) << QStringLiteral("token expired");
    QTest::newRow("expiring exactly now")
        << tokenFor(Key, QStringLiteral("trader-7"), NowMs) << QStringLiteral("token expired");

    QByteArray flipped = payloadOf(good);
    flipped[5] = flipped.at(5) ^ 0x01;
    QTest::newRow("claims byte flipped, signature kept")
        << withPayload(flipped, goodSignature) << SignatureMismatch;
    QTest::newRow("claims re-encoded for another user, signature kept") << withPayload(
        payloadOf(tokenFor(Key, QStringLiteral("admin"), NowMs + HourMs)), goodSignature)
                                                                        << SignatureMismatch;
    QTest::newRow("claims re-encoded with a later expiry, signature kept") << withPayload(
        payloadOf(tokenFor(Key, QStringLiteral("trader-7"), NowMs + 99 * HourMs)), goodSignature)
                                                                           << SignatureMismatch;
    QTest::newRow("signature character changed")
        << flipCharacter(good, dot + 10) << SignatureMismatch;
    QTest::newRow("payload character changed") << flipCharacter(good, dot / 2) << SignatureMismatch;

    QTest::newRow("signature with an unused bit set")
        << withUnusedSignatureBitSet(good) << Malformed;
    QTest::newRow("truncated") << good.left(good.size() - 4) << Malformed;
    QTest::newRow("signature missing") << good.left(dot + 1) << Malformed;
    QTest::newRow("payload missing") << good.mid(dot) << Malformed;
    QTest::newRow("no dot") << QString(good).remove(QLatin1Char('.')) << Malformed;
    QTest::newRow("three parts") << good + QStringLiteral(".AAAA") << Malformed;
    QTest::newRow("none") << QString()
                          << QStringLiteral("this feed needs a token and the hello carried none");
    QTest::newRow("padded base64") << good + QStringLiteral("=") << Malformed;
    QTest::newRow("plain base64 characters")
        << QString(good).replace(dot + 3, 2, QStringLiteral("+/")) << Malformed;
    QTest::newRow("space inside") << QString(good).insert(dot + 3, QLatin1Char(' ')) << Malformed;
    QTest::newRow("non-ASCII character") << QString(good).insert(3, QChar(0x00E9)) << Malformed;

    QTest::newRow("empty user") << tokenFor(Key, QString(), NowMs + HourMs)
                                << QStringLiteral("token has no user id");
    QTest::newRow("user id one character too long")
        << tokenFor(Key, QString(MaxAuthUserIdChars + 1, QLatin1Char('u')), NowMs + HourMs)
        << QStringLiteral("token user id is longer than 128 characters");
    QTest::newRow("user id with a newline") << tokenFor(Key, QStringLiteral("trader\n7"),
        NowMs + HourMs) << QStringLiteral("token user id has characters that cannot be printed");
    QTest::newRow("user id with a lone surrogate")
        << signedPayload(Key, R"({"sub":"trader\ud800","exp":1898557200000,"subs":[]})")
        << QStringLiteral("token user id has characters that cannot be printed");

    QStringList manyMarkets;
    for (int i = 0; i < 1000; ++i)
        manyMarkets.append(QStringLiteral("1.%1").arg(i));
    QTest::newRow("oversized, though correctly signed") << tokenFor(Key, QStringLiteral("trader-7"),
        NowMs + HourMs, manyMarkets) << QStringLiteral("token is longer than 4096 characters");

    QTest::newRow("payload not JSON") << signedPayload(Key, "sub=trader-7") << Malformed;
    QTest::newRow("payload a JSON array") << signedPayload(Key, R"(["trader-7"])") << Malformed;
    QTest::newRow("payload empty") << signedPayload(Key, "") << Malformed;
    QTest::newRow("user id a number")
        << signedPayload(Key, R"({"sub":7,"exp":1898557200000,"subs":[]})") << Malformed;
    QTest::newRow("expiry a string")
        << signedPayload(Key, R"({"sub":"t","exp":"1898557200000","subs":[]})") << Malformed;
    QTest::newRow("expiry fractional")
        << signedPayload(Key, R"({"sub":"t","exp":1898557200000.5,"subs":[]})") << Malformed;
    QTest::newRow("expiry beyond exact doubles")
        << signedPayload(Key, R"({"sub":"t","exp":1e300,"subs":[]})") << Malformed;
    QTest::newRow("expiry missing") << signedPayload(Key, R"({"sub":"t","subs":[]})") << Malformed;
    QTest::newRow("subscriptions a string")
        << signedPayload(Key, R"({"sub":"t","exp":1898557200000,"subs":"1.2"})") << Malformed;
    QTest::newRow("subscription a number")
        << signedPayload(Key, R"({"sub":"t","exp":1898557200000,"subs":[1.2]})") << Malformed;
}

void tst_AuthToken::rejected()
{
    QFETCH(QString, token);
    QFETCH(QString, error);

    const AuthResult result = verifyAuthToken(Key, token, NowMs);
    QCOMPARE(result.error, error);
    QVERIFY(!result.ok());
    QVERIFY(result.claims.userId.isEmpty());
}

void tst_AuthToken::shortKeyNeitherIssuesNorVerifies()
{
    const QByteArray shortKey = Key.left(MinAuthKeyBytes - 1);
    QVERIFY(tokenFor(shortKey, QStringLiteral("trader-7"), NowMs + HourMs).isEmpty());

    // Even a token signed with that short key must not verify against it.
    const QString token
        = signedPayload(shortKey, R"({"sub":"trader-7","exp":1898557200000,"subs":[]})");
    const AuthResult result = verifyAuthToken(shortKey, token, NowMs);
    QVERIFY(!result.ok());
    QCOMPARE(result.error, QStringLiteral("server cannot verify tokens"));
}

void tst_AuthToken::readKey_data()
{
    QTest::addColumn<bool>("fileExists");
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<QByteArray>("expectedKey");

    const QByteArray exact(MinAuthKeyBytes, 'k');
    const QByteArray binary = QByteArray::fromHex(
        "00ff0a0d7f80c3a90102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    QTest::newRow("missing") << false << QByteArray() << QByteArray();
    QTest::newRow("empty") << true << QByteArray() << QByteArray();
    QTest::newRow("one byte short") << true << exact.left(MinAuthKeyBytes - 1) << QByteArray();
    QTest::newRow("one byte short once the newline is trimmed")
        << true << exact.left(MinAuthKeyBytes - 1) + '\n'
        << QByteArray();
    QTest::newRow("exactly long enough") << true << exact << exact;
    QTest::newRow("trailing newline trimmed") << true << exact + '\n' << exact;
    QTest::newRow("trailing CRLF trimmed") << true << exact + "\r\n" << exact;
    QTest::newRow("only one newline trimmed") << true << exact + "\n\n" << exact + '\n';
    QTest::newRow("binary bytes kept as they are") << true << binary << binary;
}

void tst_AuthToken::readKey()
{
    QFETCH(bool, fileExists);
    QFETCH(QByteArray, contents);
    QFETCH(QByteArray, expectedKey);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("auth.key"));
    if (fileExists) {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(contents), contents.size());
    }

    QString error = QStringLiteral("left over from before");
    const QByteArray key = readAuthKey(path, &error);
    QCOMPARE(key, expectedKey);
    if (expectedKey.isEmpty()) {
        QVERIFY2(error.contains(path), qPrintable(error));
    } else {
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(verifyAuthToken(key, tokenFor(key, QStringLiteral("t"), NowMs + 1), NowMs).ok());
    }

    // The error is optional.
    QCOMPARE(readAuthKey(path, nullptr), expectedKey);
}

QTEST_GUILESS_MAIN(tst_AuthToken)
#include "tst_authtoken.moc"
