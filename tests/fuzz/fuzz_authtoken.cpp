// A token as a client presents it in its hello, verified against a fixed key; and the same
// bytes as the claims of a token the desk issues, which must then verify.

#include "authtoken.h"

#include <cstddef>
#include <cstdint>

using namespace OddsDesk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray key(40, 'k');
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const AuthResult result = verifyAuthToken(key, QString::fromUtf8(bytes), 1700000000000);
    if (result.ok() && result.claims.userId.isEmpty())
        __builtin_trap(); // a token that verifies names a user

    AuthClaims claims;
    claims.userId = QString::fromUtf8(bytes.left(MaxAuthUserIdChars));
    claims.expiresAtMs = 1800000000000;
    const QString token = issueAuthToken(key, claims);
    const AuthResult issued = verifyAuthToken(key, token, 1700000000000);
    if (issued.ok() && issued.claims.userId != claims.userId)
        __builtin_trap(); // what the desk signed is what the server reads back
    return 0;
}
