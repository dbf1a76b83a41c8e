#pragma once

#include <QHash>
#include <QPersistentModelIndex>
#include <QStyledItemDelegate>

namespace OddsDesk {

/// Paints and edits the market grid's cells. An event's name and start show on its first
/// row only, under a line that separates it from the event above. The price editor remembers the
/// price the trader saw when they started typing and sends it with the edit, so the engine can
/// refuse a price typed over a value that has moved since. Enter with an unreadable price keeps the
/// editor open with the text selected (the model says why); Esc cancels; leaving the cell commits.
class GridDelegate : public QStyledItemDelegate
{
    Q_OBJECT

public:
    explicit GridDelegate(QObject *parent = nullptr);

    void paint(QPainter *painter, const QStyleOptionViewItem &option,
        const QModelIndex &index) const override;
    QWidget *createEditor(QWidget *parent, const QStyleOptionViewItem &option,
        const QModelIndex &index) const override;
    void setEditorData(QWidget *editor, const QModelIndex &index) const override;
    void setModelData(
        QWidget *editor, QAbstractItemModel *model, const QModelIndex &index) const override;
    /// Whether a price editor is open.
    bool isEditing() const { return !m_editing.isEmpty(); }

protected:
    bool eventFilter(QObject *object, QEvent *event) override;

private:
    bool commit(QWidget *editor, const QModelIndex &index) const;

    // Open editors and the cell each edits, for Enter, which arrives without an index.
    mutable QHash<QObject *, QPersistentModelIndex> m_editing;
};

} // namespace OddsDesk
