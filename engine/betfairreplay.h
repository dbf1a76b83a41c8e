#pragma once

#include "betfairstream.h"
#include "feed.h"

#include <QByteArrayList>
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>

#include <optional>

namespace OddsDesk {

/// Replays a recording of the Betfair Exchange Stream API into the feed as a live price
/// source: the recorded market appears in the book (its event first), each runner's best
/// available-to-back price moves as it did on the exchange, and the market is suspended,
/// closed and settled when the recording says so. Lives on the engine thread with the feed,
/// which must outlive it.
///
/// Lines are replayed at their recorded pace (the gaps between their publish times, divided
/// by the speed) on a timer, and a pass over the lines that are due never holds the engine
/// thread for longer than a few milliseconds, so sessions are served throughout. The ids of
/// the replayed event, market and selections come from BetfairIdBase upward (see
/// BetfairStream), clear of the ids the desk's own books use. After every status change or
/// winner the feed is flushed, so each step reaches clients as its own delta and none is
/// conflated away, even at full speed.
class BetfairReplay : public QObject
{
    Q_OBJECT

public:
    explicit BetfairReplay(Feed *feed, QObject *parent = nullptr);

    /// Reads a recording (one JSON message a line) and, when given, the market's catalogue
    /// for names. Returns an error sentence, or an empty string when both could be read. A
    /// recording without a single market change the replay can use is refused, with the
    /// first line's reason; beyond that, lines are checked as they are replayed. Stops a
    /// replay that is running.
    QString load(const QString &streamPath, const QString &cataloguePath = {});

    /// Replays the loaded lines from the first. \a speed 1 keeps the recorded pace, 10 plays
    /// ten times faster; 0 (or anything not above zero) plays as fast as the engine can,
    /// still in passes through the event loop. Starting again starts over: the market is
    /// defined anew, replacing what the last run left in the book.
    void start(double speed = 1.0);
    /// Stops where the replay is; what it committed stays in the book.
    void stop();

    bool isRunning() const { return m_running; }
    double speed() const { return m_speed; }
    int lineCount() const { return int(m_lines.size()); }
    /// Lines replayed (or skipped) so far in this run.
    int linesReplayed() const { return m_next; }
    /// Lines skipped and changes refused so far in this run (see lineSkipped() and
    /// changeRefused()).
    int linesSkipped() const { return m_skipped; }
    int changesRefused() const { return m_refused; }
    /// The stream's state: the markets, their ladders and the id mapping.
    const BetfairStream &stream() const { return m_stream; }

Q_SIGNALS:
    /// After each pass: \a line lines of \a total are done.
    void progress(int line, int total);
    /// Every line has been replayed.
    void finished();
    /// A line could not be used (see BetfairStream) and the replay went on without it. Not
    /// logged here: the one who listens says it, once.
    void lineSkipped(int line, const QString &reason);
    /// The feed refused a change \a line asked for, e.g. because the market was taken out of
    /// the book since the replay started. Not logged here either.
    void changeRefused(int line, const QString &reason);

private:
    void replayDue();
    void replayLine(const BetfairMessage &message);
    double msUntilDue(const BetfairMessage &message);
    void finish();

    Feed *m_feed;
    BetfairStream m_stream;
    QByteArrayList m_lines;
    QTimer m_timer;
    QElapsedTimer m_clock; // since start()
    std::optional<BetfairMessage> m_decoded; // the next line, decoded to learn when it is due
    double m_speed = 1.0;
    bool m_asFastAsPossible = false;
    bool m_running = false;
    quint64 m_run = 0; // changes on every start() and stop(), so a pass can tell it was stopped
    int m_next = 0; // index of the next line
    qint64 m_originPt = -1; // the publish time that plays at the start
    int m_skipped = 0;
    int m_refused = 0;
};

} // namespace OddsDesk
