#include "griddelegate.h"

#include "bookmodel.h"

#include <QAbstractProxyModel>
#include <QApplication>
#include <QKeyEvent>
#include <QLineEdit>
#include <QPainter>

#include <optional>

namespace OddsDesk {
namespace {

constexpr char SeenPriceProperty[] = "oddsdeskSeenPrice";

// The book model under any proxies, and \a index mapped down to it.
BookModel *bookModelOf(const QAbstractItemModel *model, QModelIndex *index)
{
    while (const auto *proxy = qobject_cast<const QAbstractProxyModel *>(model)) {
        *index = proxy->mapToSource(*index);
        model = proxy->sourceModel();
    }
    return qobject_cast<BookModel *>(const_cast<QAbstractItemModel *>(model));
}

// True when the row above \a index in the view belongs to the same event.
bool continuesEvent(const QModelIndex &index)
{
    if (index.row() == 0)
        return false;
    const QModelIndex first = index.siblingAtColumn(BookModel::EventColumn);
    const QModelIndex above = first.siblingAtRow(index.row() - 1);
    return above.data(BookModel::EventIdRole) == first.data(BookModel::EventIdRole);
}

} // namespace

GridDelegate::GridDelegate(QObject *parent)
    : QStyledItemDelegate(parent)
{ }

void GridDelegate::paint(
    QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const bool continues = continuesEvent(index);
    const int column = index.column();
    if (continues && (column == BookModel::EventColumn || column == BookModel::StartColumn)) {
        // The event repeats on every row of the model (a flat table filters and sorts
        // simply); on screen it shows once per group.
        QStyleOptionViewItem blank = option;
        initStyleOption(&blank, index);
        blank.text.clear();
        const QWidget *widget = option.widget;
        QStyle *style = widget ? widget->style() : QApplication::style();
        style->drawControl(QStyle::CE_ItemViewItem, &blank, painter, widget);
    } else {
        QStyledItemDelegate::paint(painter, option, index);
    }
    if (!continues && index.row() > 0) {
        painter->save();
        painter->setPen(option.palette.color(QPalette::Mid));
        painter->drawLine(option.rect.topLeft(), option.rect.topRight());
        painter->restore();
    }
}

QWidget *GridDelegate::createEditor(
    QWidget *parent, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    if (!BookModel::isPriceColumn(index.column()))
        return QStyledItemDelegate::createEditor(parent, option, index);

    // No validator: a validator would swallow keys silently, and the trader should be told
    // why "2.505" is not a price.
    auto *editor = new QLineEdit(parent);
    editor->setFrame(false);
    editor->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    editor->setPlaceholderText(tr("price"));
    m_editing.insert(editor, QPersistentModelIndex(index));
    connect(editor, &QObject::destroyed, this, [this](QObject *gone) { m_editing.remove(gone); });
    return editor;
}

void GridDelegate::setEditorData(QWidget *editor, const QModelIndex &index) const
{
    auto *line = qobject_cast<QLineEdit *>(editor);
    if (!line || !BookModel::isPriceColumn(index.column())) {
        QStyledItemDelegate::setEditorData(editor, index);
        return;
    }
    // The view calls this again whenever the cell changes; a price that moves while the
    // trader types must not overwrite what they typed. The first price is the one they saw.
    if (line->property(SeenPriceProperty).isValid())
        return;
    line->setProperty(SeenPriceProperty, index.data(BookModel::PriceRole));
    line->setText(index.data(Qt::EditRole).toString());
}

void GridDelegate::setModelData(
    QWidget *editor, QAbstractItemModel *model, const QModelIndex &index) const
{
    if (!qobject_cast<QLineEdit *>(editor) || !BookModel::isPriceColumn(index.column())) {
        QStyledItemDelegate::setModelData(editor, model, index);
        return;
    }
    commit(editor, index);
}

bool GridDelegate::commit(QWidget *editor, const QModelIndex &index) const
{
    auto *line = qobject_cast<QLineEdit *>(editor);
    if (!line || !index.isValid())
        return false;
    const Price seen = line->property(SeenPriceProperty).toUInt();
    QModelIndex sourceIndex = index;
    BookModel *book = bookModelOf(index.model(), &sourceIndex);
    if (!book)
        return const_cast<QAbstractItemModel *>(index.model())->setData(index, line->text());
    return book->submitPrice(
        sourceIndex, line->text(), seen == 0 ? std::nullopt : std::optional<Price>(seen));
}

bool GridDelegate::eventFilter(QObject *object, QEvent *event)
{
    if (event->type() == QEvent::KeyPress) {
        const auto *key = static_cast<QKeyEvent *>(event);
        const auto it = m_editing.constFind(object);
        if (it != m_editing.cend()
            && (key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter)) {
            auto *editor = static_cast<QWidget *>(object);
            if (commit(editor, *it)) {
                Q_EMIT closeEditor(editor, QAbstractItemDelegate::NoHint);
            } else if (auto *line = qobject_cast<QLineEdit *>(editor)) {
                line->selectAll(); // refused: the trader corrects it or presses Esc
            }
            return true;
        }
    }
    return QStyledItemDelegate::eventFilter(object, event);
}

} // namespace OddsDesk
