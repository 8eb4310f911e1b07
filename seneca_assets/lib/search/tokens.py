"""Search tokens: Unicode-aware, the same for documents and queries.

Text is lowercased and folded (NFKD, nonspacing marks dropped except the kana voicing marks,
NFC again so that Hangul and kana recompose). Tokens are then:
- identifiers kept whole: word characters joined by `.`, `/` or `-`, so `task-0042`,
  `src/api/users.py`, `marcus.task_duration_ms`, UUIDs and `mcp__marcus__report_task_progress`
  are one token each (`_` is a word character);
- runs of CJK characters (Han, kana, Hangul), cut into overlapping character bigrams, since they
  are written without spaces;
- emoji, one token each.
Documents are tokenized in bulk with Polars; a query with `tokenize`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import polars as pl

VERSION = 1
"""Changes whenever tokens would come out differently: an index of another version is rebuilt."""

_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\x{30FC}\x{3005}"
_WORD = rf"[\w--[{_CJK}]]"
_TOKEN = rf"[{_CJK}]+|{_WORD}+(?:[./\-]{_WORD}+)*|\p{{Extended_Pictographic}}"
_CJK_RUN = rf"^[{_CJK}]+$"
_HAS_CJK = rf"[{_CJK}]"
_MARKS = r"[\p{Mn}--[\x{3099}\x{309A}]]"
_KEEP = {"\u3099", "\u309a"}


def folded(text: pl.Expr) -> pl.Expr:
    """Text as tokens are matched: lowercased, accents and other combining marks removed."""
    return (
        text.str.to_lowercase()
        .str.normalize("NFKD")
        .str.replace_all(_MARKS, "")
        .str.normalize("NFC")
    )


def token_lists(texts: pl.Series) -> pl.Series:
    """The tokens of each text, in order (nulls give no tokens)."""
    frame = pl.DataFrame({"text": texts.fill_null("")}).with_row_index("row")
    frame = frame.with_columns(tokens=folded(pl.col("text")).str.extract_all(_TOKEN))
    has_cjk = pl.col("text").str.contains(_HAS_CJK)
    plain = frame.filter(~has_cjk).select("row", "tokens")
    mixed = frame.filter(has_cjk).select("row", "tokens")
    if mixed.height:
        pieces = mixed.explode("tokens").with_row_index("at")
        run = pl.col("tokens").str.contains(_CJK_RUN)
        length = pl.col("tokens").str.len_chars()
        pieces = pieces.with_columns(
            offset=pl.when(run)
            .then(pl.int_ranges(0, pl.max_horizontal(length - 1, 1)))
            .otherwise(pl.lit([0]))
        ).explode("offset")
        pieces = pieces.with_columns(
            piece=pl.when(run)
            .then(pl.col("tokens").str.slice(pl.col("offset"), 2))
            .otherwise(pl.col("tokens"))
        )
        mixed = (
            pieces.sort("at", "offset")
            .group_by("row", maintain_order=True)
            .agg(tokens=pl.col("piece").drop_nulls())
        )
        plain = pl.concat([plain, mixed])
    return plain.sort("row").get_column("tokens").list.drop_nulls()


def token_text(texts: pl.Series) -> pl.Series:
    """The tokens of each text joined by spaces (what the index's whitespace analyzer reads)."""
    return token_lists(texts).list.join(" ")


_ASCII_TOKEN = re.compile(r"\w+(?:[./\-]\w+)*", re.ASCII)
"""`_TOKEN` on ASCII text (no CJK, no emoji, nothing to fold but case), without Polars."""


def tokens_of(texts: list[str]) -> list[list[str]]:
    """The tokens of a few texts: ASCII ones by a Python regex, the others together by Polars.

    Both give the same tokens for ASCII text; a test holds them to it.
    """
    found: list[list[str]] = [_ASCII_TOKEN.findall(t.lower()) if t.isascii() else [] for t in texts]
    others = [i for i, t in enumerate(texts) if not t.isascii()]
    if others:
        lists = token_lists(pl.Series([texts[i] for i in others], dtype=pl.String)).to_list()
        for i, tokens in zip(others, lists, strict=True):
            found[i] = tokens
    return found


def tokenize(text: str) -> list[str]:
    """The tokens of one text."""
    return tokens_of([text])[0]


def _fold(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char.lower())
    kept = "".join(c for c in decomposed if c in _KEEP or unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", kept)


def spans(text: str, tokens: list[str]) -> list[tuple[str, int, int]]:
    """Where each token of `text` is in it: (token, first character, end), in order."""
    where: Sequence[int]
    if text.isascii():  # folding is lowercasing: positions do not move
        flat, where = text.lower(), range(len(text) + 1)
    else:
        folded: list[str] = []
        positions: list[int] = []
        for i, char in enumerate(text):
            piece = _fold(char)
            folded.append(piece)
            positions.extend([i] * len(piece))
        flat = "".join(folded)
        where = [*positions, len(text)]
    found, cursor = [], 0
    for token in tokens:
        at = flat.find(token, cursor)
        if at < 0:
            continue
        found.append((token, where[at], where[at + len(token) - 1] + 1))
        bigram = len(token) == 2 and any(unicodedata.east_asian_width(c) == "W" for c in token)
        cursor = at + (1 if bigram else len(token))  # CJK bigrams overlap by a character
    return found


def snippets(
    texts: list[str], matched: set[str], prefixes: tuple[str, ...] = (), width: int = 160
) -> list[str]:
    """`snippet` of each text, the texts tokenized together."""
    lists = tokens_of(texts)
    return [
        snippet(t, tokens, matched, prefixes, width) for t, tokens in zip(texts, lists, strict=True)
    ]


def snippet(
    text: str,
    tokens: list[str],
    matched: set[str],
    prefixes: tuple[str, ...] = (),
    width: int = 160,
) -> str:
    """Up to `width` characters of `text` around its first match, matches in «guillemets».

    `tokens` are the text's tokens (`token_lists`).
    """
    hits = [
        (start, end)
        for token, start, end in spans(text, tokens)
        if token in matched or token.startswith(prefixes)
    ]
    if not hits:
        return text[:width] + ("…" if len(text) > width else "")
    merged: list[tuple[int, int]] = []
    for start, end in sorted(hits):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    low = max(0, merged[0][0] - width // 3)
    high = min(len(text), low + width)
    out, at = [], low
    for start, end in merged:
        if start >= high:
            break
        out += [text[at:start], "«", text[start : min(end, high)], "»"]
        at = min(end, high)
    out.append(text[at:high])
    return ("…" if low else "") + "".join(out) + ("…" if high < len(text) else "")
