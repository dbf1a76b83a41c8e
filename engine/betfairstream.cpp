#include "betfairstream.h"

// JSON through Qt Core's QJsonDocument: it comes with Debian's Qt packages like the rest of
// Qt, so it adds no dependency, and it does the job: every line is one small document, and
// QJsonParseError says where a broken one breaks.
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QJsonValue>
#include <QTimeZone>

#include <cmath>
#include <initializer_list>
#include <limits>

namespace OddsDesk {
namespace {

// Betfair's ids are JSON numbers; a double holds every integer up to 2^53 exactly.
constexpr double MaxExactInteger = 9007199254740992.0;

// A price is a whole number of hundredths when a hundred times it is this close to an
// integer: the error of a double on 1000.00 * 100 is about 1e-11, while the nearest price
// that is not on the ladder (a thousandth off) is 0.1 away.
constexpr double HundredthsTolerance = 1e-6;

QString numberText(double value)
{
    // 12 significant digits show what the file wrote (3.455), not the double's noise.
    return QString::number(value, 'g', 12);
}

bool readId(const QJsonValue &value, qint64 *out)
{
    if (!value.isDouble())
        return false;
    const double d = value.toDouble();
    if (!(d >= 0 && d <= MaxExactInteger) || d != std::floor(d))
        return false;
    *out = qint64(d);
    return true;
}

// The optional string \a key of \a object; an error when it is there but not a string.
QString readString(const QJsonObject &object, const QString &key, QString *out)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined() || value.isNull())
        return {};
    if (!value.isString())
        return QStringLiteral("\"%1\" is not text").arg(key);
    *out = value.toString();
    return {};
}

QString readTime(const QJsonObject &object, const QString &key, qint64 *outMs)
{
    QString text;
    if (QString error = readString(object, key, &text); !error.isEmpty())
        return error;
    if (text.isEmpty())
        return {};
    const QDateTime time = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!time.isValid())
        return QStringLiteral("\"%1\" is not an ISO 8601 time: %2").arg(key, text);
    *outMs = time.toMSecsSinceEpoch();
    return {};
}

QString readLevels(const QJsonObject &object, const QString &key, QVector<BetfairLevel> *out)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined() || value.isNull())
        return {};
    if (!value.isArray())
        return QStringLiteral("\"%1\" is not a list of [price, size] levels").arg(key);
    const QJsonArray levels = value.toArray();
    out->reserve(levels.size());
    for (qsizetype i = 0; i < levels.size(); ++i) {
        const QJsonArray pair = levels.at(i).toArray();
        if (!levels.at(i).isArray() || pair.size() != 2 || !pair.at(0).isDouble()
            || !pair.at(1).isDouble()) {
            return QStringLiteral("level %1 of \"%2\" is not a [price, size] pair of numbers")
                .arg(i + 1)
                .arg(key);
        }
        const PriceParseResult price = betfairPrice(pair.at(0).toDouble());
        if (!price.ok())
            return QStringLiteral("level %1 of \"%2\": %3").arg(i + 1).arg(key, price.error);
        const double size = pair.at(1).toDouble();
        if (size < 0) {
            return QStringLiteral("level %1 of \"%2\" has a negative size, %3")
                .arg(i + 1)
                .arg(key, numberText(size));
        }
        out->append({price.price, size});
    }
    return {};
}

QString readDefinition(const QJsonValue &value, BetfairMarketDefinition *out)
{
    if (!value.isObject())
        return QStringLiteral("\"marketDefinition\" is not an object");
    const QJsonObject object = value.toObject();
    if (!object.value(QLatin1String("status")).isString())
        return QStringLiteral("the market definition has no \"status\" text");
    out->status = object.value(QLatin1String("status")).toString();

    const std::pair<const char *, QString *> strings[] = {
        {"eventId", &out->eventId},
        {"eventName", &out->eventName},
        {"marketType", &out->marketType},
        {"name", &out->name},
        {"venue", &out->venue},
        {"timezone", &out->timezone},
    };
    for (const auto &[key, field] : strings) {
        if (QString error = readString(object, QLatin1String(key), field); !error.isEmpty())
            return QStringLiteral("in the market definition, ") + error;
    }
    if (QString error = readTime(object, QStringLiteral("marketTime"), &out->marketTimeMs);
        !error.isEmpty()) {
        return QStringLiteral("in the market definition, ") + error;
    }
    const QJsonValue inPlay = object.value(QLatin1String("inPlay"));
    if (!inPlay.isUndefined() && !inPlay.isBool())
        return QStringLiteral("in the market definition, \"inPlay\" is not true or false");
    out->inPlay = inPlay.toBool();

    const QJsonValue runners = object.value(QLatin1String("runners"));
    if (!runners.isArray())
        return QStringLiteral("the market definition has no \"runners\" list");
    const QJsonArray list = runners.toArray();
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonObject runner = list.at(i).toObject();
        BetfairRunnerDefinition r;
        if (!list.at(i).isObject() || !readId(runner.value(QLatin1String("id")), &r.selectionId))
            return QStringLiteral("runner %1 of the market definition has no numeric \"id\"")
                .arg(i + 1);
        if (!runner.value(QLatin1String("status")).isString()) {
            return QStringLiteral("runner %1 of the market definition has no \"status\" text")
                .arg(r.selectionId);
        }
        r.status = runner.value(QLatin1String("status")).toString();
        const QJsonValue priority = runner.value(QLatin1String("sortPriority"));
        qint64 sortPriority = 0;
        if (!priority.isUndefined() && !readId(priority, &sortPriority)) {
            return QStringLiteral("runner %1 of the market definition has a \"sortPriority\" "
                                  "that is not a whole number")
                .arg(r.selectionId);
        }
        r.sortPriority = int(qMin<qint64>(sortPriority, std::numeric_limits<int>::max()));
        if (QString error = readString(runner, QStringLiteral("name"), &r.name); !error.isEmpty())
            return QStringLiteral("runner %1 of the market definition: %2")
                .arg(r.selectionId)
                .arg(error);
        out->runners.append(r);
    }
    return {};
}

QString readRunnerChange(const QJsonValue &value, int index, BetfairRunnerChange *out)
{
    const QJsonObject object = value.toObject();
    if (!value.isObject() || !readId(object.value(QLatin1String("id")), &out->selectionId))
        return QStringLiteral("runner change %1 has no numeric \"id\"").arg(index + 1);
    const auto prefix = [out] { return QStringLiteral("runner %1: ").arg(out->selectionId); };

    if (QString error = readLevels(object, QStringLiteral("atb"), &out->availableToBack);
        !error.isEmpty()) {
        return prefix() + error;
    }
    if (QString error = readLevels(object, QStringLiteral("atl"), &out->availableToLay);
        !error.isEmpty()) {
        return prefix() + error;
    }
    const QJsonValue ltp = object.value(QLatin1String("ltp"));
    if (!ltp.isUndefined() && !ltp.isNull()) {
        if (!ltp.isDouble())
            return prefix() + QStringLiteral("\"ltp\" is not a number");
        const PriceParseResult price = betfairPrice(ltp.toDouble());
        if (!price.ok())
            return prefix() + QStringLiteral("\"ltp\": ") + price.error;
        out->lastTraded = price.price;
    }
    const QJsonValue tv = object.value(QLatin1String("tv"));
    if (!tv.isUndefined() && !tv.isNull()) {
        if (!tv.isDouble())
            return prefix() + QStringLiteral("\"tv\" is not a number");
        out->tradedVolume = tv.toDouble();
    }
    return {};
}

QString readMarketChange(const QJsonValue &value, int index, BetfairMarketChange *out)
{
    const QJsonObject object = value.toObject();
    if (!value.isObject() || !object.value(QLatin1String("id")).isString())
        return QStringLiteral("market change %1 has no \"id\" text").arg(index + 1);
    out->marketId = object.value(QLatin1String("id")).toString();
    const auto prefix = [out] { return QStringLiteral("market %1: ").arg(out->marketId); };

    const QJsonValue image = object.value(QLatin1String("img"));
    if (!image.isUndefined() && !image.isBool())
        return prefix() + QStringLiteral("\"img\" is not true or false");
    out->image = image.toBool();

    const QJsonValue definition = object.value(QLatin1String("marketDefinition"));
    if (!definition.isUndefined() && !definition.isNull()) {
        BetfairMarketDefinition d;
        if (QString error = readDefinition(definition, &d); !error.isEmpty())
            return prefix() + error;
        out->definition = d;
    }

    const QJsonValue tv = object.value(QLatin1String("tv"));
    if (!tv.isUndefined() && !tv.isNull()) {
        if (!tv.isDouble())
            return prefix() + QStringLiteral("\"tv\" is not a number");
        out->tradedVolume = tv.toDouble();
    }

    const QJsonValue runners = object.value(QLatin1String("rc"));
    if (runners.isUndefined() || runners.isNull())
        return {};
    if (!runners.isArray())
        return prefix() + QStringLiteral("\"rc\" is not a list of runner changes");
    const QJsonArray list = runners.toArray();
    out->runners.reserve(list.size());
    for (qsizetype i = 0; i < list.size(); ++i) {
        BetfairRunnerChange change;
        if (QString error = readRunnerChange(list.at(i), int(i), &change); !error.isEmpty())
            return prefix() + error;
        out->runners.append(change);
    }
    return {};
}

void applyLevels(BetfairLadder *ladder, const QVector<BetfairLevel> &levels)
{
    for (const auto &[price, size] : levels) {
        if (size > 0)
            (*ladder)[price] = size;
        else
            ladder->erase(price);
    }
}

MarketStatus bookStatus(const QString &betfairStatus)
{
    if (betfairStatus == QLatin1String("OPEN"))
        return MarketStatus::Open;
    if (betfairStatus == QLatin1String("CLOSED"))
        return MarketStatus::Closed;
    // SUSPENDED, INACTIVE (not yet open) and anything newer than this code: not tradable.
    return MarketStatus::Suspended;
}

bool isListed(const BetfairRunnerDefinition &runner)
{
    return !runner.status.startsWith(QLatin1String("REMOVED"))
        && runner.status != QLatin1String("HIDDEN");
}

// True when the book cannot get from \a was to \a now with price, status and winner changes.
bool needsRedefinition(const MarketInfo &was, const MarketInfo &now)
{
    if (was.eventId != now.eventId || was.name != now.name || was.kind != now.kind
        || was.selections.size() != now.selections.size()) {
        return true;
    }
    if (was.status == MarketStatus::Closed && now.status != MarketStatus::Closed)
        return true; // a closed market cannot reopen by a status change
    for (qsizetype i = 0; i < now.selections.size(); ++i) {
        const SelectionInfo &a = was.selections.at(i);
        const SelectionInfo &b = now.selections.at(i);
        if (a.id != b.id || a.name != b.name || (a.winner && !b.winner))
            return true;
    }
    return false;
}

QString nonEmpty(std::initializer_list<QString> candidates)
{
    for (const QString &candidate : candidates) {
        if (!candidate.isEmpty())
            return candidate;
    }
    return {};
}

} // namespace

PriceParseResult betfairPrice(double value)
{
    PriceParseResult result;
    if (!std::isfinite(value)) {
        result.error = QStringLiteral("a price must be a finite number");
        return result;
    }
    const double hundredths = value * 100;
    const double rounded = std::round(hundredths);
    if (std::abs(hundredths - rounded) > HundredthsTolerance) {
        result.error = QStringLiteral("the price %1 is not a whole number of hundredths, so it is "
                                      "not on Betfair's ladder")
                           .arg(numberText(value));
        return result;
    }
    // Compared as a double first: a huge number does not fit the integer it would become.
    if (rounded < double(MinPrice) || rounded > double(MaxPrice)
        || !isValidPrice(qint64(rounded))) {
        result.error
            = QStringLiteral("the price %1 is outside 1.01 to 1000").arg(numberText(value));
        return result;
    }
    result.price = Price(rounded);
    return result;
}

Price BetfairRunnerState::bestBack() const
{
    return availableToBack.empty() ? 0 : availableToBack.rbegin()->first;
}

Price BetfairRunnerState::bestLay() const
{
    return availableToLay.empty() ? 0 : availableToLay.begin()->first;
}

BetfairStream::BetfairStream(quint32 idBase)
    : m_idBase(idBase)
    , m_nextEventId(idBase)
    , m_nextMarketId(idBase)
    , m_nextSelectionId(idBase)
{ }

QString BetfairStream::setCatalogue(const QByteArray &json)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (document.isNull()) {
        return QStringLiteral("The catalogue is not valid JSON: %1 at character %2.")
            .arg(parseError.errorString())
            .arg(parseError.offset);
    }
    QJsonArray entries;
    if (document.isObject())
        entries.append(document.object());
    else
        entries = document.array();

    QHash<QString, CatalogueMarket> catalogue;
    for (qsizetype i = 0; i < entries.size(); ++i) {
        const QJsonObject entry = entries.at(i).toObject();
        const QString marketId = entry.value(QLatin1String("marketId")).toString();
        if (!entries.at(i).isObject() || marketId.isEmpty()) {
            return QStringLiteral("Catalogue entry %1 has no \"marketId\"; a catalogue is one "
                                  "market as listMarketCatalogue returns it, or a list of them.")
                .arg(i + 1);
        }
        const auto text = [](const QJsonObject &object, const char *key) {
            return object.value(QLatin1String(key)).toString();
        };
        const auto nameOf = [&entry, &text](const char *key) {
            return text(entry.value(QLatin1String(key)).toObject(), "name");
        };
        const QJsonObject event = entry.value(QLatin1String("event")).toObject();
        CatalogueMarket market;
        market.marketName = text(entry, "marketName");
        market.eventName = text(event, "name");
        market.venue = text(event, "venue");
        market.timezone = text(event, "timezone");
        market.eventTypeName = nameOf("eventType");
        market.competitionName = nameOf("competition");

        const QJsonArray runners = entry.value(QLatin1String("runners")).toArray();
        for (qsizetype r = 0; r < runners.size(); ++r) {
            const QJsonObject runner = runners.at(r).toObject();
            qint64 selectionId = 0;
            if (!readId(runner.value(QLatin1String("selectionId")), &selectionId)) {
                return QStringLiteral("Runner %1 of market %2 in the catalogue has no numeric "
                                      "\"selectionId\".")
                    .arg(r + 1)
                    .arg(marketId);
            }
            market.runnerNames.insert(
                selectionId, runner.value(QLatin1String("runnerName")).toString());
        }
        catalogue.insert(marketId, market);
    }
    m_catalogue = catalogue;
    return {};
}

BetfairMessage BetfairStream::decode(QByteArrayView line)
{
    BetfairMessage message;
    if (line.trimmed().isEmpty())
        return message; // a blank line: nothing, and nothing wrong
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(line.toByteArray(), &parseError);
    if (document.isNull()) {
        message.error = QStringLiteral("The line is not valid JSON: %1 at character %2.")
                            .arg(parseError.errorString())
                            .arg(parseError.offset);
        return message;
    }
    if (!document.isObject()) {
        message.error = QStringLiteral("The line is not a JSON object, so it is not a stream "
                                       "message.");
        return message;
    }
    const QJsonObject object = document.object();

    const QJsonValue op = object.value(QLatin1String("op"));
    if (!op.isString()) {
        message.error = QStringLiteral("The line has no \"op\" text saying what message it is.");
        return message;
    }
    message.operation = op.toString();
    if (message.operation != QLatin1String("mcm"))
        return message; // a connection or status message: nothing for the book

    message.marketChange = true;
    const QJsonValue pt = object.value(QLatin1String("pt"));
    if (!readId(pt, &message.publishTimeMs)) {
        message.error = QStringLiteral("The market change has no \"pt\" publish time in "
                                       "milliseconds.");
        return message;
    }

    const QJsonValue changes = object.value(QLatin1String("mc"));
    if (changes.isUndefined() || changes.isNull())
        return message; // a heartbeat
    if (!changes.isArray()) {
        message.error = QStringLiteral("\"mc\" is not a list of market changes.");
        return message;
    }
    const QJsonArray list = changes.toArray();
    message.markets.reserve(list.size());
    for (qsizetype i = 0; i < list.size(); ++i) {
        BetfairMarketChange change;
        if (QString error = readMarketChange(list.at(i), int(i), &change); !error.isEmpty()) {
            message.error = error.at(0).toUpper() + error.mid(1) + QLatin1Char('.');
            message.markets.clear();
            return message;
        }
        message.markets.append(change);
    }
    return message;
}

BetfairLineResult BetfairStream::feed(QByteArrayView line)
{
    return apply(decode(line));
}

BetfairLineResult BetfairStream::apply(const BetfairMessage &message)
{
    BetfairLineResult result;
    result.line = ++m_lines;
    result.publishTimeMs = message.publishTimeMs;
    if (!message.ok()) {
        result.error = message.error;
        return result;
    }
    // decode() checked every field, so nothing below can fail half way through the line.
    for (const BetfairMarketChange &change : message.markets) {
        applyChange(change, &result.updates);
        m_markets[change.marketId].publishTimeMs = message.publishTimeMs;
    }
    return result;
}

void BetfairStream::reset()
{
    const QHash<QString, CatalogueMarket> catalogue = m_catalogue;
    *this = BetfairStream(m_idBase);
    m_catalogue = catalogue;
}

const BetfairMarketState *BetfairStream::market(const QString &marketId) const
{
    const auto it = m_markets.constFind(marketId);
    return it == m_markets.cend() ? nullptr : &*it;
}

quint32 BetfairStream::bookMarketId(const QString &marketId) const
{
    return m_marketIds.value(marketId);
}

quint32 BetfairStream::bookSelectionId(const QString &marketId, qint64 selectionId) const
{
    return m_selectionIds.value(marketId).value(selectionId);
}

quint32 BetfairStream::bookEventId(const QString &marketId) const
{
    const auto it = m_published.constFind(marketId);
    return it == m_published.cend() || !it->defined ? 0 : it->event.id;
}

void BetfairStream::applyChange(const BetfairMarketChange &change, QVector<BetfairUpdate> *updates)
{
    auto it = m_markets.find(change.marketId);
    if (it == m_markets.end()) {
        it = m_markets.insert(change.marketId, BetfairMarketState {});
        it->marketId = change.marketId;
        m_marketOrder.append(change.marketId);
    }
    BetfairMarketState &state = *it;

    if (change.image) {
        state.runners.clear();
        state.tradedVolume = 0;
    }
    if (change.definition)
        state.definition = change.definition;
    if (change.tradedVolume)
        state.tradedVolume = *change.tradedVolume;
    for (const BetfairRunnerChange &rc : change.runners) {
        BetfairRunnerState &runner = state.runners[rc.selectionId];
        applyLevels(&runner.availableToBack, rc.availableToBack);
        applyLevels(&runner.availableToLay, rc.availableToLay);
        if (rc.lastTraded)
            runner.lastTraded = *rc.lastTraded;
        if (rc.tradedVolume)
            runner.tradedVolume = *rc.tradedVolume;
    }

    // Without a definition there are no runners to list: the ladders wait for one.
    if (!state.definition)
        return;
    Published &was = m_published[change.marketId];
    const EventInfo event = change.definition || !was.defined ? eventFor(state) : was.event;
    const MarketInfo now = marketFor(state, event.id, was);

    if (!was.defined || !(was.event == event)) {
        BetfairUpdate update;
        update.kind = BetfairUpdate::Kind::EventDefined;
        update.event = event;
        updates->append(update);
    }
    if (!was.defined || needsRedefinition(was.market, now)) {
        BetfairUpdate update;
        update.kind = BetfairUpdate::Kind::MarketDefined;
        update.marketId = now.id;
        update.market = now;
        updates->append(update);
    } else {
        diff(was, now, updates);
    }
    was.defined = true;
    was.event = event;
    was.market = now;
}

EventInfo BetfairStream::eventFor(const BetfairMarketState &state)
{
    const BetfairMarketDefinition &definition = *state.definition;
    const CatalogueMarket catalogue = m_catalogue.value(state.marketId);

    EventInfo event;
    const QString key
        = definition.eventId + QLatin1Char('@') + QString::number(definition.marketTimeMs);
    auto id = m_eventIds.constFind(key);
    if (id == m_eventIds.cend())
        id = m_eventIds.insert(key, m_nextEventId++);
    event.id = *id;
    event.startTimeMs = definition.marketTimeMs;

    const QString venue = nonEmpty({catalogue.venue, definition.venue});
    const QString eventName = nonEmpty({catalogue.eventName, definition.eventName});
    if (!venue.isEmpty()) {
        // A race: the start time as the venue's clock shows it, then the venue.
        QString time;
        if (definition.marketTimeMs != 0) {
            const QTimeZone zone(nonEmpty({definition.timezone, catalogue.timezone}).toUtf8());
            const QDateTime utc
                = QDateTime::fromMSecsSinceEpoch(definition.marketTimeMs, QTimeZone::utc());
            time = zone.isValid() ? utc.toTimeZone(zone).toString(QStringLiteral("HH:mm"))
                                  : utc.toString(QStringLiteral("HH:mm 'UTC'"));
        }
        event.name = time.isEmpty() ? venue : time + QLatin1Char(' ') + venue;
        event.competition = nonEmpty({catalogue.competitionName, eventName});
    } else {
        event.name = eventName;
        event.competition = nonEmpty({catalogue.competitionName, catalogue.eventTypeName});
    }
    if (event.name.isEmpty())
        event.name = QStringLiteral("Betfair event %1").arg(definition.eventId);
    return event;
}

MarketInfo BetfairStream::marketFor(
    const BetfairMarketState &state, quint32 eventId, const Published &was)
{
    const BetfairMarketDefinition &definition = *state.definition;
    const CatalogueMarket catalogue = m_catalogue.value(state.marketId);

    MarketInfo market;
    auto id = m_marketIds.constFind(state.marketId);
    if (id == m_marketIds.cend())
        id = m_marketIds.insert(state.marketId, m_nextMarketId++);
    market.id = *id;
    market.eventId = eventId;
    market.name = nonEmpty({catalogue.marketName, definition.name, definition.marketType,
        QStringLiteral("Betfair market %1").arg(state.marketId)});
    market.kind = definition.marketType.toLower();
    market.status = bookStatus(definition.status);

    QHash<qint64, quint32> &selectionIds = m_selectionIds[state.marketId];
    for (const BetfairRunnerDefinition &runner : definition.runners) {
        if (!isListed(runner))
            continue;
        auto selectionId = selectionIds.constFind(runner.selectionId);
        if (selectionId == selectionIds.cend())
            selectionId = selectionIds.insert(runner.selectionId, m_nextSelectionId++);

        SelectionInfo selection;
        selection.id = *selectionId;
        selection.name = nonEmpty({catalogue.runnerNames.value(runner.selectionId), runner.name,
            QStringLiteral("Selection %1").arg(runner.selectionId)});
        selection.winner = runner.status == QLatin1String("WINNER");

        // The last price the book was told stands when the back side is empty, and for good
        // once the market is closed: a settled market keeps the prices it closed at.
        const SelectionInfo *before = was.defined ? was.market.selection(selection.id) : nullptr;
        const Price best = state.runners.value(runner.selectionId).bestBack();
        if (before && (best == 0 || market.status == MarketStatus::Closed))
            selection.price = before->price;
        else
            selection.price = best;
        market.selections.append(selection);
    }
    return market;
}

void BetfairStream::diff(const Published &was, const MarketInfo &now, QVector<BetfairUpdate> *out)
{
    const auto statusUpdate = [&] {
        BetfairUpdate update;
        update.kind = BetfairUpdate::Kind::Status;
        update.marketId = now.id;
        update.status = now.status;
        out->append(update);
    };

    // A market stops trading before anything else about it moves, and opens only once its
    // prices are current.
    const bool statusChanged = was.market.status != now.status;
    const bool statusFirst = now.status != MarketStatus::Open;
    if (statusChanged && statusFirst)
        statusUpdate();

    for (qsizetype i = 0; i < now.selections.size(); ++i) {
        const SelectionInfo &selection = now.selections.at(i);
        if (selection.price == 0 || selection.price == was.market.selections.at(i).price)
            continue;
        BetfairUpdate update;
        update.kind = BetfairUpdate::Kind::Price;
        update.marketId = now.id;
        update.selectionId = selection.id;
        update.price = selection.price;
        out->append(update);
    }
    for (qsizetype i = 0; i < now.selections.size(); ++i) {
        const SelectionInfo &selection = now.selections.at(i);
        if (!selection.winner || was.market.selections.at(i).winner)
            continue;
        BetfairUpdate update;
        update.kind = BetfairUpdate::Kind::Winner;
        update.marketId = now.id;
        update.selectionId = selection.id;
        out->append(update);
    }

    if (statusChanged && !statusFirst)
        statusUpdate();
}

} // namespace OddsDesk
