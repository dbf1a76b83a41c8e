#pragma once

#include "deskedit.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QVector>

class QAction;
class QWidget;

namespace OddsDesk {

class BookModel;
class Engine;

/// The desk's edits on their way to the engine: every price and status change the trader
/// makes passes here. It asks before sending a price that takes a market's margin below
/// 100 % (an arbitrage for punters) or above the desk's ceiling; it shows the trader both
/// values when the book moved since they looked, and lets them choose; it keeps the undo
/// history, bulk edits included, one step each.
///
/// Edits build on what the desk last sent, not only on what the window shows: a second
/// step of a price sent before the first one's answer arrived starts from the first step.
///
/// Questions are window-modal boxes opened on the window given with setWindow(); without
/// one, an edit that needs a question is refused with a sentence instead.
class DeskEditor : public QObject
{
    Q_OBJECT

public:
    /// \a engine and \a model must outlive the editor.
    DeskEditor(Engine *engine, BookModel *model, QObject *parent = nullptr);
    ~DeskEditor() override;

    void setWindow(QWidget *window);

    /// 120 %: above it a book is unusually greedy; the desk can choose another.
    static constexpr double DefaultMarginCeiling = 120.0;
    double marginCeiling() const { return m_marginCeiling; }
    void setMarginCeiling(double percent);

    /// Sends \a edit, after asking when a margin leaves 100 % to the ceiling. Returns false
    /// (and emits refused()) when it was not sent and will not be.
    bool submit(const DeskEdit &edit);

    // Bulk edits: one edit each, so one delta for clients and one step of undo.
    /// Moves each selection's price by \a ticks steps of the desk's ladder.
    bool shiftPrices(const QVector<quint32> &selectionIds, int ticks);
    /// Sets every market that can still change to \a status.
    bool setStatus(const QVector<quint32> &marketIds, MarketStatus status);
    /// Rescales each market's prices so that its margin is \a targetPercent, as near as the
    /// ladder allows.
    bool setMargin(const QVector<quint32> &marketIds, double targetPercent);

    /// The price of a selection as the desk's next edit sees it: the one last sent while
    /// its answer is awaited, else the one shown.
    Price currentPrice(quint32 selectionId) const;
    MarketStatus currentStatus(quint32 marketId) const;

    bool canUndo() const;
    bool canRedo() const;
    void undo();
    void redo();
    QAction *undoAction() const { return m_undo; }
    QAction *redoAction() const { return m_redo; }
    /// Edits sent whose answer has not come yet.
    int pendingCount() const { return int(m_pending.size()); }

Q_SIGNALS:
    /// An edit was not sent or not applied: a sentence for the trader.
    void refused(const QString &reason);
    /// An edit was applied; \a summary says what and under which sequence numbers.
    void applied(const QString &summary);

private:
    enum class Kind { New, Undo, Redo };
    struct Pending
    {
        Kind kind = Kind::New;
        DeskEdit edit;
    };

    bool send(const DeskEdit &edit, Kind kind);
    void onFinished(const EditResult &result);
    void askAboutConflict(const EditResult &result, const Pending &pending);
    QString marginWarning(const DeskEdit &edit) const;
    QString describeConflict(const EditConflict &conflict) const;
    QString marketLabel(quint32 marketId) const;
    void updateActions();
    bool refuse(const QString &reason);

    Engine *m_engine;
    BookModel *m_model;
    QPointer<QWidget> m_window;
    double m_marginCeiling = DefaultMarginCeiling;
    QHash<quint64, Pending> m_pending; // by request id
    QHash<quint32, Price> m_sentPrices; // selection id -> price awaiting its answer
    QHash<quint32, MarketStatus> m_sentStatuses; // market id -> status awaiting its answer
    QVector<DeskEdit> m_history; // what was applied, oldest first
    int m_done = 0; // how many of m_history are in effect; the rest can be redone
    QAction *m_undo;
    QAction *m_redo;
};

} // namespace OddsDesk
