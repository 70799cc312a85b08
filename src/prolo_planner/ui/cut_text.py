"""Text a widget cannot show whole at its present size: a label narrower than its words, a
button or check box that clips its text, a placeholder cut short, a column heading squeezed,
a combo box that elides its choice. The screenshots and the layout tests ask it of every
window at 1366 x 768 and 1920 x 1080."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QModelIndex, QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QScrollArea,
    QStyle,
    QStyleOptionComboBox,
    QTabBar,
    QToolButton,
    QTreeView,
    QWidget,
)

#: Pixels of slack before text counts as cut (anti-aliasing, rounding).
SLACK = 2


def _shown(widget: QWidget) -> bool:
    return widget.isVisible() and widget.width() > 0 and widget.height() > 0


def _visible_in_window(widget: QWidget) -> bool:
    """On screen: not scrolled away inside a scroll area, not behind a tab."""
    return not widget.visibleRegion().isEmpty()


def _name(widget: QWidget) -> str:
    chain = []
    w: QWidget | None = widget
    while w is not None and len(chain) < 3:
        chain.append(w.objectName() or type(w).__name__)
        w = w.parentWidget()
    return "/".join(reversed(chain))


def cut_texts(root: QWidget) -> list[str]:
    """What `root` and the widgets in it show cut, one line each ('' when all fits)."""
    return list(_cut(root))


def _cut(root: QWidget) -> Iterator[str]:
    for widget in [root, *root.findChildren(QWidget)]:
        if not _shown(widget) or not _visible_in_window(widget):
            continue
        if isinstance(widget, QLabel):
            yield from _label(widget)
        elif isinstance(widget, QToolButton) and widget.parent() is not None:
            continue  # tool bar buttons: icon and short text, checked by their size hint below
        elif isinstance(widget, QAbstractButton):
            need = widget.sizeHint().width()
            if widget.text() and widget.width() + SLACK < need:
                yield f"{_name(widget)}: {widget.text()!r} needs {need} px, has {widget.width()}"
        elif isinstance(widget, QLineEdit):
            text = widget.text() or widget.placeholderText()
            need = widget.fontMetrics().horizontalAdvance(text) + 16
            if text and widget.width() + SLACK < need:
                yield f"{_name(widget)}: {text!r} needs {need} px, has {widget.width()}"
        elif isinstance(widget, QComboBox):
            text = widget.currentText()
            option = QStyleOptionComboBox()
            widget.initStyleOption(option)
            field = widget.style().subControlRect(
                QStyle.ComplexControl.CC_ComboBox,
                option,
                QStyle.SubControl.SC_ComboBoxEditField,
                widget,
            )
            need = widget.fontMetrics().horizontalAdvance(text)
            if text and field.width() + SLACK < need:
                yield f"{_name(widget)}: {text!r} needs {need} px, has {field.width()}"
        elif isinstance(widget, QGroupBox):
            need = widget.fontMetrics().horizontalAdvance(widget.title()) + 24
            if widget.title() and widget.width() + SLACK < need:
                yield f"{_name(widget)}: title {widget.title()!r} cut"
        elif isinstance(widget, QHeaderView):
            yield from _header(widget)
        elif isinstance(widget, QScrollArea):
            # A panel wider than its dock: what lies beyond the right edge is cut.
            bar = widget.horizontalScrollBar()
            if bar.isVisible() and bar.maximum() > SLACK:
                yield f"{_name(widget)}: {bar.maximum()} px wider than its dock, cut at the right"
        elif isinstance(widget, QAbstractItemView) and not isinstance(widget, QHeaderView):
            bar = widget.horizontalScrollBar()
            if widget.wordWrap() and bar.isVisible() and bar.maximum() > SLACK:
                yield f"{_name(widget)}: wraps its rows yet scrolls sideways"
            yield from _cells(widget)
        elif isinstance(widget, QTabBar):
            for i in range(widget.count()):
                need = widget.fontMetrics().horizontalAdvance(widget.tabText(i)) + 16
                if widget.tabRect(i).width() + SLACK < need:
                    yield f"{_name(widget)}: tab {widget.tabText(i)!r} cut"


def _label(label: QLabel) -> Iterator[str]:
    text = label.text()
    if not text or label.pixmap() is not None and not label.pixmap().isNull():
        return
    if label.wordWrap():
        need = label.heightForWidth(label.width())
        if need > 0 and label.height() + SLACK < need:
            yield f"{_name(label)}: {text[:40]!r} needs {need} px high, has {label.height()}"
        return
    need = label.sizeHint().width()
    if label.width() + SLACK < need:
        yield f"{_name(label)}: {text[:40]!r} needs {need} px, has {label.width()}"


def _header(header: QHeaderView) -> Iterator[str]:
    view = header.parentWidget()
    model = header.model()
    if model is None or (isinstance(view, QAbstractItemView) and not view.isVisible()):
        return
    if header.orientation() != Qt.Orientation.Horizontal:
        return
    viewport = header.viewport().width()
    for i in range(header.count()):
        if header.isSectionHidden(i):
            continue
        text = str(model.headerData(i, Qt.Orientation.Horizontal) or "")
        if not text:
            continue
        left = header.sectionViewportPosition(i)
        size = header.sectionSize(i)
        lines = text.split("\n")
        need = max(header.fontMetrics().horizontalAdvance(line) for line in lines) + 12
        if size + SLACK < need:
            yield f"{_name(header)}: column {text!r} needs {need} px, has {size}"
        elif left < viewport < left + size - SLACK:
            yield f"{_name(header)}: column {text!r} cut by the edge of its table"


def _cells(view: QAbstractItemView) -> Iterator[str]:
    """Items of a list, tree or table shown with an ellipsis (the view does not wrap them)."""
    model = view.model()
    if model is None:
        return
    wraps = view.wordWrap()
    icons_above = isinstance(view, QListView) and view.viewMode() == QListView.ViewMode.IconMode
    viewport = view.viewport().rect()
    metrics = view.fontMetrics()
    shown = 0

    def columns(parent: QModelIndex) -> int:
        try:
            return model.columnCount(parent)
        except TypeError:  # a list's model hides it: one column
            return 1

    def walk(parent: QModelIndex) -> Iterator[str]:
        nonlocal shown
        for row in range(model.rowCount(parent)):
            for column in range(columns(parent)):
                index = model.index(row, column, parent)
                rect = view.visualRect(index)
                if rect.isEmpty() or not viewport.intersects(rect) or shown > 400:
                    continue
                shown += 1
                text = str(index.data() or "")
                text = text if wraps else text.split("\n")[0]
                decorated = index.data(Qt.ItemDataRole.DecorationRole) is not None
                icon = 22 if decorated and not icons_above else 0
                check = 22 if index.data(Qt.ItemDataRole.CheckStateRole) is not None else 0
                right = min(rect.right(), viewport.right())
                if wraps:  # it wraps what is long: the row must be as tall as the lines
                    room = QRect(0, 0, max(1, right - rect.left() - icon - check - 4), 10_000)
                    lines = metrics.boundingRect(room, Qt.TextFlag.TextWordWrap, text)
                    if text and rect.height() + SLACK < lines.height():
                        yield f"{_name(view)}: {text[:40]!r} cut to {rect.height()} px high"
                    continue
                # What the view itself asks for the item: its text, icon, check and margins.
                need = view.sizeHintForIndex(index).width()
                if text and right - rect.left() + SLACK < need:
                    yield f"{_name(view)}: {text[:40]!r} cut to {right - rect.left()} px"
            child = model.index(row, 0, parent)
            if isinstance(view, QTreeView) and model.rowCount(child) > 0:
                yield from walk(child)

    yield from walk(QModelIndex())
