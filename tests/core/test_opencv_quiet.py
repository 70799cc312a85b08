"""OpenCV is silenced through whichever switch the installed OpenCV has (4.x or 5.x)."""

from __future__ import annotations

from types import SimpleNamespace

import cv2

from prolo_planner.imaging.opencv_quiet import silence_opencv


def _log_level() -> int:
    logging_api = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging_api is not None and hasattr(logging_api, "getLogLevel"):
        return int(logging_api.getLogLevel())
    return int(cv2.getLogLevel())


def test_the_installed_opencv_is_silent_after_import() -> None:
    import prolo_planner.imaging.still  # noqa: F401  (importing it silences OpenCV)

    cv2_set = getattr(cv2, "setLogLevel", None) or cv2.utils.logging.setLogLevel
    cv2_set(3)  # WARNING
    assert _log_level() == 3
    assert silence_opencv() != ""
    assert _log_level() == 0


def test_opencv_4_without_utils_logging_is_silenced_through_cv2_setloglevel() -> None:
    calls: list[int] = []
    opencv_4 = SimpleNamespace(utils=SimpleNamespace(), setLogLevel=calls.append)
    assert silence_opencv(opencv_4) == "cv2.setLogLevel"
    assert calls == [0]


def test_opencv_5_is_silenced_through_utils_logging() -> None:
    calls: list[int] = []
    logging_api = SimpleNamespace(setLogLevel=calls.append, LOG_LEVEL_SILENT=0)
    opencv_5 = SimpleNamespace(utils=SimpleNamespace(logging=logging_api))
    assert silence_opencv(opencv_5) == "cv2.utils.logging.setLogLevel"
    assert calls == [0]
