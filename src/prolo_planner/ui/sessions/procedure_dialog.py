"""Session > Procedure record: what was done, entered in a few clicks from the plan's defaults.

The dialog opens on the session's record, or on a new one started from the plan and the previous
session's record (core.procedure.start_record): every site done as planned, with the planned
amounts, needle and approach. The clinician states what only they can (consent, time-out, that
each needle tip was seen, complications), changes what differed, and saves. What is still
missing is named under the form as it is filled; saving an incomplete record is allowed (a
draft), signing it is not. The dialog edits values only: the caller applies the result as one
undo step (core.procedure.record_edit) and writes the pain scores to the session.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.plan import (
    Anaesthetic,
    Approach,
    Complication,
    Consent,
    Injectate,
    KeyImage,
    NotDoneReason,
    Plan,
    ProcedureRecord,
    SiteRecord,
    SiteStatus,
    SkinPrep,
)
from prolo_planner.core.procedure import (
    completed_with_plan,
    missing_fields,
    site_label,
)
from prolo_planner.ui.sessions.session_form import pain_box, pain_value

NOT_STATED = "—"


class Column(StrEnum):
    SITE = "Site"
    DONE = "Done"
    VOLUME = "mL"
    DEXTROSE = "Dextrose %"
    ANAESTHETIC = "Anaesthetic"
    ANAESTHETIC_PERCENT = "%"
    LOT = "Lot"
    GAUGE = "Needle G"
    LENGTH = "mm"
    APPROACH = "Approach"
    TIP = "Tip seen"
    KEY_IMAGE = "Key image"
    REASON = "Why not done"


COLUMNS = tuple(Column)


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What the clinician saved: the record, each site's done or not done, and the pain scores."""

    record: ProcedureRecord
    statuses: Mapping[str, SiteStatus]
    pain_before: int | None
    pain_after: int | None


def _combo(items: list[tuple[str, Any]], selected: Any = None) -> QComboBox:
    box = QComboBox()
    for text, value in items:
        box.addItem(text, value)
    index = box.findData(selected)
    box.setCurrentIndex(max(0, index))
    return box


def _tri_state(selected: bool | None, yes: str, no: str) -> QComboBox:
    return _combo([(NOT_STATED, None), (yes, True), (no, False)], selected)


class SiteRow:
    """The editors of one site's row."""

    def __init__(
        self,
        dialog: ProcedureDialog,
        row: int,
        site: SiteRecord,
        status: SiteStatus,
        key_images: list[tuple[str, KeyImage]],
    ) -> None:
        self.site = site
        self.done = _combo(
            [(NOT_STATED, SiteStatus.PLANNED), ("done", SiteStatus.INJECTED)]
            + [("not done", SiteStatus.SKIPPED)],
            status,
        )
        self.volume = _spin(site.given.volume_ml, 0.0, 50.0, 0.1, 2)
        self.dextrose = _spin(site.given.dextrose_percent, 0.0, 75.0, 2.5, 1)
        self.anaesthetic = _combo([(a.value, a) for a in Anaesthetic], site.given.anaesthetic)
        self.anaesthetic_percent = _spin(site.given.anaesthetic_percent, 0.0, 5.0, 0.1, 2)
        self.lot = QLineEdit(site.lot_number)
        self.lot.setPlaceholderText("lot")
        self.gauge = QSpinBox()
        self.gauge.setRange(10, 34)
        self.gauge.setValue(site.needle_gauge)
        self.length = _spin(site.needle_length_mm, 1.0, 250.0, 1.0, 0)
        self.approach = _combo([(a.value, a) for a in Approach], site.approach)
        self.tip = _tri_state(site.tip_seen, "seen", "not seen")
        choices: list[tuple[str, Any]] = [(NOT_STATED, None)] + [
            (text, key) for text, key in key_images
        ]
        current = site.key_image
        if current is not None and all(k != current for _, k in key_images):
            choices.append((f"frame {current.frame + 1} (image not in plan)", current))
        self.key_image = _combo(choices, current)
        self.key_image.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.key_image.setMinimumContentsLength(16)
        for i, (text, _key) in enumerate(choices):
            self.key_image.setItemData(i, text, Qt.ItemDataRole.ToolTipRole)
        self.reason = _combo(
            [(NOT_STATED, None)] + [(r.value, r) for r in NotDoneReason], site.not_done_reason
        )
        self.reason.setMaximumWidth(190)
        self.reason_text = QLineEdit(site.not_done_text)
        self.reason_text.setPlaceholderText("in words")
        reason = QWidget()
        reason.setMinimumWidth(380)
        box = QHBoxLayout(reason)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.reason)
        box.addWidget(self.reason_text, 1)
        table = dialog.sites
        editors: dict[Column, QWidget] = {
            Column.DONE: self.done,
            Column.VOLUME: self.volume,
            Column.DEXTROSE: self.dextrose,
            Column.ANAESTHETIC: self.anaesthetic,
            Column.ANAESTHETIC_PERCENT: self.anaesthetic_percent,
            Column.LOT: self.lot,
            Column.GAUGE: self.gauge,
            Column.LENGTH: self.length,
            Column.APPROACH: self.approach,
            Column.TIP: self.tip,
            Column.KEY_IMAGE: self.key_image,
            Column.REASON: reason,
        }
        for narrow in (self.volume, self.dextrose, self.anaesthetic_percent, self.gauge):
            narrow.setMaximumWidth(76)
        self.length.setMaximumWidth(64)
        self.lot.setMaximumWidth(110)
        for column, editor in editors.items():
            # In a holder: the table shows its cell widgets whatever is asked of them, but a
            # holder's child stays hidden when hidden.
            holder = QWidget()
            inside = QHBoxLayout(holder)
            inside.setContentsMargins(0, 0, 0, 0)
            inside.addWidget(editor)
            table.setCellWidget(row, COLUMNS.index(column), holder)
        for w in (self.done, self.anaesthetic, self.approach, self.tip, self.key_image):
            w.currentIndexChanged.connect(dialog.changed)
        self.reason.currentIndexChanged.connect(dialog.changed)
        for s in (self.volume, self.dextrose, self.anaesthetic_percent, self.length):
            s.valueChanged.connect(dialog.changed)
        self.gauge.valueChanged.connect(dialog.changed)
        for e in (self.lot, self.reason_text):
            e.textChanged.connect(dialog.changed)
        self.done.currentIndexChanged.connect(lambda _i: self.enable())
        self.enable()

    @property
    def status(self) -> SiteStatus:
        return SiteStatus(self.done.currentData())

    def enable(self) -> None:
        """A site not done shows its reason and no amounts; a done one the other way round
        (hidden, not greyed: a greyed amount still reads as given)."""
        done = self.status is SiteStatus.INJECTED
        for w in (
            self.volume,
            self.dextrose,
            self.anaesthetic,
            self.anaesthetic_percent,
            self.lot,
            self.gauge,
            self.length,
            self.approach,
            self.tip,
            self.key_image,
        ):
            w.setEnabled(done)
            w.setVisible(done)
        skipped = self.status is SiteStatus.SKIPPED
        for w in (self.reason, self.reason_text):
            w.setEnabled(skipped)
        self.reason.parentWidget().setVisible(skipped)

    def value(self) -> SiteRecord:
        return replace(
            self.site,
            given=Injectate(
                dextrose_percent=self.dextrose.value(),
                anaesthetic=Anaesthetic(self.anaesthetic.currentData()),
                anaesthetic_percent=self.anaesthetic_percent.value(),
                volume_ml=self.volume.value(),
            ),
            lot_number=self.lot.text().strip(),
            needle_gauge=self.gauge.value(),
            needle_length_mm=self.length.value(),
            approach=Approach(self.approach.currentData()),
            tip_seen=self.tip.currentData(),
            key_image=self.key_image.currentData(),
            not_done_reason=self.reason.currentData(),
            not_done_text=self.reason_text.text().strip(),
        )


def _left(widget: QWidget) -> QHBoxLayout:
    """A field as wide as its content, at the left of its row."""
    row = QHBoxLayout()
    row.addWidget(widget)
    row.addStretch(1)
    return row


def _spin(value: float, low: float, high: float, step: float, decimals: int) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    return box


class ProcedureDialog(QDialog):
    """The procedure record of one session; `result()` after it was accepted."""

    #: Any field changed (the missing-fields line follows it).
    changed = Signal()

    def __init__(
        self,
        plan: Plan,
        record: ProcedureRecord,
        *,
        pain_before: int | None = None,
        pain_after: int | None = None,
        names: Mapping[str, str] | None = None,
        read_only_reason: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("procedure_dialog")
        self.setWindowTitle("Procedure record")
        self.plan = plan
        self.record = completed_with_plan(plan, record)
        self.targets = plan.targets()
        names = dict(names or {})

        self.indication = QLineEdit(self.record.indication)
        self.indication.setPlaceholderText("why the procedure was done")
        self.performed_at = QDateTimeEdit()
        self.performed_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.performed_at.setCalendarPopup(True)
        when = _parse(self.record.performed_at) or _dt.datetime.now().replace(second=0)
        self.performed_at.setDateTime(QDateTime(when))
        self.consent = _combo(
            [(NOT_STATED, None), ("written", Consent.WRITTEN), ("verbal", Consent.VERBAL)],
            self.record.consent,
        )
        self.consent_by = QLineEdit(self.record.consent_by)
        self.consent_by.setPlaceholderText("obtained by")
        self.time_out = _tri_state(self.record.time_out, "done", "not done")
        self.skin_prep = _combo(
            [(NOT_STATED, None)] + [(p.value, p) for p in SkinPrep], self.record.skin_prep
        )
        self.skin_prep_text = QLineEdit(self.record.skin_prep_text)
        self.skin_prep_text.setPlaceholderText("what was used")

        self.sites = QTableWidget(len(self.targets), len(COLUMNS))
        self.sites.setObjectName("procedure_sites")
        self.sites.setHorizontalHeaderLabels([c.value for c in COLUMNS])
        self.sites.verticalHeader().setVisible(False)
        self.sites.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        key_images = self._key_image_choices(names)
        self.rows: list[SiteRow] = []
        for i, target in enumerate(self.targets):
            site = self.record.site(target.id)
            assert site is not None  # completed_with_plan gave every target one
            item = QTableWidgetItem(site_label(target, i + 1))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.sites.setItem(i, 0, item)
            status = target.status
            if status is SiteStatus.PLANNED and plan.procedure is None:
                status = SiteStatus.INJECTED  # a new record: done as planned, until said
            self.rows.append(SiteRow(self, i, site, status, key_images))
        header = self.sites.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index(Column.REASON), QHeaderView.ResizeMode.Stretch)
        # Every site in sight at once (up to eight): the record is read row by row.
        self.sites.resizeRowsToContents()
        shown = min(len(self.targets), 8)
        rows_height = sum(self.sites.rowHeight(i) for i in range(shown))
        self.sites.setMinimumHeight(
            rows_height
            + header.sizeHint().height()
            + self.sites.horizontalScrollBar().sizeHint().height()
            + 6
        )

        self.all_seen = QPushButton("Tip seen at every site done")
        self.all_seen.setToolTip("Each needle tip was seen at its target, on its key image")
        self.all_seen.clicked.connect(self.tips_seen)
        self.lot_for_all = QLineEdit()
        self.lot_for_all.setPlaceholderText("lot for every site")
        same_lot = QPushButton("Same lot")
        same_lot.clicked.connect(lambda: self.set_lot(self.lot_for_all.text()))

        self.complication_boxes = {
            None: QCheckBox("None"),
            **{c: QCheckBox(c.value) for c in Complication},
        }
        stated = self.record.complications
        self.complication_boxes[None].setChecked(stated == ())
        for c in Complication:
            self.complication_boxes[c].setChecked(bool(stated) and c in (stated or ()))
        for key, box in self.complication_boxes.items():
            box.toggled.connect(lambda on, k=key: self._complication_toggled(k, on))
        self.complication_text = QLineEdit(self.record.complication_text)
        self.complication_text.setPlaceholderText("the complication in words")
        self.pain_before = pain_box()
        self.pain_after = pain_box()
        self.pain_before.setValue(-1 if pain_before is None else pain_before)
        self.pain_after.setValue(-1 if pain_after is None else pain_after)
        self.instructions = QPlainTextEdit(self.record.instructions)
        self.instructions.setMaximumHeight(54)
        self.missing = QLabel("")
        self.missing.setObjectName("procedure_missing")
        self.missing.setProperty("tone", "warning")
        self.missing.setWordWrap(True)
        font = self.missing.font()
        font.setBold(True)
        self.missing.setFont(font)

        # -- layout ---------------------------------------------------------------------------
        before = QFormLayout()
        before.addRow("Indication", self.indication)
        before.addRow("Date and time", _left(self.performed_at))
        consent = QHBoxLayout()
        consent.addWidget(self.consent)
        consent.addWidget(self.consent_by, 1)
        before.addRow("Consent", consent)
        before.addRow("Time-out", _left(self.time_out))
        prep = QHBoxLayout()
        prep.addWidget(self.skin_prep)
        prep.addWidget(self.skin_prep_text, 1)
        before.addRow("Skin preparation", prep)
        top = QGroupBox("Before the needle")
        top.setLayout(before)

        quick = QHBoxLayout()
        quick.addWidget(self.all_seen)
        quick.addStretch(1)
        quick.addWidget(self.lot_for_all)
        quick.addWidget(same_lot)
        sites = QGroupBox("Sites: what was given, under real-time ultrasound guidance")
        sites_layout = QVBoxLayout(sites)
        sites_layout.addLayout(quick)
        sites_layout.addWidget(self.sites)

        after = QFormLayout()
        boxes = QHBoxLayout()
        for box in self.complication_boxes.values():
            boxes.addWidget(box)
        boxes.addWidget(self.complication_text, 1)
        after.addRow("Complications", boxes)
        pains = QHBoxLayout()
        pains.addWidget(QLabel("before"))
        pains.addWidget(self.pain_before)
        pains.addSpacing(12)
        pains.addWidget(QLabel("after"))
        pains.addWidget(self.pain_after)
        pains.addStretch(1)
        after.addRow("Pain (0–10)", pains)
        after.addRow("Instructions given", self.instructions)
        bottom = QGroupBox("After")
        bottom.setLayout(after)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if read_only_reason:
            notice = QLabel(f"Read-only: {read_only_reason}")
            notice.setProperty("tone", "warning")
            notice.setWordWrap(True)
            layout.addWidget(notice)
        layout.addWidget(top)
        layout.addWidget(sites, 1)
        layout.addWidget(bottom)
        layout.addWidget(self.missing)
        layout.addWidget(self.buttons)
        self.resize(1480, 760)

        for w in (self.indication, self.consent_by, self.skin_prep_text, self.complication_text):
            w.textChanged.connect(self.changed)
        for c in (self.consent, self.time_out, self.skin_prep):
            c.currentIndexChanged.connect(self.changed)
        self.instructions.textChanged.connect(self.changed)
        for pain in (self.pain_before, self.pain_after):
            pain.valueChanged.connect(self.changed)
        self.performed_at.dateTimeChanged.connect(self.changed)
        self.changed.connect(self._update_missing)
        self._update_missing()
        if read_only_reason:
            self._read_only()

    # -- the clinician's quick actions ----------------------------------------------------------
    def tips_seen(self) -> None:
        """Every site done: its needle tip seen at the target (on its key image)."""
        for row in self.rows:
            if row.status is SiteStatus.INJECTED:
                row.tip.setCurrentIndex(row.tip.findData(True))
                if row.key_image.currentData() is None and row.key_image.count() > 1:
                    row.key_image.setCurrentIndex(self._key_image_of(row))

    def set_lot(self, lot: str) -> None:
        for row in self.rows:
            if row.status is SiteStatus.INJECTED:
                row.lot.setText(lot.strip())

    def _key_image_of(self, row: SiteRow) -> int:
        """The key image on the site's own image, if any, else the first."""
        target = next(t for t in self.targets if t.id == row.site.target_id)
        for i in range(1, row.key_image.count()):
            key = row.key_image.itemData(i)
            if isinstance(key, KeyImage) and key.image_id == target.image_id:
                return i
        return 1

    def _complication_toggled(self, key: Complication | None, on: bool) -> None:
        if not on:
            self.changed.emit()
            return
        # "None" and a complication cannot both be true.
        others = [k for k in self.complication_boxes if (k is None) != (key is None)]
        for k in others:
            box = self.complication_boxes[k]
            box.blockSignals(True)
            box.setChecked(False)
            box.blockSignals(False)
        self.changed.emit()

    def _key_image_choices(self, names: Mapping[str, str]) -> list[tuple[str, KeyImage]]:
        """Every frame that goes to the chart: each image's key frames (a still's only frame)."""
        out = []
        for image in self.plan.images:
            name = names.get(image.id) or image.ref.path.replace("\\", "/").rsplit("/", 1)[-1]
            frames = list(image.key_frames) or ([0] if image.ref.frame_count <= 1 else [])
            for frame in frames:
                text = name if image.ref.frame_count <= 1 else f"{name}, frame {frame + 1}"
                out.append((text, KeyImage(image.id, frame)))
        return out

    # -- the result ---------------------------------------------------------------------------
    def value(self) -> RecordResult:
        complications: tuple[Complication, ...] | None
        if self.complication_boxes[None].isChecked():
            complications = ()
        else:
            chosen = tuple(c for c in Complication if self.complication_boxes[c].isChecked())
            complications = chosen or None
        when = self.performed_at.dateTime().toPython()
        assert isinstance(when, _dt.datetime)
        record = replace(
            self.record,
            indication=self.indication.text().strip(),
            performed_at=when.replace(second=0, microsecond=0).isoformat(timespec="seconds"),
            consent=self.consent.currentData(),
            consent_by=self.consent_by.text().strip(),
            time_out=self.time_out.currentData(),
            skin_prep=self.skin_prep.currentData(),
            skin_prep_text=self.skin_prep_text.text().strip(),
            sites=tuple(row.value() for row in self.rows),
            complications=complications,
            complication_text=self.complication_text.text().strip(),
            instructions=self.instructions.toPlainText().strip(),
        )
        statuses = {row.site.target_id: row.status for row in self.rows}
        return RecordResult(
            record, statuses, pain_value(self.pain_before), pain_value(self.pain_after)
        )

    def missing_now(self) -> list[str]:
        """The required fields still empty, as the record stands in the form."""
        result = self.value()
        targets = [replace(t, status=result.statuses.get(t.id, t.status)) for t in self.targets]
        by_id = {t.id: t for t in targets}
        plan = replace(
            self.plan.with_annotations(by_id.get(a.id, a) for a in self.plan.annotations),
            procedure=result.record,
        )
        missing = [str(m) for m in missing_fields(plan)]
        if result.pain_before is None:
            missing.append("pain before")
        if result.pain_after is None:
            missing.append("pain after")
        return missing

    def _update_missing(self) -> None:
        missing = self.missing_now()
        self.complication_text.setEnabled(self.complication_boxes[Complication.OTHER].isChecked())
        self.skin_prep_text.setEnabled(self.skin_prep.currentData() is SkinPrep.OTHER)
        if missing:
            self.missing.setText("Still to fill in before signing: " + "; ".join(missing) + ".")
        else:
            self.missing.setText("Complete: ready to sign.")
        self.missing.setProperty("tone", "warning" if missing else "ok")
        self.missing.style().unpolish(self.missing)
        self.missing.style().polish(self.missing)

    def _read_only(self) -> None:
        for w in self.findChildren(QWidget):
            if isinstance(w, QLineEdit | QPlainTextEdit):
                w.setReadOnly(True)
            elif (
                isinstance(w, QComboBox | QCheckBox | QAbstractSpinBox | QPushButton)
                and w.parent() is not self.buttons
            ):
                w.setEnabled(False)
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")


def _parse(text: str) -> _dt.datetime | None:
    try:
        return _dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
