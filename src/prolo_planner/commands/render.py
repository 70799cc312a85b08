"""`prolo-planner render`: one frame as the viewer shows it at default settings, as PNG."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from prolo_planner.core.display import DisplaySettings, apply_display
from prolo_planner.files import write_bytes_atomic
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.open import open_image


def encode_png(frame: np.ndarray) -> bytes:
    """PNG bytes of an HxW grey or HxWx3 RGB uint8 frame."""
    bgr = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def run_render(path: Path, frame_index: int, out: Path) -> int:
    try:
        source = open_image(path)
    except ImageLoadError as exc:
        print(f"prolo-planner: {exc.path}: {exc.reason}", file=sys.stderr)
        return 1
    try:
        if not 0 <= frame_index < source.frame_count:
            print(
                f"prolo-planner: {path}: frame {frame_index} does not exist "
                f"(the file has {source.frame_count} frame(s), numbered from 0)",
                file=sys.stderr,
            )
            return 1
        shown = apply_display(source.frame(frame_index), DisplaySettings())
        write_bytes_atomic(out, encode_png(shown))
    except ImageLoadError as exc:
        print(f"prolo-planner: {exc.path}: {exc.reason}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"prolo-planner: {out}: cannot write ({exc.strerror or exc})", file=sys.stderr)
        return 1
    finally:
        source.close()
    print(f"wrote {out} (frame {frame_index} of {path})")
    return 0
