#include "auditwindow.h"

#include "bookmodel.h"
#include "engine.h"
#include "filteredit.h"
#include "uilogging.h"

#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QStandardPaths>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace OddsDesk {
namespace {

// 250 ms: typing a name reads the log once, after the trader pauses.
constexpr int RefreshDelayMs = 250;
// The newest entries shown; the export holds everything the filter selects.
constexpr int ShownEntries = 5000;

enum Period { LastHour, Today, AllTime };

} // namespace

AuditModel::AuditModel(const BookModel *book, QObject *parent)
    : QAbstractTableModel(parent)
    , m_book(book)
{ }

int AuditModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

int AuditModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

void AuditModel::setEntries(const QVector<AuditEntry> &entries)
{
    beginResetModel();
    m_entries.clear();
    m_entries.reserve(entries.size());
    std::copy(entries.crbegin(), entries.crend(), std::back_inserter(m_entries));
    endResetModel();
}

QVariant AuditModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return QVariant();
    const AuditEntry &e = m_entries.at(index.row());
    if (role == Qt::TextAlignmentRole) {
        const bool number = index.column() == BulkColumn || index.column() == SequenceColumn
            || index.column() == OldColumn || index.column() == NewColumn;
        return QVariant::fromValue(Qt::AlignVCenter | (number ? Qt::AlignRight : Qt::AlignLeft));
    }
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return QVariant();

    const MarketInfo *market = m_book->market(e.marketId);
    switch (index.column()) {
    case TimeColumn:
        return role == Qt::ToolTipRole
            ? QDateTime::fromMSecsSinceEpoch(e.timeMs).toUTC().toString(Qt::ISODateWithMs)
            : QDateTime::fromMSecsSinceEpoch(e.timeMs).toString(
                QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    case UserColumn:
        return e.user;
    case SourceColumn:
        return e.source;
    case EventColumn: {
        const EventInfo *event = m_book->eventOfRow(m_book->rowOfMarket(e.marketId));
        return event ? event->name : QString();
    }
    case MarketColumn:
        // An import's entry is about the whole book, not one market.
        if (e.marketId == 0)
            return QString();
        return market ? market->name : QString::number(e.marketId);
    case SelectionColumn: {
        if (e.selectionId == 0)
            return QString();
        const SelectionInfo *selection = market ? market->selection(e.selectionId) : nullptr;
        return selection ? selection->name : QString::number(e.selectionId);
    }
    case FieldColumn:
        return e.field;
    case OldColumn:
        return e.oldValue;
    case NewColumn:
        return e.newValue;
    case BulkColumn:
        return e.bulkId ? QVariant(e.bulkId) : QVariant();
    case SequenceColumn:
        return e.sequence;
    default:
        return QVariant();
    }
}

QVariant AuditModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QVariant();
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case UserColumn:
        return tr("User");
    case SourceColumn:
        return tr("Source");
    case EventColumn:
        return tr("Event");
    case MarketColumn:
        return tr("Market");
    case SelectionColumn:
        return tr("Selection");
    case FieldColumn:
        return tr("Field");
    case OldColumn:
        return tr("Old");
    case NewColumn:
        return tr("New");
    case BulkColumn:
        return tr("Bulk edit");
    case SequenceColumn:
        return tr("Sequence");
    default:
        return QVariant();
    }
}

AuditWindow::AuditWindow(Engine *engine, const BookModel *book, QWidget *parent)
    : QWidget(parent, Qt::Window)
    , m_engine(engine)
    , m_model(new AuditModel(book, this))
    , m_text(new FilterEdit(this))
    , m_user(new QLineEdit(this))
    , m_period(new QComboBox(this))
    , m_table(new QTableView(this))
    , m_status(new QLabel(this))
    , m_export(new QPushButton(tr("&Export CSV..."), this))
    , m_refreshTimer(new QTimer(this))
{
    setObjectName(QStringLiteral("auditWindow"));
    setWindowTitle(tr("Audit log - OddsDesk"));
    static_cast<FilterEdit *>(m_text)->next = m_table;
    m_text->setPlaceholderText(tr("Event, market, selection, value or user"));
    m_text->setClearButtonEnabled(true);
    m_user->setPlaceholderText(tr("User"));
    m_user->setClearButtonEnabled(true);
    m_period->addItem(tr("Last hour"), LastHour);
    m_period->addItem(tr("Today"), Today);
    m_period->addItem(tr("All time"), AllTime);
    m_period->setCurrentIndex(AllTime);

    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setAlternatingRowColors(true);
    // Widths from the font, as in the grid: every column fits in the window's width.
    const QFontMetrics metrics = m_table->fontMetrics();
    const auto chars = [&metrics](int count) {
        return metrics.horizontalAdvance(QLatin1Char('n')) * count + 12;
    };
    const int widths[AuditModel::ColumnCount] = {
        metrics.horizontalAdvance(QStringLiteral("2026-12-31 23:59:59")) + 16, chars(10), chars(7),
        chars(24), chars(18), chars(14), chars(6), chars(9), chars(9), chars(7), chars(8)};
    for (int column = 0; column < AuditModel::ColumnCount; ++column)
        m_table->horizontalHeader()->resizeSection(column, widths[column]);

    m_refreshTimer->setSingleShot(true);
    m_refreshTimer->setInterval(RefreshDelayMs);
    connect(m_refreshTimer, &QTimer::timeout, this, &AuditWindow::refresh);
    connect(m_text, &QLineEdit::textChanged, m_refreshTimer, qOverload<>(&QTimer::start));
    connect(m_user, &QLineEdit::textChanged, m_refreshTimer, qOverload<>(&QTimer::start));
    connect(m_period, &QComboBox::currentIndexChanged, this, &AuditWindow::refresh);
    connect(m_export, &QPushButton::clicked, this, &AuditWindow::chooseExportFile);
    // A desk edit is in the log before its answer arrives: the log shown follows the desk.
    connect(m_engine, &Engine::editFinished, this, [this](const EditResult &result) {
        if (result.applied && isVisible())
            m_refreshTimer->start();
    });
    connect(m_engine, &Engine::auditReady, this,
        [this](quint64 id, const QVector<AuditEntry> &entries, const QString &error) {
            if (id != m_request)
                return;
            m_model->setEntries(entries);
            if (!error.isEmpty()) {
                m_status->setText(tr("The audit log could not be read: %1").arg(error));
            } else {
                m_status->setText(entries.size() >= ShownEntries
                        ? tr("The newest %1 entries; the export holds every one.")
                              .arg(entries.size())
                        : tr("%n entries", nullptr, int(entries.size())));
            }
        });
    connect(m_engine, &Engine::auditExported, this,
        [this](const QString &path, int entries, const QString &error) {
            if (!error.isEmpty()) {
                qCWarning(lcUiWindow) << "audit export failed:" << error;
                m_status->setText(tr("Not exported: %1").arg(error));
                return;
            }
            qCInfo(lcUiWindow) << "audit log exported to" << path;
            m_status->setText(tr("Exported %n entries to %1", nullptr, entries)
                                  .arg(QDir::toNativeSeparators(path)));
        });

    auto *filters = new QHBoxLayout;
    filters->addWidget(m_text, 3);
    filters->addWidget(m_user, 1);
    filters->addWidget(m_period);
    filters->addWidget(m_export);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(filters);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_status);
    resize(1280, 600);
}

QString AuditWindow::statusText() const
{
    return m_status->text();
}

AuditFilter AuditWindow::filter() const
{
    AuditFilter filter;
    filter.text = m_text->text().trimmed();
    filter.user = m_user->text().trimmed();
    const QDateTime now = QDateTime::currentDateTime();
    switch (m_period->currentData().toInt()) {
    case LastHour:
        filter.fromMs = now.addSecs(-3600).toMSecsSinceEpoch();
        break;
    case Today:
        filter.fromMs = QDateTime(now.date(), QTime(0, 0)).toMSecsSinceEpoch();
        break;
    default:
        break;
    }
    filter.limit = ShownEntries;
    return filter;
}

void AuditWindow::refresh()
{
    m_refreshTimer->stop();
    m_request = m_engine->requestAudit(filter());
}

void AuditWindow::exportTo(const QString &path)
{
    AuditFilter all = filter();
    all.limit = 0;
    m_status->setText(tr("Exporting to %1...").arg(QDir::toNativeSeparators(path)));
    m_engine->exportAudit(all, path);
}

void AuditWindow::chooseExportFile()
{
    const QString suggested
        = QDir(QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation))
              .filePath(QStringLiteral("oddsdesk-audit-%1.csv")
                            .arg(QDate::currentDate().toString(Qt::ISODate)));
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export audit log"), suggested, tr("CSV files (*.csv);;All files (*)"));
    if (!path.isEmpty())
        exportTo(path);
}

void AuditWindow::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh();
}

} // namespace OddsDesk
