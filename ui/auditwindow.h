#pragma once

#include "audit.h"

#include <QAbstractTableModel>
#include <QWidget>

QT_BEGIN_NAMESPACE
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;
class QTimer;
QT_END_NAMESPACE

namespace OddsDesk {

class BookModel;
class Engine;

/// The audit log as a table: newest first, each line with its event, market and selection
/// named as the book names them now.
class AuditModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        TimeColumn,
        UserColumn,
        SourceColumn,
        EventColumn,
        MarketColumn,
        SelectionColumn,
        FieldColumn,
        OldColumn,
        NewColumn,
        BulkColumn,
        SequenceColumn,
        ColumnCount
    };

    /// \a book names the markets and selections; it must outlive the model.
    explicit AuditModel(const BookModel *book, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    /// Replaces the entries (given oldest first, as the store reads them).
    void setEntries(const QVector<AuditEntry> &entries);
    const AuditEntry &entry(int row) const { return m_entries.at(row); }

private:
    const BookModel *m_book;
    QVector<AuditEntry> m_entries; // newest first
};

/// The desk's audit log: who changed what, when, from which value to which, in which bulk
/// edit and under which sequence. Filters by text (a name, a user, a value), by user and by
/// time; exports what it shows to CSV. It reads the engine's log when shown, when a filter
/// changes and after each edit of the desk.
class AuditWindow : public QWidget
{
    Q_OBJECT

public:
    /// \a engine and \a book must outlive the window.
    AuditWindow(Engine *engine, const BookModel *book, QWidget *parent = nullptr);

    AuditModel *auditModel() const { return m_model; }
    QTableView *tableView() const { return m_table; }
    QLineEdit *textFilter() const { return m_text; }
    QLineEdit *userFilter() const { return m_user; }
    QComboBox *periodFilter() const { return m_period; }
    /// The line under the table: how many entries, or what went wrong.
    QString statusText() const;

    /// The filter the controls describe now.
    AuditFilter filter() const;
    /// Reads the log again with the current filter.
    void refresh();
    /// Writes what the filter selects to \a path as CSV; the result shows under the table.
    void exportTo(const QString &path);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void chooseExportFile();

    Engine *m_engine;
    AuditModel *m_model;
    QLineEdit *m_text;
    QLineEdit *m_user;
    QComboBox *m_period;
    QTableView *m_table;
    QLabel *m_status;
    QPushButton *m_export;
    QTimer *m_refreshTimer;
    quint64 m_request = 0;
};

} // namespace OddsDesk
