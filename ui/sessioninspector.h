#pragma once

#include <QHash>
#include <QPointer>
#include <QWidget>

QT_BEGIN_NAMESPACE
class QAction;
class QLabel;
class QLineEdit;
class QTableView;
QT_END_NAMESPACE

namespace OddsDesk {

class Engine;
class SessionDetailWindow;
class SessionFilterModel;
class SessionModel;

/// The support desk's list of every session, connected and retained, worst first: find one
/// by session id, user, client, address or any figure, and open its detail. The list is the
/// engine's, refreshed once a second, and only while this window is visible: nobody pays
/// for 20,000 summaries a second when nobody is looking.
///
/// Keys: type in the search box to narrow (Ctrl+F goes there, Down or Enter comes back to
/// the table); Enter or a double-click on a row opens the session's detail window.
class SessionInspector : public QWidget
{
    Q_OBJECT

public:
    /// \a engine must outlive the inspector.
    explicit SessionInspector(Engine *engine, QWidget *parent = nullptr);
    ~SessionInspector() override;

    SessionModel *sessionModel() const { return m_model; }
    SessionFilterModel *filterModel() const { return m_proxy; }
    QTableView *tableView() const { return m_table; }
    QLineEdit *searchEdit() const { return m_search; }
    /// The line over the table: how many sessions, in which states, how many shown.
    QString summaryText() const;
    bool isWatching() const { return m_watching; }

    /// The session of the table's current row; empty when none.
    QString currentSessionId() const;
    /// Opens the session's detail window, or raises it if it is open.
    SessionDetailWindow *openDetail(const QString &sessionId);
    /// The session's open detail window, or null.
    SessionDetailWindow *detailWindow(const QString &sessionId) const;
    /// Makes the session's row current, clearing a search that hides it, and opens its
    /// detail: how the dashboard hands a session over.
    SessionDetailWindow *showSession(const QString &sessionId);

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void buildActions();
    void setColumnWidths();
    void setWatching(bool watching);
    void selectSession(const QString &sessionId);
    void updateSummary();
    void showContextMenu(const QPoint &position);

    Engine *m_engine;
    SessionModel *m_model;
    SessionFilterModel *m_proxy;
    QLineEdit *m_search = nullptr;
    QLabel *m_summary = nullptr;
    QTableView *m_table = nullptr;
    QAction *m_openDetail = nullptr;
    QAction *m_copyId = nullptr;
    QHash<QString, QPointer<SessionDetailWindow>> m_details;
    QString m_pendingSelection; // asked for before the engine's list had it
    bool m_watching = false;
};

} // namespace OddsDesk
