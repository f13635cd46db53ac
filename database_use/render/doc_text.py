"""The text codec of the Markdown schema doc, shared by the renderer and the parser.

- every value in a heading, list line or table cell is *escaped*: Markdown specials
  (``\\ ` * _ [ ] | ~ # $ <``; not an underscore inside a word, ``>`` only first, ``&``
  only before something entity-like) get a backslash, a newline becomes ``<br>``,
  control/format characters and leading/trailing whitespace become ``&#N;``.
  Escaped text therefore never holds a raw ``*``, ``|`` or ``<``, which is what lets the
  doc use those for its own markers (``*identity always*``, cell separators, ``<br>``);
- an empty string is the marker ``*(empty)*`` (a blank cell means "none");
- lists inside one cell are joined with ``, `` and commas inside items are ``\\,``;
- schema-qualified names are written as PostgreSQL would quote them (``public.users``,
  ``"Sales"."order lines"``) so schema and name split unambiguously;
- code (view definitions, function bodies) goes in fenced blocks whose fence is longer than
  any run of backticks in the code, so the code is verbatim.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

EMPTY = "*(empty)*"

# ---------------------------------------------------------------------------------------------
# the text codec
# ---------------------------------------------------------------------------------------------
_BACKSLASHED = frozenset("\\`*_[]|~#$<")
_ENTITY_LIKE = re.compile(r"&#?[A-Za-z0-9]+;")
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot|nbsp));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "nbsp": "\u00a0"}
_BR_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _numeric(ch: str) -> bool:
    # Control, format (bidi overrides, zero-width), separator and surrogate characters are
    # written as &#N; so they can neither break a line nor hide in the rendered doc.
    if " " <= ch < "\x7f":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") and ch != "\n"


# Text made only of these (no edge spaces, no word-edge underscores) escapes to itself: the
# fast path for the vast majority of names and types in a 10,000-table doc.
_PLAIN = re.compile(r"[A-Za-z0-9_ (),.:;'\"=+/%!?@{}^-]*\Z")
_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


@lru_cache(maxsize=65536)  # names, types and defaults repeat across thousands of tables
def escape(text: str, *, list_item: bool = False) -> str:
    """Escape one value for a heading, list line or table cell (see the module docstring)."""
    if text == "":
        return EMPTY
    if (
        _PLAIN.match(text)
        and text[0] != " "
        and text[-1] != " "
        and not (list_item and "," in text)
        and not ("_" in text and _EDGE_UNDERSCORE.search(text))
    ):
        return text
    last = len(text) - 1
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch == "_" and 0 < i < last and text[i - 1].isalnum() and text[i + 1].isalnum():
            # Intraword underscores never make emphasis (CommonMark), so ``owner_id``
            # stays as people and agents type it.
            out.append(ch)
        elif (
            ch in _BACKSLASHED
            or (list_item and ch == ",")
            or (ch == ">" and i == 0)  # a blockquote marker only at the start
            or (ch == "&" and _ENTITY_LIKE.match(text, i))
        ):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("<br>")
        elif (ch.isspace() and (i == 0 or i == last)) or _numeric(ch):
            out.append(f"&#{ord(ch)};")
        else:
            out.append(ch)
    return "".join(out)


def unescape(raw: str) -> str:
    """Invert :func:`escape`; also accepts what a person would type by hand."""
    if raw == EMPTY:
        return ""
    if "\\" not in raw and "&" not in raw and "<" not in raw:
        return raw
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "\\" and i + 1 < n and raw[i + 1] in _ASCII_PUNCT:
            out.append(raw[i + 1])
            i += 2
            continue
        if ch == "&":
            m = _ENTITY_RE.match(raw, i)
            if m:
                out.append(_entity_char(m))
                i = m.end()
                continue
        elif ch == "<":
            m = _BR_RE.match(raw, i)
            if m:
                out.append("\n")
                i = m.end()
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _entity_char(m: re.Match[str]) -> str:
    dec, hexa, named = m.groups()
    if named:
        return _NAMED[named]
    code = int(dec) if dec else int(hexa, 16)
    return chr(code) if code <= 0x10FFFF else "\ufffd"


def cell(value: str | None) -> str:
    """A table cell: blank for None, the empty marker for "", otherwise escaped."""
    return "" if value is None else escape(value)


def uncell(raw: str) -> str | None:
    return None if raw == "" else unescape(raw)


def escape_list(items: list[str]) -> str:
    return ", ".join(escape(item, list_item=True) for item in items)


def split_escaped(raw: str, sep: str) -> list[str]:
    """Split ``raw`` on the single character ``sep`` where it is not backslash-escaped."""
    if "\\" not in raw:
        return raw.split(sep)
    parts: list[str] = []
    cur: list[str] = []
    for m in _splitter(sep).finditer(raw):
        token = m.group()
        if token == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(token)
    parts.append("".join(cur))
    return parts


@lru_cache(maxsize=8)
def _splitter(sep: str) -> re.Pattern[str]:
    # An escape pair, a run of ordinary characters, or the separator itself.
    s = re.escape(sep)
    return re.compile(rf"\\.|[^\\{s}]+|{s}|\\", re.S)


def unescape_list(raw: str) -> list[str]:
    if raw.strip(" \t") == "":
        return []
    return [unescape(part.strip(" \t")) for part in split_escaped(raw, ",")]


_SIMPLE_IDENT = re.compile(r"[a-z_][a-z0-9_$]*\Z")


def quote_ident(name: str) -> str:
    """PostgreSQL quoting: bare when the name needs none, else in double quotes."""
    if _SIMPLE_IDENT.match(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def split_qualified(text: str) -> list[str] | None:
    """``schema.name`` (quoted as PostgreSQL does) → its parts; None when malformed."""
    parts: list[str] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '"':
            buf: list[str] = []
            j = i + 1
            while True:
                if j >= n:
                    return None
                if text[j] == '"':
                    if j + 1 < n and text[j + 1] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            parts.append("".join(buf))
            i = j + 1
        else:
            j = i
            while j < n and text[j] not in '."':
                j += 1
            if j == i:
                return None
            parts.append(text[i:j])
            i = j
        if i == n:
            return parts
        if text[i] != ".":
            return None
        i += 1


def display_name(schema: str, name: str) -> str:
    return escape(qualified(schema, name))


# ---------------------------------------------------------------------------------------------
# Markdown blocks
# ---------------------------------------------------------------------------------------------
def md_row(cells: list[str] | tuple[str, ...]) -> str:
    return "| " + " | ".join(cells) + " |"


def md_table(head: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    return [md_row(head), md_row(["---"] * len(head)), *(md_row(r) for r in rows)]


def by_name(items: list[Any]) -> list[Any]:
    """Sort by name, then by structure (unnamed items first) — stable across sources."""
    if len(items) < 2:
        return list(items)
    names = [(x.name is not None, x.name or "") for x in items]
    if len(set(names)) == len(names):  # the usual case: the tie-break below is never needed
        return [x for _, x in sorted(zip(names, items, strict=True), key=lambda pair: pair[0])]
    # repr of a dataclass lists every field in a fixed order: a structural tie-break.
    return sorted(items, key=lambda x: (x.name is not None, x.name or "", repr(x)))


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def code_block(lang: str, text: str) -> list[str]:
    # The fence is longer than any run of backticks in the text, so the text is verbatim.
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", *text.split("\n"), fence]
