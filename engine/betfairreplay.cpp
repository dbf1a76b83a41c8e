#include "betfairreplay.h"

#include "counted.h"

#include <QDir>
#include <QFile>
#include <QLoggingCategory>
#include <QThread>

#include <cmath>

namespace OddsDesk {
namespace {

Q_LOGGING_CATEGORY(lcReplay, "oddsdesk.engine.replay", QtWarningMsg)

// The lines are kept in memory for the whole replay; this bounds that at a size a desk
// machine holds comfortably. A bigger recording wants to be split by market first.
constexpr qint64 MaxRecordingBytes = qint64(1) << 30;

// A catalogue is a few kilobytes per market.
constexpr qint64 MaxCatalogueBytes = 64 * 1024 * 1024;

// A pass over the due lines stops after this long and lets the event loop run: half the
// feed's default 10 ms flush interval, so sessions wait no longer for a replay than they
// would for a flush. A line of the greyhound recording (up to 8 KB) takes about 0.2 ms to
// read and apply, so a pass at full speed replays some 25 lines.
constexpr qint64 PassBudgetNs = 5 * 1000 * 1000;

// A timer waits at most this long before the replay looks again: a very slow speed cannot
// overflow QTimer's interval, and an hour is far beyond any gap in a recording.
constexpr double MaxWaitMs = 60 * 60 * 1000;

QString readWhole(const QString &path, qint64 maxBytes, const QString &what, QByteArray *out)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return QStringLiteral("Cannot open the %1 %2: %3.")
            .arg(what, QDir::toNativeSeparators(path), file.errorString());
    }
    if (file.size() > maxBytes) {
        return QStringLiteral("The %1 %2 is %3 MiB; files over %4 MiB are not read.")
            .arg(what, QDir::toNativeSeparators(path))
            .arg(file.size() >> 20)
            .arg(maxBytes >> 20);
    }
    *out = file.readAll();
    if (file.error() != QFileDevice::NoError) {
        return QStringLiteral("Cannot read the %1 %2: %3.")
            .arg(what, QDir::toNativeSeparators(path), file.errorString());
    }
    return {};
}

// Why a decoded line gives the replay nothing to apply, or an empty string when it is a market
// change with at least one market in it.
QString whyUnusable(const BetfairMessage &message)
{
    if (!message.ok())
        return message.error;
    if (!message.marketChange) {
        return QStringLiteral("The line is a \"%1\" message, not a market change.")
            .arg(message.operation);
    }
    if (message.markets.isEmpty())
        return QStringLiteral("The market change carries no market (a heartbeat).");
    return {};
}

// A recording none of whose lines the replay can use would replay as a run of skipped lines
// that leaves the book as it was: it is refused with the first line's reason instead, like a
// file that cannot be read. Lines are decoded until the first usable one, which in a real
// recording is the first or second, so a good file costs next to nothing here.
QString noUsableLineError(const QString &path, const QByteArrayList &lines)
{
    int firstLine = 0;
    QString firstReason;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        if (lines.at(i).trimmed().isEmpty())
            continue; // a blank line is no message, and nothing wrong
        const QString reason = whyUnusable(BetfairStream::decode(lines.at(i)));
        if (reason.isEmpty())
            return {};
        if (firstLine == 0) {
            firstLine = int(i) + 1;
            firstReason = reason;
        }
    }
    const QString which = lines.size() == 1
        ? QStringLiteral("its only line is not")
        : QStringLiteral("none of its %1 is").arg(counted(lines.size(), u"line", u"lines"));
    return QStringLiteral("Nothing can be replayed from the Betfair stream recording %1: %2 a "
                          "market change the replay can use. Line %3: %4")
        .arg(QDir::toNativeSeparators(path), which)
        .arg(firstLine)
        .arg(firstReason);
}

} // namespace

BetfairReplay::BetfairReplay(Feed *feed, QObject *parent)
    : QObject(parent)
    , m_feed(feed)
{
    m_timer.setSingleShot(true);
    // The gaps between lines are what the replay reproduces; at high speeds they are a
    // millisecond or two, which a coarse timer would stretch.
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &BetfairReplay::replayDue);
}

QString BetfairReplay::load(const QString &streamPath, const QString &cataloguePath)
{
    stop();

    QByteArray content;
    const QString what = QStringLiteral("Betfair stream recording");
    if (QString error = readWhole(streamPath, MaxRecordingBytes, what, &content);
        !error.isEmpty()) {
        return error;
    }
    QByteArrayList lines = content.split('\n');
    if (content.endsWith('\n'))
        lines.removeLast(); // the line end of the last line starts no new one
    bool anyText = false;
    for (QByteArray &line : lines) {
        if (line.endsWith('\r'))
            line.chop(1);
        anyText = anyText || !line.trimmed().isEmpty();
    }
    if (!anyText) {
        return QStringLiteral("The Betfair stream recording %1 holds no messages.")
            .arg(QDir::toNativeSeparators(streamPath));
    }
    if (QString error = noUsableLineError(streamPath, lines); !error.isEmpty())
        return error;

    BetfairStream stream;
    if (!cataloguePath.isEmpty()) {
        QByteArray catalogue;
        const QString what = QStringLiteral("Betfair market catalogue");
        if (QString error = readWhole(cataloguePath, MaxCatalogueBytes, what, &catalogue);
            !error.isEmpty()) {
            return error;
        }
        if (QString error = stream.setCatalogue(catalogue); !error.isEmpty()) {
            return QStringLiteral("The Betfair market catalogue %1 cannot be used. %2")
                .arg(QDir::toNativeSeparators(cataloguePath), error);
        }
    }

    m_stream = stream;
    m_lines = lines;
    m_next = 0;
    qCInfo(lcReplay).noquote() << "loaded" << counted(m_lines.size(), u"line", u"lines") << "from"
                               << streamPath;
    return {};
}

void BetfairReplay::start(double speed)
{
    Q_ASSERT_X(m_feed->thread() == QThread::currentThread(), "BetfairReplay::start",
        "the replay drives the feed directly, so it must run on the feed's thread");
    stop();
    m_stream.reset();
    m_next = 0;
    m_speed = speed;
    m_asFastAsPossible = !(speed > 0) || !std::isfinite(speed);
    m_originPt = -1;
    m_skipped = 0;
    m_refused = 0;
    if (m_lines.isEmpty()) {
        qCWarning(lcReplay) << "nothing to replay: load a recording first";
        return;
    }
    m_running = true;
    qCInfo(lcReplay).noquote() << "replaying" << counted(m_lines.size(), u"line", u"lines")
                               << "at speed" << speed;
    m_clock.start();
    m_timer.start(0);
}

void BetfairReplay::stop()
{
    ++m_run;
    m_timer.stop();
    m_decoded.reset();
    if (m_running)
        qCInfo(lcReplay).noquote() << "replay stopped after" << m_next << "of"
                                   << counted(m_lines.size(), u"line", u"lines");
    m_running = false;
}

double BetfairReplay::msUntilDue(const BetfairMessage &message)
{
    // A line without a publish time (broken, or not a market change) is due at once.
    if (m_asFastAsPossible || message.publishTimeMs == 0)
        return 0;
    if (m_originPt < 0)
        m_originPt = message.publishTimeMs;
    const double dueMs = double(message.publishTimeMs - m_originPt) / m_speed;
    return dueMs - double(m_clock.nsecsElapsed()) / 1e6;
}

void BetfairReplay::replayDue()
{
    const quint64 run = m_run;
    QElapsedTimer pass;
    pass.start();

    int replayed = 0;
    while (m_next < m_lines.size()) {
        if (!m_decoded)
            m_decoded = BetfairStream::decode(m_lines.at(m_next));
        const double waitMs = msUntilDue(*m_decoded);
        if (waitMs > 0) {
            m_timer.start(int(std::ceil(qMin(waitMs, MaxWaitMs))));
            break;
        }
        if (replayed > 0 && pass.nsecsElapsed() >= PassBudgetNs) {
            m_timer.start(0);
            break;
        }
        const BetfairMessage message = std::move(*m_decoded);
        m_decoded.reset();
        ++m_next;
        replayLine(message);
        ++replayed;
        if (run != m_run)
            return; // a slot stopped or restarted the replay
    }

    if (replayed > 0) {
        Q_EMIT progress(m_next, int(m_lines.size()));
        if (run != m_run)
            return;
    }
    if (m_next == m_lines.size())
        finish();
}

void BetfairReplay::replayLine(const BetfairMessage &message)
{
    // What the recording does is the exchange's doing, and the audit log says so.
    const Feed::OriginScope origin(m_feed, ChangeOrigin::Replay);
    const BetfairLineResult result = m_stream.apply(message);
    if (!result.ok()) {
        ++m_skipped;
        Q_EMIT lineSkipped(result.line, result.error);
        return;
    }

    bool milestone = false;
    QStringList refusals;
    for (const BetfairUpdate &update : result.updates) {
        QString error;
        switch (update.kind) {
        case BetfairUpdate::Kind::EventDefined:
            error = m_feed->addEvent(update.event);
            break;
        case BetfairUpdate::Kind::MarketDefined:
            error = m_feed->addMarket(update.market);
            break;
        case BetfairUpdate::Kind::Price:
            error = m_feed->setPrice(update.selectionId, update.price);
            break;
        case BetfairUpdate::Kind::Status:
            error = m_feed->setStatus(update.marketId, update.status);
            milestone = true;
            break;
        case BetfairUpdate::Kind::Winner:
            error = m_feed->setWinner(update.marketId, update.selectionId);
            milestone = true;
            break;
        }
        if (!error.isEmpty())
            refusals.append(error);
    }
    // A status or a winner goes out now, in its own delta: two statuses of one market in
    // one flush would be conflated, and a client would never see the first.
    if (milestone)
        m_feed->flush();

    // Signalled after the line is applied whole, so a slot that stops the replay cannot
    // leave it half done.
    const quint64 run = m_run;
    for (const QString &reason : std::as_const(refusals)) {
        ++m_refused;
        Q_EMIT changeRefused(result.line, reason);
        if (run != m_run)
            return;
    }
}

void BetfairReplay::finish()
{
    m_running = false;
    m_feed->flush();
    qCInfo(lcReplay).noquote() << QStringLiteral("replay finished: %1, %2 skipped, %3 refused")
                                      .arg(counted(m_lines.size(), u"line", u"lines"))
                                      .arg(m_skipped)
                                      .arg(counted(m_refused, u"change", u"changes"));
    Q_EMIT finished();
}

} // namespace OddsDesk
