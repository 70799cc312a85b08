"""Silence OpenCV's own console messages, on every OpenCV the project's range admits.

Decoding failures become ImageLoadErrors with a reason; OpenCV's warnings about them ("backend is
generally available but can't be used", a damaged frame) would only repeat it on stderr.
OpenCV 5 names the switch ``cv2.utils.logging.setLogLevel``; OpenCV 4 has ``cv2.setLogLevel``
and no ``cv2.utils.logging``. Both take the same levels, 0 being silent.
"""

from __future__ import annotations

from typing import Any

import cv2

#: ``cv::utils::logging::LOG_LEVEL_SILENT``, the same number in OpenCV 4 and 5.
LOG_LEVEL_SILENT = 0


def silence_opencv(module: Any = cv2) -> str:
    """Set OpenCV's log level to silent; return the name of the switch that was used."""
    logging_api = getattr(getattr(module, "utils", None), "logging", None)
    if logging_api is not None and hasattr(logging_api, "setLogLevel"):
        logging_api.setLogLevel(getattr(logging_api, "LOG_LEVEL_SILENT", LOG_LEVEL_SILENT))
        return "cv2.utils.logging.setLogLevel"
    if hasattr(module, "setLogLevel"):
        module.setLogLevel(LOG_LEVEL_SILENT)
        return "cv2.setLogLevel"
    return ""
