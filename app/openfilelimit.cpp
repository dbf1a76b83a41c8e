#include "openfilelimit.h"

#include <limits>

#include <sys/resource.h>

quint64 raiseOpenFileLimit(QString *warning)
{
    rlimit limit {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 0;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            limit = raised;
        } else if (warning) {
            *warning = QStringLiteral("could not raise the open-file limit from %1 to %2; going "
                                      "on with %1")
                           .arg(quint64(limit.rlim_cur))
                           .arg(quint64(limit.rlim_max));
        }
    }
    return limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<quint64>::max()
                                           : quint64(limit.rlim_cur);
}
