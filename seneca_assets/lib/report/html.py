"""HTML fragments for the report: sections, notes and tables, escaping whatever is not markup."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from seneca_assets.lib.report.text import esc


class Html(str):
    """Text that is already HTML (built here from escaped parts): not escaped again."""

    __slots__ = ()


def cell(value: object) -> Html:
    """A value as HTML: markup as it is, anything else escaped."""
    return value if isinstance(value, Html) else Html(esc(value))


def section(anchor: str, title: str, *body: str) -> Html:
    """A section of the page; `anchor` names it in the page's contents (letters and dashes)."""
    return Html(f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{"".join(body)}</section>')


def note(text: str, css: str = "note") -> Html:
    """One line of text (escaped)."""
    return Html(f'<p class="{esc(css)}">{esc(text)}</p>')


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    numeric: Iterable[int] = (),
    caption: str | None = None,
) -> Html:
    """A table: cells escaped unless they are `Html`; `numeric` columns aligned right."""
    right = set(numeric)

    def attrs(i: int) -> str:
        return ' class="num"' if i in right else ""

    head = "".join(f"<th{attrs(i)}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{attrs(i)}>{cell(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    title = f"<caption>{esc(caption)}</caption>" if caption else ""
    return Html(f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
