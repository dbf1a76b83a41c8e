#pragma once

#include "book.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QVector>

#include <algorithm>

namespace OddsDesk {

/// One line of a season file the importer could not take whole.
struct ImportIssue
{
    enum class Kind : quint8 {
        Skipped, // the row is not in the book
        Warning, // the row is in the book, without what the reason names (its over/under
                 // market); on the header line, something every row lacks
    };

    int line = 0; // 1-based line number in the file
    QString reason;
    Kind kind = Kind::Skipped;

    bool isSkipped() const { return kind == Kind::Skipped; }
};

/// What an import produced. Either error is empty and book holds every row that could be
/// read (issues lists the rows skipped and those imported in part), or error says why the file
/// could not be imported at all and the book is empty: never half a book, and never an empty
/// one. When the file was refused because none of its rows could be read, issues still lists
/// each of them. Issues are in line order.
struct ImportReport
{
    BookData book;
    QVector<ImportIssue> issues;
    int rowsRead = 0; // data rows seen after the header, skipped ones included, blank ones not
    QString error;

    bool ok() const { return error.isEmpty(); }
    /// The rows left out of the book; the other issues are warnings.
    qsizetype skippedRows() const
    {
        return std::count_if(issues.cbegin(), issues.cend(),
            [](const ImportIssue &issue) { return issue.isSkipped(); });
    }
    /// The rows in the book without part of what they held, and any note on the header.
    qsizetype warnings() const { return issues.size() - skippedRows(); }
};

/// Reads a football-data.co.uk season file (one division, one season, one match per row)
/// into a book.
///
/// Columns are found by header name, so their order and any extra columns do not matter.
/// Required: Div, Date, HomeTeam and AwayTeam (the older HT and AT are accepted), and the
/// chosen bookmaker's 1X2 prices <bookmaker>H, <bookmaker>D, <bookmaker>A. Optional: Time
/// (kick-off, UK local time; without it every match kicks off at 15:00 UK time) and the
/// average over/under 2.5 prices BbAv>2.5 and BbAv<2.5 (Avg>2.5 and Avg<2.5 in newer files).
///
/// Each row becomes an event "Home v Away" with two markets, both open: "Match Odds" (kind
/// "1x2": home team, "Draw", away team) and "Over/Under 2.5 Goals" (kind "ou25": "Over 2.5",
/// "Under 2.5"). Events, markets and selections are numbered from 1 in file order, each with
/// its own counter; a skipped row or market uses no ids. The competition is the division's
/// name and the season, e.g. "English Premier League 2018/19": a season starts in July, so
/// the season is the one the file's earliest match falls in. Unknown division codes are kept
/// as they are ("X9 2018/19"). Dates are dd/mm/yyyy or dd/mm/yy (yy above 50 is 19yy).
///
/// A row with a missing or garbled team, division, date, time or 1X2 price, or with a
/// different number of fields than the header, is skipped and listed with its line and the
/// reason; trailing empty fields beyond the header are tolerated. Prices are read exactly:
/// a price with more than two decimals or outside 1.01 to 1000 is refused, never rounded.
/// When a row's 1X2 prices are good but its over/under prices are missing or garbled, the
/// event is imported with its 1X2 market alone and the row is listed as a warning with the
/// reason; when the file has no over/under columns at all, no event gets one and a single
/// warning on the header line says so.
///
/// The file is UTF-8, with or without a byte order mark, with LF or CRLF line ends and
/// RFC 4180 quoting ("a ""b"", c" is one field); blank lines are ignored, and white space in a
/// field is simplified (a line break inside a quoted name becomes a space). A file that cannot
/// be read, is not UTF-8, has no header, has a quoted field that never closes or lacks a
/// required column gives an error naming the file and what is wrong; so does one that yields
/// no event at all (a header alone, or only rows that are skipped).
ImportReport importFootballData(
    const QString &path, const QString &bookmaker = QStringLiteral("B365"));

/// As above, from a file's \a content; \a sourceName names it in error sentences.
ImportReport importFootballData(
    const QByteArray &content, const QString &sourceName, const QString &bookmaker);

/// The column prefixes the importer accepts as a bookmaker: B365 (Bet365), BW (Bet&Win),
/// IW (Interwetten), PS (Pinnacle), WH (William Hill), VC (VC Bet), PSC (Pinnacle's closing
/// prices), BbAv and BbMx (the average and the best price across bookmakers, in files up to
/// 2018/19), Avg and Max (the same in newer files). The best prices of several bookmakers
/// can add up to a margin under 100 %.
QStringList footballDataBookmakers();

} // namespace OddsDesk
