"""The plan's panels on a real image: the annotation list and its values, the property editor,
the warnings with the session's totals, the image's region and the catalog checklist."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt

from prolo_planner.core.catalog import load_catalogs
from prolo_planner.core.edits import AddAnnotation
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    Anaesthetic,
    AvoidKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    ImageRef,
    Injectate,
    NeedlePath,
    Plan,
    Target,
    TargetKind,
    TextNote,
    ZoneShape,
)
from prolo_planner.imaging.open import open_image
from prolo_planner.imaging.source import ImageSource
from prolo_planner.ui.image_view import ImageView
from prolo_planner.ui.panels.annotation_list import AnnotationList
from prolo_planner.ui.panels.image_properties import NO_REGION, ImageProperties
from prolo_planner.ui.panels.property_editor import NOTHING_SELECTED, PropertyEditor
from prolo_planner.ui.panels.warnings_panel import WarningsPanel, totals_lines
from prolo_planner.ui.plan_workspace import PlanWorkspace
from tests.ui.plan_window_support import HIP_GRAB, LUMBAR


@dataclass
class Desk:
    workspace: PlanWorkspace
    source: ImageSource
    image_id: str
    listing: AnnotationList
    editor: PropertyEditor
    warnings: WarningsPanel
    image: ImageProperties

    def add(self, a):  # noqa: ANN001, ANN201
        self.workspace.controller.push(AddAnnotation(a))
        return a

    @property
    def plan(self) -> Plan:
        return self.workspace.controller.plan

    @property
    def mm_per_px(self) -> float:
        return self.source.calibration.regions[0].mm_per_px_y


def make_desk(qtbot, path=LUMBAR, region: str = "lumbar_spine", read_only: str = "") -> Desk:
    view = ImageView()
    qtbot.addWidget(view)
    source = open_image(path)
    image = ImagePlan(ImageRef(str(path)), region=region)
    ws = PlanWorkspace(
        view, Plan(images=(image,)), catalogs=load_catalogs(), read_only_reason=read_only
    )
    ws.link(image.id, source)
    view.set_frame(source.frame(0))
    ws.show(image.id)
    panels = (AnnotationList(), PropertyEditor(), WarningsPanel(), ImageProperties())
    for panel in panels:
        qtbot.addWidget(panel)
        panel.set_workspace(ws)
    panels[0].show_image(image.id)
    panels[1].show_image(image.id)
    panels[3].show_image(image.id)
    return Desk(ws, source, image.id, *panels)


@pytest.fixture
def desk(qtbot) -> Iterator[Desk]:
    d = make_desk(qtbot)
    yield d
    d.source.close()


def icon_rgb(item) -> tuple[int, int, int]:  # noqa: ANN001
    c = item.icon(0).pixmap(16, 16).toImage().pixelColor(8, 8)
    return c.red(), c.green(), c.blue()


# -- the annotation list ------------------------------------------------------------------------
def test_the_list_groups_by_kind_with_each_key_value(desk: Desk) -> None:
    i = desk.image_id
    zone = desk.add(AvoidZone(i, ZoneShape.ELLIPSE, (Point(232, 352), Point(304, 425)),
                              kind=AvoidKind.SPINAL_CANAL, name="dura", margin_mm=5.0))  # fmt: skip
    target = desk.add(Target(i, Point(268, 330), name="L4-L5 interspinous ligament"))
    path = desk.add(NeedlePath(i, Point(205, 70), target.id, needle_length_mm=63.0))
    desk.add(Caliper(i, Point(120, 100), Point(120, 200), label="skin to lamina"))
    desk.add(TextNote(i, Point(300, 400), Point(360, 430), "check the lamina"))
    heads = [desk.listing.tree.topLevelItem(n).text(0) for n in range(5)]
    assert heads == [
        "Targets (1)",
        "Needle paths (1)",
        "Avoid zones (1)",
        "Calipers (1)",
        "Text notes (1)",
    ]
    geometry = desk.workspace.controller.measurements.path(path.id)
    depth = geometry.depth.value
    # Each by the key its label carries on the image: the site's number (its path shares
    # it), then letters in plan order.
    assert desk.listing.rows() == [
        ("1  L4-L5 interspinous ligament", f"{depth:.1f} mm deep"),
        ("1  to L4-L5 interspinous ligament",
         f"{geometry.length.value:.1f} mm · {geometry.angle_deg.value:.0f}°"),
        ("A  dura", "margin 5 mm"),
        ("B  skin to lamina", f"{100 * desk.mm_per_px:.1f} mm"),
        ("C  check the lamina", ""),
    ]  # fmt: skip
    # The path passes within the dura's margin: both carry the warning's amber; the target,
    # with nothing to warn of, a ring of its own green.
    assert icon_rgb(desk.listing.item(path.id)) == (255, 178, 0)
    assert icon_rgb(desk.listing.item(zone.id)) == (255, 178, 0)
    ring = desk.listing.item(target.id).icon(0).pixmap(16, 16).toImage()
    assert ring.pixelColor(8, 8).alpha() == 0 and ring.pixelColor(8, 3).green() == 235
    assert "passes" in desk.listing.item(path.id).toolTip(0)


def test_no_millimetres_does_not_colour_the_list(qtbot) -> None:
    d = make_desk(qtbot, HIP_GRAB, region="hip")  # a frame grab: not calibrated
    target = d.add(Target(d.image_id, Point(200, 200)))
    assert d.listing.rows()[0][1] == "200 px ⚠ deep"
    assert d.listing.item(target.id).icon(0).pixmap(16, 16).toImage().pixelColor(8, 8).alpha() == 0
    assert any("is not calibrated" in m for m in d.warnings.messages())


def test_double_click_asks_for_the_annotations_frame(desk: Desk) -> None:
    on_frame = desk.add(Target(desk.image_id, Point(300, 250), frame=7))
    everywhere = desk.add(Target(desk.image_id, Point(350, 250)))
    desk.listing.show_image(desk.image_id, frame_count=50)
    seeks: list[int] = []
    desk.listing.seek_requested.connect(seeks.append)
    for target in (on_frame, everywhere):
        desk.listing.tree.itemDoubleClicked.emit(desk.listing.item(target.id), 0)
    assert seeks == [7]
    assert desk.listing.rows()[0][0] == "1  ligament  (frame 8)"


# -- the property editor ------------------------------------------------------------------------
def test_a_catalog_name_brings_its_kind_in_one_step(desk: Desk) -> None:
    target = desk.add(Target(desk.image_id, Point(300, 250)))
    desk.workspace.controller.select([target.id])
    editor = desk.editor
    lumbar = desk.workspace.catalogs.region("lumbar_spine")
    names = [editor.target_name.itemText(n) for n in range(editor.target_name.count())]
    assert names == lumbar.target_names()
    editor.target_name.setCurrentText("L4-L5 facet joint capsule")
    editor.target_name.activated.emit(editor.target_name.currentIndex())
    changed = desk.plan.annotation(target.id)
    assert (changed.name, changed.kind) == ("L4-L5 facet joint capsule", TargetKind.JOINT_CAPSULE)
    stack = desk.workspace.controller.undo_stack
    assert stack.count() == 2 and stack.text(1) == "Change target 'L4-L5 facet joint capsule'"
    editor.target_name.setEditText("  my own   site ")  # typed: kept as typed, kind unchanged
    editor.target_name.lineEdit().editingFinished.emit()
    assert desk.plan.annotation(target.id).name == "my own site"
    assert desk.plan.annotation(target.id).kind is TargetKind.JOINT_CAPSULE


def test_a_kind_set_by_hand_survives_leaving_the_name_field(desk: Desk, qtbot) -> None:
    """Issue 10: Kind = periosteum, open the Name list, Esc: it was "ligament" again. Leaving
    the name field with the same catalog name no longer brings the catalog's kind back."""
    target = desk.add(Target(desk.image_id, Point(300, 250)))
    desk.workspace.controller.select([target.id])
    editor = desk.editor
    editor.target_name.setCurrentText("L4-L5 supraspinous ligament")
    editor.target_name.activated.emit(editor.target_name.currentIndex())
    assert desk.plan.annotation(target.id).kind is TargetKind.LIGAMENT  # the catalog's
    editor.target_kind.setCurrentIndex(editor.target_kind.findData(TargetKind.PERIOSTEUM.value))
    editor.target_kind.activated.emit(editor.target_kind.currentIndex())
    assert desk.plan.annotation(target.id).kind is TargetKind.PERIOSTEUM
    # Open the name list and press Esc: the field is left, the name unchanged.
    editor.target_name.showPopup()
    qtbot.keyClick(editor.target_name.view(), Qt.Key.Key_Escape)
    editor.target_name.lineEdit().editingFinished.emit()
    editor.target_name.activated.emit(editor.target_name.currentIndex())
    changed = desk.plan.annotation(target.id)
    assert (changed.name, changed.kind) == ("L4-L5 supraspinous ligament", TargetKind.PERIOSTEUM)
    # Choosing another catalog name brings that name's kind.
    editor.target_name.setCurrentText("L4-L5 facet joint capsule")
    editor.target_name.activated.emit(editor.target_name.currentIndex())
    assert desk.plan.annotation(target.id).kind is TargetKind.JOINT_CAPSULE


def test_injectate_fields_and_the_site_dose(desk: Desk) -> None:
    target = desk.add(Target(desk.image_id, Point(300, 250), injectate=Injectate(15.0)))
    desk.workspace.controller.select([target.id])
    editor = desk.editor
    editor.volume.setValue(2.0)
    editor.anaesthetic_percent.setValue(1.0)
    inj = desk.plan.annotation(target.id).injectate
    assert (inj.volume_ml, inj.anaesthetic_percent) == (2.0, 1.0)
    assert "2 mL: dextrose 0.30 g, lidocaine 20 mg" in editor.derived.text()
    editor.anaesthetic.setCurrentIndex(editor.anaesthetic.findData("none"))
    editor.anaesthetic.activated.emit(editor.anaesthetic.currentIndex())
    assert desk.plan.annotation(target.id).injectate.anaesthetic is Anaesthetic.NONE
    assert not editor.anaesthetic_percent.isEnabled()
    desk.workspace.controller.undo()
    assert desk.plan.annotation(target.id).injectate.anaesthetic is Anaesthetic.LIDOCAINE
    assert (
        editor.anaesthetic.currentText() == "lidocaine" and editor.anaesthetic_percent.isEnabled()
    )


def test_zone_path_and_measurement_pages(desk: Desk) -> None:
    i = desk.image_id
    zone = desk.add(AvoidZone(i, ZoneShape.POLYGON, (Point(1, 1), Point(9, 1), Point(9, 9))))
    c = desk.workspace.controller
    c.select([zone.id])
    editor = desk.editor
    assert editor.stack.currentWidget() is editor.pages["zone"]
    editor.zone_name.setCurrentText("L5 exiting nerve root")
    editor.zone_name.activated.emit(editor.zone_name.currentIndex())
    changed = desk.plan.annotation(zone.id)
    assert (changed.kind, changed.margin_mm) == (AvoidKind.NERVE, 3.0)

    target = desk.add(Target(i, Point(300, 250)))
    path = desk.add(NeedlePath(i, Point(220, 80), target.id))
    c.select([path.id])
    assert editor.stack.currentWidget() is editor.pages["path"]
    editor.gauge.setValue(22)
    editor.needle_length.setValue(90.0)
    changed = desk.plan.annotation(path.id)
    assert (changed.needle_gauge, changed.needle_length_mm) == (22, 90.0)
    assert "needle path length: " in editor.derived.text()

    caliper = desk.add(Caliper(i, Point(120, 100), Point(120, 200)))
    c.select([caliper.id])
    editor.measure_label.setText("skin to lamina")
    editor.measure_label.editingFinished.emit()
    assert desk.plan.annotation(caliper.id).label == "skin to lamina"
    c.select([caliper.id, path.id])
    assert (
        editor.hint.text() == "2 annotations selected."
        and editor.stack.currentWidget() is editor.hint
    )
    c.clear_selection()
    assert editor.hint.text() == NOTHING_SELECTED


# -- the warnings panel -------------------------------------------------------------------------
def test_totals_and_the_weight_against_the_clinics_limit(desk: Desk) -> None:
    i = desk.image_id
    for x in (250, 300, 350):
        desk.add(
            Target(i, Point(x, 250), injectate=Injectate(20.0, Anaesthetic.LIDOCAINE, 1.0, 2.0))
        )
    panel = desk.warnings
    assert panel.totals.text().splitlines() == [
        "3 sites placed: 6.0 mL, dextrose 1.20 g",
        "Lidocaine 60 mg — limit 300 mg; 4.5 mg/kg cannot be checked without the weight",
    ]
    assert any(m.startswith("No patient weight known") for m in panel.messages())
    panel.weight.setValue(10.0)  # a child: 45 mg allowed
    assert desk.plan.patient_weight_kg == 10.0
    assert panel.totals.text().splitlines()[1] == (
        "Lidocaine 60 mg — limit 45 mg (4.5 mg/kg × 10 kg = 45 mg, at most 300 mg)"
    )
    assert panel.messages()[0] == (
        "Lidocaine total 60 mg is above the clinic's limit of 4.5 mg/kg for 10 kg (45 mg)"
    )
    assert panel.summary.text() == "1 warning, danger"
    chosen: list[tuple[str, ...]] = []
    panel.warning_chosen.connect(chosen.append)
    panel.list.itemClicked.emit(panel.list.item(0))
    assert len(chosen[0]) == 3
    desk.workspace.controller.undo()
    assert desk.plan.patient_weight_kg is None and panel.weight.text() == "unknown"
    assert totals_lines(desk.plan, desk.workspace.controller.limits)[0].startswith("3 sites")
    # A site carried forward and not placed yet is listed apart, not added to the totals.
    desk.add(
        Target(i, None, name="L5-S1 interspinous ligament", injectate=Injectate(volume_ml=1.5))
    )
    assert panel.totals.text().splitlines()[:2] == [
        "3 sites placed: 6.0 mL, dextrose 1.20 g",
        "Not placed yet, not in the totals: 1 site, 1.5 mL (L5-S1 interspinous ligament)",
    ]


# -- the image's region and the checklist -------------------------------------------------------
def test_region_choice_feeds_the_checklist(desk: Desk, qtbot) -> None:
    props = desk.image
    names = [props.region.itemText(n) for n in range(props.region.count())]
    assert names[0] == NO_REGION and len(names) == 1 + len(desk.workspace.catalogs.regions)
    assert props.region.currentText() == "Lumbar spine"
    lumbar = desk.workspace.catalogs.region("lumbar_spine")
    desk.add(Target(desk.image_id, Point(300, 250), name=lumbar.targets[1].name))
    rows = props.checklist.rows()
    assert rows[1] == (lumbar.targets[1].name, True) and not any(p for _, p in rows[2:])
    assert (
        props.checklist.heading.text()
        == f"Lumbar spine: 1 of {len(lumbar.targets)} catalog targets placed"
    )
    chosen: list[str] = []
    props.checklist.target_chosen.connect(chosen.append)
    props.checklist.list.itemDoubleClicked.emit(props.checklist.list.item(2))
    props.checklist.list.itemDoubleClicked.emit(props.checklist.list.item(1))  # placed: no
    assert chosen == [lumbar.targets[2].name]

    props.region.setCurrentIndex(props.region.findText("Hip"))
    props.region.activated.emit(props.region.currentIndex())
    assert desk.plan.image(desk.image_id).region == "hip"
    hip = desk.workspace.catalogs.region("hip")
    assert [n for n, _ in props.checklist.rows()] == hip.target_names()
    assert (
        desk.workspace.controller.undo_stack.undoText() == "Change image 'lumbar_long_axis_rgb.dcm'"
    )
    desk.workspace.controller.undo()
    assert props.region.currentText() == "Lumbar spine"


def test_read_only_panels_show_but_do_not_edit(qtbot) -> None:
    d = make_desk(qtbot, read_only="signed")
    assert not d.editor.isEnabled() and not d.warnings.weight.isEnabled()
    assert not d.image.region.isEnabled() and not d.image.key_frame.isEnabled()
    d.warnings.weight.setValue(70.0)  # even if it were typed into: refused
    assert d.plan.patient_weight_kg is None
