"""Full-text search: Unicode-aware tokens, identifiers kept whole, phrases, prefixes, filters,
snippets and id lookup; an index kept in step with silver, incrementally, and rebuilt from Delta;
bad search text refused with a clear error and nothing lost."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import MESSAGES
from seneca_assets.lib.query import QueryError
from seneca_assets.lib.search import index as I
from seneca_assets.lib.search import tokens as T
from seneca_assets.lib.search.query import search
from seneca_assets_tests.lib.query.conftest import built_lake, lake_copy  # noqa: F401

AT = datetime(2026, 11, 10, 9, tzinfo=UTC)
WRITTEN = {
    "accents": "Tâche terminée: réécriture du schéma pour task-0042",
    "german": "Überprüfung der Datenbankmigration abgeschlossen",
    "chinese": "数据库迁移已完成",
    "japanese": "データベースの移行が完了しました",
    "emoji": "Deployed the fix 🚀 all green ✅",
    "path": "Refactored src/api/users.py and called mcp__marcus__report_task_progress",
    "ids": "Blocked on task-0043 until T-12 lands; see marcus.task_duration_ms",
    "phrase": "I will report progress on the migration tomorrow",
    "words": "progress is slow, I will report tomorrow",
}


def _id(name: str) -> str:
    return hashlib.md5(name.encode()).hexdigest()


def _append(lake: Lake, texts: dict[str, str], batch: int, agent: str = "agent-x") -> None:
    rows = pl.DataFrame(
        {
            "message_id": [_id(n) for n in texts],
            "event_id": [_id("event " + n) for n in texts],
            "event_time": [AT + timedelta(minutes=i) for i in range(len(texts))],
            "kind": "worker_communication",
            "sender": agent,
            "recipient": "marcus",
            "agent_id": agent,
            "text": list(texts.values()),
            "ingest_batch": batch,
        }
    )
    full = pl.concat([MESSAGES.empty(), rows], how="diagonal_relaxed").cast(MESSAGES.schema)
    lake.write(MESSAGES, full)


@pytest.fixture
def lake(lake_copy: Path) -> Lake:  # noqa: F811
    store = Lake(lake_copy / "lake")
    batch = store.read(MESSAGES).get_column("ingest_batch").max() + 1
    _append(store, WRITTEN, batch)
    I.update(store)
    return store


def _found(lake: Lake, text: str, **filters) -> list[str]:
    rows = search(lake.root, text, limit=50, **filters)
    return [next((k for k, v in WRITTEN.items() if v == t), t) for t in rows.get_column("text")]


def test_accents_cjk_and_emoji_are_found(lake: Lake):
    assert _found(lake, "tache reecriture")[:1] == ["accents"]
    assert _found(lake, "TÂCHE")[:1] == ["accents"]
    assert _found(lake, "uberprufung")[:1] == ["german"]
    assert _found(lake, "数据库")[:1] == ["chinese"]
    assert _found(lake, "迁移完成") == [], "bigrams in order: 迁移 then 完成 is not 迁移已完成"
    assert _found(lake, "データベース")[:1] == ["japanese"]
    assert _found(lake, "🚀") == ["emoji"]


def test_identifiers_are_whole_tokens(lake: Lake):
    assert _found(lake, "task-0042") == ["accents"]
    assert _found(lake, "task-0043") == ["ids"]
    assert _found(lake, "t-12") == ["ids"]
    assert _found(lake, "src/api/users.py") == ["path"]
    assert _found(lake, "mcp__marcus__report_task_progress") == ["path"]
    assert _found(lake, "marcus.task_duration_ms") == ["ids"]
    assert "users.py" not in T.tokenize("src/api/users.py")


def test_phrases_words_and_prefixes(lake: Lake):
    both = _found(lake, "report progress", agent="agent-x")
    assert set(both) == {"phrase", "words"}
    assert _found(lake, '"report progress"', agent="agent-x") == ["phrase"]
    assert set(_found(lake, "datenbankmigr*", agent="agent-x")) == {"german"}
    snippet = search(lake.root, "migra*", agent="agent-x").get_column("snippet").to_list()
    assert "on the «migration» tomorrow" in " ".join(snippet)


def test_filters_by_agent_kind_source_and_time(lake: Lake):
    assert _found(lake, "progress", agent="agent-x", kind="worker_communication")
    assert not _found(lake, "tache", agent="someone else")
    assert not _found(lake, "tache", sources=["decisions"])
    assert _found(lake, "tache", start=AT, end=AT + timedelta(hours=1)) == ["accents"]
    assert not _found(lake, "tache", start=AT + timedelta(hours=1))
    with pytest.raises(QueryError, match="unknown search source"):
        search(lake.root, "tache", sources=["emails"])


def test_results_rank_by_bm25_and_carry_snippets(lake: Lake):
    found = search(lake.root, "report progress", agent="agent-x")
    assert found.get_column("score").is_sorted(descending=True)
    first = found.row(0, named=True)
    assert "«report» «progress»" in first["snippet"]
    accents = search(lake.root, "reecriture").row(0, named=True)
    assert "«réécriture»" in accents["snippet"]
    assert accents["source"] == "messages" and accents["agent"] == "agent-x"


def test_an_id_finds_its_record(lake: Lake):
    found = search(lake.root, _id("chinese"))
    assert found.height == 1 and found.item(0, "text") == WRITTEN["chinese"]
    decision = lake.scan(I.SOURCES[1].table).select("decision_id").head(1).collect().item()
    assert "decisions" in search(lake.root, decision).get_column("source").to_list()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "nothing to search for"),
        ("   ", "nothing to search for"),
        ("(.*)+[]", "nothing to search for"),
        ("x" * 10_000, "10,000 characters; the limit is 1,000"),
    ],
)
def test_bad_search_text_is_refused_and_the_index_is_untouched(lake: Lake, text: str, message: str):
    before = I.held_and_expected(lake)
    with pytest.raises(QueryError, match=message):
        search(lake.root, text)
    assert I.held_and_expected(lake) == before
    assert before[0] == before[1] > 0


def test_regex_and_query_syntax_are_plain_text(lake: Lake):
    assert _found(lake, "task-0042 (.*) [+]^ $|\\") == ["accents"]
    assert _found(lake, "t-12: +marcus.task_duration_ms^ ~") == ["ids"]


def test_the_index_follows_new_batches_and_only_them(lake: Lake):
    done = I.update(lake)
    assert sum(done.added.values()) == 0 and not done.rebuilt
    batch = lake.read(MESSAGES).get_column("ingest_batch").max() + 1
    _append(lake, {"late": "A late note about quokka migration"}, batch)
    done = I.update(lake)
    assert done.added == {"messages": 1, "decisions": 0, "system_events": 0}
    assert not done.rebuilt
    assert _found(lake, "quokka") == ["A late note about quokka migration"]
    held, expected = I.held_and_expected(lake)
    assert held == expected
    assert done.covered["messages"]["version"] == lake.table(MESSAGES).version()


def test_the_index_is_rebuilt_from_delta(lake: Lake, monkeypatch: pytest.MonkeyPatch):
    before = search(lake.root, "report progress", limit=50).get_column("id").to_list()
    (lake.root / I.FOLDER / "meta.json").unlink()
    assert I.update(lake).rebuilt == ["messages", "decisions", "system_events"]
    assert search(lake.root, "report progress", limit=50).get_column("id").to_list() == before
    monkeypatch.setattr(T, "VERSION", T.VERSION + 1)
    assert I.update(lake).rebuilt == ["messages", "decisions", "system_events"]
    lake.delete(MESSAGES, f"message_id = '{_id('emoji')}'")
    done = I.update(lake)
    assert done.rebuilt == ["messages"], "covered rows changed: that source is rebuilt"
    assert _found(lake, "🚀") == []
    held, expected = I.held_and_expected(lake)
    assert held == expected


def test_the_python_path_for_ascii_gives_the_polars_tokens():
    rng = np.random.default_rng(7)
    alphabet = list("abcXYZ019_-./:*?()[]{}'\\" + '" \t\n,;!@#$%^&+=<>|~`')
    texts = ["".join(rng.choice(alphabet, int(rng.integers(0, 40)))) for _ in range(2_000)]
    texts += list(WRITTEN.values())
    ascii_texts = [t for t in texts if t.isascii()]
    assert len(ascii_texts) > 2_000
    assert T.tokens_of(ascii_texts) == T.token_lists(pl.Series(ascii_texts)).to_list()
    mixed = T.tokens_of(texts)
    assert mixed == T.token_lists(pl.Series(texts)).to_list()
