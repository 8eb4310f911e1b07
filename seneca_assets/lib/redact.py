"""Finding and redacting secrets in log lines before they are stored.

A secret is replaced in the line's own text by `[REDACTED:<kind>]`, which holds no character that
JSON escapes, so a JSON line stays valid JSON with every other byte as it was. Each redaction is
reported with the JSON path of the value it was found in (for example `details.arguments.token`),
never with the secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import polars as pl

_VALUE = r"[A-Za-z0-9_\-]"


@dataclass(frozen=True)
class SecretPattern:
    """One kind of secret: a regex whose group `secret` is what gets replaced."""

    kind: str
    regex: str
    literal_led: bool = True
    """Starts with a fixed prefix: such patterns are searched together in one fast pass."""


SECRET_PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern(
        "private_key",
        r"(?P<secret>-----BEGIN [A-Z ]*PRIVATE KEY-----[^\"]*?-----END [A-Z ]*PRIVATE KEY-----)",
    ),
    SecretPattern("anthropic_api_key", rf"(?P<secret>\bsk-ant-{_VALUE}{{20,}})"),
    SecretPattern("openai_api_key", rf"(?P<secret>\bsk-(?:proj-|svcacct-)?{_VALUE}{{20,}})"),
    SecretPattern("aws_access_key", r"(?P<secret>\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)"),
    SecretPattern(
        "github_token", r"(?P<secret>\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{22,}))"
    ),
    SecretPattern("gitlab_token", rf"(?P<secret>\bglpat-{_VALUE}{{20,}})"),
    SecretPattern("slack_token", r"(?P<secret>\bxox[abposr]-[A-Za-z0-9-]{10,})"),
    SecretPattern("google_api_key", rf"(?P<secret>\bAIza{_VALUE}{{35}})"),
    SecretPattern("stripe_key", r"(?P<secret>\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})"),
    SecretPattern("jwt", rf"(?P<secret>\beyJ{_VALUE}{{8,}}\.eyJ{_VALUE}{{8,}}\.{_VALUE}{{8,}})"),
    SecretPattern(
        "bearer_token", r"(?i:bearer)\s+(?P<secret>[A-Za-z0-9._~+/=\-]{16,})", literal_led=False
    ),
    SecretPattern("url_password", r"://[^/\s:@\"\\]+:(?P<secret>[^/\s@\"\\]+)@", literal_led=False),
    SecretPattern(
        "email",
        r"(?P<secret>[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})",
        literal_led=False,
    ),
)
"""Most specific first: a token is named by its provider before the generic shapes see it."""

_COMPILED = tuple((p.kind, re.compile(p.regex)) for p in SECRET_PATTERNS)


def _detector(patterns: list[SecretPattern]) -> str:
    return "|".join(f"(?:{p.regex.replace('?P<secret>', '')})" for p in patterns)


DETECTORS: tuple[str, ...] = (
    _detector([p for p in SECRET_PATTERNS if p.literal_led]),
    *(_detector([p]) for p in SECRET_PATTERNS if not p.literal_led),
)
"""Regexes (valid for Polars' engine too) that together match any secret: the first filter.
Patterns with a fixed prefix share one pass; each of the others gets its own, and the passes run
in parallel."""


REDACTED_PREFIX = "[REDACTED:"


@dataclass(frozen=True)
class Redaction:
    """One secret removed: where it was (a JSON path, `$` for the whole line) and its kind."""

    field_path: str
    kind: str


def redact_text(text: str) -> tuple[str, list[str]]:
    """Replace every secret in `text`; return the new text and the kind of each replacement."""
    kinds: list[str] = []
    for kind, pattern in _COMPILED:

        def _replace(match: re.Match[str], kind: str = kind) -> str:
            whole, start = match.group(0), match.start("secret") - match.start(0)
            if match.group("secret").startswith(REDACTED_PREFIX):
                return whole
            kinds.append(kind)
            end = match.end("secret") - match.start(0)
            return f"{whole[:start]}{REDACTED_PREFIX}{kind}]{whole[end:]}"

        text = pattern.sub(_replace, text)
    return text, kinds


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Yield (path, string) for every string value and key in a decoded JSON value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path != "$" else str(key)
            yield child, str(key)
            yield from _walk(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def redact_json_line(line: str) -> tuple[str, list[Redaction]]:
    """Redact the secrets of one JSON line, keeping every other byte and the JSON valid.

    Paths come from the decoded value; the replacement is made in the text so that formatting
    and key order survive. Should an escaped secret be missed by the text pass, the decoded
    value is redacted and encoded again, so no secret is ever stored.
    """
    decoded = msgspec.json.decode(line)
    found = [
        Redaction(path, kind) for path, text in _walk(decoded, "$") for kind in redact_text(text)[1]
    ]
    if not found:
        return line, []
    redacted, _ = redact_text(line)
    if not _is_clean_json(redacted):
        redacted = msgspec.json.encode(_redact_value(decoded)).decode()
    return redacted, found


def _is_clean_json(text: str) -> bool:
    """True if `text` is valid JSON in which no string holds a secret any more."""
    try:
        decoded = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return False
    return not any(redact_text(value)[1] for _, value in _walk(decoded, "$"))


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)[0]
    if isinstance(value, dict):
        return {redact_text(str(k))[0]: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    return value


def redact_raw_line(line: bytes) -> tuple[bytes, list[Redaction]]:
    """Redact secrets in a line that is not valid JSON (a quarantined line), byte for byte else."""
    text = line.decode("utf-8", errors="surrogateescape")
    redacted, kinds = redact_text(text)
    if not kinds:
        return line, []
    return redacted.encode("utf-8", errors="surrogateescape"), [Redaction("$", k) for k in kinds]


def may_hold_secret(lines: pl.Series) -> pl.Series:
    """A vectorised first filter: True where a line may hold a secret."""
    found = pl.select(pl.any_horizontal([pl.lit(lines).str.contains(d) for d in DETECTORS]))
    return found.to_series()
