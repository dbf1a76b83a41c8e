#include "filteredit.h"

#include <QKeyEvent>

namespace OddsDesk {

void FilterEdit::keyPressEvent(QKeyEvent *event)
{
    if (next
        && (event->key() == Qt::Key_Down || event->key() == Qt::Key_Return
            || event->key() == Qt::Key_Enter)) {
        next->setFocus(Qt::TabFocusReason);
        return;
    }
    if (event->key() == Qt::Key_Escape && !text().isEmpty()) {
        clear();
        return;
    }
    QLineEdit::keyPressEvent(event);
}

} // namespace OddsDesk
