"""The thumbnail strip of open images and clips, decoded lazily and off the GUI thread."""

from __future__ import annotations

import itertools
import logging

from PySide6.QtCore import QObject, QPoint, QRect, QRunnable, QSize, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem, QWidget

from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.source import ImageSource, SourceInfo, SourceKind
from prolo_planner.render.qimage import frame_to_qimage

log = logging.getLogger("prolo_planner.ui")

THUMB_SIZE = QSize(168, 126)
_KEY_ROLE = Qt.ItemDataRole.UserRole + 1
_PATH_ROLE = Qt.ItemDataRole.UserRole + 2
_READY_ROLE = Qt.ItemDataRole.UserRole + 3


def badge_text(info: SourceInfo) -> str:
    """What kind of image an entry is, at a glance: 'cine 48 fr', 'still' or 'video'."""
    if info.kind is SourceKind.VIDEO:
        return "video"
    if info.frame_count > 1:
        return f"cine {info.frame_count} fr"
    return "still"


class _Results(QObject):
    """Carries finished thumbnails from the worker threads back to the GUI thread."""

    done = Signal(int, QImage)
    failed = Signal(int, str)


class _ThumbnailJob(QRunnable):
    def __init__(self, key: int, source: ImageSource, results: _Results) -> None:
        super().__init__()
        self.key, self.source, self.results = key, source, results

    def run(self) -> None:
        try:
            # scaled() returns a new image that owns its pixels, safe to hand across threads.
            image = frame_to_qimage(self.source.frame(0)).scaled(
                THUMB_SIZE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        except ImageLoadError as exc:
            self.results.failed.emit(self.key, exc.reason)
            return
        except Exception as exc:  # noqa: BLE001 - a bad frame must not take the app down
            log.exception("thumbnail of %s", self.source.info.path)
            self.results.failed.emit(self.key, f"first frame cannot be shown ({exc})")
            return
        self.results.done.emit(self.key, image)


class ThumbnailStrip(QListWidget):
    """One entry per open image: its first frame, file name and kind. Selecting shows it."""

    image_chosen = Signal(int)
    #: (path, reason) when an image's first frame cannot be decoded.
    thumbnail_failed = Signal(object, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thumbnail_strip")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.TopToBottom)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setIconSize(THUMB_SIZE)
        self.setGridSize(QSize(THUMB_SIZE.width() + 16, THUMB_SIZE.height() + 44))
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(THUMB_SIZE.width() + 36)

        self._keys = itertools.count()
        self._sources: dict[int, ImageSource] = {}
        self._items: dict[int, QListWidgetItem] = {}
        self._requested: set[int] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._results = _Results(self)
        self._results.done.connect(self._thumbnail_done)
        self._results.failed.connect(self._thumbnail_failed)
        self._placeholder = _placeholder_icon()
        # Decode only what is on screen: re-check shortly after scrolling, resizing or adding.
        self._visible_check = QTimer(self, singleShot=True, interval=30)
        self._visible_check.timeout.connect(self._request_visible)
        self.verticalScrollBar().valueChanged.connect(lambda _v: self._visible_check.start())
        self.currentRowChanged.connect(self._row_changed)

    # -- content --------------------------------------------------------------------------
    def add_image(self, source: ImageSource, name: str = "") -> int:
        """`name` is the file name to show when it is not the file's own (a library copy)."""
        info = source.info
        key = next(self._keys)
        item = QListWidgetItem(self._placeholder, f"{name or info.path.name}\n{badge_text(info)}")
        item.setData(_KEY_ROLE, key)
        item.setData(_PATH_ROLE, str(info.path))
        item.setToolTip(f"{info.path}\n{badge_text(info)}, {info.columns} x {info.rows} px")
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self._sources[key] = source
        self._items[key] = item
        self.addItem(item)
        self._visible_check.start()
        return self.count() - 1

    def remove_row(self, row: int) -> None:
        item = self.takeItem(row)
        if item is not None:
            self._sources.pop(item.data(_KEY_ROLE), None)
            self._items.pop(item.data(_KEY_ROLE), None)

    def shutdown(self) -> None:
        """Stop queued decodes and wait for running ones, before sources are closed."""
        self._visible_check.stop()
        self._pool.clear()
        self._pool.waitForDone(5000)

    def wait_for_thumbnails(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)

    def has_thumbnail(self, row: int) -> bool:
        item = self.item(row)
        return item is not None and bool(item.data(_READY_ROLE))

    # -- lazy decoding --------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        super().showEvent(event)
        self._visible_check.start()

    def resizeEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        super().resizeEvent(event)
        self._visible_check.start()

    def _request_visible(self) -> None:
        if not self.count():
            return
        viewport = self.viewport().rect()
        if not self.isVisible():
            # Hidden (a closed dock, a test): decode the first screenful only.
            rows = range(min(self.count(), 8))
        else:
            top = self.indexAt(QPoint(viewport.center().x(), viewport.top() + 1)).row()
            rows = range(max(top - 1, 0), self.count())
        for row in rows:
            item = self.item(row)
            if self.isVisible() and self.visualItemRect(item).top() > viewport.bottom():
                break  # entries run top to bottom: the rest are below the view
            key = item.data(_KEY_ROLE)
            if key not in self._requested:
                self._requested.add(key)
                self._pool.start(_ThumbnailJob(key, self._sources[key], self._results))

    def request_all(self) -> None:
        """Decode every thumbnail now (tests, and a strip too small to judge visibility)."""
        for key, source in self._sources.items():
            if key not in self._requested:
                self._requested.add(key)
                self._pool.start(_ThumbnailJob(key, source, self._results))

    def _thumbnail_done(self, key: int, image: QImage) -> None:
        item, source = self._items.get(key), self._sources.get(key)
        if item is None or source is None:
            return  # closed meanwhile
        item.setIcon(_untinted(_framed(image, badge_text(source.info))))
        item.setData(_READY_ROLE, True)

    def _thumbnail_failed(self, key: int, reason: str) -> None:
        item, source = self._items.get(key), self._sources.get(key)
        if item is None or source is None:
            return
        item.setIcon(_untinted(_broken_pixmap()))
        self.thumbnail_failed.emit(source.info.path, reason)

    def _row_changed(self, row: int) -> None:
        if row >= 0:
            self.image_chosen.emit(row)


def _untinted(pixmap: QPixmap) -> QIcon:
    """An icon drawn the same when selected: a tinted image would misstate its grey levels."""
    icon = QIcon()
    for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
        icon.addPixmap(pixmap, mode)
    return icon


def _framed(image: QImage, badge: str) -> QPixmap:
    """The thumbnail centred on a black tile, with its kind badge in the corner."""
    tile = QPixmap(THUMB_SIZE)
    tile.fill(QColor("#000000"))
    p = QPainter(tile)
    x = (THUMB_SIZE.width() - image.width()) // 2
    y = (THUMB_SIZE.height() - image.height()) // 2
    p.drawImage(x, y, image)
    if badge != "still":
        font = QFont(p.font())
        font.setPixelSize(11)
        font.setBold(True)
        p.setFont(font)
        text = badge.upper()
        width = p.fontMetrics().horizontalAdvance(text) + 10
        box = QRect(THUMB_SIZE.width() - width - 4, THUMB_SIZE.height() - 20, width, 16)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(20, 90, 160, 220))
        p.drawRoundedRect(box, 3, 3)
        p.setPen(QColor("#ffffff"))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
    p.end()
    return tile


def _placeholder_icon() -> QIcon:
    tile = QPixmap(THUMB_SIZE)
    tile.fill(QColor("#0c0c0c"))
    p = QPainter(tile)
    p.setPen(QColor("#5a5a5a"))
    p.drawText(tile.rect(), Qt.AlignmentFlag.AlignCenter, "loading…")
    p.end()
    return QIcon(tile)


def _broken_pixmap() -> QPixmap:
    tile = QPixmap(THUMB_SIZE)
    tile.fill(QColor("#1a0c0c"))
    p = QPainter(tile)
    p.setPen(QColor("#e08a7a"))
    p.drawText(tile.rect(), Qt.AlignmentFlag.AlignCenter, "cannot show\nfirst frame")
    p.end()
    return tile
