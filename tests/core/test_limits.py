"""The clinic's limits: defaults, validation, and limits.json saved and read back."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from prolo_planner.core.limits import (
    FORMAT,
    AnaestheticLimit,
    ClinicLimits,
    limits_file,
    load_limits,
    save_limits,
)
from prolo_planner.core.plan import Anaesthetic


def test_defaults_are_the_common_figures():
    limits = ClinicLimits()
    assert limits.anaesthetic(Anaesthetic.LIDOCAINE) == AnaestheticLimit(4.5, 300.0)
    assert limits.anaesthetic(Anaesthetic.PROCAINE) == AnaestheticLimit(7.0, 350.0)
    assert limits.anaesthetic(Anaesthetic.NONE) is None
    assert (limits.needle_hub_margin_mm, limits.needle_excess_mm) == (10.0, 40.0)
    assert limits.in_plane_max_angle_deg == 45.0
    assert limits.default_zone_margin_mm == 3.0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("lidocaine_mg_per_kg", 0.0),
        ("lidocaine_max_mg", -1.0),
        ("in_plane_max_angle_deg", 95.0),
        ("needle_hub_margin_mm", float("nan")),
        ("procaine_max_mg", True),
    ],
)
def test_impossible_values_are_refused(name, value):
    with pytest.raises(ValueError, match=name):
        ClinicLimits(**{name: value})


def test_zero_hub_and_zone_margins_are_allowed():
    limits = ClinicLimits(needle_hub_margin_mm=0, default_zone_margin_mm=0)
    assert limits.needle_hub_margin_mm == 0


def test_missing_file_gives_defaults_without_a_problem(private_home: Path):
    loaded = load_limits()
    assert loaded.limits == ClinicLimits()
    assert loaded.problems == ()
    assert loaded.path == private_home / "config" / "limits.json"


def test_saved_limits_read_back_from_the_private_config_folder(private_home: Path):
    mine = ClinicLimits(lidocaine_mg_per_kg=3.0, lidocaine_max_mg=200, in_plane_max_angle_deg=60)
    path = save_limits(mine)
    assert path == limits_file() == private_home / "config" / "limits.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert doc["format"] == FORMAT and doc["version"] == "1.0"
    assert doc["lidocaine_max_mg"] == 200
    loaded = load_limits()
    assert loaded.limits == mine and loaded.problems == ()


def test_malformed_json_is_reported_and_defaults_used():
    limits_file().write_text('{"format": "prolo-planner/limits", "version": "1.0",\n  "lido')
    loaded = load_limits()
    assert loaded.limits == ClinicLimits()
    (problem,) = loaded.problems
    assert "not valid JSON (line 2" in problem and "defaults used" in problem


@pytest.mark.parametrize(
    ("doc", "says"),
    [
        ([1, 2], "not a JSON object"),
        ({"format": "something else", "version": "1.0"}, "is not 'prolo-planner/limits'"),
        ({"format": FORMAT, "version": "2.0", "lidocaine_max_mg": 100}, "version '2.0'"),
    ],
)
def test_a_file_of_another_kind_or_newer_major_version_is_reported(doc, says):
    limits_file().write_text(json.dumps(doc))
    loaded = load_limits()
    assert loaded.limits == ClinicLimits()
    assert says in loaded.problems[0]


def test_newer_minor_version_is_read():
    limits_file().write_text(
        json.dumps({"format": FORMAT, "version": "1.3", "procaine_max_mg": 500})
    )
    loaded = load_limits()
    assert loaded.limits.procaine_max_mg == 500 and loaded.problems == ()


def test_one_bad_value_falls_back_alone_and_is_named():
    doc = {
        "format": FORMAT,
        "version": "1.0",
        "lidocaine_max_mg": 250,
        "lidocaine_mg_per_kg": "four",
        "in_plane_max_angle_deg": -5,
        "needle_excess_mm": False,
    }
    limits_file().write_text(json.dumps(doc))
    loaded = load_limits()
    assert loaded.limits.lidocaine_max_mg == 250
    assert loaded.limits.lidocaine_mg_per_kg == 4.5
    assert loaded.limits.in_plane_max_angle_deg == 45.0
    assert loaded.limits.needle_excess_mm == 40.0
    assert len(loaded.problems) == 3
    joined = "\n".join(loaded.problems)
    assert "lidocaine_mg_per_kg: expected a number, got 'four'; default 4.5 used" in joined
    assert "in_plane_max_angle_deg: -5 is out of range" in joined


def test_unknown_keys_survive_a_resave():
    doc = {"format": FORMAT, "version": "1.1", "bupivacaine_max_mg": 175, "procaine_max_mg": 400}
    limits_file().write_text(json.dumps(doc))
    loaded = load_limits()
    save_limits(replace(loaded.limits, lidocaine_max_mg=280))
    again = json.loads(limits_file().read_text())
    assert again["bupivacaine_max_mg"] == 175
    assert again["procaine_max_mg"] == 400 and again["lidocaine_max_mg"] == 280
    assert again["version"] == "1.0"


def test_unreadable_file_is_reported(tmp_path: Path):
    folder = tmp_path / "limits.json"
    folder.mkdir()  # a folder where the file should be
    loaded = load_limits(folder)
    assert loaded.limits == ClinicLimits()
    assert "cannot be read" in loaded.problems[0]
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "cannot be read" in load_limits(binary).problems[0]
