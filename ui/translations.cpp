#include "translations.h"

#include "uilogging.h"

#include <QCoreApplication>
#include <QTranslator>

namespace OddsDesk {

bool installTranslations(QCoreApplication *app)
{
    auto *translator = new QTranslator(app);
    if (!translator->load(QStringLiteral(":/i18n/oddsdesk_en.qm"))) {
        qCWarning(lcUiWindow) << "the English plural forms could not be loaded: counts of one"
                              << "read as plurals";
        delete translator;
        return false;
    }
    return QCoreApplication::installTranslator(translator);
}

} // namespace OddsDesk
