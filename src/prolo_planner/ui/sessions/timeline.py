"""A patient's sessions, latest first: what was done, how much, pain before and after, and the
actions on a session (open, sign, amend, compare), with the course charted underneath."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QBrush, QFont, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.catalog import region_name
from prolo_planner.store.records import Patient, TimelineRow
from prolo_planner.store.repository import Repository
from prolo_planner.ui import theme
from prolo_planner.ui.sessions.pain_chart import PainChart
from prolo_planner.ui.sessions.session_text import (
    ShownState,
    anaesthetic_text,
    done_text,
    given_text,
    pain_text,
    patient_line,
    session_date,
    shown_state,
    side_text,
    sites_text,
    state_text,
    volume_text,
)

#: What a clinician reads first comes first: the panel is often narrower than the table.
#: What was done (the procedure record) stands beside what was planned.
COLUMNS = (
    "Date",
    "Region",
    "Side",
    "Sites",
    "Planned",
    "Given",
    "Complications",
    "Pain before",
    "Pain after",
    "State",
    "Dextrose",
    "Anaesthetic",
)
#: Left out, in this order, when the table is too narrow for every column.
OPTIONAL_COLUMNS = ("Anaesthetic", "Dextrose", "Side", "Region", "Given", "Complications")
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_CENTRE = Qt.AlignmentFlag.AlignCenter
#: The theme's colour of each state's word.
_STATE_TONE = {
    ShownState.DRAFT: "warning_text",
    ShownState.SIGNED: "ok_text",
    ShownState.AMENDED: "text_dim",
}


def conflicts(rows: list[TimelineRow]) -> dict[int, int]:
    """Session id -> the session it is in conflict with, both ways."""
    pairs: dict[int, int] = {}
    for r in rows:
        other = r.origin.conflict_with if r.origin is not None else None
        if other is not None:
            pairs[r.session.id] = other
            pairs[other] = r.session.id
    return pairs


class TimelineView(QWidget):
    open_requested = Signal(int)
    sign_requested = Signal(int)
    amend_requested = Signal(int)
    compare_requested = Signal(int)
    resolve_requested = Signal(int)
    new_session_requested = Signal(int)  # patient id
    #: The chosen row changed (session id, or None).
    session_selected = Signal(object)

    def __init__(self, repo: Repository, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.repo = repo
        self.patient: Patient | None = None
        self.rows: list[TimelineRow] = []
        self.in_conflict: dict[int, int] = {}
        self._current: int | None = None

        self.header = QLabel("No patient chosen")
        self.header.setObjectName("timeline_patient")
        self.header.setWordWrap(True)
        bold = QFont(self.header.font())
        bold.setBold(True)
        self.header.setFont(bold)
        self.show_replaced = QCheckBox("Show replaced versions")
        self.show_replaced.setToolTip(
            "Also list signed versions that an amendment replaced (kept for the record)"
        )
        self.show_replaced.toggled.connect(lambda _on: self.refresh())

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("timeline_table")
        # Two-line headings keep the pain columns as narrow as their numbers.
        self.table.setHorizontalHeaderLabels([c.replace("Pain ", "Pain\n") for c in COLUMNS])
        self.table.verticalHeader().hide()
        # Rows as tall as their text: three sessions show in the strip of a 768-pixel screen.
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        head = self.table.horizontalHeader()
        # Sized to the contents once per refresh: sizing on every cell set is quadratic.
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        head.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        # A double click or Enter opens the session.
        self.table.activated.connect(lambda _index: self._request(self.open_requested))

        self.new_button = QPushButton("New session")
        self.new_button.setToolTip("Start today's session for this patient")
        self.new_button.clicked.connect(self._new_session)
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(lambda: self._request(self.open_requested))
        self.sign_button = QPushButton("Sign…")
        self.sign_button.setToolTip("Sign the session: it becomes read-only")
        self.sign_button.clicked.connect(lambda: self._request(self.sign_requested))
        self.amend_button = QPushButton("Amend…")
        self.amend_button.setToolTip(
            "Make a new version of a signed session; the signed one is kept"
        )
        self.amend_button.clicked.connect(lambda: self._request(self.amend_requested))
        # Short words: the strip under the image must fit a 1366-pixel-wide screen.
        self.compare_button = QPushButton("Compare…")
        self.compare_button.setToolTip("Compare this session with the one before it, side by side")
        self.compare_button.clicked.connect(lambda: self._request(self.compare_requested))
        self.resolve_button = QPushButton("Resolve conflict…")
        self.resolve_button.setObjectName("resolve_conflict")
        self.resolve_button.setToolTip(
            "Two versions amend the same session (one pulled from the PACS): choose the one "
            "the course continues with; the other is kept for review"
        )
        self.resolve_button.clicked.connect(lambda: self._request(self.resolve_requested))
        self.resolve_button.hide()
        buttons = QHBoxLayout()
        for b in (
            self.new_button,
            self.open_button,
            self.sign_button,
            self.amend_button,
            self.compare_button,
            self.resolve_button,
        ):
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.chart = PainChart()
        self.chart.session_clicked.connect(self.select_session)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        head_row = QHBoxLayout()
        head_row.addWidget(self.header, 1)
        head_row.addWidget(self.show_replaced)
        top_layout.addLayout(head_row)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(buttons)
        # Side by side: the panel is a strip under the image, wide rather than tall.
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(top)
        split.addWidget(self.chart)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self._update_buttons()
        # Its words' colours are the theme's: drawn again when the clinician switches it.
        theme.announcer().changed.connect(self._theme_changed)

    # -- what is shown ----------------------------------------------------------------------
    def show_patient(self, patient: Patient | None) -> None:
        self.patient = patient
        self.refresh()

    def _theme_changed(self, _theme: object) -> None:
        """Draw the rows already read in the new theme's colours. Nothing is read from the
        store: a theme switch is no reason to touch it (and a window whose store was closed
        may still be listening)."""
        with QSignalBlocker(self.table):
            for i, row in enumerate(self.rows):
                self._fill_row(i, row)
        self.chart.update()

    def refresh(self) -> None:
        """Read the patient's sessions again (after a save, a sign or an amendment)."""
        chosen = self.selected_session_id()
        patient = self.patient
        if patient is None:
            self.rows = []
            self.header.setText("No patient chosen")
        else:
            # The header follows the store: a weight typed since shows at once.
            patient = self.patient = self.repo.patient(patient.id)
            self.header.setText(patient_line(patient))
            self.rows = self.repo.sessions_of(
                patient.id, include_superseded=self.show_replaced.isChecked()
            )
        self.in_conflict = conflicts(self.rows)
        with QSignalBlocker(self.table):
            self.table.setRowCount(len(self.rows))
            for i, row in enumerate(self.rows):
                self._fill_row(i, row)
        self._fit_columns()
        self.chart.set_rows(self.rows)
        if chosen is not None and self.row_of(chosen) is not None:
            self.select_session(chosen)
        elif self._current is not None and self.row_of(self._current) is not None:
            self.select_session(self._current)
        elif self.rows:
            self.table.selectRow(0)
        self._update_buttons()

    def _fill_row(self, i: int, row: TimelineRow) -> None:
        s = row.session
        state = shown_state(row)
        state_words = state_text(row)
        other = self.in_conflict.get(s.id)
        if other is not None and "CONFLICT" not in state_words:
            state_words = f"{state.value.capitalize()} v{s.version} · CONFLICT with #{other}"
        cells = (
            (s.started_at[:10], None),  # the day; the time is in the tooltip
            (region_name(s.region), None),
            (side_text(s.side), None),
            (sites_text(row), _RIGHT),
            (volume_text(row.total_ml), _RIGHT),
            (given_text(row), _RIGHT),
            (row.done.complications or "–" if row.done is not None else "–", None),
            (pain_text(s.pain_before), _CENTRE),
            (pain_text(s.pain_after), _CENTRE),
            (state_words, None),
            (f"{row.dextrose_g:.2f} g" if row.dextrose_g else "–", _RIGHT),
            (anaesthetic_text(row), None),
        )
        sites = "\n".join(f"• {n}" for n in row.site_names) or "no sites planned"
        # What columns left out on a narrow screen say is in every row's tooltip.
        where = ", ".join(t for t in (region_name(s.region), side_text(s.side)) if t)
        dextrose = cells[COLUMNS.index("Dextrose")][0]
        anaesthetic = cells[COLUMNS.index("Anaesthetic")][0]
        doses = f"{dextrose} dextrose, {anaesthetic}" if row.dextrose_g else anaesthetic
        tip = f"{session_date(s)}  {s.clinician}\n{where}: {doses}\n{sites}\n\n{done_text(row)}"
        tip += f"\n\n{s.notes}" if s.notes else ""
        if row.origin is not None and row.origin.sr_instance_uid:
            tip += f"\n\nPulled from {row.origin.node} on {row.origin.pulled_at[:10]}"
        if other is not None:
            tip += (
                f"\n\nIn conflict with session #{other}: both amend the same version. "
                "Resolve conflict… chooses the one the course continues with."
            )
        for c, (text, align) in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, s.id)
            item.setToolTip(tip)
            if align is not None:
                item.setTextAlignment(align)
            if state is ShownState.AMENDED:
                item.setForeground(QBrush(theme.current().qcolor(_STATE_TONE[state])))
            if s.id == self._current:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.table.setItem(i, c, item)
        state_item = self.table.item(i, COLUMNS.index("State"))
        if state_item is not None:
            tone = "danger_text" if other is not None else _STATE_TONE[state]
            state_item.setForeground(QBrush(theme.current().qcolor(tone)))
        date_item = self.table.item(i, COLUMNS.index("Date"))
        if date_item is not None and other is not None:
            # The State column may be dropped from a narrow panel: the date says it too.
            date_item.setForeground(QBrush(theme.current().qcolor("danger_text")))
        complications = self.table.item(i, COLUMNS.index("Complications"))
        if complications is not None and row.done is not None:
            said = row.done.complications
            if said and said != "none":  # something happened: it reads as a warning
                complications.setForeground(QBrush(theme.current().qcolor("warning_text")))
                font = complications.font()
                font.setBold(True)
                complications.setFont(font)

    def column(self, name: str) -> int:
        """The index of a column by its heading."""
        return COLUMNS.index(name)

    def set_current(self, session_id: int | None) -> None:
        """Mark the session open in the window (bold, highlighted on the chart)."""
        before, self._current = self._current, session_id
        self.chart.set_current(session_id)
        for i, row in enumerate(self.rows):
            if row.session.id not in (before, session_id):
                continue  # a font set is a relayout: only the rows that change
            for c in range(len(COLUMNS)):
                item = self.table.item(i, c)
                if item is not None:
                    font = item.font()
                    font.setBold(row.session.id == session_id)
                    item.setFont(font)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Columns as wide as their contents; those that do not fit the table's width are
        left out, the least needed first (what they say is in each row's tooltip), so no
        column is cut at the table's edge."""
        for c in range(len(COLUMNS)):
            self.table.setColumnHidden(c, False)
        self.table.resizeColumnsToContents()
        head = self.table.horizontalHeader()
        room = self.table.viewport().width()
        if room <= 0:
            return
        total = sum(head.sectionSize(c) for c in range(len(COLUMNS)))
        for name in OPTIONAL_COLUMNS:
            if total <= room:
                break
            c = COLUMNS.index(name)
            total -= head.sectionSize(c)
            self.table.setColumnHidden(c, True)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        # Once the table inside has its new width too.
        QTimer.singleShot(0, self, self._fit_columns)

    # -- choosing ---------------------------------------------------------------------------
    def row_of(self, session_id: int) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.session.id == session_id), None)

    def select_session(self, session_id: int) -> None:
        i = self.row_of(session_id)
        if i is not None:
            self.table.selectRow(i)

    def selected_row(self) -> TimelineRow | None:
        chosen = self.table.selectionModel().selectedRows()
        if not chosen:
            return None
        i = chosen[0].row()
        return self.rows[i] if 0 <= i < len(self.rows) else None

    def selected_session_id(self) -> int | None:
        row = self.selected_row()
        return row.session.id if row is not None else None

    def previous_of(self, session_id: int) -> TimelineRow | None:
        """The latest current session before this one, the one a clinician compares with."""
        rows = [r for r in self.rows if not r.superseded]
        i = next((k for k, r in enumerate(rows) if r.session.id == session_id), None)
        return rows[i + 1] if i is not None and i + 1 < len(rows) else None

    def _selection_changed(self) -> None:
        self._update_buttons()
        self.session_selected.emit(self.selected_session_id())

    def _update_buttons(self) -> None:
        row = self.selected_row()
        state = shown_state(row) if row is not None else None
        self.new_button.setEnabled(self.patient is not None)
        self.open_button.setEnabled(row is not None)
        self.sign_button.setEnabled(state is ShownState.DRAFT)
        self.amend_button.setEnabled(state is ShownState.SIGNED)
        has_previous = row is not None and self.previous_of(row.session.id) is not None
        self.compare_button.setEnabled(has_previous)
        # Shown only while the patient's course has a conflict; enabled on either of the pair.
        self.resolve_button.setVisible(bool(self.in_conflict))
        self.resolve_button.setEnabled(row is not None and row.session.id in self.in_conflict)

    def _request(self, signal: SignalInstance) -> None:
        session_id = self.selected_session_id()
        if session_id is not None:
            signal.emit(session_id)

    def _new_session(self) -> None:
        if self.patient is not None:
            self.new_session_requested.emit(self.patient.id)
