"""The patient list: search by name or ID as typed, a new patient, and DICOM files whose
patient does not match the store shown (never merged)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from prolo_planner.store.repository import Repository
from prolo_planner.ui.sessions.patient_list import NewPatientDialog, PatientList
from tests.ui.sessions_support import demo_fixture, store_dir_fixture  # noqa: F401


def _repo_with_people(path: Path) -> Repository:
    repo = Repository.open(path)
    repo.create_patient("MRN-0042", "SMITH^Anna", "1960-02-01", "F", 61.0)
    repo.create_patient("MRN-0043", "SMITH-JONES^Ben", "1975-07-12", "M", 80.0)
    repo.create_patient("X-99", "GARCÍA^Lucía", "1988-11-30", "F")
    return repo


def _search(qtbot, widget: PatientList, text: str) -> list[str]:
    widget.search.clear()
    qtbot.keyClicks(widget.search, text)
    # The list answers once typing pauses, without a key press to ask.
    qtbot.waitUntil(lambda: widget.search.text() == text and not widget._timer.isActive())
    return [p.mrn for p in widget.shown_patients()]


def test_search_by_name_prefix_id_and_accents_as_typed(qtbot, tmp_path):
    repo = _repo_with_people(tmp_path / "s")
    widget = PatientList(repo)
    qtbot.addWidget(widget)
    assert {p.mrn for p in widget.shown_patients()} == {"X-99", "MRN-0042", "MRN-0043"}
    assert widget.count.text() == "3 patients"
    assert sorted(_search(qtbot, widget, "smi")) == ["MRN-0042", "MRN-0043"]
    assert _search(qtbot, widget, "jones") == ["MRN-0043"]  # a part of a double name
    assert _search(qtbot, widget, "smith an") == ["MRN-0042"]  # two words: both must match
    assert _search(qtbot, widget, "mrn-0043") == ["MRN-0043"]
    assert _search(qtbot, widget, "garcia lucia") == ["X-99"]  # accents folded
    assert _search(qtbot, widget, "nobody") == []
    assert widget.count.text() == "No patient matches"
    first_line = widget.results.item(0) if widget.results.count() else None
    assert first_line is None
    repo.close()


def test_choosing_a_patient_says_which(qtbot, tmp_path):
    repo = _repo_with_people(tmp_path / "s")
    widget = PatientList(repo)
    qtbot.addWidget(widget)
    _search(qtbot, widget, "ben")
    chosen = []
    widget.patient_chosen.connect(chosen.append)
    qtbot.keyClick(widget.search, Qt.Key.Key_Return)
    assert [p.mrn for p in chosen] == ["MRN-0043"]
    item = widget.results.item(0)
    assert item.text().splitlines() == [
        "SMITH-JONES, Ben",
        "ID MRN-0043 · born 1975-07-12 · male · 80 kg",
    ]
    repo.close()


def test_new_patient_dialog_adds_to_the_store_and_refuses_a_taken_id(qtbot, tmp_path):
    repo = _repo_with_people(tmp_path / "s")
    widget = PatientList(repo)
    qtbot.addWidget(widget)
    _search(qtbot, widget, "MRN-7")  # not found: the dialog offers it as the ID
    dialog = widget.new_patient_dialog()
    qtbot.addWidget(dialog)
    assert dialog.mrn.text() == "MRN-7"
    dialog.mrn.setText("MRN-0042")  # taken
    qtbot.keyClicks(dialog.family, "Okafor")
    qtbot.keyClicks(dialog.given, "Chidi")
    qtbot.keyClicks(dialog.birth_date, "1990-04-03")
    dialog.sex.setCurrentIndex(dialog.sex.findData("M"))
    dialog.weight.setValue(77.5)
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert "already in the store" in dialog.problem.text()
    assert dialog.result() == 0 and dialog.patient is None
    dialog.mrn.setText("MRN-7")
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.patient is not None
    stored = repo.patient_by_mrn("MRN-7")
    assert stored is not None
    assert (stored.name, stored.birth_date, stored.sex, stored.weight_kg) == (
        "OKAFOR^Chidi",
        "1990-04-03",
        "M",
        77.5,
    )
    chosen = []
    widget.patient_chosen.connect(chosen.append)
    widget.patient_created(stored)
    assert [p.id for p in chosen] == [stored.id]
    assert widget.results.currentItem().data(Qt.ItemDataRole.UserRole).id == stored.id
    repo.close()


def test_new_patient_with_a_bad_birth_date_says_what_is_wrong(qtbot, tmp_path):
    repo = Repository.open(tmp_path / "s")
    dialog = NewPatientDialog(repo)
    qtbot.addWidget(dialog)
    dialog.mrn.setText("A1")
    dialog.family.setText("Doe")
    dialog.birth_date.setText("31/02/1970")
    assert dialog.add() is None
    assert "birth date" in dialog.problem.text() and "YYYY-MM-DD" in dialog.problem.text()
    # The right shape, an impossible day: the message names the month's length, not the shape.
    dialog.birth_date.setText("1968-02-30")
    assert dialog.add() is None
    assert "not a date: February 1968 has 29 days" in dialog.problem.text()
    assert "YYYY-MM-DD" not in dialog.problem.text()
    assert repo.patient_by_mrn("A1") is None
    repo.close()
