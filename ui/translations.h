#pragma once

class QCoreApplication;

namespace OddsDesk {

/// Installs the desk's English translation on \a app: the singular and plural of every
/// "%n" string ("1 entry", "2 entries"). The UI's text is English already, but Qt chooses
/// between the forms of a "%n" string only through a translation; without one every count
/// reads as a plural. Returns false, with a warning logged, if it could not be loaded.
bool installTranslations(QCoreApplication *app);

} // namespace OddsDesk
