"""The list of the shown image's annotations, grouped by kind, each with its key value and the
colour of its worst warning; its selection is the image's selection, both ways."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtCore import QModelIndex, QRect, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.legend import legend_keys
from prolo_planner.core.measure import PlanMeasurements
from prolo_planner.core.overlay import measurement_text, target_title, zone_title
from prolo_planner.core.plan import (
    AngleMeasurement,
    Annotation,
    AnnotationKind,
    AvoidZone,
    Caliper,
    NeedlePath,
    Plan,
    SiteStatus,
    Target,
    TextNote,
    kind_of,
)
from prolo_planner.core.safety import SafetyWarning, Severity, WarningCode, worst_severities
from prolo_planner.ui.panels.binding import Bindings
from prolo_planner.ui.panels.icons import dot_icon, kind_colour, severity_icon
from prolo_planner.ui.plan_workspace import PlanWorkspace

#: Group order and titles, as a clinician reads a plan: where to inject, how, what to avoid.
GROUPS: tuple[tuple[AnnotationKind, str], ...] = (
    (AnnotationKind.TARGET, "Targets"),
    (AnnotationKind.NEEDLE_PATH, "Needle paths"),
    (AnnotationKind.AVOID_ZONE, "Avoid zones"),
    (AnnotationKind.CALIPER, "Calipers"),
    (AnnotationKind.ANGLE, "Angles"),
    (AnnotationKind.TEXT, "Text notes"),
)
SKIN_LINE_GROUP = "Skin line"
ID_ROLE = Qt.ItemDataRole.UserRole
#: One listed row: id, name, key value, worst warning, kind colour, tooltip.
_Row = tuple[str, str, str, Severity | None, QColor, str]


def annotation_name(a: Annotation, plan: Plan) -> str:
    """What the list calls an annotation: its name, or what it is."""
    if isinstance(a, Target):
        return target_title(a)
    if isinstance(a, NeedlePath):
        target = plan.find(a.target_id)
        return f"to {target_title(target)}" if isinstance(target, Target) else "needle path"
    if isinstance(a, AvoidZone):
        return zone_title(a)
    if isinstance(a, Caliper | AngleMeasurement):
        return a.label or kind_of(a).value
    return a.text


def key_value(a: Annotation, measurements: PlanMeasurements) -> str:
    """The one value a clinician looks for: '23.4 mm deep', '41.2 mm · 38°', 'margin 3 mm'."""
    if isinstance(a, Target):
        if a.position is None:
            return "not placed"
        depth = measurements.target_depths.get(a.id)
        text = f"{measurement_text(depth)} deep" if depth else ""
        if a.status is not SiteStatus.PLANNED:
            text = f"{text} · {a.status.value}" if text else a.status.value
        return text
    if isinstance(a, NeedlePath):
        geometry = measurements.path(a.id)
        if geometry is None:
            return ""
        parts = [measurement_text(geometry.length)]
        if geometry.angle_deg is not None:
            parts.append(measurement_text(geometry.angle_deg))
        return " · ".join(parts)
    if isinstance(a, AvoidZone):
        return f"margin {a.margin_mm:g} mm"
    if isinstance(a, TextNote):
        return ""
    found = measurements.of(a.id)
    return measurement_text(found[0]) if found else ""


class _WrappingDelegate(QStyledItemDelegate):
    """Rows as tall as their wrapped text at the column's width (Qt's own size hint does not
    wrap, so a wrapped name would be cut to one line)."""

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self.tree = tree

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        base = super().sizeHint(option, index)
        width = self.tree.columnWidth(index.column())
        if index.column() == 0:
            depth = 0
            parent = index.parent()
            while parent.isValid():
                depth, parent = depth + 1, parent.parent()
            width -= self.tree.indentation() * depth + 26  # the branch and the icon
        text = str(index.data() or "")
        if width <= 0 or not text:
            return base
        flags = Qt.TextFlag.TextWordWrap
        bounds = option.fontMetrics.boundingRect(QRect(0, 0, width - 8, 10_000), flags, text)
        return QSize(base.width(), max(base.height(), bounds.height() + 4))


def _keyed(key: str | None, name: str) -> str:
    """'3  L4-L5 interspinous ligament': the key first, as the label on the image shows it."""
    return f"{key}  {name}" if key else name


class AnnotationList(QWidget):
    #: Show this frame (double-click on an annotation of one frame of a cine).
    seek_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("annotation_list")
        self._workspace: PlanWorkspace | None = None
        self._bindings = Bindings()
        self._image_id: str | None = None
        self._frame_count = 1
        self._items: dict[str, QTreeWidgetItem] = {}
        #: What the tree shows now: its rows by group, and their ids (None: nothing shown).
        self._rows: list[tuple[str, list[_Row]]] | None = None
        self._shape: list[tuple[str, list[str]]] = []
        self.hint = QLabel("Open an image to plan on it.")
        self.hint.setWordWrap(True)
        self.hint.setObjectName("annotation_list_hint")
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Annotation", "Value"])
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setRootIsDecorated(False)
        # Long names wrap onto a second line rather than lose their end to an ellipsis.
        self.tree.setUniformRowHeights(False)
        self.tree.setWordWrap(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.tree.setItemDelegate(_WrappingDelegate(self.tree))
        self.tree.setAllColumnsShowFocus(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        # A narrower column wraps more: the rows' heights follow its width.
        header.sectionResized.connect(lambda *_: self.tree.scheduleDelayedItemsLayout())
        self.tree.itemSelectionChanged.connect(self._tree_selection_changed)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.hint)
        layout.addWidget(self.tree, 1)

    # -- what it lists ----------------------------------------------------------------------
    def set_workspace(self, workspace: PlanWorkspace) -> None:
        self._bindings.clear()
        self._workspace = workspace
        c = workspace.controller
        self._bindings.connect(c.changed, self._changed)
        self._bindings.connect(c.calibration_changed, self._changed)
        self._bindings.connect(c.reset, self.refresh)
        self._bindings.connect(c.selection_changed, self._controller_selection_changed)
        self.show_image(None)

    def show_image(self, image_id: str | None, frame_count: int = 1) -> None:
        self._image_id, self._frame_count = image_id, max(1, frame_count)
        self.refresh()

    def _changed(self, *_args: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        """The list as the plan is now; the selection comes back from the controller. Only the
        rows whose text, value or warning changed are touched while the same annotations are
        listed (an edit of a plan of 500 changes a row or two, not the whole tree)."""
        ws = self._workspace
        if ws is None or ws.image(self._image_id) is None:
            with QSignalBlocker(self.tree):
                self.tree.clear()
                self._items.clear()
                self._rows = None
            self.hint.setText("Open an image to plan on it.")
            self.hint.show()
            return
        c = ws.controller
        rows = self._wanted_rows(c.plan, c.measurements, c.warnings, ws.layer.style.uncoloured)
        with QSignalBlocker(self.tree):
            shape = [(title, [row[0] for row in members]) for title, members in rows]
            if self._rows is not None and shape == self._shape:
                for (_title, members), (_t, before) in zip(rows, self._rows, strict=True):
                    for row, old in zip(members, before, strict=True):
                        if row != old:
                            self._fill(self._items[row[0]], row)
            else:
                self._rebuild(rows)
            self._rows, self._shape = rows, shape
        self._controller_selection_changed(c.selection)

    def _wanted_rows(
        self,
        plan: Plan,
        measurements: PlanMeasurements,
        warnings: tuple[SafetyWarning, ...],
        uncoloured: Collection[WarningCode],
    ) -> list[tuple[str, list[_Row]]]:
        # As on the image: "no mm" and "no weight" do not colour an item (the ⚠ says it).
        worst = worst_severities(w for w in warnings if w.code not in uncoloured)
        tips: dict[str, list[str]] = {}
        for w in warnings:
            for annotation_id in w.annotation_ids:
                tips.setdefault(annotation_id, []).append(w.message)
        on_image = [a for a in plan.annotations if a.image_id == self._image_id]
        # The key each label carries on the image, as the exports' legend lists it.
        keys = legend_keys(plan, self._image_id) if self._image_id else {}
        out: list[tuple[str, list[_Row]]] = []
        for kind, title in GROUPS:
            members = [a for a in on_image if kind_of(a) is kind]
            if not members:
                continue
            rows = [
                (
                    a.id,
                    self._with_frame(_keyed(keys.get(a.id), annotation_name(a, plan)), a.frame),
                    key_value(a, measurements),
                    worst.get(a.id),
                    kind_colour(kind, a.kind if isinstance(a, AvoidZone) else None),
                    "\n".join(tips.get(a.id, ())) or annotation_name(a, plan),
                )
                for a in members
            ]
            out.append((f"{title} ({len(members)})", rows))
        image = plan.image(self._image_id) if self._image_id else None
        if image is not None and image.skin_line is not None:
            colour = kind_colour(AnnotationKind.CALIPER)
            out.append(
                (
                    SKIN_LINE_GROUP,
                    [(image.id, "skin line", "depths measured below it", None, colour, "")],
                )  # fmt: skip
            )
        return out

    def _rebuild(self, rows: list[tuple[str, list[_Row]]]) -> None:
        self.tree.clear()
        self._items.clear()
        bold = QFont(self.tree.font())
        bold.setBold(True)
        for title, members in rows:
            group = self._group(title, bold)
            for row in members:
                item = QTreeWidgetItem(["", ""])
                item.setData(0, ID_ROLE, row[0])
                self._fill(item, row)
                group.addChild(item)
                self._items[row[0]] = item
        self.tree.expandAll()
        self.hint.setText(
            "Nothing planned on this image yet: pick a tool (T target, N needle path, "
            "Z avoid zone, M caliper)."
        )
        self.hint.setVisible(not self._items)

    @staticmethod
    def _fill(item: QTreeWidgetItem, row: _Row) -> None:
        _id, name, value, severity, colour, tip = row
        item.setText(0, name)
        item.setText(1, value)
        item.setIcon(
            0, severity_icon(severity) if severity is not None else dot_icon(colour, ring=True)
        )
        if tip:
            item.setToolTip(0, tip)

    def _group(self, title: str, font: QFont) -> QTreeWidgetItem:
        group = QTreeWidgetItem([title, ""])
        group.setFont(0, font)
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a heading: not selectable
        self.tree.addTopLevelItem(group)
        group.setFirstColumnSpanned(True)
        return group

    def _with_frame(self, text: str, frame: int | None) -> str:
        if self._frame_count > 1 and frame is not None:
            return f"{text}  (frame {frame + 1})"
        return text

    # -- selection, both ways ---------------------------------------------------------------
    def _controller_selection_changed(self, ids: frozenset[str]) -> None:
        with QSignalBlocker(self.tree):
            self.tree.clearSelection()
            for annotation_id in ids:
                item = self._items.get(annotation_id)
                if item is not None:
                    item.setSelected(True)
        # Bring the first selected into view, without moving the keyboard focus.
        selected = [self._items[i] for i in ids if i in self._items]
        if selected:
            self.tree.scrollToItem(selected[0])

    def _tree_selection_changed(self) -> None:
        if self._workspace is None:
            return
        ids = [item.data(0, ID_ROLE) for item in self.tree.selectedItems()]
        self._workspace.controller.select(i for i in ids if i)

    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        ws = self._workspace
        annotation_id = item.data(0, ID_ROLE)
        if ws is None or not annotation_id:
            return
        found = ws.controller.plan.find(annotation_id)
        if found is not None and found.frame is not None:
            self.seek_requested.emit(found.frame)

    # -- for tests and the window -----------------------------------------------------------
    def listed_ids(self) -> list[str]:
        return list(self._items)

    def rows(self) -> list[tuple[str, str]]:
        """(name, value) of each annotation listed, in order."""
        return [(item.text(0), item.text(1)) for item in self._items.values()]

    def item(self, annotation_id: str) -> QTreeWidgetItem | None:
        return self._items.get(annotation_id)
