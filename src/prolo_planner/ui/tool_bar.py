"""The plan tools: a toolbar of checkable tools with their keys, and the tool each one makes.

One tool is active at a time (select by default; Esc returns to it). The tools are remade for
each plan's layer, and take their defaults from the shown image's region: the target tool
names the next catalog target not yet placed, the avoid-zone tools the structure chosen in the
toolbar's "Avoid" box. In a read-only plan only a selecting tool that moves nothing is left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QFont,
    QIcon,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QComboBox, QLabel, QToolBar, QWidget

from prolo_planner.core.catalog import RegionCatalog
from prolo_planner.core.geometry import Point
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.plan import AvoidKind, ZoneShape
from prolo_planner.ui.annotation_layer import AnnotationLayer
from prolo_planner.ui.calibration_tools import CalibrateTool, DepthZeroTool, ask_distance_mm
from prolo_planner.ui.image_view import ImageView
from prolo_planner.ui.measure_tools import (
    AngleTool,
    AvoidZoneTool,
    CaliperTool,
    SkinLineTool,
    TextTool,
    ZoneDefaults,
    ask_note_text,
)
from prolo_planner.ui.theme import DARK
from prolo_planner.ui.tools import (
    TOOL_ENTRIES,
    NeedlePathTool,
    SelectTool,
    TargetDefaults,
    TargetTool,
    Tool,
    ToolEntry,
)

#: Toolbar and menu texts of the tools, in the clinic's words.
TOOL_TEXT = {
    "select": "Select",
    "target": "Target",
    "needle path": "Needle path",
    "avoid zone": "Avoid zone (outline)",
    "avoid ellipse": "Avoid zone (ellipse)",
    "caliper": "Caliper",
    "angle": "Angle",
    "text": "Text note",
    "skin line": "Skin line",
    "calibrate": "Calibrate from the depth scale",
    "depth zero": "Depth zero on the 0 tick",
}
#: The short words under the toolbar's icons.
TOOL_ICON_TEXT = {
    "select": "Select",
    "target": "Target",
    "needle path": "Path",
    "avoid zone": "Zone",
    "avoid ellipse": "Ellipse",
    "caliper": "Caliper",
    "angle": "Angle",
    "text": "Note",
    "skin line": "Skin",
    "calibrate": "Calibrate",
    "depth zero": "0 tick",
}
DRAWING_TOOLS = tuple(e.name for e in TOOL_ENTRIES if e.name != "select")

ICON_PX = 32
_INK = QColor(222, 222, 222)
_GREEN = QColor(70, 235, 130)
_PATH = QColor(180, 255, 95)
_RED = QColor(255, 90, 90)
_SKIN = QColor(255, 196, 160)


class ViewOnlySelectTool(SelectTool):
    """Select and look in a read-only plan: nothing moves, nothing is deleted."""

    def _start_drag(self, annotation_id: str, key: str | None, p: Point) -> None:
        return

    def key(self, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> bool:
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            return False
        return super().key(key, modifiers)


def _pen(colour: QColor, width: float = 2.2) -> QPen:
    pen = QPen(colour, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def tool_icon(name: str) -> QIcon:
    """A small drawing of what the tool makes, in the colours it makes it in on the image, on
    a tile as dark as the image's surround: as it will look, and as legible in either theme."""
    pixmap = QPixmap(ICON_PX, ICON_PX)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(DARK.image_background))
    p.drawRoundedRect(QRectF(0.5, 0.5, ICON_PX - 1.0, ICON_PX - 1.0), 5.0, 5.0)
    if name == "select":
        arrow = QPolygonF(
            [QPointF(9, 5), QPointF(9, 25), QPointF(14, 20), QPointF(18, 28), QPointF(21, 27),
             QPointF(17, 19), QPointF(24, 19)]
        )  # fmt: skip
        p.setPen(_pen(QColor(20, 20, 20), 1.4))
        p.setBrush(_INK)
        p.drawPolygon(arrow)
    elif name == "target":
        p.setPen(_pen(_GREEN))
        p.drawEllipse(QPointF(16, 16), 8, 8)
        for a, b in (((16, 3), (16, 10)), ((16, 22), (16, 29)), ((3, 16), (10, 16)),
                     ((22, 16), (29, 16))):  # fmt: skip
            p.drawLine(QPointF(*a), QPointF(*b))
        p.setBrush(_GREEN)
        p.drawEllipse(QPointF(16, 16), 2, 2)
    elif name == "needle path":
        p.setPen(_pen(_SKIN, 1.6))
        p.drawLine(QPointF(3, 7), QPointF(29, 7))
        p.setPen(_pen(_PATH, 2.6))
        p.drawLine(QPointF(8, 7), QPointF(23, 26))
        p.setPen(_pen(_GREEN))
        p.drawEllipse(QPointF(23, 26), 3, 3)
    elif name in ("avoid zone", "avoid ellipse"):
        p.setPen(_pen(_RED))
        p.setBrush(QColor(255, 90, 90, 70))
        if name == "avoid zone":
            p.drawPolygon(
                QPolygonF([QPointF(6, 10), QPointF(18, 5), QPointF(27, 13), QPointF(22, 26),
                           QPointF(9, 24)])
            )  # fmt: skip
        else:
            p.drawEllipse(QRectF(4, 8, 24, 16))
    elif name == "caliper":
        p.setPen(_pen(_INK))
        p.drawLine(QPointF(5, 22), QPointF(27, 10))
        for x, y in ((5, 22), (27, 10)):
            p.drawLine(QPointF(x - 3, y - 5), QPointF(x + 3, y + 5))
    elif name == "angle":
        p.setPen(_pen(_INK))
        p.drawPolyline(QPolygonF([QPointF(27, 6), QPointF(6, 26), QPointF(28, 26)]))
        path = QPainterPath(QPointF(15, 26))
        path.arcTo(QRectF(-3, 17, 18, 18), 0, 45)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
    elif name == "text":
        p.setPen(_pen(_INK, 1.6))
        p.drawLine(QPointF(6, 26), QPointF(14, 17))
        p.drawLine(QPointF(6, 26), QPointF(7, 21))
        p.drawLine(QPointF(6, 26), QPointF(11, 25))
        font = QFont()
        font.setPixelSize(15)
        font.setBold(True)
        p.setFont(font)
        p.drawText(QRectF(13, 2, 18, 18), Qt.AlignmentFlag.AlignCenter, "T")
    elif name == "skin line":
        p.setPen(_pen(_SKIN, 2.6))
        p.drawLine(QPointF(3, 12), QPointF(29, 9))
        p.setPen(_pen(_INK, 1.2))
        for x in (9, 16, 23):
            p.drawLine(QPointF(x, 15), QPointF(x, 27))
    elif name == "calibrate":
        p.setPen(_pen(QColor(255, 210, 0), 1.8))
        p.drawLine(QPointF(10, 3), QPointF(10, 29))
        for i, y in enumerate(range(5, 30, 6)):
            p.drawLine(QPointF(10, y), QPointF(16 if i % 2 == 0 else 13, y))
        p.drawLine(QPointF(22, 5), QPointF(22, 27))
        p.drawLine(QPointF(19, 8), QPointF(22, 5))
        p.drawLine(QPointF(25, 8), QPointF(22, 5))
        p.drawLine(QPointF(19, 24), QPointF(22, 27))
        p.drawLine(QPointF(25, 24), QPointF(22, 27))
    elif name == "depth zero":
        p.setPen(_pen(QColor(255, 210, 0), 1.8))
        p.drawLine(QPointF(22, 3), QPointF(22, 29))
        for y in (9, 15, 21, 27):
            p.drawLine(QPointF(22, y), QPointF(18, y))
        p.setPen(_pen(_SKIN, 2.4))
        p.drawLine(QPointF(3, 9), QPointF(22, 9))
        font = QFont()
        font.setPixelSize(11)
        font.setBold(True)
        p.setFont(font)
        p.setPen(_pen(_INK, 1.2))
        p.drawText(QRectF(2, 12, 16, 14), Qt.AlignmentFlag.AlignCenter, "0")
    p.end()
    return QIcon(pixmap)


class PlanToolBar(QToolBar):
    """The tools, checkable and exclusive; their keys answer while the viewer has the focus."""

    #: The tool now active (its name, from TOOL_ENTRIES).
    tool_changed = Signal(str)

    def __init__(
        self,
        view: ImageView,
        shortcut_host: QWidget,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Plan tools", parent)
        self.setObjectName("plan_tools")
        self.setIconSize(QSize(ICON_PX - 8, ICON_PX - 8))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.view = view
        self._layer: AnnotationLayer | None = None
        self._region: RegionCatalog | None = None
        self._limits = ClinicLimits()
        self._read_only = False
        self._armed_target = ""
        self._current = "select"
        #: Asks a text note's words, and the mm between two depth-scale ticks; tests replace them.
        self.ask_note_text: Callable[[QWidget | None], str | None] = ask_note_text
        self.ask_distance_mm: Callable[[QWidget | None, float], float | None] = ask_distance_mm
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        self.tool_actions: dict[str, QAction] = {}
        for entry in TOOL_ENTRIES:
            action = self._tool_action(entry, shortcut_host)
            self.addAction(action)
            if entry.name in ("needle path", "avoid ellipse", "text", "depth zero"):
                self.addSeparator()
        label = QLabel(" Avoid: ")
        label.setToolTip("The structure a new avoid zone outlines")
        self.addWidget(label)
        self.avoid_box = QComboBox()
        self.avoid_box.setObjectName("avoid_structure")
        self.avoid_box.setToolTip("The structure a new avoid zone outlines (its kind and margin)")
        self.avoid_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.avoid_box.setMinimumContentsLength(22)
        # As wide as its longest name: a structure to avoid is never shown cut short.
        self.avoid_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.avoid_box.currentIndexChanged.connect(lambda _i: self._refresh_defaults())
        self.addWidget(self.avoid_box)
        self._fill_avoid_box()
        view.escape_pressed.connect(lambda: self.activate("select"))

    def _tool_action(self, entry: ToolEntry, host: QWidget) -> QAction:
        action = QAction(tool_icon(entry.name), TOOL_TEXT.get(entry.name, entry.name), self)
        action.setObjectName(f"tool_{entry.name.replace(' ', '_')}")
        action.setIconText(TOOL_ICON_TEXT.get(entry.name, entry.name))
        action.setCheckable(True)
        action.setShortcut(QKeySequence(entry.key))
        # Like the viewer's keys: only while the viewer has the focus, so letters still type.
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setToolTip(f"{entry.what} ({entry.key})")
        action.setStatusTip(entry.what)
        action.triggered.connect(lambda _on=False, name=entry.name: self.activate(name))
        host.addAction(action)
        self.group.addAction(action)
        self.tool_actions[entry.name] = action
        if entry.name == "select":
            action.setChecked(True)
        return action

    # -- which tool -------------------------------------------------------------------------
    @property
    def current(self) -> str:
        return self._current

    @property
    def tool(self) -> Tool | None:
        tool = self.view.tool
        return tool if isinstance(tool, Tool) else None

    def activate(self, name: str) -> None:
        """Make `name` the active tool (a drawing tool in a read-only plan: select instead)."""
        if self._read_only and name != "select":
            name = "select"
        self._current = name
        self.tool_actions[name].setChecked(True)
        self.view.set_tool(self._make(name))
        self.tool_changed.emit(name)

    def _make(self, name: str) -> Tool | None:
        layer = self._layer
        if layer is None:
            return None
        if name == "select":
            return ViewOnlySelectTool(layer) if self._read_only else SelectTool(layer)
        if name == "target":
            return TargetTool(layer, self.target_defaults())
        if name == "needle path":
            return NeedlePathTool(layer)
        if name in ("avoid zone", "avoid ellipse"):
            shape = ZoneShape.ELLIPSE if name == "avoid ellipse" else ZoneShape.POLYGON
            return AvoidZoneTool(layer, replace(self.zone_defaults(), shape=shape))
        if name == "caliper":
            return CaliperTool(layer)
        if name == "angle":
            return AngleTool(layer)
        if name == "text":
            return TextTool(layer, ask_text=lambda parent: self.ask_note_text(parent))
        if name == "skin line":
            return SkinLineTool(layer)
        if name == "calibrate":
            return CalibrateTool(layer, ask_mm=lambda parent, px: self.ask_distance_mm(parent, px))
        if name == "depth zero":
            return DepthZeroTool(layer)
        raise KeyError(name)

    # -- the plan it works on ---------------------------------------------------------------
    def set_layer(self, layer: AnnotationLayer, read_only: bool, limits: ClinicLimits) -> None:
        """A new plan: tools for its layer; in a read-only plan only viewing is left."""
        self._layer, self._read_only, self._limits = layer, read_only, limits
        self._armed_target = ""
        for name in DRAWING_TOOLS:
            self.tool_actions[name].setEnabled(not read_only)
        self._fill_avoid_box()
        self.activate(self._current if not read_only else "select")

    def set_region(self, region: RegionCatalog | None) -> None:
        """The shown image's region: its catalog names new targets and lists what to avoid."""
        if region == self._region:
            return
        self._region = region
        self._armed_target = ""
        self._fill_avoid_box()
        self._refresh_defaults()

    @property
    def region(self) -> RegionCatalog | None:
        return self._region

    def arm_target(self, name: str) -> None:
        """The next target placed gets this name (from the checklist), then the catalog's
        order again."""
        self._armed_target = name
        self.activate("target")

    def target_placed(self, name: str) -> None:
        if self._armed_target and name == self._armed_target:
            self._armed_target = ""
            self._refresh_defaults()

    def target_defaults(self) -> TargetDefaults:
        entry = (
            self._region.target(self._armed_target) if self._region and self._armed_target else None
        )
        if entry is not None:
            return TargetDefaults(
                kind=entry.kind,
                name=entry.name,
                injectate=entry.default_injectate or TargetDefaults().injectate,
                catalog=self._region,
            )
        return TargetDefaults(name=self._armed_target, catalog=self._region)

    def zone_defaults(self) -> ZoneDefaults:
        data = self.avoid_box.currentData()
        if data is None:
            return ZoneDefaults(margin_mm=self._limits.default_zone_margin_mm)
        kind, name, margin = data
        return ZoneDefaults(kind=AvoidKind(kind), name=name, margin_mm=margin)

    def _refresh_defaults(self) -> None:
        tool = self.tool
        if isinstance(tool, TargetTool):
            tool.defaults = self.target_defaults()
        elif isinstance(tool, AvoidZoneTool):
            tool.defaults = replace(self.zone_defaults(), shape=tool.defaults.shape)

    def _fill_avoid_box(self) -> None:
        box = self.avoid_box
        previous = box.currentText()
        box.blockSignals(True)
        box.clear()
        region = self._region
        if region is not None:
            for a in region.avoid:
                box.addItem(a.name, (a.kind.value, a.name, a.margin_mm))
                box.setItemData(
                    box.count() - 1,
                    f"{a.kind.value}, margin {a.margin_mm:g} mm",
                    Qt.ItemDataRole.ToolTipRole,
                )
            if region.avoid:
                box.insertSeparator(box.count())
        margin = self._limits.default_zone_margin_mm
        for kind in AvoidKind:
            box.addItem(f"{kind.value} (unnamed)", (kind.value, "", margin))
        # Another region: its first structure; the same one kept only if it is the region's.
        names = {a.name for a in region.avoid} if region is not None else set()
        found = box.findText(previous) if previous in names else -1
        box.setCurrentIndex(found if found >= 0 else 0)
        box.blockSignals(False)
