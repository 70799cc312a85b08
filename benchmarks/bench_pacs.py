"""The PACS as the shared record, measured: pulling a course of sessions from Orthanc on loopback
into an empty store (C-GET, C-MOVE and WADO-RS), and finding one patient's plans on a PACS that
holds many patients (C-FIND and QIDO-RS).

    python benchmarks/bench_pacs.py [--sessions 20] [--images 60] [--patients 10000]
                                    [--json benchmarks/results/pacs.json] [--smoke]

The course: one patient, `--sessions` signed sessions whose plans lie on `--images` distinct
DICOM ultrasound images (copies of the bundled lumbar still, 0.9 MB each, with their own
UIDs), each plan three targets with needle paths and a zone to avoid on three images. Store A
makes it and puts the images and SRs into a fresh Orthanc (Debian's, with its DICOMweb
plugin); each pull starts from an empty store B and ends when every session is filed with its
images (read from the PACS, written to the library, matched to the patient, plans stored).
Orthanc runs with TCP_NODELAY=1 (DCMTK keeps Nagle's algorithm on unless told: 40 ms per DIMSE
message); one C-GET pull is also timed as Debian's Orthanc comes, for comparison.
The crowd: `--patients` more patients, one small image each, put into the same Orthanc before
the searches; a search is the whole find of one patient's plans (three C-FIND queries on one
association, or one QIDO-RS request), timed 7 times, median and worst reported.
Targets: the pull under 10 s; the search under 1 s. Exit status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))  # the real servers are test tooling: tests.net_servers

import pydicom  # noqa: E402
from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage  # noqa: E402

PULL_TARGET_S = 10.0
FIND_TARGET_S = 1.0
PATIENT = {"mrn": "BENCH-0001", "name": "BENCH^Course", "birth_date": "1966-06-06", "sex": "F"}
SAMPLE = REPO / "sample_images" / "lumbar_long_axis_rgb.dcm"


def _images(folder: Path, count: int) -> list[Path]:
    """`count` distinct ultrasound instances of the bench patient, one study per three."""
    from pydicom.uid import generate_uid

    source = pydicom.dcmread(SAMPLE)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    study = series = ""
    for n in range(count):
        if n % 3 == 0:
            study, series = generate_uid(), generate_uid()
        ds = source.copy()
        ds.PatientID, ds.PatientName = PATIENT["mrn"], PATIENT["name"]
        ds.PatientBirthDate, ds.PatientSex = PATIENT["birth_date"].replace("-", ""), "F"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.InstanceNumber = n % 3 + 1
        path = folder / f"image{n:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        out.append(path)
    return out


def _course(data: Path, images: list[Path], sessions: int) -> list[Path]:
    """Store A's course: sessions signed, each plan on three images; their SR files."""
    import datetime as dt

    from prolo_planner.core.geometry import Point
    from prolo_planner.core.plan import (
        AvoidKind,
        AvoidZone,
        ImagePlan,
        NeedlePath,
        Plan,
        Side,
        Target,
        ZoneShape,
    )
    from prolo_planner.report.session_export import export_session
    from prolo_planner.store.repository import Repository

    srs = []
    with Repository.open(data, who="bench") as repo:
        patient = repo.create_patient(**PATIENT, weight_kg=70.0)
        stored = [repo.import_dicom(p).image for p in images]
        per = max(1, len(stored) // sessions)
        for s in range(sessions):
            chosen = [stored[(s * per + k) % len(stored)] for k in range(min(3, per))]
            plan_images = [
                ImagePlan(repo.image_ref(im), region="lumbar_spine", side=Side.MIDLINE)
                for im in chosen
            ]
            annotations: list = []
            for im in plan_images:
                for k in range(3):
                    target = Target(im.id, Point(300 + 40 * k, 220), name=f"site {k}")
                    annotations += [target, NeedlePath(im.id, Point(280 + 40 * k, 90), target.id)]
                annotations.append(
                    AvoidZone(
                        im.id,
                        ZoneShape.POLYGON,
                        (Point(250, 330), Point(450, 330), Point(450, 380), Point(250, 380)),
                        kind=AvoidKind.SPINAL_CANAL,
                    )
                )
            when = dt.datetime(2025, 1, 6, 9, 30) + dt.timedelta(days=21 * s)
            session = repo.create_session(
                patient.id,
                plan=Plan(tuple(plan_images), tuple(annotations), 70.0, f"session {s + 1}"),
                started_at=when,
                region="lumbar_spine",
                clinician="Dr Bench",
                pain_before=7,
                pain_after=4,
            )
            repo.sign(session.id)
            files = export_session(repo, session.id, ["sr"], data / "export" / str(session.id))
            srs += [f for f in files if f.name.endswith("_sr.dcm")]
    return srs


def _crowd(folder: Path, patients: int) -> list[Path]:
    """One small Secondary Capture (8 x 8) per patient of the crowd."""
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n in range(patients):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.PatientID, ds.PatientName = f"CROWD-{n:06d}", f"CROWD^{n:06d}"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
        ds.Modality, ds.ConversionType, ds.StudyDate = "OT", "WSD", "20250101"
        ds.Rows = ds.Columns = 8
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated = ds.BitsStored = 8
        ds.HighBit, ds.PixelRepresentation = 7, 0
        ds.PixelData = bytes(64)
        path = folder / f"crowd{n:06d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        out.append(path)
    return out


def _pull(node, data: Path, settings) -> tuple[float, object]:
    from prolo_planner.pacs.pull import pull
    from prolo_planner.store.repository import Repository

    started = time.perf_counter()
    with Repository.open(data) as repo:
        report = pull(repo, node, PATIENT["mrn"], settings=settings)
    return time.perf_counter() - started, report


def _find_times(node, settings, runs: int = 7) -> list[float]:
    from prolo_planner.pacs.pull import find_plans

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        found = find_plans(node, PATIENT["mrn"], settings)
        times.append(time.perf_counter() - started)
        assert found, "the bench patient's plans were not found"
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "pacs.json")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: targets not judged")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="prolo-bench-pacs-"))
    os.environ["PROLO_PLANNER_HOME"] = str(home / "home")
    from tests.net_servers import Orthanc, free_port

    from prolo_planner.net.nodes import NetworkSettings
    from prolo_planner.net.send import send_files

    our_ae, move_port = "PROLO_BENCH", free_port()
    settings = NetworkSettings(
        calling_ae_title=our_ae, retrieve_port=move_port, retrieve_address="127.0.0.1"
    )
    (home / "orthanc").mkdir(parents=True)
    # A PACS configured to answer queries from its index, as a large Orthanc is: without it,
    # each C-FIND answer reads a DICOM file from disk (StorageAccessOnFind "Always").
    pacs = Orthanc(
        home / "orthanc",
        dicomweb=True,
        modalities={our_ae: move_port},
        extra={"StorageAccessOnFind": "Never"},
    ).start()
    results: dict[str, object] = {}
    try:
        print(f"making a course of {args.sessions} sessions on {args.images} images ...")
        images = _images(home / "images", args.images)
        srs = _course(home / "store-a", images, args.sessions)
        sent = send_files(pacs.node, [*images, *srs], calling_ae=our_ae)
        assert all(r.ok for r in sent), [r.message for r in sent if not r.ok][:3]
        pulls: dict[str, dict[str, float]] = {}
        for label, node in (
            ("DIMSE C-GET", pacs.node),
            ("DIMSE C-MOVE", _as_move(pacs.node)),
            ("DICOMweb WADO-RS", pacs.web_node()),
        ):
            seconds, report = _pull(node, home / f"store-{label.split()[-1]}", settings)
            new = sum(1 for f in report.filed if f.outcome.value == "new")
            assert new == args.sessions and not report.skipped, report.summary()
            pulls[label] = {"seconds": seconds, "sessions": new, "images": report.images}
            print(f"pull {label:18} {seconds:6.2f} s  ({new} sessions, {report.images} images)")
        # The same PACS as Debian configures it: DCMTK's Nagle algorithm on (see tests/
        # net_servers.Orthanc), every DIMSE message waiting for the delayed ACK.
        pacs.stop()
        pacs.nagle = True
        pacs.start()
        seconds, report = _pull(pacs.node, home / "store-nagle", settings)
        nagle = {"seconds": seconds, "sessions": len(report.filed), "images": report.images}
        print(f"pull DIMSE C-GET, Orthanc with Nagle on: {seconds:6.2f} s")
        pacs.stop()
        pacs.nagle = False
        pacs.start()
        print(f"filling the PACS with {args.patients:,} more patients ...")
        started = time.perf_counter()
        crowd = _crowd(home / "crowd", args.patients)
        stored = send_files(pacs.node, crowd, calling_ae=our_ae)
        assert all(r.ok for r in stored), [r.message for r in stored if not r.ok][:3]
        fill_s = time.perf_counter() - started
        counts = pacs.rest("/statistics")
        finds: dict[str, dict[str, float]] = {}
        for label, node in (("DIMSE C-FIND", pacs.node), ("DICOMweb QIDO-RS", pacs.web_node())):
            times = _find_times(node, settings)
            finds[label] = {"median_s": statistics.median(times), "max_s": max(times)}
            print(
                f"find  {label:18} median {statistics.median(times) * 1000:6.0f} ms, "
                f"worst {max(times) * 1000:6.0f} ms"
            )
        results = {
            "sessions": args.sessions,
            "images": args.images,
            "image_mb": SAMPLE.stat().st_size / 1e6,
            "patients_on_pacs": int(counts["CountPatients"]),  # type: ignore[index]
            "instances_on_pacs": int(counts["CountInstances"]),  # type: ignore[index]
            "crowd_fill_s": fill_s,
            "pull": pulls,
            "pull_with_nagle": nagle,
            "find": finds,
            "pull_target_s": PULL_TARGET_S,
            "find_target_s": FIND_TARGET_S,
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "machine": platform.machine(),
            },
        }
    finally:
        pacs.stop()
        shutil.rmtree(home, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"wrote {args.json}")
    if args.smoke:
        return 0
    slow = [k for k, v in pulls.items() if v["seconds"] >= PULL_TARGET_S]
    slow += [k for k, v in finds.items() if v["max_s"] >= FIND_TARGET_S]
    if slow:
        print("targets missed: " + ", ".join(slow))
        return 1
    print(f"targets met: pull under {PULL_TARGET_S:.0f} s, search under {FIND_TARGET_S:.0f} s")
    return 0


def _as_move(node):
    import dataclasses

    from prolo_planner.net.nodes import RetrieveMethod

    return dataclasses.replace(node, name="orthanc-move", retrieve=RetrieveMethod.MOVE)


if __name__ == "__main__":
    sys.exit(main())
