"""`seneca report`: one self-contained HTML page with a plot per main series (its expected band,
anomalies and forecast) and the analytics tables; data escaped; a lake without analytics still
gets a page that says what is missing; an output folder outside the export root is refused."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.cli import main
from seneca_assets.lib.analytics.agents import agent_performance
from seneca_assets.lib.analytics.anomalies import metric_anomalies
from seneca_assets.lib.analytics.capacity import table_growth
from seneca_assets.lib.analytics.conversations import conversation_patterns
from seneca_assets.lib.analytics.forecasts import metric_forecasts
from seneca_assets.lib.analytics.network import collaboration_network
from seneca_assets.lib.analytics.outcomes import project_outcomes
from seneca_assets.lib.analytics.seasonal import metric_seasonality
from seneca_assets.lib.analytics.tables import (
    AGENT_PERFORMANCE,
    ANALYTICS_TABLES,
    CAPACITY,
    COLLABORATION_NETWORK,
    CONVERSATION_PATTERNS,
    METRIC_ANOMALIES,
    METRIC_FORECASTS,
    METRIC_SEASONALITY,
    METRIC_TRENDS,
    PROJECT_OUTCOMES,
)
from seneca_assets.lib.analytics.trends import metric_trends
from seneca_assets.lib.gold_tables import METRICS_HOURLY, TIERS
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import CONVERSATIONS, DECISIONS, MESSAGES, TASK_EVENTS, TASKS
from seneca_assets.lib.report import SECTIONS, render, write_report
from seneca_assets.lib.report.sections import MAIN_SERIES, PLOT_DAYS, choose_series, data_end
from seneca_assets.lib.report.svg import HEIGHT, WIDTH, nice_ticks, time_ticks
from seneca_assets.lib.report.text import number
from seneca_assets_tests.conftest import copy_tree
from seneca_assets_tests.lib.query.conftest import built_lake  # noqa: F401

EVIL = '<script>alert("x")</script>'
"""A series renamed to this must show as text, never as markup."""
VOID = {"meta", "br", "img", "input", "link", "hr", "col", "area", "base", "wbr", "source"}


class Page(HTMLParser):
    """The page's elements, checked to nest properly, and what each series figure holds."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.open: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.figures: list[dict] = []
        self.feed(text)
        self.close()

    def _element(self, tag: str, attrs: list[tuple[str, str | None]]) -> dict[str, str]:
        found = {k: v or "" for k, v in attrs}
        self.tags.append((tag, found))
        if tag == "figure" and found.get("class") == "series":
            self.figures.append({"name": found["data-name"], "tags": found["data-tags"]})
            self.figures[-1].update(anomalies=0, forecast=0, plots=0)
        elif self.figures and "figure" in self.open:
            figure = self.figures[-1]
            css = found.get("class", "")
            figure["anomalies"] += tag == "circle" and css == "anomaly"
            figure["forecast"] += css in ("forecast", "forecast-dot")
            figure["plots"] += tag == "svg" and css == "plot"
        return found

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs)
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:]}")
        else:
            self.open.pop()


@pytest.fixture(scope="module")
def analytics_lake(built_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Lake:  # noqa: F811
    """The simulated lake with one series renamed to EVIL and every analytics table built."""
    root = tmp_path_factory.mktemp("report") / "lake"
    copy_tree(built_lake / "lake", root)
    lake = Lake(root)
    hourly = lake.read(METRICS_HOURLY).with_columns(
        name=pl.when(
            (pl.col("name") == "agent_utilization") & pl.col("tags").str.contains("agent-3")
        )
        .then(pl.lit(EVIL))
        .otherwise(pl.col("name"))
    )
    lake.write(METRICS_HOURLY, hourly, mode="overwrite")
    now = hourly.get_column("bucket").max() + timedelta(hours=1)
    means = hourly.select("bucket", "name", "tags", "mean")
    rollups = {grain: lake.read(tables[0]) for grain, tables in TIERS.items()}
    rollups["hourly"] = hourly
    daily = rollups["daily"].select("bucket", "name", "tags", "mean")
    tasks, decisions = lake.read(TASKS), lake.read(DECISIONS)
    for spec, table in (
        (METRIC_ANOMALIES, metric_anomalies(means, now)),
        (METRIC_FORECASTS, metric_forecasts(means, now, daily)),
        (METRIC_SEASONALITY, metric_seasonality(means, now)),
        (METRIC_TRENDS, metric_trends(rollups, now)),
        (AGENT_PERFORMANCE, agent_performance(tasks, now)),
        (PROJECT_OUTCOMES, project_outcomes(tasks, decisions, now)),
        (CONVERSATION_PATTERNS, conversation_patterns(lake.read(CONVERSATIONS), now)),
        (
            COLLABORATION_NETWORK,
            collaboration_network(lake.read(MESSAGES), lake.read(TASK_EVENTS), now),
        ),
        (CAPACITY, table_growth(lake, now)),
    ):
        lake.write(spec, table, mode="overwrite")
    return lake


@pytest.fixture(scope="module")
def page(analytics_lake: Lake, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Page]:
    report = write_report(analytics_lake, tmp_path_factory.mktemp("out") / "report")
    assert report.path.name == "index.html" and report.failed == []
    text = report.path.read_text(encoding="utf-8")
    return text, Page(text)


def test_the_page_is_one_well_formed_file_without_scripts(page: tuple[str, Page]):
    text, parsed = page
    assert parsed.errors == [] and parsed.open == []
    assert text.startswith("<!DOCTYPE html>")
    assert not any(tag in ("script", "link", "img", "iframe") for tag, _ in parsed.tags)
    assert not re.search(r"(src|href)=\"(?!#)", text), "nothing is fetched"
    for title in ("Main series", "Strongest trends", "Current anomalies", "Forecast quality",
                  "Seasonality", "Agent performance", "Project outcomes",
                  "Conversation patterns", "Collaboration network", "Capacity"):  # fmt: skip
        assert f"<h2>{title}</h2>" in text
    assert "could not be built" not in text and "not in the lake yet" not in text


def test_one_plot_per_main_series_with_its_anomalies_marked(
    page: tuple[str, Page], analytics_lake: Lake
):
    _, parsed = page
    end = data_end(analytics_lake)
    assert end is not None
    window = end - timedelta(days=PLOT_DAYS)
    anomalies = analytics_lake.read(METRIC_ANOMALIES).filter(pl.col("bucket") >= window)
    hourly = analytics_lake.read(METRICS_HOURLY).filter(pl.col("bucket") >= window)
    chosen = choose_series(
        hourly, anomalies, analytics_lake.read(METRIC_TRENDS), end - timedelta(days=1)
    )
    assert 0 < len(chosen) <= MAIN_SERIES
    shown = [(f["name"], f["tags"]) for f in parsed.figures]
    assert shown == [(name, tags) for name, tags, _ in chosen]
    assert sum(1 for tag, a in parsed.tags if tag == "svg" and a.get("class") == "plot") == len(
        chosen
    )
    assert all(f["plots"] == 1 for f in parsed.figures)
    # The series anomalous in the last day come first, and every anomaly plotted is a red point.
    assert any(f["anomalies"] for f in parsed.figures)
    for figure in parsed.figures:
        expected = anomalies.filter(
            (pl.col("name") == figure["name"]) & (pl.col("tags") == figure["tags"])
        ).get_column("is_anomaly")
        assert figure["anomalies"] == expected.sum(), figure["name"]
    forecast = analytics_lake.read(METRIC_FORECASTS).filter(
        (pl.col("status") == "ok") & (pl.col("resolution") == "hourly")
    )
    forecast_series = set(forecast.select("name", "tags").iter_rows())
    for figure in parsed.figures:
        has_forecast = (figure["name"], figure["tags"]) in forecast_series
        assert bool(figure["forecast"]) == has_forecast, figure["name"]
    assert any(f["forecast"] for f in parsed.figures)


def test_plot_coordinates_are_finite_and_inside_the_view(page: tuple[str, Page]):
    text, _ = page
    for svg in re.findall(r'<svg class="plot".*?</svg>', text, re.S):
        assert f'viewBox="0 0 {WIDTH} {HEIGHT}"' in svg
        body = re.sub(r"<title>.*?</title>|<g transform=[^>]*>", "", svg, flags=re.S)
        pairs = [
            tuple(map(float, p))
            for d in re.findall(r' d="([^"]+)"', body)
            for p in re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)
        ]
        pairs += [(float(x), float(y)) for x, y in re.findall(r'cx="([^"]+)" cy="([^"]+)"', body)]
        assert pairs
        for x, y in pairs:
            assert math.isfinite(x) and math.isfinite(y)
            assert 0 <= x <= WIDTH and 0 <= y <= HEIGHT, (x, y)
        assert "nan" not in svg.lower().replace("nanoseconds", "")


def test_data_is_escaped(page: tuple[str, Page]):
    text, parsed = page
    assert "<script" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert EVIL in [f["name"] for f in parsed.figures], "the renamed series has anomalies"


def test_a_lake_without_analytics_gets_a_page_saying_what_is_missing(
    built_lake: Path,  # noqa: F811
    tmp_path: Path,
):
    lake = Lake(built_lake / "lake")
    report = write_report(lake, tmp_path / "report")
    text = report.path.read_text(encoding="utf-8")
    assert report.failed == [] and Page(text).errors == []
    for spec in ANALYTICS_TABLES:  # the report shows every one
        assert f"{spec.name} is not in the lake yet" in text
        assert not lake.exists(spec), "the report writes nothing to the lake"
    assert text.count('<svg class="plot"') > 0, "the hourly means are still plotted"
    assert 'class="anomaly"' not in text and 'class="forecast"' not in text
    empty = write_report(Lake(tmp_path / "empty"), tmp_path / "empty-report")
    assert "gold/metrics_hourly is not in the lake yet" in empty.path.read_text(encoding="utf-8")
    assert not (tmp_path / "empty").exists()


def test_a_section_is_one_function_and_a_failing_one_costs_only_itself(tmp_path: Path):
    def broken(lake: Lake) -> str:
        raise ValueError("no such column")

    def extra(lake: Lake) -> str:
        return '<section id="extra"><h2>Extra</h2><p>more</p></section>'

    text, failed = render(Lake(tmp_path / "lake"), [*SECTIONS, broken, extra])
    assert failed == [("broken", "ValueError: no such column")]
    assert "could not be built: ValueError: no such column" in text
    assert '<a href="#extra">Extra</a>' in text and "<p>more</p>" in text


def test_the_report_command(
    analytics_lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    exports = tmp_path / "exports"
    monkeypatch.setenv("SENECA_EXPORT_DIR", str(exports))
    assert main(["report", "--lake", str(analytics_lake.root)]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == str((exports / "report" / "index.html").resolve())
    assert Path(printed).is_file()
    (tmp_path / "outside").mkdir()
    (exports / "link").symlink_to(tmp_path / "outside")
    for out in ("../x", str(tmp_path / "elsewhere"), "link/inside"):
        assert main(["report", "--lake", str(analytics_lake.root), "--out", out]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "outside the export root" in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "outside"]
    assert list((tmp_path / "outside").iterdir()) == []
    assert sorted(p.name for p in exports.iterdir()) == ["link", "report"]


def test_ticks_and_numbers_read_well():
    ticks, step = nice_ticks(0.013, 0.94)
    assert ticks[0] <= 0.013 and ticks[-1] >= 0.94 and step == 0.2
    assert nice_ticks(3.0, 3.0)[0][0] < 3.0 < nice_ticks(3.0, 3.0)[0][-1]
    start = datetime(2026, 11, 1, 5, tzinfo=UTC)
    days = time_ticks(start, start + timedelta(days=14))
    assert 2 <= len(days) <= 8 and all(t.hour == 0 for t in days)
    hours = time_ticks(start, start + timedelta(hours=20))
    assert all(t.hour % 3 == 0 for t in hours)
    assert [number(v) for v in (0.012345, 12.345, 1234.5, 99798.6, 1.5e6, None, float("inf"))] == [
        "0.0123", "12.3", "1,234", "99.8k", "1.5M", "\u2013", "\u221e",
    ]  # fmt: skip
