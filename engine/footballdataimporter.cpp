#include "footballdataimporter.h"

#include "counted.h"
#include "price.h"

#include <QDate>
#include <QDateTime>
#include <QFile>
#include <QHash>
#include <QLoggingCategory>
#include <QStringDecoder>
#include <QTime>
#include <QTimeZone>

#include <initializer_list>

namespace OddsDesk {
namespace {

Q_LOGGING_CATEGORY(lcImport, "oddsdesk.engine.import", QtWarningMsg)

// A season file is a few hundred kilobytes; a file this large is something else, and reading
// it whole would only fill memory.
constexpr qint64 MaxFileBytes = 64 * 1024 * 1024;

// Files without a Time column date each match only; 15:00 is the traditional kick-off.
constexpr int DefaultKickOffHour = 15;

// European seasons start in July (and, exceptionally, end as late as August of the next year):
// the season a file holds is the one that starts in the year of its earliest match, or the
// year before when that match is played before July.
constexpr int SeasonStartMonth = 7;

// football-data's files start in 1993: a two-digit year above this is 19yy, otherwise 20yy.
constexpr int TwoDigitYearPivot = 50;

struct CsvRecord
{
    int line = 0; // where the record starts
    QStringList fields;
};

struct CsvTable
{
    QVector<CsvRecord> records;
    int unclosedQuoteLine = 0; // non-zero: a quoted field opened on this line never closes
};

// RFC 4180: fields separated by commas, records by LF or CRLF (a lone CR counts as a line end
// too); a field in double quotes may hold commas, line breaks and doubled quotes. A quote
// inside an unquoted field is kept as an ordinary character.
CsvTable parseCsv(QStringView text)
{
    CsvTable table;
    CsvRecord record;
    QString field;
    bool inQuotes = false;
    bool fieldQuoted = false;
    int line = 1;
    record.line = line;

    const auto endField = [&] {
        record.fields.append(field);
        field.clear();
        fieldQuoted = false;
    };
    const auto endRecord = [&] {
        endField();
        table.records.append(std::move(record));
        record = CsvRecord {};
        record.line = line;
    };

    const qsizetype size = text.size();
    for (qsizetype i = 0; i < size; ++i) {
        const QChar c = text[i];
        const bool crlf
            = c == QLatin1Char('\r') && i + 1 < size && text[i + 1] == QLatin1Char('\n');
        if (inQuotes) {
            if (c == QLatin1Char('"')) {
                if (i + 1 < size && text[i + 1] == QLatin1Char('"')) {
                    field += c;
                    ++i;
                } else {
                    inQuotes = false;
                }
                continue;
            }
            if (c == QLatin1Char('\n') || (c == QLatin1Char('\r') && !crlf))
                ++line;
            field += c;
            continue;
        }

        if (c == QLatin1Char('"') && field.isEmpty() && !fieldQuoted) {
            inQuotes = true;
            fieldQuoted = true;
        } else if (c == QLatin1Char(',')) {
            endField();
        } else if (c == QLatin1Char('\n') || c == QLatin1Char('\r')) {
            if (crlf)
                ++i;
            ++line;
            endRecord();
        } else {
            field += c;
        }
    }

    if (inQuotes) {
        table.unclosedQuoteLine = record.line;
        return table;
    }
    if (!field.isEmpty() || fieldQuoted || !record.fields.isEmpty())
        endRecord(); // the last line had no line end
    return table;
}

// A blank line, or one of only commas as spreadsheets leave at the end of a file.
bool isBlank(const CsvRecord &record)
{
    for (const QString &field : record.fields) {
        if (!field.trimmed().isEmpty())
            return false;
    }
    return true;
}

QString divisionName(const QString &code)
{
    static const QHash<QString, QString> names = {
        {QStringLiteral("E0"), QStringLiteral("English Premier League")},
        {QStringLiteral("E1"), QStringLiteral("English Championship")},
        {QStringLiteral("E2"), QStringLiteral("English League One")},
        {QStringLiteral("E3"), QStringLiteral("English League Two")},
        {QStringLiteral("EC"), QStringLiteral("English National League")},
        {QStringLiteral("SC0"), QStringLiteral("Scottish Premiership")},
        {QStringLiteral("SC1"), QStringLiteral("Scottish Championship")},
        {QStringLiteral("SC2"), QStringLiteral("Scottish League One")},
        {QStringLiteral("SC3"), QStringLiteral("Scottish League Two")},
        {QStringLiteral("D1"), QStringLiteral("German Bundesliga")},
        {QStringLiteral("D2"), QStringLiteral("German 2. Bundesliga")},
        {QStringLiteral("I1"), QStringLiteral("Italian Serie A")},
        {QStringLiteral("I2"), QStringLiteral("Italian Serie B")},
        {QStringLiteral("SP1"), QStringLiteral("Spanish La Liga")},
        {QStringLiteral("SP2"), QStringLiteral("Spanish Segunda División")},
        {QStringLiteral("F1"), QStringLiteral("French Ligue 1")},
        {QStringLiteral("F2"), QStringLiteral("French Ligue 2")},
        {QStringLiteral("N1"), QStringLiteral("Dutch Eredivisie")},
        {QStringLiteral("B1"), QStringLiteral("Belgian First Division A")},
        {QStringLiteral("P1"), QStringLiteral("Portuguese Primeira Liga")},
        {QStringLiteral("T1"), QStringLiteral("Turkish Süper Lig")},
        {QStringLiteral("G1"), QStringLiteral("Greek Super League")},
    };
    return names.value(code, code);
}

QString seasonLabel(const QDate &earliestMatch)
{
    const int startYear = earliestMatch.month() >= SeasonStartMonth ? earliestMatch.year()
                                                                    : earliestMatch.year() - 1;
    return QStringLiteral("%1/%2").arg(startYear).arg(
        (startYear + 1) % 100, 2, 10, QLatin1Char('0'));
}

// "a", "a and b", "a, b and c".
QString joinAnd(const QStringList &items)
{
    if (items.size() <= 1)
        return items.join(QString());
    return items.mid(0, items.size() - 1).join(QStringLiteral(", ")) + QStringLiteral(" and ")
        + items.last();
}

QString capitalized(QString sentence)
{
    if (!sentence.isEmpty())
        sentence[0] = sentence.at(0).toUpper();
    return sentence;
}

struct Columns
{
    int count = 0; // fields in the header
    int division = -1;
    int date = -1;
    int time = -1; // optional
    int home = -1;
    int away = -1;
    int price[3] = {-1, -1, -1}; // home, draw, away
    QString priceName[3];
    int over = -1; // optional, with under
    int under = -1;
    QString overName;
    QString underName;
};

using HeaderIndex = QHash<QString, int>;

HeaderIndex indexHeader(const CsvRecord &header)
{
    HeaderIndex index;
    for (int i = 0; i < header.fields.size(); ++i) {
        const QString name = header.fields.at(i).trimmed();
        if (!name.isEmpty() && !index.contains(name))
            index.insert(name, i);
    }
    return index;
}

// The column of the first of \a names the header has, or -1.
int findColumn(const HeaderIndex &index, std::initializer_list<const char *> names)
{
    for (const char *name : names) {
        const int column = index.value(QLatin1String(name), -1);
        if (column >= 0)
            return column;
    }
    return -1;
}

bool hasBookmaker(const HeaderIndex &index, const QString &prefix)
{
    return index.contains(prefix + QLatin1Char('H')) && index.contains(prefix + QLatin1Char('D'))
        && index.contains(prefix + QLatin1Char('A'));
}

// Fills \a columns from the header, or returns the sentence that says what it lacks.
QString readHeader(
    const CsvRecord &header, const QString &source, const QString &bookmaker, Columns *columns)
{
    const HeaderIndex index = indexHeader(header);
    columns->count = int(header.fields.size());
    columns->division = findColumn(index, {"Div"});
    columns->date = findColumn(index, {"Date"});
    columns->time = findColumn(index, {"Time"});
    columns->home = findColumn(index, {"HomeTeam", "HT"});
    columns->away = findColumn(index, {"AwayTeam", "AT"});

    QStringList missing;
    if (columns->division < 0)
        missing << QStringLiteral("Div");
    if (columns->date < 0)
        missing << QStringLiteral("Date");
    if (columns->home < 0)
        missing << QStringLiteral("HomeTeam");
    if (columns->away < 0)
        missing << QStringLiteral("AwayTeam");
    if (!missing.isEmpty()) {
        return QStringLiteral("%1 is not a football-data season file: its header (line %2) has "
                              "no %3 column.")
            .arg(source)
            .arg(header.line)
            .arg(joinAnd(missing));
    }

    const QString outcomes = QStringLiteral("HDA");
    QStringList missingPrices;
    for (int i = 0; i < 3; ++i) {
        columns->priceName[i] = bookmaker + outcomes.at(i);
        columns->price[i] = index.value(columns->priceName[i], -1);
        if (columns->price[i] < 0)
            missingPrices << columns->priceName[i];
    }
    if (!missingPrices.isEmpty()) {
        QStringList available;
        for (const QString &prefix : footballDataBookmakers()) {
            if (hasBookmaker(index, prefix))
                available << prefix;
        }
        const QString advice = available.isEmpty()
            ? QStringLiteral("it has none of the bookmakers the importer knows (%1).")
                  .arg(footballDataBookmakers().join(QStringLiteral(", ")))
            : QStringLiteral("choose one it has: %1.").arg(available.join(QStringLiteral(", ")));
        return QStringLiteral("%1 has no %2 prices: its header lacks %3; %4")
            .arg(source, bookmaker, joinAnd(missingPrices), advice);
    }

    // Files up to 2018/19 name the average over/under prices BbAv, newer ones Avg.
    for (const char *prefix : {"BbAv", "Avg"}) {
        const QString over = QLatin1String(prefix) + QLatin1String(">2.5");
        const QString under = QLatin1String(prefix) + QLatin1String("<2.5");
        if (index.contains(over) && index.contains(under)) {
            columns->over = index.value(over);
            columns->under = index.value(under);
            columns->overName = over;
            columns->underName = under;
            break;
        }
    }
    return QString();
}

struct MatchRow
{
    int line = 0;
    QString division;
    QString home;
    QString away;
    QDate date;
    QTime kickOff;
    Price prices[3] = {0, 0, 0}; // home, draw, away
    bool hasOverUnder = false;
    Price over = 0;
    Price under = 0;
};

// A market's margin outside this is more likely prices garbled or in the wrong columns than
// a desk's: over the desk's default ceiling, or far under 100 %. (Under 100 % is an
// arbitrage, which the grid shows in red; the best prices across bookmakers, BbMx, run to
// 96 % in a real season.) The row is kept, with a warning to check it.
constexpr double LowestMarginPercent = 90.0;
constexpr double HighestMarginPercent = 120.0;

// A warning for a market whose \a prices make a margin no desk offers, or an empty string.
QString marginWarning(
    const MatchRow &row, const QString &market, std::initializer_list<Price> prices)
{
    double margin = 0;
    for (Price price : prices)
        margin += impliedPercent(price);
    if (margin >= LowestMarginPercent && margin <= HighestMarginPercent)
        return QString();
    return QStringLiteral("%1 v %2: the %3 prices make a margin of %4 %, outside %5 % to %6 %; "
                          "imported as they are, check them before offering the market.")
        .arg(row.home, row.away, market)
        .arg(margin, 0, 'f', 1)
        .arg(LowestMarginPercent, 0, 'f', 0)
        .arg(HighestMarginPercent, 0, 'f', 0);
}

// dd/mm/yyyy or dd/mm/yy; an invalid QDate when the text is neither.
QDate parseDate(const QString &text)
{
    const QStringList parts = text.split(QLatin1Char('/'));
    if (parts.size() != 3)
        return QDate();
    int values[3] = {0, 0, 0};
    for (int i = 0; i < 3; ++i) {
        const QString &part = parts.at(i);
        const int maxDigits = i == 2 ? 4 : 2;
        if (part.isEmpty() || part.size() > maxDigits)
            return QDate();
        for (const QChar c : part) {
            if (c < QLatin1Char('0') || c > QLatin1Char('9'))
                return QDate();
        }
        values[i] = part.toInt();
    }
    int year = values[2];
    if (parts.at(2).size() == 2)
        year += year > TwoDigitYearPivot ? 1900 : 2000;
    else if (parts.at(2).size() != 4)
        return QDate();
    return QDate(year, values[1], values[0]);
}

// HH:MM; an invalid QTime otherwise.
QTime parseTime(const QString &text)
{
    return QTime::fromString(
        text, text.size() == 4 ? QStringLiteral("H:mm") : QStringLiteral("HH:mm"));
}

// The last Sunday of \a month in \a year.
QDate lastSunday(int year, int month)
{
    QDate day(year, month, QDate(year, month, 1).daysInMonth());
    return day.addDays(-(day.dayOfWeek() % 7));
}

// A UK wall-clock time as UTC milliseconds.
qint64 ukTimeToUtcMs(const QDate &date, const QTime &time)
{
    static const QTimeZone london(QByteArrayLiteral("Europe/London"));
    if (london.isValid())
        return QDateTime(date, time, london).toMSecsSinceEpoch();

    // Without the system's time zone data: British Summer Time as kept since 1996, from the
    // last Sunday of March to the last Sunday of October, changing at 01:00 UTC.
    constexpr qint64 HourMs = 3600 * 1000;
    const auto utcMs = [](const QDate &day, const QTime &clock) {
        return QDateTime(day, clock, QTimeZone::utc()).toMSecsSinceEpoch();
    };
    const qint64 asGmt = utcMs(date, time);
    const qint64 summerStart = utcMs(lastSunday(date.year(), 3), QTime(1, 0));
    const qint64 summerEnd = utcMs(lastSunday(date.year(), 10), QTime(1, 0));
    const qint64 asSummer = asGmt - HourMs;
    return asSummer >= summerStart && asSummer < summerEnd ? asSummer : asGmt;
}

// Reads one price into \a price, or returns what is wrong with it (no final full stop).
QString readPrice(const QString &text, const QString &what, const QString &column, Price *price)
{
    if (text.isEmpty())
        return QStringLiteral("the %1 price (%2) is missing").arg(what, column);
    const PriceParseResult parsed = parsePrice(text);
    if (!parsed.ok()) {
        QString why = parsed.error;
        if (why.endsWith(QLatin1Char('.')))
            why.chop(1);
        return QStringLiteral("the %1 price (%2) is refused: %3").arg(what, column, why);
    }
    *price = parsed.price;
    return QString();
}

// Reads a data row into \a row, or returns why the row is skipped. An over/under problem that
// leaves the row importable comes back in \a overUnderProblem.
QString readRow(
    const CsvRecord &record, const Columns &columns, MatchRow *row, QString *overUnderProblem)
{
    const QStringList &fields = record.fields;
    bool extraData = false;
    for (qsizetype i = columns.count; i < fields.size(); ++i)
        extraData = extraData || !fields.at(i).trimmed().isEmpty();
    if (fields.size() < columns.count || extraData) {
        return QStringLiteral("The row has %1 fields where the header has %2.")
            .arg(fields.size())
            .arg(columns.count);
    }
    // Simplified: a line break inside a quoted name, or a doubled space, becomes one space.
    const auto field = [&fields](int column) { return fields.at(column).simplified(); };

    row->line = record.line;
    row->division = field(columns.division);
    if (row->division.isEmpty())
        return QStringLiteral("The division (Div) is missing.");
    row->home = field(columns.home);
    if (row->home.isEmpty())
        return QStringLiteral("The home team is missing.");
    row->away = field(columns.away);
    if (row->away.isEmpty())
        return QStringLiteral("The away team is missing.");
    if (row->home == row->away)
        return QStringLiteral("The home and away teams are both \"%1\".").arg(row->home);

    const QString dateText = field(columns.date);
    row->date = parseDate(dateText);
    if (!row->date.isValid()) {
        return dateText.isEmpty()
            ? QStringLiteral("The date is missing.")
            : QStringLiteral("The date \"%1\" is not a day written as dd/mm/yyyy or dd/mm/yy.")
                  .arg(dateText);
    }
    row->kickOff = QTime(DefaultKickOffHour, 0);
    if (columns.time >= 0) {
        const QString timeText = field(columns.time);
        row->kickOff = parseTime(timeText);
        if (!row->kickOff.isValid()) {
            return timeText.isEmpty()
                ? QStringLiteral("The kick-off time is missing.")
                : QStringLiteral("The kick-off time \"%1\" is not a time written as HH:MM.")
                      .arg(timeText);
        }
    }

    const QString outcomes[3]
        = {QStringLiteral("home"), QStringLiteral("draw"), QStringLiteral("away")};
    for (int i = 0; i < 3; ++i) {
        const QString problem = readPrice(
            field(columns.price[i]), outcomes[i], columns.priceName[i], &row->prices[i]);
        if (!problem.isEmpty())
            return capitalized(problem) + QLatin1Char('.');
    }

    if (columns.over >= 0) {
        QString problem = readPrice(
            field(columns.over), QStringLiteral("over 2.5"), columns.overName, &row->over);
        if (problem.isEmpty()) {
            problem = readPrice(
                field(columns.under), QStringLiteral("under 2.5"), columns.underName, &row->under);
        }
        row->hasOverUnder = problem.isEmpty();
        if (!row->hasOverUnder) {
            *overUnderProblem
                = QStringLiteral("Imported without its over/under 2.5 market: %1.").arg(problem);
        }
    }
    return QString();
}

BookData buildBook(const QVector<MatchRow> &rows)
{
    BookData book;
    if (rows.isEmpty())
        return book;
    QDate earliest = rows.first().date;
    for (const MatchRow &row : rows)
        earliest = qMin(earliest, row.date);
    const QString season = seasonLabel(earliest);

    quint32 eventId = 0;
    quint32 marketId = 0;
    quint32 selectionId = 0;
    const auto selection = [&selectionId](const QString &name, Price price) {
        SelectionInfo s;
        s.id = ++selectionId;
        s.name = name;
        s.price = price;
        return s;
    };
    const auto market = [&marketId](quint32 event, const QString &name, const QString &kind) {
        MarketInfo m;
        m.id = ++marketId;
        m.eventId = event;
        m.name = name;
        m.kind = kind;
        m.status = MarketStatus::Open;
        return m;
    };

    book.events.reserve(rows.size());
    book.markets.reserve(rows.size() * 2);
    for (const MatchRow &row : rows) {
        EventInfo event;
        event.id = ++eventId;
        event.name = row.home + QStringLiteral(" v ") + row.away;
        event.competition = divisionName(row.division) + QLatin1Char(' ') + season;
        event.home = row.home;
        event.away = row.away;
        event.startTimeMs = ukTimeToUtcMs(row.date, row.kickOff);
        book.events.append(event);

        MarketInfo matchOdds
            = market(event.id, QStringLiteral("Match Odds"), QStringLiteral("1x2"));
        matchOdds.selections.append(selection(row.home, row.prices[0]));
        matchOdds.selections.append(selection(QStringLiteral("Draw"), row.prices[1]));
        matchOdds.selections.append(selection(row.away, row.prices[2]));
        book.markets.append(matchOdds);

        if (row.hasOverUnder) {
            MarketInfo overUnder
                = market(event.id, QStringLiteral("Over/Under 2.5 Goals"), QStringLiteral("ou25"));
            overUnder.selections.append(selection(QStringLiteral("Over 2.5"), row.over));
            overUnder.selections.append(selection(QStringLiteral("Under 2.5"), row.under));
            book.markets.append(overUnder);
        }
    }
    return book;
}

// A refusal is the caller's to show (the command line prints it, the window puts it in a
// dialog); logged here at info only, so that it is not said twice.
ImportReport failed(const QString &error)
{
    qCInfo(lcImport).noquote() << error;
    ImportReport report;
    report.error = error;
    return report;
}

// The skipped lines stay in the report, so that whoever shows the refusal can say why
// each row could not be read.
ImportReport refusedWithoutRows(const QString &sourceName, ImportReport report)
{
    if (report.rowsRead == 0) {
        report.error
            = QStringLiteral("Nothing was imported from %1: it has a header but no match rows.")
                  .arg(sourceName);
    } else {
        // Every row was skipped, one issue each, after any warning on the header line.
        const ImportIssue &first = report.issues.at(report.issues.size() - report.rowsRead);
        const QString rows = report.rowsRead == 1
            ? QStringLiteral("its only row could not be read")
            : QStringLiteral("none of its %1 rows could be read").arg(report.rowsRead);
        report.error = QStringLiteral("Nothing was imported from %1: %2. Line %3: %4")
                           .arg(sourceName, rows)
                           .arg(first.line)
                           .arg(first.reason);
    }
    qCInfo(lcImport).noquote() << report.error;
    return report;
}

} // namespace

QStringList footballDataBookmakers()
{
    return {QStringLiteral("B365"), QStringLiteral("BW"), QStringLiteral("IW"),
        QStringLiteral("PS"), QStringLiteral("WH"), QStringLiteral("VC"), QStringLiteral("PSC"),
        QStringLiteral("BbAv"), QStringLiteral("BbMx"), QStringLiteral("Avg"),
        QStringLiteral("Max")};
}

ImportReport importFootballData(const QString &path, const QString &bookmaker)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return failed(QStringLiteral("Could not open %1: %2.").arg(path, file.errorString()));
    // One byte past the limit tells a file that is too large, even from a pipe.
    const QByteArray content = file.read(MaxFileBytes + 1);
    if (file.error() != QFileDevice::NoError)
        return failed(QStringLiteral("Could not read %1: %2.").arg(path, file.errorString()));
    if (content.size() > MaxFileBytes) {
        return failed(QStringLiteral("%1 is larger than %2 MB, too large for a season file.")
                          .arg(path)
                          .arg(MaxFileBytes / (1024 * 1024)));
    }
    return importFootballData(content, path, bookmaker);
}

ImportReport importFootballData(
    const QByteArray &content, const QString &sourceName, const QString &bookmaker)
{
    if (!footballDataBookmakers().contains(bookmaker)) {
        return failed(
            QStringLiteral("Cannot import %1: \"%2\" is not a bookmaker the importer knows; "
                           "choose one of %3.")
                .arg(sourceName, bookmaker, footballDataBookmakers().join(QStringLiteral(", "))));
    }

    // The decoder would drop a byte order mark by itself; removing it here makes sure it can
    // never end up glued to the first column's name.
    QByteArrayView bytes(content);
    if (bytes.startsWith("\xEF\xBB\xBF"))
        bytes = bytes.sliced(3);
    QStringDecoder decoder(QStringDecoder::Utf8);
    const QString text = decoder.decode(bytes);
    if (decoder.hasError()) {
        return failed(QStringLiteral("%1 is not UTF-8 text; save it as UTF-8 and import it again.")
                          .arg(sourceName));
    }

    const CsvTable table = parseCsv(text);
    if (table.unclosedQuoteLine > 0) {
        return failed(QStringLiteral("%1 cannot be read past line %2: a quoted field opened there "
                                     "is never closed.")
                          .arg(sourceName)
                          .arg(table.unclosedQuoteLine));
    }

    qsizetype next = 0;
    while (next < table.records.size() && isBlank(table.records.at(next)))
        ++next;
    if (next == table.records.size()) {
        return failed(QStringLiteral("%1 is empty: a season file starts with a header line such "
                                     "as Div,Date,HomeTeam,AwayTeam,B365H,B365D,B365A.")
                          .arg(sourceName));
    }
    const CsvRecord &header = table.records.at(next++);
    Columns columns;
    const QString headerError = readHeader(header, sourceName, bookmaker, &columns);
    if (!headerError.isEmpty())
        return failed(headerError);

    ImportReport report;
    if (columns.over < 0) {
        report.issues.append({header.line,
            QStringLiteral("The file has no over/under 2.5 prices (BbAv>2.5 and BbAv<2.5, or "
                           "Avg>2.5 and Avg<2.5), so no event has an over/under 2.5 market."),
            ImportIssue::Kind::Warning});
    }

    QVector<MatchRow> rows;
    rows.reserve(table.records.size() - next);
    // A match is played once: a second row of it (a line pasted twice) would be a second
    // event of the same name, and a trader could not tell which one to price.
    QHash<QString, int> matchLines;
    for (; next < table.records.size(); ++next) {
        const CsvRecord &record = table.records.at(next);
        if (isBlank(record))
            continue;
        ++report.rowsRead;
        MatchRow row;
        QString overUnderProblem;
        const QString skipReason = readRow(record, columns, &row, &overUnderProblem);
        if (!skipReason.isEmpty()) {
            report.issues.append({record.line, skipReason, ImportIssue::Kind::Skipped});
            continue;
        }
        const QString match = row.division + QLatin1Char('\n') + row.date.toString(Qt::ISODate)
            + QLatin1Char('\n') + row.home + QLatin1Char('\n') + row.away;
        if (const int first = matchLines.value(match); first > 0) {
            report.issues.append({record.line,
                QStringLiteral("%1 v %2 on %3 is already on line %4; this row is left out.")
                    .arg(row.home, row.away, row.date.toString(QStringLiteral("dd/MM/yyyy")))
                    .arg(first),
                ImportIssue::Kind::Skipped});
            continue;
        }
        matchLines.insert(match, record.line);
        if (!overUnderProblem.isEmpty())
            report.issues.append({record.line, overUnderProblem, ImportIssue::Kind::Warning});
        for (const QString &warning : {marginWarning(row, QStringLiteral("1X2"),
                                           {row.prices[0], row.prices[1], row.prices[2]}),
                 row.hasOverUnder
                     ? marginWarning(row, QStringLiteral("over/under"), {row.over, row.under})
                     : QString()}) {
            if (!warning.isEmpty())
                report.issues.append({record.line, warning, ImportIssue::Kind::Warning});
        }
        rows.append(row);
    }

    // A book of nothing would replace the desk's book as surely as a real one: a file
    // without a single usable row is refused like one that cannot be read.
    if (rows.isEmpty())
        return refusedWithoutRows(sourceName, report);

    report.book = buildBook(rows);
    const QString events = counted(report.book.events.size(), u"event", u"events");
    const QString markets = counted(report.book.markets.size(), u"market", u"markets");
    const QString issues = counted(report.issues.size(), u"line", u"lines");
    qCInfo(lcImport).noquote() << QStringLiteral("Imported %1 and %2 from %3 (%4 prices); %5 "
                                                 "reported.")
                                      .arg(events, markets, sourceName, bookmaker, issues);
    return report;
}

} // namespace OddsDesk
