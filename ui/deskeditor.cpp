#include "deskeditor.h"

#include "bookmodel.h"
#include "engine.h"
#include "uilogging.h"

#include <QAction>
#include <QMessageBox>
#include <QPushButton>
#include <QSet>
#include <QWidget>

namespace OddsDesk {
namespace {

// More lines than this in a question and the rest are counted, not listed.
constexpr int LinesListed = 12;

QString listed(const QStringList &lines)
{
    QStringList shown = lines.mid(0, LinesListed);
    if (lines.size() > LinesListed)
        shown << QObject::tr("... and %1 more").arg(lines.size() - LinesListed);
    return shown.join(QLatin1Char('\n'));
}

QString statusText(MarketStatus status)
{
    QString name = statusName(status);
    if (!name.isEmpty())
        name[0] = name.at(0).toUpper();
    return name;
}

} // namespace

DeskEditor::DeskEditor(Engine *engine, BookModel *model, QObject *parent)
    : QObject(parent)
    , m_engine(engine)
    , m_model(model)
    , m_undo(new QAction(tr("&Undo"), this))
    , m_redo(new QAction(tr("&Redo"), this))
{
    m_undo->setObjectName(QStringLiteral("undoAction"));
    m_undo->setShortcut(QKeySequence::Undo);
    m_redo->setObjectName(QStringLiteral("redoAction"));
    m_redo->setShortcuts(
        {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
    connect(m_undo, &QAction::triggered, this, &DeskEditor::undo);
    connect(m_redo, &QAction::triggered, this, &DeskEditor::redo);
    connect(m_engine, &Engine::editFinished, this, &DeskEditor::onFinished);
    // A new book makes the history meaningless: its selections are other selections.
    connect(m_engine, &Engine::bookReset, this, [this] {
        m_history.clear();
        m_done = 0;
        updateActions();
    });
    updateActions();
}

DeskEditor::~DeskEditor() = default;

void DeskEditor::setWindow(QWidget *window)
{
    m_window = window;
}

void DeskEditor::setMarginCeiling(double percent)
{
    m_marginCeiling = percent;
}

bool DeskEditor::refuse(const QString &reason)
{
    qCInfo(lcUiGrid) << "edit refused:" << reason;
    Q_EMIT refused(reason);
    return false;
}

Price DeskEditor::currentPrice(quint32 selectionId) const
{
    const auto sent = m_sentPrices.constFind(selectionId);
    if (sent != m_sentPrices.cend())
        return *sent;
    const MarketInfo *market = m_model->marketOfSelection(selectionId);
    const SelectionInfo *selection = market ? market->selection(selectionId) : nullptr;
    return selection ? selection->price : 0;
}

MarketStatus DeskEditor::currentStatus(quint32 marketId) const
{
    const auto sent = m_sentStatuses.constFind(marketId);
    if (sent != m_sentStatuses.cend())
        return *sent;
    const MarketInfo *market = m_model->market(marketId);
    return market ? market->status : MarketStatus::Unknown;
}

QString DeskEditor::marketLabel(quint32 marketId) const
{
    const MarketInfo *market = m_model->market(marketId);
    if (!market)
        return tr("market %1").arg(marketId);
    const EventInfo *event = m_model->eventOfRow(m_model->rowOfMarket(marketId));
    return event ? tr("%1, %2").arg(event->name, market->name) : market->name;
}

bool DeskEditor::shiftPrices(const QVector<quint32> &selectionIds, int ticks)
{
    if (ticks == 0 || selectionIds.isEmpty())
        return false;
    DeskEdit edit;
    const QString steps = std::abs(ticks) == 1 ? tr("1 tick") : tr("%1 ticks").arg(std::abs(ticks));
    const QString way = ticks > 0 ? tr("up %1").arg(steps) : tr("down %1").arg(steps);
    QString atEnd;
    for (quint32 id : selectionIds) {
        const MarketInfo *market = m_model->marketOfSelection(id);
        if (!market || market->status == MarketStatus::Closed)
            continue;
        const Price from = currentPrice(id);
        if (from == 0)
            continue;
        const Price to = m_model->ladder().step(from, ticks);
        if (to == from) {
            atEnd = ticks > 0
                ? tr("%1 is the longest price the ladder has.").arg(formatDecimal(to))
                : tr("%1 is the shortest price the ladder has.").arg(formatDecimal(to));
            continue;
        }
        edit.prices.append({id, to, from});
    }
    if (edit.isEmpty())
        return refuse(atEnd.isEmpty() ? tr("No price there can change.") : atEnd);
    if (edit.prices.size() == 1) {
        const DeskEdit::PriceChange &change = edit.prices.constFirst();
        const MarketInfo *market = m_model->marketOfSelection(change.selectionId);
        edit.description = tr("%1 %2 to %3")
                               .arg(market->selection(change.selectionId)->name, way,
                                   formatDecimal(change.price));
    } else {
        edit.description = tr("Shift %1 prices %2").arg(edit.prices.size()).arg(way);
    }
    return submit(edit);
}

bool DeskEditor::setStatus(const QVector<quint32> &marketIds, MarketStatus status)
{
    DeskEdit edit;
    for (quint32 id : marketIds) {
        const MarketStatus now = currentStatus(id);
        if (now == MarketStatus::Closed || now == MarketStatus::Unknown || now == status)
            continue;
        edit.statuses.append({id, status, now});
    }
    if (edit.isEmpty()) {
        return refuse(status == MarketStatus::Open ? tr("No market there can reopen.")
                                                   : tr("No market there is open."));
    }
    const int n = int(edit.statuses.size());
    edit.description = status == MarketStatus::Suspended
        ? (n == 1 ? tr("Suspend %1").arg(marketLabel(edit.statuses.constFirst().marketId))
                  : tr("Suspend %1 markets").arg(n))
        : (n == 1 ? tr("Reopen %1").arg(marketLabel(edit.statuses.constFirst().marketId))
                  : tr("Reopen %1 markets").arg(n));
    return submit(edit);
}

bool DeskEditor::setMargin(const QVector<quint32> &marketIds, double targetPercent)
{
    DeskEdit edit;
    for (quint32 id : marketIds) {
        const MarketInfo *shown = m_model->market(id);
        if (!shown || shown->status == MarketStatus::Closed)
            continue;
        MarketInfo market = *shown;
        for (SelectionInfo &s : market.selections)
            s.price = currentPrice(s.id);
        const QVector<Price> prices = pricesForMargin(market, targetPercent, m_model->ladder());
        for (int i = 0; i < prices.size(); ++i) {
            const SelectionInfo &s = market.selections.at(i);
            if (prices.at(i) != s.price)
                edit.prices.append({s.id, prices.at(i), s.price});
        }
    }
    if (edit.isEmpty())
        return refuse(tr("Those markets are already at %1 %, as near as the ladder allows.")
                          .arg(targetPercent, 0, 'f', 1));
    edit.description = marketIds.size() == 1
        ? tr("Margin to %1 % on %2")
              .arg(targetPercent, 0, 'f', 1)
              .arg(marketLabel(marketIds.constFirst()))
        : tr("Margin to %1 % on %2 markets").arg(targetPercent, 0, 'f', 1).arg(marketIds.size());
    return submit(edit);
}

// What the margin check has to say about \a edit, or an empty string when nothing. A market
// already outside the range that the edit brings nearer to it is not questioned again.
QString DeskEditor::marginWarning(const DeskEdit &edit) const
{
    QHash<quint32, QHash<quint32, Price>> byMarket; // market -> selection -> new price
    QVector<quint32> order;
    for (const DeskEdit::PriceChange &change : edit.prices) {
        const MarketInfo *market = m_model->marketOfSelection(change.selectionId);
        if (!market)
            continue;
        if (!byMarket.contains(market->id))
            order.append(market->id);
        byMarket[market->id].insert(change.selectionId, change.price);
    }
    const auto outside = [this](double margin) {
        return margin < 100.0 ? 100.0 - margin
                              : (margin > m_marginCeiling ? margin - m_marginCeiling : 0.0);
    };
    QStringList lines;
    for (quint32 marketId : std::as_const(order)) {
        const MarketInfo *market = m_model->market(marketId);
        QVector<Price> before;
        QVector<Price> after;
        for (const SelectionInfo &s : market->selections) {
            const Price now = currentPrice(s.id);
            before.append(now);
            after.append(byMarket.value(marketId).value(s.id, now));
        }
        if (before.contains(0) || after.contains(0))
            continue; // a market not fully priced has no margin to speak of
        const double was = marginPercent(before);
        const double will = marginPercent(after);
        if (outside(will) == 0.0 || outside(will) < outside(was))
            continue;
        const QString label = marketLabel(marketId);
        const QString margin = QString::number(will, 'f', 1);
        if (will < 100.0) {
            lines << tr("%1: %2 % (below 100 %: punters could back every outcome and win)")
                         .arg(label, margin);
        } else {
            lines << tr("%1: %2 % (above the desk's ceiling of %3 %)")
                         .arg(label, margin, QString::number(m_marginCeiling, 'f', 1));
        }
    }
    return listed(lines);
}

bool DeskEditor::submit(const DeskEdit &edit)
{
    if (edit.isEmpty())
        return false;
    const QString warning = marginWarning(edit);
    if (warning.isEmpty())
        return send(edit, Kind::New);
    if (!m_window)
        return refuse(tr("Not sent: it would leave a margin outside 100 % to %1 %.")
                          .arg(m_marginCeiling, 0, 'f', 1));

    auto *box = new QMessageBox(QMessageBox::Warning, tr("Margin out of range"),
        tr("This edit would give these margins:"), QMessageBox::NoButton, m_window);
    box->setObjectName(QStringLiteral("marginConfirmation"));
    box->setInformativeText(warning + QStringLiteral("\n\n") + tr("Send it anyway?"));
    QPushButton *sendButton = box->addButton(tr("&Send anyway"), QMessageBox::AcceptRole);
    QPushButton *cancel = box->addButton(QMessageBox::Cancel);
    box->setDefaultButton(cancel);
    box->setEscapeButton(cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::finished, this, [this, box, sendButton, edit] {
        if (box->clickedButton() == sendButton) {
            qCInfo(lcUiGrid) << "margin out of range, sent on the trader's word:"
                             << edit.description;
            send(edit, Kind::New);
        } else {
            refuse(tr("Not sent: the margin would have left 100 % to %1 %.")
                       .arg(m_marginCeiling, 0, 'f', 1));
        }
    });
    box->open();
    return true;
}

bool DeskEditor::send(const DeskEdit &edit, Kind kind)
{
    qCInfo(lcUiGrid).noquote() << "edit:" << edit.description << "," << edit.size() << "changes";
    const quint64 id = m_engine->submitEdit(edit);
    m_pending.insert(id, Pending {kind, edit});
    for (const DeskEdit::PriceChange &change : edit.prices)
        m_sentPrices.insert(change.selectionId, change.price);
    for (const DeskEdit::StatusChange &change : edit.statuses)
        m_sentStatuses.insert(change.marketId, change.status);
    updateActions();
    return true;
}

void DeskEditor::onFinished(const EditResult &result)
{
    const auto found = m_pending.constFind(result.requestId);
    if (found == m_pending.cend())
        return; // another editor's, or a command of the engine's own
    const Pending pending = *found;
    m_pending.erase(found);
    // The answer is in, and the book the window shows already holds it.
    for (const DeskEdit::PriceChange &change : pending.edit.prices) {
        if (m_sentPrices.value(change.selectionId) == change.price)
            m_sentPrices.remove(change.selectionId);
    }
    for (const DeskEdit::StatusChange &change : pending.edit.statuses) {
        if (m_sentStatuses.value(change.marketId, MarketStatus::Unknown) == change.status)
            m_sentStatuses.remove(change.marketId);
    }

    if (!result.applied) {
        if (!result.conflicts.isEmpty())
            askAboutConflict(result, pending);
        else
            refuse(result.error);
        updateActions();
        return;
    }
    if (!result.done.isEmpty()) {
        switch (pending.kind) {
        case Kind::New:
            m_history.resize(m_done);
            m_history.append(result.done);
            m_done = int(m_history.size());
            break;
        case Kind::Undo:
            --m_done;
            break;
        case Kind::Redo:
            m_history[m_done] = result.done;
            ++m_done;
            break;
        }
        const QString what = pending.kind == Kind::Undo
            ? tr("Undone: %1").arg(result.done.description)
            : result.done.description;
        Q_EMIT applied(result.firstSequence == result.lastSequence
                ? tr("%1 (sequence %2)").arg(what).arg(result.lastSequence)
                : tr("%1: %2 changes in one delta (sequences %3 to %4)")
                      .arg(what)
                      .arg(result.done.size())
                      .arg(result.firstSequence)
                      .arg(result.lastSequence));
    }
    updateActions();
}

QString DeskEditor::describeConflict(const EditConflict &conflict) const
{
    const QString where = marketLabel(conflict.marketId);
    if (conflict.selectionId == 0) {
        return tr("%1: you saw it %2, it is now %3; you chose %4.")
            .arg(where, statusText(conflict.seenStatus).toLower(),
                statusText(conflict.currentStatus).toLower(),
                statusText(conflict.wantedStatus).toLower());
    }
    return tr("%1, %2: you saw %3, it is now %4; you set %5.")
        .arg(where, conflict.selectionName, formatDecimal(conflict.seenPrice),
            formatDecimal(conflict.currentPrice), formatDecimal(conflict.wantedPrice));
}

void DeskEditor::askAboutConflict(const EditResult &result, const Pending &pending)
{
    QStringList lines;
    for (const EditConflict &c : result.conflicts)
        lines << describeConflict(c);
    const QString summary = listed(lines);
    qCInfo(lcUiGrid).noquote() << "the book moved before the edit arrived:" << summary;
    Q_EMIT refused(tr("Not applied, the book moved: %1").arg(lines.constFirst()));
    if (!m_window)
        return;

    // The same edit, against what the book holds now: what "send mine" sends.
    DeskEdit again = pending.edit;
    for (const EditConflict &c : result.conflicts) {
        for (DeskEdit::PriceChange &change : again.prices) {
            if (c.selectionId != 0 && change.selectionId == c.selectionId)
                change.seen = c.currentPrice;
        }
        for (DeskEdit::StatusChange &change : again.statuses) {
            if (c.selectionId == 0 && change.marketId == c.marketId)
                change.seen = c.currentStatus;
        }
    }
    auto *box = new QMessageBox(QMessageBox::Question, tr("The book moved"),
        tr("Nothing of \"%1\" was applied: the book changed after you looked.")
            .arg(pending.edit.description),
        QMessageBox::NoButton, m_window);
    box->setObjectName(QStringLiteral("editConflict"));
    box->setInformativeText(summary);
    QPushButton *mine = box->addButton(tr("Send &mine"), QMessageBox::AcceptRole);
    QPushButton *keep = box->addButton(tr("&Keep the book's"), QMessageBox::RejectRole);
    box->setDefaultButton(keep);
    box->setEscapeButton(keep);
    box->setAttribute(Qt::WA_DeleteOnClose);
    const Kind kind = pending.kind;
    connect(box, &QMessageBox::finished, this, [this, box, mine, again, kind] {
        if (box->clickedButton() != mine) {
            qCInfo(lcUiGrid) << "conflict: the trader kept the book's values";
            return;
        }
        qCInfo(lcUiGrid) << "conflict: the trader sends their values over the book's";
        if (kind == Kind::New) {
            submit(again); // the margin check again, against the book as it is now
        } else {
            send(again, kind);
        }
    });
    box->open();
}

bool DeskEditor::canUndo() const
{
    return m_done > 0 && m_pending.isEmpty();
}

bool DeskEditor::canRedo() const
{
    return m_done < m_history.size() && m_pending.isEmpty();
}

void DeskEditor::undo()
{
    if (!canUndo())
        return;
    DeskEdit inverse = m_history.at(m_done - 1).inverse();
    send(inverse, Kind::Undo);
}

void DeskEditor::redo()
{
    if (!canRedo())
        return;
    send(m_history.at(m_done), Kind::Redo);
}

void DeskEditor::updateActions()
{
    m_undo->setEnabled(canUndo());
    m_redo->setEnabled(canRedo());
    m_undo->setText(
        m_done > 0 ? tr("&Undo %1").arg(m_history.at(m_done - 1).description) : tr("&Undo"));
    m_redo->setText(m_done < m_history.size() ? tr("&Redo %1").arg(m_history.at(m_done).description)
                                              : tr("&Redo"));
}

} // namespace OddsDesk
