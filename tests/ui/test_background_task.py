"""A background Task is busy until its result reaches the GUI thread, not until its thread ends:
the dialogs ask "still busy?" from the very slot that receives the result."""

from __future__ import annotations

from prolo_planner.ui.exports.background import Task


def test_running_ends_when_the_result_is_delivered_not_when_the_thread_does(qtbot):
    seen: list[bool] = []
    task = Task(lambda _progress: 42)
    task.finished.connect(lambda _result: seen.append(task.running))
    with qtbot.waitSignal(task.finished, timeout=5000) as got:
        task.start()
        task.wait(5)  # the thread has ended; nothing was delivered yet
        assert task.running
    assert got.args == [42]
    assert seen == [False]  # a slot of the result is told the work is done
    assert not task.running


def test_a_failure_ends_it_too(qtbot):
    def job(_progress):
        raise ValueError("the PACS said no")

    task = Task(job)
    with qtbot.waitSignal(task.failed, timeout=5000) as got:
        task.start()
    assert got.args == ["the PACS said no"] and not task.running
