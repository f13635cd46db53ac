"""Text shown to a person who decides: every invisible or terminal-controlling character escaped.

One helper, used for every approval text (terminal and elicitation): SQL, script source, risk
messages, arguments. A terminal escape sequence (``ESC[2K``, cursor moves), a carriage return,
a backspace, a bidi override (U+202E) or a zero-width character could otherwise hide a
``DELETE`` from the person reading the screen. Newlines and tabs stay as they are; everything
else in Unicode categories Cc, Cf, Co, Cs, Cn, Zl and Zp is shown as ``\\x1b``, ``\\u202e``...
"""

from __future__ import annotations

import unicodedata

_KEEP = frozenset("\n\t")
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def is_hidden(char: str) -> bool:
    """True for a character that does not show as itself on a terminal."""
    return char not in _KEEP and unicodedata.category(char) in _HIDDEN_CATEGORIES


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape_for_display(text: str) -> str:
    """``text`` with every hidden character written as a visible escape (newlines kept)."""
    return "".join(_escape(c) if is_hidden(c) else c for c in text)


def hidden_characters(text: str) -> int:
    """How many characters :func:`escape_for_display` would escape."""
    return sum(1 for c in text if is_hidden(c))


def source_lines(source: str) -> list[str]:
    """``source`` split as Python numbers its lines (on newlines only; a CR before the newline
    dropped, a lone CR kept and escaped), each line made visible."""
    return [escape_for_display(line.removesuffix("\r")) for line in source.split("\n")]


def hidden_places(source: str) -> list[str]:
    """Where ``source`` holds hidden characters, per line: ``line 3: U+001B, U+202E`` (a CR
    before a newline is fine; tabs are fine)."""
    found = []
    for n, line in enumerate(source.split("\n"), 1):
        bad = sorted({f"U+{ord(c):04X}" for c in line.removesuffix("\r") if is_hidden(c)})
        if bad:
            found.append(f"line {n}: {', '.join(bad)}")
    return found
