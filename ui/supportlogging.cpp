#include "supportlogging.h"

Q_LOGGING_CATEGORY(lcUiInspector, "oddsdesk.ui.inspector", QtWarningMsg)
Q_LOGGING_CATEGORY(lcUiDashboard, "oddsdesk.ui.dashboard", QtWarningMsg)
