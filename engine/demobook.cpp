#include "demobook.h"

#include "ladder.h"

#include <QDateTime>
#include <QStringList>
#include <QTime>
#include <QTimeZone>

#include <algorithm>
#include <cmath>

namespace OddsDesk {
namespace {

// The margins a bookmaker's football markets carry: the book aims inside this band and
// corrects any market that ladder rounding pushed outside it.
constexpr double MinMarginPercent = 103.0;
constexpr double MaxMarginPercent = 107.0;
constexpr double MinTargetMargin = 1.035;
constexpr double MaxTargetMargin = 1.065;

// Club strengths lie within +-StrengthRange; with the home advantage below that spans the
// prices of a real league: about 1.15 for the best club at home to the worst, about 20 the
// other way round. Tuned by sampling the model, not fitted to any data.
constexpr double StrengthRange = 0.9;
constexpr double HomeAdvantage = 0.25;
// How sharply a strength difference turns into a share of the goals.
constexpr double GoalShareSlope = 1.2;
// Lopsided matches see a few more goals.
constexpr double MismatchGoals = 0.04;
// Some clubs' matches see more goals than others': each club's tendency scales its matches'
// goals within this band, so over/under prices differ within a league as they do in a real one.
constexpr double MinGoalTendency = 0.85;
constexpr double MaxGoalTendency = 1.18;
// Independent goal counts give too few draws; real football has about 8 % more.
constexpr double DrawInflation = 1.08;
// Scores beyond this many goals a side carry no probability worth counting.
constexpr int MaxGoals = 12;

// A round of each league every few days, as a weekend and midweek rhythm would.
constexpr int DaysBetweenRounds = 3;
// Ladder steps a correction may take before giving up on a market (never reached in
// practice: one step moves a margin by well under the width of the band).
constexpr int MaxMarginCorrections = 40;

struct League
{
    QString name;
    double goalsPerMatch; // the league's scoring level, both teams together
    QVector<QTime> kickOffs; // UTC, one per match of a round, cycled
    QStringList clubs;
};

QVector<League> leagues()
{
    return {
        {QStringLiteral("Northshire Premier League"), 2.75,
            {QTime(11, 30), QTime(14, 0), QTime(14, 0), QTime(14, 0), QTime(16, 30), QTime(19, 0)},
            {QStringLiteral("Ashbury Town"), QStringLiteral("Kingsmere United"),
                QStringLiteral("Brackenford City"), QStringLiteral("Holloway Athletic"),
                QStringLiteral("Stourmouth Rovers"), QStringLiteral("Eldergate Wanderers"),
                QStringLiteral("Port Carrow"), QStringLiteral("Wexley Albion"),
                QStringLiteral("Thornhollow Vale"), QStringLiteral("Cresthaven"),
                QStringLiteral("Duncaster Forest"), QStringLiteral("Millbrook Harriers")}},
        {QStringLiteral("Fjordligaen"), 3.0,
            {QTime(15, 0), QTime(17, 0), QTime(17, 0), QTime(17, 0), QTime(19, 15)},
            {QStringLiteral("Brøndvik IF"), QStringLiteral("Søraker BK"),
                QStringLiteral("Havnø FK"), QStringLiteral("Nordstrøm IL"),
                QStringLiteral("Fjellheim SK"), QStringLiteral("Ålvik FK"),
                QStringLiteral("Kråkenes IL"), QStringLiteral("Sjøholm BK"),
                QStringLiteral("Rødberg FK"), QStringLiteral("Lysevåg IL")}},
        {QStringLiteral("Kıyı Süper Ligi"), 2.5,
            {QTime(13, 0), QTime(16, 0), QTime(16, 0), QTime(17, 45), QTime(18, 0)},
            {QStringLiteral("Denizkent Spor"), QStringLiteral("Yeşiltepe SK"),
                QStringLiteral("Karaçam Gençlik"), QStringLiteral("Güneşköy Spor"),
                QStringLiteral("Altınkaya FK"), QStringLiteral("Boğazlı SK"),
                QStringLiteral("Çamlıdere Spor"), QStringLiteral("Erdemşehir FK"),
                QStringLiteral("Kuzeyyıldız SK"), QStringLiteral("Taşlıburun Spor")}},
        {QStringLiteral("Alpenliga"), 3.1,
            {QTime(13, 30), QTime(13, 30), QTime(13, 30), QTime(16, 30), QTime(18, 30)},
            {QStringLiteral("FC Grünwiesen"), QStringLiteral("SV Hochbrück"),
                QStringLiteral("1. FC Mühlental"), QStringLiteral("Blau-Weiß Steinfurth"),
                QStringLiteral("TSV Königsau"), QStringLiteral("SpVgg Eichenhöhe"),
                QStringLiteral("VfB Lauterbrück"), QStringLiteral("Rot-Gelb Weißenbach"),
                QStringLiteral("FSV Bergstädt"), QStringLiteral("Eintracht Süderau")}},
        {QStringLiteral("Liga Costa Serena"), 2.45,
            {QTime(12, 0), QTime(14, 15), QTime(16, 30), QTime(18, 30), QTime(20, 0)},
            {QStringLiteral("Atlético Peñaluna"), QStringLiteral("Real Montesur"),
                QStringLiteral("CD Vallescondido"), QStringLiteral("UD Arenablanca"),
                QStringLiteral("CF Sierra Dorada"), QStringLiteral("Deportivo Marisol"),
                QStringLiteral("SD Puertoclaro"), QStringLiteral("Racing Lomaverde"),
                QStringLiteral("CD Olivares del Mar"), QStringLiteral("Unión Cañaveral")}},
    };
}

// SplitMix64: tiny, fast and the same on every platform and Qt version, which a library
// generator does not promise; the demo book must not change under an upgrade.
class DemoRandom
{
public:
    explicit DemoRandom(quint32 seed)
        : m_state(seed)
    { }

    quint64 next()
    {
        quint64 z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

    // Uniform in [0, 1).
    double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
    double between(double low, double high) { return low + (high - low) * uniform(); }
    int below(int bound) { return int(next() % quint64(bound)); }

private:
    quint64 m_state;
};

struct Club
{
    QString name;
    double strength = 0;
    double goalTendency = 1;
};

struct Fixture
{
    int league = 0;
    int home = 0; // index into the league's clubs
    int away = 0;
    qint64 startTimeMs = 0;
};

struct Outcomes
{
    double home = 0;
    double draw = 0;
    double away = 0;
    double over = 0; // more than 2.5 goals
};

double poisson(double mean, int goals)
{
    double p = std::exp(-mean);
    for (int k = 1; k <= goals; ++k)
        p *= mean / k;
    return p;
}

Outcomes outcomes(const Club &home, const Club &away, double goalsPerMatch)
{
    const double edge = home.strength - away.strength + HomeAdvantage;
    const double goals = goalsPerMatch * (home.goalTendency + away.goalTendency) / 2
        * (1.0 + MismatchGoals * edge * edge);
    const double homeShare = 1.0 / (1.0 + std::exp(-GoalShareSlope * edge));
    const double homeGoals = goals * homeShare;
    const double awayGoals = goals - homeGoals;

    Outcomes o;
    for (int h = 0; h <= MaxGoals; ++h) {
        const double ph = poisson(homeGoals, h);
        for (int a = 0; a <= MaxGoals; ++a) {
            const double p = ph * poisson(awayGoals, a);
            (h > a ? o.home : h == a ? o.draw : o.away) += p;
        }
    }
    o.draw *= DrawInflation;
    const double total = o.home + o.draw + o.away;
    o.home /= total;
    o.draw /= total;
    o.away /= total;
    o.over = 1.0 - poisson(goals, 0) - poisson(goals, 1) - poisson(goals, 2);
    return o;
}

double marginOf(const QVector<Price> &prices)
{
    double sum = 0;
    for (const Price price : prices)
        sum += impliedPercent(price);
    return sum;
}

// Prices for fair \a probabilities with the \a margin (1.05 is 105 %) spread in proportion,
// on the exchange ladder, with the market's margin inside the band.
QVector<Price> priceMarket(const QVector<double> &probabilities, double margin)
{
    const Ladder &ladder = Ladder::exchange();
    QVector<Price> prices;
    for (const double p : probabilities) {
        const double odds = 100.0 / (p * margin);
        prices.append(
            ladder.nearest(Price(qBound(double(MinPrice), std::round(odds), double(MaxPrice)))));
    }

    // Rounding to the ladder moves the margin; walk the price whose step moves it least.
    for (int i = 0; i < MaxMarginCorrections; ++i) {
        const double current = marginOf(prices);
        if (current >= MinMarginPercent && current <= MaxMarginPercent)
            break;
        const int ticks = current < MinMarginPercent ? -1 : 1; // shorter raises the margin
        int best = -1;
        double bestMove = 0;
        for (int s = 0; s < prices.size(); ++s) {
            const Price stepped = ladder.step(prices.at(s), ticks);
            const double move = std::abs(impliedPercent(stepped) - impliedPercent(prices.at(s)));
            if (move > 0 && (best < 0 || move < bestMove)) {
                best = s;
                bestMove = move;
            }
        }
        if (best < 0)
            break;
        prices[best] = ladder.step(prices.at(best), ticks);
    }
    return prices;
}

// One round of a round-robin (the circle method): club 0 stays, the others rotate. Every club
// meets every other once in clubCount - 1 rounds; the next cycle swaps home and away.
QVector<QPair<int, int>> roundPairings(int clubCount, int round)
{
    const int rounds = clubCount - 1;
    const int inCycle = round % rounds;
    const bool secondLeg = (round / rounds) % 2 == 1;

    QVector<int> order(clubCount);
    order[0] = 0;
    for (int i = 1; i < clubCount; ++i)
        order[i] = 1 + (i - 1 + inCycle) % rounds;

    QVector<QPair<int, int>> pairs;
    for (int i = 0; i < clubCount / 2; ++i) {
        int home = order.at(i);
        int away = order.at(clubCount - 1 - i);
        // Alternate so that no club is always at home.
        if ((i == 0 ? inCycle : i) % 2 == 1)
            std::swap(home, away);
        if (secondLeg)
            std::swap(home, away);
        pairs.append({home, away});
    }
    return pairs;
}

SelectionInfo selection(quint32 *lastId, const QString &name, Price price)
{
    SelectionInfo s;
    s.id = ++*lastId;
    s.name = name;
    s.price = price;
    return s;
}

} // namespace

BookData generateDemoBook(quint32 seed, int eventCount)
{
    return generateDemoBook(seed, eventCount, QDateTime::currentDateTimeUtc().date().addDays(1));
}

BookData generateDemoBook(quint32 seed, int eventCount, const QDate &firstDay)
{
    BookData book;
    if (eventCount <= 0 || !firstDay.isValid())
        return book;
    DemoRandom random(seed);

    // Clubs in a random order (so the fixtures differ by seed), each with a strength (the sum
    // of three uniforms, so most clubs are middling and a few are very good or very poor) and
    // a goal tendency.
    const QVector<League> leagueList = leagues();
    QVector<QVector<Club>> clubs;
    for (const League &league : leagueList) {
        QVector<Club> leagueClubs;
        for (const QString &name : league.clubs) {
            const double spread = random.uniform() + random.uniform() + random.uniform() - 1.5;
            const double tendency = random.between(MinGoalTendency, MaxGoalTendency);
            leagueClubs.append({name, StrengthRange * spread / 1.5, tendency});
        }
        for (int i = int(leagueClubs.size()) - 1; i > 0; --i)
            std::swap(leagueClubs[i], leagueClubs[random.below(i + 1)]);
        clubs.append(leagueClubs);
    }

    // Whole rounds until there are enough: a later round is always later than every match of
    // the rounds before it, so the earliest eventCount fixtures are among those generated.
    QVector<Fixture> fixtures;
    for (int round = 0; fixtures.size() < eventCount; ++round) {
        for (int l = 0; l < leagueList.size(); ++l) {
            const League &league = leagueList.at(l);
            const QDate day = firstDay.addDays(round * DaysBetweenRounds + l % 2);
            const auto pairs = roundPairings(int(clubs.at(l).size()), round);
            for (int m = 0; m < pairs.size(); ++m) {
                const QTime kickOff = league.kickOffs.at(m % league.kickOffs.size());
                fixtures.append({l, pairs.at(m).first, pairs.at(m).second,
                    QDateTime(day, kickOff, QTimeZone::utc()).toMSecsSinceEpoch()});
            }
        }
    }
    std::stable_sort(fixtures.begin(), fixtures.end(),
        [](const Fixture &a, const Fixture &b) { return a.startTimeMs < b.startTimeMs; });
    fixtures.resize(eventCount);

    quint32 marketId = 0;
    quint32 selectionId = 0;
    for (const Fixture &fixture : fixtures) {
        const League &league = leagueList.at(fixture.league);
        const Club &home = clubs.at(fixture.league).at(fixture.home);
        const Club &away = clubs.at(fixture.league).at(fixture.away);
        const Outcomes o = outcomes(home, away, league.goalsPerMatch);

        EventInfo event;
        event.id = quint32(book.events.size()) + 1;
        event.name = home.name + QStringLiteral(" v ") + away.name;
        event.competition = league.name;
        event.home = home.name;
        event.away = away.name;
        event.startTimeMs = fixture.startTimeMs;
        book.events.append(event);

        const QVector<Price> matchPrices = priceMarket(
            {o.home, o.draw, o.away}, random.between(MinTargetMargin, MaxTargetMargin));
        MarketInfo matchOdds;
        matchOdds.id = ++marketId;
        matchOdds.eventId = event.id;
        matchOdds.name = QStringLiteral("Match Odds");
        matchOdds.kind = QStringLiteral("1x2");
        matchOdds.status = MarketStatus::Open;
        matchOdds.selections = {selection(&selectionId, home.name, matchPrices.at(0)),
            selection(&selectionId, QStringLiteral("Draw"), matchPrices.at(1)),
            selection(&selectionId, away.name, matchPrices.at(2))};
        book.markets.append(matchOdds);

        const QVector<Price> goalPrices
            = priceMarket({o.over, 1.0 - o.over}, random.between(MinTargetMargin, MaxTargetMargin));
        MarketInfo overUnder;
        overUnder.id = ++marketId;
        overUnder.eventId = event.id;
        overUnder.name = QStringLiteral("Over/Under 2.5 Goals");
        overUnder.kind = QStringLiteral("ou25");
        overUnder.status = MarketStatus::Open;
        overUnder.selections
            = {selection(&selectionId, QStringLiteral("Over 2.5"), goalPrices.at(0)),
                selection(&selectionId, QStringLiteral("Under 2.5"), goalPrices.at(1))};
        book.markets.append(overUnder);
    }
    return book;
}

} // namespace OddsDesk
