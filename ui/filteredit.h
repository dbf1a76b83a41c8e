#pragma once

#include <QLineEdit>

namespace OddsDesk {

/// A search or filter box above a view: Down or Enter hands the keyboard to the view
/// (\c next), Esc clears what was typed.
class FilterEdit : public QLineEdit
{
public:
    using QLineEdit::QLineEdit;

    QWidget *next = nullptr;

protected:
    void keyPressEvent(QKeyEvent *event) override;
};

} // namespace OddsDesk
