#include "uilogging.h"

Q_LOGGING_CATEGORY(lcUiGrid, "oddsdesk.ui.grid", QtWarningMsg)
Q_LOGGING_CATEGORY(lcUiCharts, "oddsdesk.ui.charts", QtWarningMsg)
Q_LOGGING_CATEGORY(lcUiWindow, "oddsdesk.ui.window", QtWarningMsg)
