#include "sessionmodel.h"

#include "sessionformat.h"

#include <QBrush>

#include <algorithm>

namespace OddsDesk {
namespace {

// Below this many rows one signal per run of changed rows costs a view nothing; above it,
// a list that changed most rows is sent as one rectangle over them, as the market grid does.
constexpr int WholeTableMinRows = 32;
// A tenth of a second: the feed flushes every 10 ms, so a p99 ten times that is the
// client's network or device, and worth a look.
constexpr qint64 SlowP99Us = 100 * 1000;
// A hundred changes unacknowledged is far more than one flush in flight explains.
constexpr quint64 LaggingSequences = 100;

const QColor AlarmText(0xc0, 0x00, 0x00); // the grid's underround red
const QColor WarningText(0x9a, 0x52, 0x00);

constexpr quint32 bit(int column)
{
    return 1u << column;
}

// The cells whose text a search reads from the cached string; the figures are formatted
// when a search needs them, since they change every second.
constexpr quint32 TextColumns = bit(SessionModel::IdColumn) | bit(SessionModel::UserColumn)
    | bit(SessionModel::ClientColumn) | bit(SessionModel::VersionColumn)
    | bit(SessionModel::AddressColumn) | bit(SessionModel::StateColumn)
    | bit(SessionModel::ConnectedSinceColumn);
// The cells painted in warning colours: a change there can change the colour too.
constexpr quint32 ColouredColumns = bit(SessionModel::LagColumn) | bit(SessionModel::P99Column)
    | bit(SessionModel::StaleTimeColumn) | bit(SessionModel::GapsColumn);

int severity(SessionState state)
{
    switch (state) {
    case SessionState::Connected:
        return 0;
    case SessionState::Retained:
        return 1;
    case SessionState::Stale:
        return 2;
    }
    return 0;
}

template <typename T> int compare(const T &a, const T &b)
{
    return a < b ? -1 : (b < a ? 1 : 0);
}

int compareText(const QString &a, const QString &b)
{
    return a.compare(b, Qt::CaseInsensitive);
}

} // namespace

SessionModel::SessionModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

SessionModel::~SessionModel() = default;

int SessionModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int SessionModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

const SessionSummary *SessionModel::sessionAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row).session : nullptr;
}

int SessionModel::rowOfSession(const QString &sessionId) const
{
    return m_rowOfId.value(sessionId, -1);
}

Qt::ItemFlags SessionModel::flags(const QModelIndex &index) const
{
    // Views ask about the invalid index when nothing is current: not an error.
    if (!index.isValid())
        return Qt::NoItemFlags;
    Q_ASSERT(checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid));
    if (index.row() >= m_rows.size() || index.column() >= ColumnCount)
        return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemNeverHasChildren;
}

QVariant SessionModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid())
        return QVariant();
    Q_ASSERT(checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid));
    if (index.row() >= m_rows.size() || index.column() >= ColumnCount)
        return QVariant();
    const SessionSummary &session = m_rows.at(index.row()).session;
    const int column = index.column();

    switch (role) {
    case Qt::DisplayRole:
        return displayData(session, column);
    case SortRole:
        return sortData(session, column);
    case Qt::ToolTipRole:
        return toolTipData(session, column);
    case Qt::ForegroundRole:
        return foregroundData(session, column);
    case Qt::BackgroundRole: {
        const QColor color = sessionStateColor(sessionState(session));
        return column == StateColumn && color.isValid() ? QVariant(QBrush(color)) : QVariant();
    }
    case Qt::TextAlignmentRole:
        if (column >= ReconnectsColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        if (column == StateColumn || column == ConnectedSinceColumn)
            return QVariant(Qt::AlignCenter);
        return QVariant();
    case SessionIdRole:
        return session.id;
    case StateRole:
        return column == StateColumn ? QVariant(int(sessionState(session))) : QVariant();
    default:
        return QVariant();
    }
}

QString SessionModel::numberText(const SessionSummary &session, int column)
{
    switch (column) {
    case ReconnectsColumn:
        return QString::number(session.reconnects);
    case ResumesColumn:
        return QString::number(session.resumes);
    case FallbacksColumn:
        return QString::number(session.snapshotFallbacks);
    case LagColumn:
        return QString::number(session.lag);
    case QueueColumn:
        return formatQueue(session.queuedBytes, session.owedDeltas);
    case P50Column:
        return formatLatencyMs(session.latencyP50Us);
    case P99Column:
        return formatLatencyMs(session.latencyP99Us);
    case FramesColumn:
        return QString::number(session.framesOut);
    case BytesColumn:
        return formatBytes(double(session.bytesOut));
    case StaleTimeColumn:
        return session.staleMs == 0 ? QString() : formatDuration(session.staleMs);
    case GapsColumn:
        return QString::number(session.gaps);
    default:
        return QString();
    }
}

QVariant SessionModel::displayData(const SessionSummary &session, int column) const
{
    switch (column) {
    case IdColumn:
        return session.id;
    case UserColumn:
        return session.user;
    case ClientColumn:
        return session.clientName;
    case VersionColumn:
        return session.clientVersion;
    case AddressColumn:
        return session.remoteAddress;
    case StateColumn:
        return sessionStateName(sessionState(session));
    case ConnectedSinceColumn:
        return formatClockTime(session.connectedSinceMs);
    default:
        return numberText(session, column);
    }
}

QVariant SessionModel::sortData(const SessionSummary &session, int column) const
{
    switch (column) {
    case StateColumn:
        return severity(sessionState(session));
    case ConnectedSinceColumn:
        return session.connectedSinceMs;
    case ReconnectsColumn:
        return session.reconnects;
    case ResumesColumn:
        return session.resumes;
    case FallbacksColumn:
        return session.snapshotFallbacks;
    case LagColumn:
        return session.lag;
    case QueueColumn:
        return session.queuedBytes;
    case P50Column:
        return session.latencyP50Us;
    case P99Column:
        return session.latencyP99Us;
    case FramesColumn:
        return session.framesOut;
    case BytesColumn:
        return session.bytesOut;
    case StaleTimeColumn:
        return session.staleMs;
    case GapsColumn:
        return session.gaps;
    default:
        return displayData(session, column);
    }
}

QVariant SessionModel::toolTipData(const SessionSummary &session, int column) const
{
    switch (column) {
    case IdColumn: {
        QString tip = tr("Created %1").arg(formatDateTime(session.createdMs));
        if (session.telemetryDropped > 0)
            tip += QLatin1Char('\n')
                + tr("%n telemetry events dropped: the client reported faster than allowed",
                    nullptr, int(session.telemetryDropped));
        return tip;
    }
    case StateColumn:
        switch (sessionState(session)) {
        case SessionState::Connected:
            return tr("Connected and acknowledging what it is sent");
        case SessionState::Stale:
            return tr("Connected, but deltas sent three heartbeats ago are still "
                      "unacknowledged: what the punter sees may be out of date");
        case SessionState::Retained:
            return tr("Disconnected; kept so that the client can resume where it was");
        }
        return QVariant();
    case ConnectedSinceColumn:
        return formatDateTime(session.connectedSinceMs);
    case P50Column:
    case P99Column:
        return session.latencyP99Us == 0 ? tr("No acknowledged deliveries yet") : QVariant();
    case BytesColumn:
        return tr("%1 bytes").arg(formatCount(qint64(session.bytesOut)));
    default:
        return QVariant();
    }
}

QVariant SessionModel::foregroundData(const SessionSummary &session, int column) const
{
    switch (column) {
    case LagColumn:
        return session.lag >= LaggingSequences ? QVariant(QBrush(WarningText)) : QVariant();
    case P99Column:
        return session.latencyP99Us >= SlowP99Us ? QVariant(QBrush(AlarmText)) : QVariant();
    case StaleTimeColumn:
        return session.staleMs > 0 ? QVariant(QBrush(WarningText)) : QVariant();
    case GapsColumn:
        return session.gaps > 0 ? QVariant(QBrush(AlarmText)) : QVariant();
    default:
        return QVariant();
    }
}

QVariant SessionModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        switch (section) {
        case IdColumn:
            return tr("Session");
        case UserColumn:
            return tr("User");
        case ClientColumn:
            return tr("Client");
        case VersionColumn:
            return tr("Version");
        case AddressColumn:
            return tr("Address");
        case StateColumn:
            return tr("State");
        case ConnectedSinceColumn:
            return tr("Since");
        case ReconnectsColumn:
            return tr("Reconn.");
        case ResumesColumn:
            return tr("Resumes");
        case FallbacksColumn:
            return tr("Snapshots");
        case LagColumn:
            return tr("Lag");
        case QueueColumn:
            return tr("Queued");
        case P50Column:
            return tr("p50 ms");
        case P99Column:
            return tr("p99 ms");
        case FramesColumn:
            return tr("Frames");
        case BytesColumn:
            return tr("Bytes");
        case StaleTimeColumn:
            return tr("Stale");
        case GapsColumn:
            return tr("Gaps");
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case UserColumn:
            return tr("The user named by the client's token");
        case ConnectedSinceColumn:
            return tr("When the session's current (or last) connection started");
        case ReconnectsColumn:
            return tr("Times the client came back asking to resume");
        case ResumesColumn:
            return tr("Comebacks that resumed: only the missed deltas were sent");
        case FallbacksColumn:
            return tr("Comebacks that could not resume and got a fresh snapshot instead");
        case LagColumn:
            return tr("Head sequence minus the last sequence the client acknowledged");
        case QueueColumn:
            return tr("Bytes in the session's socket that the client has not taken yet, and "
                      "deltas held back for it to go out as one; past the queue's bound the "
                      "client is told it is too slow and resumes");
        case P50Column:
            return tr("Delivery latency over the session's recent deliveries: client receive "
                      "time minus engine commit time");
        case P99Column:
            return tr("Delivery latency over the session's recent deliveries: client receive "
                      "time minus engine commit time. Sorted, stale sessions count as the "
                      "slowest of all");
        case FramesColumn:
        case BytesColumn:
            return tr("Sent to the session since it was created");
        case StaleTimeColumn:
            return tr("Time the client reported showing possibly out-of-date odds, in total");
        case GapsColumn:
            return tr("Sequence gaps the client reported; there should be none");
        }
    }
    if (role == Qt::TextAlignmentRole && section >= ReconnectsColumn)
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    return QAbstractTableModel::headerData(section, orientation, role);
}

bool SessionModel::lessThan(int left, int right, int column) const
{
    const SessionSummary &a = m_rows.at(left).session;
    const SessionSummary &b = m_rows.at(right).session;
    int order = 0;
    switch (column) {
    case IdColumn:
        break;
    case UserColumn:
        order = compareText(a.user, b.user);
        break;
    case ClientColumn:
        order = compareText(a.clientName, b.clientName);
        break;
    case VersionColumn:
        order = compareText(a.clientVersion, b.clientVersion);
        break;
    case AddressColumn:
        order = compareText(a.remoteAddress, b.remoteAddress);
        break;
    case StateColumn:
        order = compare(severity(sessionState(a)), severity(sessionState(b)));
        break;
    case ConnectedSinceColumn:
        order = compare(a.connectedSinceMs, b.connectedSinceMs);
        break;
    case ReconnectsColumn:
        order = compare(a.reconnects, b.reconnects);
        break;
    case ResumesColumn:
        order = compare(a.resumes, b.resumes);
        break;
    case FallbacksColumn:
        order = compare(a.snapshotFallbacks, b.snapshotFallbacks);
        break;
    case LagColumn:
        order = compare(a.lag, b.lag);
        break;
    case QueueColumn:
        order = compare(a.queuedBytes, b.queuedBytes);
        if (order == 0)
            order = compare(a.owedDeltas, b.owedDeltas);
        break;
    case P50Column:
        order = compare(a.latencyP50Us, b.latencyP50Us);
        break;
    case P99Column:
        // A stale session's deliveries are late by three heartbeats and counting, whatever
        // its last samples said: worst first puts it above every p99.
        order = compare(a.staleNow && a.connected, b.staleNow && b.connected);
        break;
    case FramesColumn:
        order = compare(a.framesOut, b.framesOut);
        break;
    case BytesColumn:
        order = compare(a.bytesOut, b.bytesOut);
        break;
    case StaleTimeColumn:
        order = compare(a.staleMs, b.staleMs);
        break;
    case GapsColumn:
        order = compare(a.gaps, b.gaps);
        break;
    }
    if (order == 0 && column != IdColumn)
        order = compare(a.latencyP99Us, b.latencyP99Us);
    if (order == 0)
        order = compare(a.id, b.id);
    return order < 0;
}

bool SessionModel::matches(int row, const QStringList &words) const
{
    const Row &r = m_rows.at(row);
    for (const QString &word : words) {
        if (r.searchText.contains(word))
            continue;
        bool found = false;
        for (int column = ReconnectsColumn; column < ColumnCount && !found; ++column)
            found = numberText(r.session, column).contains(word, Qt::CaseInsensitive);
        if (!found)
            return false;
    }
    return true;
}

QString SessionModel::searchTextOf(const SessionSummary &session)
{
    const QString parts[] = {session.id, session.user, session.clientName, session.clientVersion,
        session.remoteAddress, sessionStateName(sessionState(session)),
        formatClockTime(session.connectedSinceMs)};
    QString text;
    for (const QString &part : parts)
        text += part.toLower() + QLatin1Char('\n');
    return text;
}

quint32 SessionModel::changedColumns(const SessionSummary &was, const SessionSummary &now)
{
    quint32 columns = 0;
    const auto mark = [&columns](bool differs, int column) {
        if (differs)
            columns |= bit(column);
    };
    // The id column's tool tip carries the creation time and the dropped telemetry.
    mark(was.createdMs != now.createdMs || was.telemetryDropped != now.telemetryDropped, IdColumn);
    mark(was.user != now.user, UserColumn);
    mark(was.clientName != now.clientName, ClientColumn);
    mark(was.clientVersion != now.clientVersion, VersionColumn);
    mark(was.remoteAddress != now.remoteAddress, AddressColumn);
    mark(was.connected != now.connected || was.staleNow != now.staleNow, StateColumn);
    mark(was.connectedSinceMs != now.connectedSinceMs, ConnectedSinceColumn);
    mark(was.reconnects != now.reconnects, ReconnectsColumn);
    mark(was.resumes != now.resumes, ResumesColumn);
    mark(was.snapshotFallbacks != now.snapshotFallbacks, FallbacksColumn);
    mark(was.lag != now.lag, LagColumn);
    mark(was.queuedBytes != now.queuedBytes || was.owedDeltas != now.owedDeltas, QueueColumn);
    // p99 empty or not decides the p50 cell's tool tip too.
    mark(was.latencyP50Us != now.latencyP50Us || (was.latencyP99Us == 0) != (now.latencyP99Us == 0),
        P50Column);
    mark(was.latencyP99Us != now.latencyP99Us, P99Column);
    mark(was.framesOut != now.framesOut, FramesColumn);
    mark(was.bytesOut != now.bytesOut, BytesColumn);
    mark(was.staleMs != now.staleMs, StaleTimeColumn);
    mark(was.gaps != now.gaps, GapsColumn);
    return columns;
}

void SessionModel::updateSessions(const QVector<SessionSummary> &sessions)
{
    m_lastUpdate = UpdateCounts();
    if (!m_filled) {
        fill(sessions);
        Q_EMIT sessionsUpdated();
        return;
    }

    // Match the list to the rows by id; what is not matched is new.
    QVector<int> rowOfIncoming(sessions.size(), -1);
    QVector<bool> seen(m_rows.size(), false);
    QVector<int> fresh;
    for (int i = 0; i < sessions.size(); ++i) {
        const int row = m_rowOfId.value(sessions.at(i).id, -1);
        if (row < 0) {
            fresh.append(i);
        } else if (!seen.at(row)) { // a repeated id in one list counts once
            seen[row] = true;
            rowOfIncoming[i] = row;
        }
    }

    // Vanished sessions go first, so that the changed rows are numbered as views see them.
    const int before = int(m_rows.size());
    QVector<int> shift; // old row -> rows removed above it
    if (std::find(seen.cbegin(), seen.cend(), false) != seen.cend()) {
        shift.resize(before);
        int removed = 0;
        for (int row = 0; row < before; ++row) {
            shift[row] = removed;
            removed += seen.at(row) ? 0 : 1;
        }
        removeRowsNotSeen(seen);
        m_lastUpdate.removed = removed;
    }

    QVector<Dirty> dirty;
    for (int i = 0; i < sessions.size(); ++i) {
        int row = rowOfIncoming.at(i);
        if (row < 0)
            continue;
        if (!shift.isEmpty())
            row -= shift.at(row);
        Row &r = m_rows[row];
        const quint32 columns = changedColumns(r.session, sessions.at(i));
        if (columns == 0)
            continue;
        r.session = sessions.at(i);
        if (columns & TextColumns)
            r.searchText = searchTextOf(r.session);
        dirty.append(Dirty {row, columns});
    }
    m_lastUpdate.changed = int(dirty.size());
    emitChanged(dirty);

    appendSessions(sessions, fresh);
    recount();
    Q_EMIT sessionsUpdated();
}

void SessionModel::fill(const QVector<SessionSummary> &sessions)
{
    if (sessions.isEmpty())
        return;
    beginResetModel();
    m_rows.clear();
    m_rows.reserve(sessions.size());
    m_rowOfId.clear();
    for (const SessionSummary &session : sessions) {
        if (m_rowOfId.contains(session.id))
            continue;
        m_rowOfId.insert(session.id, int(m_rows.size()));
        m_rows.append(Row {session, searchTextOf(session)});
    }
    recount();
    endResetModel();
    m_filled = true;
    m_lastUpdate.reset = true;
    m_lastUpdate.inserted = int(m_rows.size());
}

void SessionModel::removeRowsNotSeen(const QVector<bool> &seen)
{
    // From the bottom up, so that the rows above a removed range keep their numbers.
    int lowest = int(m_rows.size());
    int row = int(m_rows.size()) - 1;
    while (row >= 0) {
        if (seen.at(row)) {
            --row;
            continue;
        }
        const int last = row;
        while (row > 0 && !seen.at(row - 1))
            --row;
        beginRemoveRows(QModelIndex(), row, last);
        for (int r = row; r <= last; ++r)
            m_rowOfId.remove(m_rows.at(r).session.id);
        m_rows.remove(row, last - row + 1);
        endRemoveRows();
        lowest = row;
        --row;
    }
    reindex(lowest);
}

void SessionModel::reindex(int fromRow)
{
    for (int row = fromRow; row < m_rows.size(); ++row)
        m_rowOfId.insert(m_rows.at(row).session.id, row);
}

void SessionModel::emitChanged(QVector<Dirty> &dirty)
{
    if (dirty.isEmpty())
        return;
    std::sort(
        dirty.begin(), dirty.end(), [](const Dirty &a, const Dirty &b) { return a.row < b.row; });

    // When most rows changed (every latency moves once a second under load), one rectangle
    // over them all is cheaper for every view than thousands of small ones; still no reset.
    if (m_rows.size() >= WholeTableMinRows && dirty.size() > m_rows.size() / 2) {
        quint32 columns = 0;
        for (const Dirty &d : std::as_const(dirty))
            columns |= d.columns;
        emitRectangle(dirty.constFirst().row, dirty.constLast().row, columns);
        return;
    }

    // Otherwise one rectangle per run of adjacent rows, over the columns that changed in it.
    int first = 0;
    while (first < dirty.size()) {
        int last = first;
        quint32 columns = dirty.at(first).columns;
        while (last + 1 < dirty.size() && dirty.at(last + 1).row == dirty.at(last).row + 1)
            columns |= dirty.at(++last).columns;
        emitRectangle(dirty.at(first).row, dirty.at(last).row, columns);
        first = last + 1;
    }
}

void SessionModel::emitRectangle(int firstRow, int lastRow, quint32 columns)
{
    int left = 0;
    while (!(columns & bit(left)))
        ++left;
    int right = ColumnCount - 1;
    while (!(columns & bit(right)))
        --right;
    const quint32 spanned = (bit(right) | (bit(right) - 1)) & ~(bit(left) - 1);

    QList<int> roles = {Qt::DisplayRole, SortRole, Qt::ToolTipRole};
    if (spanned & ColouredColumns)
        roles << Qt::ForegroundRole;
    if (spanned & bit(StateColumn))
        roles << Qt::BackgroundRole << StateRole;
    Q_EMIT dataChanged(index(firstRow, left), index(lastRow, right), roles);
}

void SessionModel::appendSessions(
    const QVector<SessionSummary> &sessions, const QVector<int> &which)
{
    if (which.isEmpty())
        return;
    QVector<Row> rows;
    rows.reserve(which.size());
    QHash<QString, int> added;
    for (int i : which) {
        const SessionSummary &session = sessions.at(i);
        if (added.contains(session.id))
            continue;
        added.insert(session.id, int(m_rows.size() + rows.size()));
        rows.append(Row {session, searchTextOf(session)});
    }
    const int first = int(m_rows.size());
    beginInsertRows(QModelIndex(), first, first + int(rows.size()) - 1);
    m_rows.append(rows);
    m_rowOfId.insert(added);
    endInsertRows();
    m_lastUpdate.inserted = int(rows.size());
}

void SessionModel::recount()
{
    m_connected = m_retained = m_stale = 0;
    for (const Row &row : std::as_const(m_rows)) {
        switch (sessionState(row.session)) {
        case SessionState::Connected:
            ++m_connected;
            break;
        case SessionState::Stale:
            ++m_connected;
            ++m_stale;
            break;
        case SessionState::Retained:
            ++m_retained;
            break;
        }
    }
}

} // namespace OddsDesk
