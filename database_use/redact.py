"""Secrets kept out of every answer, error, log line and file the tool writes.

Three kinds, one module (``settings.mask_url``, which every face applies to every message, is
:func:`mask_secrets`):

* **Database passwords.** Every URL the tool is given passes through :func:`remember_url`
  (``settings.validate_url`` calls it before any check, so a URL too malformed to use is
  remembered too). It learns the password as each parser would read it — the raw userinfo
  between ``://`` and the *last* ``@``, Python's ``urlsplit``, libpq's own parser, a
  ``password=`` parameter — in every form it may be printed in (as written, percent-decoded,
  percent-encoded, JSON- and repr-escaped) plus the pieces a parser cuts a malformed one into
  (a raw ``@``, ``/``, ``#``, ``?``, ``:``, ``%`` or space). :func:`mask_secrets` replaces each wherever it
  stands as a whole word, in any text, URL or not. Values shorter than
  :data:`MIN_SECRET_CHARS` are masked only inside URLs: masking every ``ab`` in a text would
  hide the text, not the secret.
* **Password hashes** (``$argon2id$…``, bcrypt, scrypt, pbkdf2): masked wherever they appear.
* **Row values in PostgreSQL errors** ("Key (email)=(alice@x) already exists", "invalid input
  syntax for type integer: \\"$argon2id$…\\"", "Failing row contains (…)"): :func:`pg_error` and
  :func:`pg_message` keep the error class, the SQLSTATE and the names (column, constraint,
  table, type) and replace every value with ``***``.

The masking is per process: a value is masked once this process has seen the URL that holds it
(validated it, or found it in its environment as ``DATABASE_URL``, ``DATABASE_READONLY_URL`` or
``TEST_DATABASE_URL``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit

MASK = "***"
MIN_SECRET_CHARS = 4

# The look-behind makes a match start only where a scheme can start: without it a long run
# of letters (64 KB of script output) costs quadratic time before failing.
_PASSWORD_IN_URL = re.compile(
    r"(?P<head>(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<tail>@)", re.I
)
_PASSWORD_KV = re.compile(r"(?P<head>password\s*=\s*)(?P<pw>'[^']*'|\S+)", re.I)
_PASSWORD_QUERY = re.compile(r"[?&]password=(?P<pw>[^&#\s]*)", re.I)
_SECRET_HASH = re.compile(r"\$(argon2(?:id|i|d)|2[aby]|scrypt|pbkdf2[-_a-z0-9]*)\$[^\s'\"<>]+")
# Where urlsplit, libpq or SQLAlchemy cut (or choke on) a password holding these raw.
_CUTS = re.compile(r"[@/#?:%\s]+")

_lock = threading.Lock()
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None


# -- database passwords ---------------------------------------------------------------------
def _raw_passwords(url: str) -> set[str]:
    found: set[str] = set()
    text = url.strip()
    rest = text.split("://", 1)[1] if "://" in text else ""
    if "@" in rest:
        userinfo = rest.rsplit("@", 1)[0]
        if ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
    with contextlib.suppress(ValueError):
        found.add(urlsplit(text).password or "")
    found.update(m["pw"] for m in _PASSWORD_QUERY.finditer(text))
    found.update(m["pw"].strip("'") for m in _PASSWORD_KV.finditer(text))
    try:
        from psycopg.conninfo import conninfo_to_dict

        found.add(str(conninfo_to_dict(text).get("password") or ""))
    except Exception:  # noqa: BLE001 - libpq refuses it: the forms above still hold
        pass
    found.discard("")
    return found


def password_forms(url: str) -> set[str]:
    """Every form in which the password of ``url`` could be printed (see the module doc)."""
    forms: set[str] = set()
    for raw in _raw_passwords(url):
        for value in {raw, unquote(raw), unquote_plus(raw)}:
            forms |= {
                value,
                quote(value, safe=""),
                quote(value),
                quote_plus(value),
                json.dumps(value)[1:-1],
                json.dumps(value, ensure_ascii=False)[1:-1],
                repr(value)[1:-1],
            }
            forms.update(_CUTS.split(value))
    return {f for f in forms if len(f) >= MIN_SECRET_CHARS}


def remember_url(url: str | None) -> None:
    """Mask the password of ``url`` (in all its forms) in everything masked from now on."""
    global _pattern
    if not url:
        return
    forms = password_forms(url)
    with _lock:
        if forms <= _known:
            return
        _known.update(forms)
        ordered = sorted(_known, key=len, reverse=True)  # the longest form wins
        body = "|".join(re.escape(f) for f in ordered)
        _pattern = re.compile(f"(?<![A-Za-z0-9])(?:{body})(?![A-Za-z0-9])")


def remember_urls(urls: Iterable[str | None]) -> None:
    for url in urls:
        remember_url(url)


_URL_VARIABLES = ("DATABASE_URL", "DATABASE_READONLY_URL", "TEST_DATABASE_URL")
_seen_environment: tuple[str | None, ...] = ()


def _remember_environment() -> None:
    """The URLs in this process's environment count as seen, even before anything used them."""
    global _seen_environment
    current = tuple(os.environ.get(name) for name in _URL_VARIABLES)
    if current != _seen_environment:
        remember_urls(current)
        _seen_environment = current


def mask_secrets(text: str) -> str:
    """``text`` with known passwords, URL passwords, ``password=`` values and hashes masked."""
    if not text:
        return text
    _remember_environment()
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _PASSWORD_IN_URL.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)
    text = _PASSWORD_KV.sub(lambda m: f"{m['head']}{MASK}", text)
    return _SECRET_HASH.sub(lambda m: f"${m.group(1)}${MASK}", text)


# -- values in PostgreSQL errors --------------------------------------------------------------
# A double-quoted word after one of these is a name PostgreSQL quotes (kept); any other quoted
# text is a value (masked), as is a quoted tail after a colon ("...: \"value\"").
_NAME_WORDS = frozenset(
    {
        *("relation", "column", "columns", "table", "constraint", "index", "type", "schema"),
        *("sequence", "view", "function", "encoding", "database", "role", "user", "extension"),
        *("trigger", "domain", "collation", "operator", "policy", "parameter", "attribute"),
        *("near", "tablespace", "server", "publication", "subscription", "rule", "cursor"),
        *("savepoint", "statement"),
    }
)
_KEY_VALUES = re.compile(r"\)=\(.*\)")
_FAILING_ROW = re.compile(r"(Failing row contains \().*\)")
_QUOTED_TAIL = re.compile(r"(:\s*)\".*\"")
_QUOTED = re.compile(r"(?:(?P<word>\w+)\s+)?\"(?P<inner>[^\"\n]*)\"")
_HEX_BYTES = re.compile(r"\b0x[0-9a-fA-F]{2}(?:\s+0x[0-9a-fA-F]{2})*")
_SQLA_PARAMETERS = re.compile(r"^(\s*\[parameters: ).*(\])\s*$")


def _quoted(match: re.Match[str]) -> str:
    word = match["word"] or ""
    if word.lower() in _NAME_WORDS:
        return match.group(0)
    return f'{word}{" " if word else ""}"{MASK}"'


def pg_message(text: str) -> str:
    """A PostgreSQL message (primary or DETAIL) with the row values in it replaced by ``***``."""
    out = []
    for line in text.splitlines() or [""]:
        line = _KEY_VALUES.sub(f")=({MASK})", line)
        line = _FAILING_ROW.sub(rf"\g<1>{MASK})", line)
        line = _QUOTED_TAIL.sub(rf'\g<1>"{MASK}"', line)
        line = _QUOTED.sub(_quoted, line)
        out.append(_HEX_BYTES.sub(f"0x{MASK}", line))
    return mask_secrets("\n".join(out))


def pg_error(exc: BaseException) -> dict[str, Any]:
    """``{"error", "sqlstate"}`` for a driver error: message and DETAIL with values masked.

    The names PostgreSQL reports (column, constraint, table, type) are kept, and appended when
    the message itself does not name them, so the agent still knows what to fix."""
    diag = getattr(exc, "diag", None)
    lines = str(exc).strip().splitlines()
    primary = getattr(diag, "message_primary", None) or (lines[0] if lines else type(exc).__name__)
    detail = getattr(diag, "message_detail", None)
    raw = primary + (f" ({detail})" if detail else "")
    text = pg_message(raw)
    names = []
    for label, attr in (
        ("table", "table_name"),
        ("column", "column_name"),
        ("constraint", "constraint_name"),
        ("type", "datatype_name"),
    ):
        value = getattr(diag, attr, None)
        if value and f'"{value}"' not in text and value not in text:
            names.append(f"{label} {value}")
    if names:
        text += f" [{', '.join(names)}]"
    if text != raw:
        text += " (row values are not shown)"
    return {"error": " ".join(text.split()), "sqlstate": getattr(exc, "sqlstate", None)}


def _error_line(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith(("DETAIL:", "ERROR:", "psycopg.", "sqlalchemy.exc.")) or (
        "(psycopg.errors." in stripped
    )


def script_output(text: str, urls: Iterable[str | None] = ()) -> str:
    """A script's stdout or stderr as the agent gets it: passwords of ``urls`` (and every other
    known one) and hashes masked, and row values masked in the PostgreSQL error lines a
    traceback prints. Not a guard: a script that reads data can print it encoded."""
    remember_urls(urls)
    lines = []
    for line in text.split("\n"):
        if _error_line(line):
            line = pg_message(line)
        else:
            line = _KEY_VALUES.sub(f")=({MASK})", line) if "Key (" in line else line
            line = _FAILING_ROW.sub(rf"\g<1>{MASK})", line)
            line = _SQLA_PARAMETERS.sub(rf"\g<1>{MASK}\g<2>", line)
        lines.append(line)
    return mask_secrets("\n".join(lines))
