#include "timelinemodel.h"

#include <QBrush>
#include <QDateTime>

#include <algorithm>

namespace OddsDesk {
namespace {

const QColor TroubleText(0xb0, 0x00, 0x00);
const QColor RecoveryText(0x1f, 0x6f, 0x1f);
const QColor DeskText(0x1f, 0x4f, 0xa0);
const QColor ClientSourceBackground(0xf2, 0xf5, 0xfa); // the client's word, told apart

bool sameEntry(const TimelineEntry &a, const TimelineEntry &b)
{
    return a.timeMs == b.timeMs && a.source == b.source && a.kind == b.kind && a.detail == b.detail;
}

// The kinds a support person reads first: something went wrong, something recovered, the
// desk did something.
QVariant kindColor(const QString &kind)
{
    static const QStringList trouble = {QStringLiteral("closed"), QStringLiteral("dead"),
        QStringLiteral("too-slow"), QStringLiteral("snapshot-fallback"), QStringLiteral("gap"),
        QStringLiteral("stale"), QStringLiteral("decode-error"),
        QStringLiteral("client-disconnected"), QStringLiteral("client-snapshot"),
        QStringLiteral("telemetry-flood"), QStringLiteral("taken-over")};
    static const QStringList recovery = {QStringLiteral("connected"), QStringLiteral("resumed"),
        QStringLiteral("client-connected"), QStringLiteral("client-resumed")};
    if (trouble.contains(kind))
        return QBrush(TroubleText);
    if (recovery.contains(kind))
        return QBrush(RecoveryText);
    if (kind.endsWith(QLatin1String("-by-desk")))
        return QBrush(DeskText);
    return QVariant();
}

} // namespace

QString timelineSourceName(TimelineEntry::Source source)
{
    return source == TimelineEntry::Source::Client ? TimelineModel::tr("client")
                                                   : TimelineModel::tr("engine");
}

TimelineModel::TimelineModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

int TimelineModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

int TimelineModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

Qt::ItemFlags TimelineModel::flags(const QModelIndex &index) const
{
    // Views ask about the invalid index when nothing is current: not an error.
    if (!index.isValid())
        return Qt::NoItemFlags;
    Q_ASSERT(checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid));
    if (index.row() >= m_entries.size() || index.column() >= ColumnCount)
        return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemNeverHasChildren;
}

QVariant TimelineModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid())
        return QVariant();
    Q_ASSERT(checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid));
    if (index.row() >= m_entries.size() || index.column() >= ColumnCount)
        return QVariant();
    const TimelineEntry &entry = m_entries.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case TimeColumn:
            return QDateTime::fromMSecsSinceEpoch(entry.timeMs)
                .toString(QStringLiteral("HH:mm:ss.zzz"));
        case SourceColumn:
            return timelineSourceName(entry.source);
        case KindColumn:
            return entry.kind;
        case DetailColumn:
            return entry.detail;
        }
        return QVariant();
    case Qt::ToolTipRole:
        if (index.column() == TimeColumn)
            return QDateTime::fromMSecsSinceEpoch(entry.timeMs)
                .toString(QStringLiteral("ddd d MMM yyyy HH:mm:ss.zzz"));
        if (index.column() == SourceColumn)
            return entry.source == TimelineEntry::Source::Client
                ? tr("Reported by the client; the time is when the engine received it")
                : tr("Seen by the engine");
        if (index.column() == DetailColumn)
            return entry.detail;
        return QVariant();
    case Qt::ForegroundRole:
        return index.column() == KindColumn ? kindColor(entry.kind) : QVariant();
    case Qt::BackgroundRole:
        return entry.source == TimelineEntry::Source::Client
            ? QVariant(QBrush(ClientSourceBackground))
            : QVariant();
    case TimeMsRole:
        return entry.timeMs;
    case KindRole:
        return entry.kind;
    default:
        return QVariant();
    }
}

QVariant TimelineModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case SourceColumn:
        return tr("Source");
    case KindColumn:
        return tr("What");
    case DetailColumn:
        return tr("Detail");
    }
    return QAbstractTableModel::headerData(section, orientation, role);
}

bool TimelineModel::hasKind(const QString &kind) const
{
    return std::any_of(m_entries.cbegin(), m_entries.cend(),
        [&kind](const TimelineEntry &e) { return e.kind == kind; });
}

void TimelineModel::setEntries(QVector<TimelineEntry> entries)
{
    std::stable_sort(entries.begin(), entries.end(),
        [](const TimelineEntry &a, const TimelineEntry &b) { return a.timeMs < b.timeMs; });

    // Both lists are in time order, and the engine's changes only in two ways: its oldest
    // entries fall off the front of its bounded timeline, and new ones come in, at the end
    // or, when a client reports late what happened earlier, between the entries held. So
    // one walk through both finds every run to remove and every run to insert.
    const auto heldLater = [&entries](const TimelineEntry &held, int from) {
        for (int k = from; k < entries.size(); ++k) {
            if (sameEntry(held, entries.at(k)))
                return true;
        }
        return false;
    };
    int row = 0;
    int next = 0;
    while (row < m_entries.size() || next < entries.size()) {
        if (row < m_entries.size() && next < entries.size()
            && sameEntry(m_entries.at(row), entries.at(next))) {
            ++row;
            ++next;
            continue;
        }
        if (row < m_entries.size() && !heldLater(m_entries.at(row), next)) {
            int end = row + 1;
            while (end < m_entries.size() && !heldLater(m_entries.at(end), next))
                ++end;
            beginRemoveRows(QModelIndex(), row, end - 1);
            m_entries.remove(row, end - row);
            endRemoveRows();
            continue;
        }
        int end = next + 1;
        while (end < entries.size()
            && !(row < m_entries.size() && sameEntry(m_entries.at(row), entries.at(end))))
            ++end;
        beginInsertRows(QModelIndex(), row, row + (end - next) - 1);
        for (int k = next; k < end; ++k)
            m_entries.insert(row + (k - next), entries.at(k));
        endInsertRows();
        row += end - next;
        next = end;
    }
}

} // namespace OddsDesk
