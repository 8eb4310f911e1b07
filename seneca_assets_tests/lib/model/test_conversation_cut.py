"""Where an incremental conversation rebuild starts (`conversations.cut_point`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from seneca_assets.lib.model.conversations import LOOKBACK, cut_point

DAY = timedelta(days=1)
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def _stored(*rows: tuple[datetime, str | None, datetime, str]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "timestamp": pl.Datetime("us", "UTC"),
            "task_id": pl.String,
            "last_activity_at": pl.Datetime("us", "UTC"),
            "status": pl.String,
        },
        orient="row",
    )


def _new(*rows: tuple[datetime, str | None, str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (at, f"{i:032x}", "worker_communication", task, intent)
            for i, (at, task, intent) in enumerate(rows)
        ],
        schema={
            "event_time": pl.Datetime("us", "UTC"),
            "event_id": pl.String,
            "kind": pl.String,
            "task_id": pl.String,
            "intent": pl.String,
        },
        orient="row",
    )


def test_nothing_new_needs_no_rebuild():
    assert cut_point(_stored(), _new()) is None


def test_new_lines_rebuild_from_shortly_before_them():
    stored = _stored((NOW - 3 * DAY, None, NOW - 3 * DAY, "ended"))
    assert cut_point(stored, _new((NOW, None, "request"))) == NOW - LOOKBACK


def test_a_conversation_reaching_past_the_cut_moves_it_to_its_start():
    start = NOW - timedelta(hours=5)
    stored = _stored((start, None, NOW - timedelta(minutes=50), "ended"))
    assert cut_point(stored, _new((NOW, None, "request"))) == start


def test_a_line_about_an_old_task_reopens_its_thread():
    thread = NOW - 30 * DAY
    stored = _stored((thread, "T1", thread + timedelta(hours=2), "completed"))
    late = _new((NOW, "T1", "progress"))
    assert cut_point(stored, late) == thread


def test_a_new_assignment_of_an_old_task_opens_a_thread_of_its_own():
    thread = NOW - 30 * DAY
    stored = _stored((thread, "T1", thread + timedelta(hours=2), "completed"))
    again = _new((NOW, "T1", "assignment"), (NOW + timedelta(minutes=5), "T1", "progress"))
    assert cut_point(stored, again) == NOW - LOOKBACK


def test_a_late_assignment_before_the_last_activity_joins_the_history():
    thread = NOW - 2 * DAY
    stored = _stored((thread, "T1", NOW - DAY, "in_progress"))
    late = _new((NOW - DAY - timedelta(hours=1), "T1", "assignment"))
    assert cut_point(stored, late) == thread


def test_kanban_lines_naming_a_task_do_not_reopen_its_thread():
    thread = NOW - 30 * DAY
    stored = _stored((thread, "T1", thread + timedelta(hours=2), "completed"))
    board = _new((NOW, "T1", None)).with_columns(kind=pl.lit("kanban_interaction"))
    assert cut_point(stored, board) == NOW - LOOKBACK
