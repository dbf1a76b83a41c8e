#pragma once

#include <QLoggingCategory>

// The support desk's categories, beside the desk's own in uilogging.h; warnings by default.
Q_DECLARE_LOGGING_CATEGORY(lcUiInspector) // oddsdesk.ui.inspector: sessions, details, actions
Q_DECLARE_LOGGING_CATEGORY(lcUiDashboard) // oddsdesk.ui.dashboard
