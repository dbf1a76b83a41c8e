#pragma once

#include <QLoggingCategory>

// One category per part of the desk's UI; warnings by default, like the engine's.
Q_DECLARE_LOGGING_CATEGORY(lcUiGrid) // oddsdesk.ui.grid: the market grid and its edits
Q_DECLARE_LOGGING_CATEGORY(lcUiCharts) // oddsdesk.ui.charts
Q_DECLARE_LOGGING_CATEGORY(lcUiWindow) // oddsdesk.ui.window: imports, feed commands
