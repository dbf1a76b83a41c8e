// What the server makes of a client's bytes before anything acts on them, and the limits that
// keep one client's flood from costing everyone else: the frame check, the hello check, the
// per-address rate limiter and the refusal log. Pure functions, no sockets; the inputs the
// fuzz targets in tests/fuzz found are kept here as cases.

#include "addressratelimiter.h"
#include "authtoken.h"
#include "clientframe.h"
#include "clock.h"
#include "codec.h"
#include "refusallog.h"

#include <QSet>
#include <QtTest>

#include <google/protobuf/descriptor.h>

using namespace OddsDesk;

Q_LOGGING_CATEGORY(lcTestRefusals, "oddsdesk.test.refusals", QtWarningMsg)

namespace {

QStringList g_logged;
QtMessageHandler g_previousHandler = nullptr;

void recordingHandler(QtMsgType type, const QMessageLogContext &context, const QString &text)
{
    if (context.category
        && (qstrcmp(context.category, "oddsdesk.test.refusals") == 0
            || qstrcmp(context.category, "oddsdesk.engine.protobuf") == 0)) {
        g_logged.append(text);
        return;
    }
    g_previousHandler(type, context, text);
}

QByteArray binary(const pb::ClientMessage &message)
{
    return Codec::encode(message, WireFormat::Binary);
}

// A protobuf length-delimited field: tag, length, bytes (short payloads only).
QByteArray lengthDelimited(int field, const QByteArray &payload)
{
    return QByteArray(1, char(field << 3 | 2)) + char(payload.size()) + payload;
}

} // namespace

class tst_ClientInput : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void frames_data();
    void frames();
    void invalidUtf8IsRefusedWithoutFloodingTheLog();
    void clientMessageTypesAreAllScanned();
    void hellos_data();
    void hellos();
    void rateLimiterBurstsThenRefills();
    void rateLimiterStaysBounded();
    void refusalLogWritesOneLinePerInterval();
};

void tst_ClientInput::init()
{
    g_logged.clear();
    g_previousHandler = qInstallMessageHandler(recordingHandler);
}

void tst_ClientInput::cleanup()
{
    qInstallMessageHandler(g_previousHandler);
}

void tst_ClientInput::frames_data()
{
    QTest::addColumn<int>("format");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<bool>("live");
    QTest::addColumn<int>("refusal"); // -1: accepted
    QTest::addColumn<int>("closeCode");

    pb::ClientMessage hello;
    hello.mutable_hello()->set_protocol_version(1);
    hello.mutable_hello()->set_client_name("app");
    pb::ClientMessage ack;
    ack.mutable_ack()->set_sequence(5);
    pb::ClientMessage telemetry;
    telemetry.mutable_telemetry()->add_events()->set_kind(pb::TelemetryEvent::KIND_STALE);
    pb::ServerMessage delta;
    delta.mutable_delta()->set_from_sequence(3);
    delta.mutable_delta()->add_changes()->mutable_price()->set_price(500);

    const int bin = int(WireFormat::Binary);
    const int json = int(WireFormat::Json);
    const int ok = -1;
    const int notClient = int(Refusal::NotAClientMessage);
    QTest::newRow("binary hello") << bin << binary(hello) << false << ok << 0;
    QTest::newRow("binary ack") << bin << binary(ack) << true << ok << 0;
    QTest::newRow("binary telemetry") << bin << binary(telemetry) << true << ok << 0;
    QTest::newRow("json hello") << json << Codec::encode(hello, WireFormat::Json) << false << ok
                                << 0;
    QTest::newRow("json hello, snake case")
        << json << QByteArray("{\"hello\":{\"protocol_version\":1}}") << false << ok << 0;
    QTest::newRow("json hello from a newer client")
        << json << QByteArray("{\"hello\":{\"protocolVersion\":1,\"x\":2},\"priority\":3}") << false
        << ok << 0;
    // Field 99 of the hello: unknown to both schemas, so a newer client's, not the server's.
    QTest::newRow("binary hello from a newer client")
        << bin << lengthDelimited(1, QByteArray("\x08\x01\x98\x06\x07", 5)) << false << ok << 0;
    // Byte for byte an ack: it is one, whatever the sender meant.
    QTest::newRow("binary snapshot header, which is an ack")
        << bin << lengthDelimited(2, QByteArray("\x08\x05", 2)) << true << ok << 0;

    QTest::newRow("empty binary") << bin << QByteArray() << true << notClient << 1008;
    QTest::newRow("binary delta") << bin << Codec::encode(delta, WireFormat::Binary) << true
                                  << notClient << 1008;
    QTest::newRow("binary field 4")
        << bin << lengthDelimited(4, QByteArray()) << true << notClient << 1008;
    QTest::newRow("json delta") << json << Codec::encode(delta, WireFormat::Json) << true
                                << notClient << 1008;
    QTest::newRow("json telemetry and a change")
        << json << QByteArray("{\"telemetry\":{},\"change\":{\"marketId\":1}}") << true << notClient
        << 1008;
    QTest::newRow("json heartbeat, snake case")
        << json << QByteArray("{\"heartbeat\":{\"head_sequence\":\"1\"}}") << true << notClient
        << 1008;

    QTest::newRow("garbage") << bin << QByteArray("\xff\xff\xff", 3) << true
                             << int(Refusal::BadMessage) << 1007;
    QTest::newRow("json array") << json << QByteArray("[1]") << true << int(Refusal::BadMessage)
                                << 1007;
    QTest::newRow("json with a wrong type") << json << QByteArray("{\"ack\":{\"sequence\":{}}}")
                                            << true << int(Refusal::BadMessage) << 1007;
    QTest::newRow("ack before hello")
        << bin << binary(ack) << false << int(Refusal::Protocol) << 1002;
    QTest::newRow("second hello") << bin << binary(hello) << true << int(Refusal::Protocol) << 1002;
}

void tst_ClientInput::frames()
{
    QFETCH(int, format);
    QFETCH(QByteArray, data);
    QFETCH(bool, live);
    QFETCH(int, refusal);
    QFETCH(int, closeCode);

    pb::ClientMessage message;
    const ClientFrameCheck check = checkClientFrame(data, WireFormat(format), WireFormat(format),
        live ? ClientPhase::Live : ClientPhase::AwaitingHello, &message);
    QVERIFY2(check.ok == (refusal < 0), qPrintable(check.reason));
    if (refusal >= 0) {
        QCOMPARE(int(check.refusal), refusal);
        QCOMPARE(int(check.closeCode), closeCode);
        QVERIFY(!check.reason.isEmpty());
    } else {
        QVERIFY(message.body_case() != pb::ClientMessage::BODY_NOT_SET);
    }

    // The other WebSocket frame type is always refused first, with 1003.
    const WireFormat other
        = WireFormat(format) == WireFormat::Json ? WireFormat::Binary : WireFormat::Json;
    const ClientFrameCheck wrongType
        = checkClientFrame(data, other, WireFormat(format), ClientPhase::Live, &message);
    QCOMPARE(int(wrongType.closeCode), 1003);
}

void tst_ClientInput::invalidUtf8IsRefusedWithoutFloodingTheLog()
{
    const QByteArray hello = lengthDelimited(1, QByteArray("\x08\x01\x12\x02\xff\xfe", 6));
    for (int i = 0; i < 500; ++i) {
        pb::ClientMessage message;
        const ClientFrameCheck check = checkClientFrame(
            hello, WireFormat::Binary, WireFormat::Binary, ClientPhase::AwaitingHello, &message);
        QCOMPARE(int(check.refusal), int(Refusal::BadMessage));
        QCOMPARE(int(check.closeCode), 1007);
    }
    // Protobuf's own complaint comes through our category, and only once in the second.
    QCOMPARE(g_logged.size(), 1);
    QVERIFY2(g_logged.first().contains(QStringLiteral("UTF-8")), qPrintable(g_logged.first()));
}

void tst_ClientInput::clientMessageTypesAreAllScanned()
{
    // The frame check looks for unknown fields in each of these by name (clientframe.cpp,
    // hasUnknownFields): a message type added to ClientMessage must be added there too.
    QSet<QString> seen;
    QVector<const google::protobuf::Descriptor *> todo {pb::ClientMessage::descriptor()};
    while (!todo.isEmpty()) {
        const google::protobuf::Descriptor *type = todo.takeLast();
        if (seen.contains(QString::fromStdString(type->full_name())))
            continue;
        seen.insert(QString::fromStdString(type->full_name()));
        for (int i = 0; i < type->field_count(); ++i) {
            if (type->field(i)->message_type())
                todo.append(type->field(i)->message_type());
        }
    }
    QCOMPARE(seen,
        QSet<QString>({QStringLiteral("oddsdesk.v1.ClientMessage"),
            QStringLiteral("oddsdesk.v1.Hello"), QStringLiteral("oddsdesk.v1.ResumeRequest"),
            QStringLiteral("oddsdesk.v1.Ack"), QStringLiteral("oddsdesk.v1.Telemetry"),
            QStringLiteral("oddsdesk.v1.TelemetryEvent")}));

    // And an unknown field deep inside is seen: a resume request with a field of the wrong
    // type (its field 4, last_sequence, as a string).
    const QByteArray resume = lengthDelimited(4, QByteArray("ab"));
    const QByteArray hello = QByteArray("\x08\x01", 2) + lengthDelimited(5, resume);
    pb::ClientMessage message;
    const ClientFrameCheck check = checkClientFrame(lengthDelimited(1, hello), WireFormat::Binary,
        WireFormat::Binary, ClientPhase::AwaitingHello, &message);
    QCOMPARE(int(check.refusal), int(Refusal::NotAClientMessage));
    QVERIFY2(check.reason.contains(QStringLiteral("hello.resume.4")), qPrintable(check.reason));
}

void tst_ClientInput::hellos_data()
{
    const QByteArray key(40, 'k');
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<int>("version");
    QTest::addColumn<QString>("token");
    QTest::addColumn<int>("refusal"); // -1: admitted

    const QString alice
        = issueAuthToken(key, AuthClaims {QStringLiteral("alice"), wallMillis() + 60000, {}});
    QTest::newRow("open feed") << QByteArray() << 1 << QString() << -1;
    QTest::newRow("open feed, version 2")
        << QByteArray() << 2 << QString() << int(Refusal::UnsupportedVersion);
    QTest::newRow("version 0") << QByteArray() << 0 << QString()
                               << int(Refusal::UnsupportedVersion);
    QTest::newRow("token") << key << 1 << alice << -1;
    QTest::newRow("no token") << key << 1 << QString() << int(Refusal::Unauthorized);
    QTest::newRow("huge token") << key << 1 << QString(100000, QLatin1Char('a'))
                                << int(Refusal::Unauthorized);
}

void tst_ClientInput::hellos()
{
    QFETCH(QByteArray, key);
    QFETCH(int, version);
    QFETCH(QString, token);
    QFETCH(int, refusal);

    pb::Hello hello;
    hello.set_protocol_version(quint32(version));
    hello.set_auth_token(token.toStdString());
    const HelloCheck check = checkHello(hello, key, wallMillis());
    QVERIFY2(check.ok == (refusal < 0), qPrintable(check.reason));
    if (refusal >= 0)
        QCOMPARE(int(check.refusal), refusal);
    else if (!key.isEmpty())
        QCOMPARE(check.user, QStringLiteral("alice"));
}

void tst_ClientInput::rateLimiterBurstsThenRefills()
{
    AddressRateLimiter limiter(2.0, 3.0);
    const qint64 t0 = 1000000000;
    for (int i = 0; i < 3; ++i)
        QVERIFY(limiter.take(QStringLiteral("10.0.0.1"), t0));
    int retryMs = 0;
    QVERIFY(!limiter.take(QStringLiteral("10.0.0.1"), t0, &retryMs));
    QCOMPARE(retryMs, 500);
    // Another address has its own bucket.
    QVERIFY(limiter.take(QStringLiteral("10.0.0.2"), t0));
    // Half a second later one token is back, and only one.
    QVERIFY(limiter.take(QStringLiteral("10.0.0.1"), t0 + 500000));
    QVERIFY(!limiter.take(QStringLiteral("10.0.0.1"), t0 + 500000));
    // A clock that seems to go back gives nothing.
    QVERIFY(!limiter.take(QStringLiteral("10.0.0.1"), t0));

    AddressRateLimiter off;
    for (int i = 0; i < 1000; ++i)
        QVERIFY(off.take(QStringLiteral("10.0.0.1"), t0));
    QCOMPARE(off.trackedAddresses(), 0);
}

void tst_ClientInput::rateLimiterStaysBounded()
{
    AddressRateLimiter limiter(1.0, 2.0, 100);
    const qint64 t0 = 1000000000;
    for (int i = 0; i < 1000; ++i)
        QVERIFY(limiter.take(QStringLiteral("10.1.%1.%2").arg(i / 256).arg(i % 256), t0));
    QCOMPARE(limiter.trackedAddresses(), 100);
    // The tracked ones are still limited.
    QVERIFY(limiter.take(QStringLiteral("10.1.0.0"), t0));
    QVERIFY(!limiter.take(QStringLiteral("10.1.0.0"), t0));
    // Refilled buckets are forgotten.
    limiter.prune(t0 + 3000000);
    QCOMPARE(limiter.trackedAddresses(), 0);
}

void tst_ClientInput::refusalLogWritesOneLinePerInterval()
{
    RefusalLog log(lcTestRefusals(), 1000000);
    const qint64 t0 = 5000000;
    for (int i = 0; i < 1000; ++i)
        log.record(Refusal::HelloRate, QStringLiteral("refused hello %1").arg(i), t0 + i);
    log.record(Refusal::TooBig, QStringLiteral("too big"), t0);
    QCOMPARE(log.total(Refusal::HelloRate), 1000u);
    QCOMPARE(log.totals()[size_t(Refusal::TooBig)], 1u);
    QCOMPARE(g_logged.size(), 2);
    QCOMPARE(g_logged.at(0), QStringLiteral("refused hello 0"));

    // The next interval's first line says how many were left out.
    QVERIFY(log.record(Refusal::HelloRate, QStringLiteral("refused hello"), t0 + 1000000));
    QCOMPARE(g_logged.size(), 3);
    QVERIFY2(
        g_logged.at(2).contains(QStringLiteral("999 more hello_rate")), qPrintable(g_logged.at(2)));

    // What a client sent never becomes lines of its own.
    QCOMPARE(printableLine(QStringLiteral("a\nb\rc\x1b")), QStringLiteral("a b c "));
    QCOMPARE(printableLine(QString(500, QLatin1Char('x'))).size(), 200);
}

QTEST_GUILESS_MAIN(tst_ClientInput)
#include "tst_clientinput.moc"
