"""Canonical spellings shared by every source, so the diff compares plain strings.

- :func:`normalize_type`: any spelling of a type (SQLAlchemy-compiled, alias, ``format_type``)
  → PostgreSQL's ``format_type`` spelling (``int4`` → ``integer``, ``VARCHAR(255)`` →
  ``character varying(255)``, ``NUMERIC(12, 2)`` → ``numeric(12,2)``).
- :func:`normalize_expression`: CHECK / index WHERE / index expression text → one canonical
  form. PostgreSQL deparses with a parenthesis around every operator, casts on literals and
  columns, ``= ANY (ARRAY[...])`` for ``IN`` and ``>= AND <=`` for ``BETWEEN``; the model
  author writes none of that. Both are parsed with a small precedence parser and printed back
  with only the parentheses precedence needs and without casts, so equal meaning gives equal
  text. Text the parser does not understand falls back to a token-level normalisation.
- :func:`normalize_default`: a column default, via the expression canonicaliser, plus
  ``CURRENT_TIMESTAMP`` ≡ ``now()``, ``'t'::boolean`` ≡ ``true``, ``'-1'::integer`` ≡ ``-1``
  and ``NULL`` ≡ no default.

Stripping every cast is deliberate: for comparison, ``(status)::text`` and ``status`` are the
same constraint, and a false "different" on every enum/varchar CHECK would bury real drift.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["normalize_type", "normalize_default", "normalize_expression", "quote_ident"]

# -- types ------------------------------------------------------------------------------

_TYPE_ALIASES = {
    "int": "integer",
    "int4": "integer",
    "integer": "integer",
    "serial": "integer",
    "serial4": "integer",
    "int2": "smallint",
    "smallint": "smallint",
    "smallserial": "smallint",
    "serial2": "smallint",
    "int8": "bigint",
    "bigint": "bigint",
    "bigserial": "bigint",
    "serial8": "bigint",
    "float4": "real",
    "real": "real",
    "float8": "double precision",
    "double precision": "double precision",
    "double": "double precision",
    "float": "double precision",
    "bool": "boolean",
    "boolean": "boolean",
    "varchar": "character varying",
    "character varying": "character varying",
    "char varying": "character varying",
    "nvarchar": "character varying",
    "char": "character",
    "character": "character",
    "nchar": "character",
    "decimal": "numeric",
    "numeric": "numeric",
    "dec": "numeric",
    "timestamptz": "timestamp with time zone",
    "timetz": "time with time zone",
    "varbit": "bit varying",
    "bit varying": "bit varying",
    "datetime": "timestamp",
    "string": "character varying",
    "clob": "text",
}
_ZONED = {"timestamp", "time"}
_TYPE_SHAPE = re.compile(
    r"^(?P<base>.+?)\s*(?:\((?P<mod>[^()]*)\))?\s*(?P<zone>with time zone|without time zone)?$"
)


@lru_cache(maxsize=4096)
def normalize_type(text: str | None) -> str:
    """The ``format_type`` spelling of a type given in any common spelling."""
    if text is None:
        return ""
    raw = " ".join(str(text).split())
    if not raw:
        return ""
    # Array suffixes: INTEGER[], integer[3][3], _int4 (the catalog name), INTEGER ARRAY.
    dims = 0
    while True:
        stripped = re.sub(r"\s*\[\s*\d*\s*\]$", "", raw)
        if stripped == raw:
            break
        raw, dims = stripped, dims + 1
    if re.search(r"\s+array$", raw, re.I):
        raw, dims = re.sub(r"\s+array$", "", raw, flags=re.I), dims + 1
    if raw.startswith("_") and not raw.startswith('"'):
        raw, dims = raw[1:], dims + 1
    return _base_type(raw) + "[]" * (1 if dims else 0)


def _base_type(raw: str) -> str:
    if '"' in raw:  # quoted user type: keep its case; drop a redundant public. qualifier
        return re.sub(r'^(?:"public"|public)\.', "", raw)
    lowered = raw.lower()
    match = _TYPE_SHAPE.match(lowered)
    if not match:
        return re.sub(r"^public\.", "", lowered)
    base, mod, zone = match["base"].strip(), match["mod"], match["zone"]
    if base.endswith(" with time zone") or base.endswith(" without time zone"):
        base, _, rest = base.partition(" with")
        zone = "with" + rest
    base = _TYPE_ALIASES.get(base, base)
    if base.endswith(" with time zone") and not zone:  # timestamptz alias
        base, zone = base[: -len(" with time zone")], "with time zone"
    mods = ",".join(part.strip() for part in mod.split(",")) if mod is not None else None
    if base == "double precision" and mods:  # FLOAT(p): p <= 24 is real
        return "real" if mods.isdigit() and int(mods) <= 24 else "double precision"
    if base == "character" and mods is None:
        mods = "1"  # CHAR without a length is character(1)
    if base in _ZONED:
        zone = zone or "without time zone"
        return f"{base}({mods}) {zone}" if mods else f"{base} {zone}"
    if (
        raw[len(match["base"]) :].strip()
        and mod is not None
        and not mods.replace(",", "").isdigit()
    ):
        # e.g. geometry(Point,4326): keep the modifier's case as written
        mods = ",".join(p.strip() for p in re.search(r"\(([^()]*)\)", raw).group(1).split(","))
    base = re.sub(r"^public\.", "", base)
    return f"{base}({mods})" if mods is not None else base


def quote_ident(name: str) -> str:
    """Quote an identifier only when PostgreSQL needs it (same rule as ``quote_ident``)."""
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


# Reserved words that must be quoted as identifiers (PostgreSQL's reserved keywords).
_RESERVED_WORDS = (
    "all analyse analyze and any array as asc asymmetric both case cast check collate column "
    "constraint create current_catalog current_date current_role current_time current_timestamp "
    "current_user default deferrable desc distinct do else end except false fetch for foreign "
    "from grant group having in initially intersect into lateral leading limit localtime "
    "localtimestamp not null offset on only or order placing primary references returning "
    "select session_user some symmetric system_user table then to trailing true union unique "
    "user using variadic when where window with authorization binary collation concurrently "
    "cross current_schema freeze full ilike inner is isnull join left like natural notnull "
    "outer overlaps right similar tablesample verbose"
)
_RESERVED = frozenset(_RESERVED_WORDS.split())

# -- expressions: tokens ------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>[EeBbXxNn]?'(?:[^']|'')*')
  | (?P<qid>"(?:[^"]|"")*")
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<id>[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)
  | (?P<cast>::)
  | (?P<punct>[()\[\],.])
  | (?P<op>[+\-*/<>=~!@\#%^&|`?]+)
    """,
    re.X,
)
_OP_SPECIAL = set("~!@#%^&|`?")


class _Unparsable(Exception):
    pass


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise _Unparsable(text[pos:])
        kind = m.lastgroup or ""
        value = m.group()
        pos = m.end()
        if kind == "ws":
            continue
        if kind == "op":
            # PostgreSQL's lexer rule: a multi-char operator may not end in + or - unless it
            # holds one of ~!@#%^&|`? (so "a>-1" is "a > -1"); also "--"/"/*" are comments.
            while len(value) > 1 and value[-1] in "+-" and not (_OP_SPECIAL & set(value)):
                value = value[:-1]
            pos = m.start() + len(value)
        if kind == "id":
            value = value.lower()
        tokens.append((kind, value))
    return tokens


# -- expressions: parser ------------------------------------------------------------------
# Nodes are tuples: ("lit", text) ("name", text) ("call", name, args) ("op", op, l, r)
# ("pre", op, x) ("and", items) ("or", items) ("not", x) ("is", x, what) ("in", x, items, neg)
# ("array", items) ("sub", x, idx) ("row", items) ("cast", x, type) ("case", arg, whens, else)

_BP = {
    "or": 10,
    "and": 20,
    "not": 30,
    "is": 40,
    "cmp": 50,
    "in": 60,
    "other": 70,
    "add": 80,
    "mul": 90,
    "pow": 100,
    "unary": 110,
    "sub": 120,
    "cast": 130,
}
_CMP = {"<", ">", "=", "<=", ">=", "<>", "!="}
_LIKE = {"like": "~~", "ilike": "~~*"}
_LIKE_NAMES = {"~~": "LIKE", "~~*": "ILIKE", "!~~": "NOT LIKE", "!~~*": "NOT ILIKE"}
_KEYWORD_LITERALS = {"null": "NULL", "true": "true", "false": "false"}
_VALUE_FUNCTIONS = {
    "current_timestamp",
    "current_date",
    "current_time",
    "localtime",
    "localtimestamp",
    "current_user",
    "session_user",
    "current_role",
    "current_schema",
    "current_catalog",
    "user",
}
_TYPE_WORDS = {"varying", "precision", "with", "without", "time", "zone"}


def _op_bp(op: str) -> int:
    if op in _CMP or op.endswith((" ANY", " ALL")):
        return _BP["cmp"]
    if op in ("+", "-"):
        return _BP["add"]
    if op in ("*", "/", "%"):
        return _BP["mul"]
    if op == "^":
        return _BP["pow"]
    if op in _LIKE_NAMES or op.endswith("SIMILAR TO"):
        return _BP["in"]
    return _BP["other"]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else ("eof", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        self.pos += 1
        return tok

    def expect(self, value: str) -> None:
        if self.take()[1] != value:
            raise _Unparsable(value)

    def at_word(self, *words: str) -> bool:
        kind, value = self.peek()
        return kind == "id" and value in words

    def parse(self) -> tuple:
        node = self.expr(0)
        if self.peek()[0] != "eof":
            raise _Unparsable(self.peek()[1])
        return node

    def expr(self, min_bp: int) -> tuple:
        left = self.prefix()
        while True:
            kind, value = self.peek()
            if kind == "cast":
                self.take()
                left = ("cast", left, self.type_name())
                continue
            if value == "[" and kind == "punct":
                self.take()
                idx = self.expr(0)
                self.expect("]")
                left = ("sub", left, idx)
                continue
            if kind == "id":
                new = self.keyword_infix(left, value, min_bp)
                if new is None:
                    return left
                left = new
                continue
            if kind != "op":
                return left
            op = "<>" if value == "!=" else value
            bp = _op_bp(op)
            if bp <= min_bp:
                return left
            self.take()
            if self.at_word("any", "some", "all") and self.peek(1)[1] == "(":
                quant = self.take()[1]
                self.take()
                inner = self.expr(0)
                self.expect(")")
                left = _quantified(left, op, "any" if quant == "some" else quant, inner)
                continue
            left = ("op", op, left, self.expr(bp))

    def keyword_infix(self, left: tuple, word: str, min_bp: int) -> tuple | None:
        negated = False
        if (
            word == "not"
            and self.peek(1)[0] == "id"
            and self.peek(1)[1] in ("in", "like", "ilike", "between", "similar")
        ):
            negated, word = True, self.peek(1)[1]
        if word in ("and", "or"):
            bp = _BP[word]
            if bp <= min_bp:
                return None
            self.take()
            right = self.expr(bp)
            items = (left[1] if left[0] == word else [left]) + (
                right[1] if right[0] == word else [right]
            )
            return (word, items)
        if word in ("is", "isnull", "notnull"):
            if _BP["is"] <= min_bp:
                return None
            self.take()
            if word != "is":
                return ("is", left, "NULL" if word == "isnull" else "NOT NULL")
            parts = []
            while self.at_word("not", "null", "true", "false", "unknown", "distinct", "from"):
                parts.append(self.take()[1].upper())
            if parts and parts[-1] == "FROM":
                return ("op", " ".join(["IS"] + parts), left, self.expr(_BP["is"]))
            if not parts:
                raise _Unparsable("is")
            return ("is", left, " ".join(parts))
        if word in ("in", "like", "ilike", "between", "similar"):
            if _BP["in"] <= min_bp:
                return None
            if negated:
                self.take()
            self.take()
            if word == "in":
                self.expect("(")
                items = self.list_until(")")
                return ("in", left, items, negated)
            if word in _LIKE:
                op = ("!" if negated else "") + _LIKE[word]
                return ("op", op, left, self.expr(_BP["in"]))
            if word == "similar":
                if not self.at_word("to"):
                    raise _Unparsable("similar")
                self.take()
                return (
                    "op",
                    "NOT SIMILAR TO" if negated else "SIMILAR TO",
                    left,
                    self.expr(_BP["in"]),
                )
            if self.at_word("symmetric"):
                raise _Unparsable("between symmetric")
            low = self.expr(_BP["in"])
            if not self.at_word("and"):
                raise _Unparsable("between")
            self.take()
            high = self.expr(_BP["in"])
            # PostgreSQL stores BETWEEN as two comparisons; so do we.
            if negated:
                return ("or", [("op", "<", left, low), ("op", ">", left, high)])
            return ("and", [("op", ">=", left, low), ("op", "<=", left, high)])
        if word == "collate":
            raise _Unparsable("collate")
        return None

    def list_until(self, closer: str) -> list[tuple]:
        items: list[tuple] = []
        if self.peek()[1] == closer:
            self.take()
            return items
        while True:
            items.append(self.expr(0))
            value = self.take()[1]
            if value == closer:
                return items
            if value != ",":
                raise _Unparsable(value)

    def type_name(self) -> str:
        kind, value = self.take()
        if kind not in ("id", "qid"):
            raise _Unparsable("type")
        parts = [value]
        if self.peek()[1] == ".":
            self.take()
            parts.append(self.take()[1])
        while self.peek()[0] == "id" and self.peek()[1] in _TYPE_WORDS:
            parts.append(self.take()[1])
        text = " ".join(parts).replace(" . ", ".")
        if self.peek()[1] == "(":
            self.take()
            mods = []
            while self.peek()[1] != ")":
                tok = self.take()
                if tok[0] == "eof":
                    raise _Unparsable("type")
                mods.append(tok[1])
            self.take()
            text += "(" + "".join(mods) + ")"
        while self.peek()[1] == "[":
            self.take()
            while self.take()[1] != "]":
                if self.peek()[0] == "eof":
                    raise _Unparsable("type")
            text += "[]"
        return normalize_type(text)

    def prefix(self) -> tuple:
        kind, value = self.take()
        if kind == "punct" and value == "(":
            items = self.list_until(")")
            if len(items) == 1:
                return items[0]
            return ("row", items)
        if kind == "op" and value in ("-", "+"):
            operand = self.expr(_BP["unary"])
            if operand[0] == "lit" and re.fullmatch(r"[\d.eE+-]+", operand[1]) and value == "-":
                return ("lit", "-" + operand[1])
            return ("pre", value, operand) if value == "-" else operand
        if kind == "op":
            return ("pre", value, self.expr(_BP["other"]))
        if kind in ("str", "num"):
            return ("lit", value)
        if kind == "qid":
            return self.name_or_call(value)
        if kind != "id":
            raise _Unparsable(value)
        if value in _KEYWORD_LITERALS:
            return ("lit", _KEYWORD_LITERALS[value])
        if value == "not":
            return ("not", self.expr(_BP["not"]))
        if value == "array" and self.peek()[1] == "[":
            self.take()
            return ("array", self.list_until("]"))
        if value == "case":
            return self.case()
        if value == "row" and self.peek()[1] == "(":
            self.take()
            return ("row", self.list_until(")"))
        if value in ("interval", "date", "timestamp", "timestamptz", "time", "numeric") and (
            self.peek()[0] == "str"
        ):
            return ("cast", ("lit", self.take()[1]), normalize_type(value))
        if value == "cast" and self.peek()[1] == "(":
            self.take()
            inner = self.expr(0)
            if not self.at_word("as"):
                raise _Unparsable("cast")
            self.take()
            type_text = self.type_name()
            self.expect(")")
            return ("cast", inner, type_text)
        if value in ("exists", "select", "extract", "overlay", "position", "substring", "trim"):
            raise _Unparsable(value)
        if value in _VALUE_FUNCTIONS and self.peek()[1] != "(":
            # CURRENT_TIMESTAMP and now() are the same function (transaction start time).
            return ("call", "now", []) if value == "current_timestamp" else ("lit", value.upper())
        return self.name_or_call(value)

    def name_or_call(self, first: str) -> tuple:
        parts = [_ident(first)]
        while self.peek()[1] == "." and self.peek(1)[0] in ("id", "qid"):
            self.take()
            parts.append(_ident(self.take()[1]))
        name = ".".join(parts)
        if self.peek()[1] == "(":
            self.take()
            if self.peek()[1] == "*":
                self.take()
                self.expect(")")
                return ("call", name, [("lit", "*")])
            if self.at_word("distinct"):
                raise _Unparsable("distinct")
            return ("call", name, self.list_until(")"))
        return ("name", name)

    def case(self) -> tuple:
        arg = None if self.at_word("when") else self.expr(0)
        whens = []
        while self.at_word("when"):
            self.take()
            cond = self.expr(0)
            if not self.at_word("then"):
                raise _Unparsable("case")
            self.take()
            whens.append((cond, self.expr(0)))
        other = None
        if self.at_word("else"):
            self.take()
            other = self.expr(0)
        if not self.at_word("end"):
            raise _Unparsable("case")
        self.take()
        return ("case", arg, whens, other)


def _ident(token: str) -> str:
    if token.startswith('"'):
        return quote_ident(token[1:-1].replace('""', '"'))
    return token


def _quantified(left: tuple, op: str, quant: str, inner: tuple) -> tuple:
    array = _strip_casts(inner)
    if array[0] == "array":
        if op == "=" and quant == "any":
            return ("in", left, array[1], False)
        if op == "<>" and quant == "all":
            return ("in", left, array[1], True)
    return ("op", f"{op} {quant.upper()}", left, ("row", [inner]))


def _strip_casts(node: tuple) -> tuple:
    while node[0] == "cast":
        node = node[1]
    return node


# -- expressions: printer -----------------------------------------------------------------

_NUMERIC_TYPES = {"integer", "bigint", "smallint", "numeric", "real", "double precision"}
_BOOL_WORDS = {
    "t": "true",
    "true": "true",
    "y": "true",
    "yes": "true",
    "on": "true",
    "1": "true",
    "f": "false",
    "false": "false",
    "n": "false",
    "no": "false",
    "off": "false",
    "0": "false",
}


def _cast_value(node: tuple) -> tuple:
    """Drop a cast; a cast string literal that is really a number or boolean becomes one."""
    inner = _strip_casts(node)
    type_text = node[2].split("(")[0]
    if inner[0] == "lit" and inner[1].startswith("'") and inner[1].endswith("'"):
        body = inner[1][1:-1]
        if type_text in _NUMERIC_TYPES and re.fullmatch(
            r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", body
        ):
            return ("lit", body)
        if type_text == "boolean" and body.lower() in _BOOL_WORDS:
            return ("lit", _BOOL_WORDS[body.lower()])
    return inner


def _node_bp(node: tuple) -> int:
    kind = node[0]
    if kind in ("or", "and", "not", "is", "in"):
        return _BP[kind]
    if kind == "op":
        return _BP["is"] if node[1].startswith("IS ") else _op_bp(node[1])
    if kind == "pre":
        return _BP["unary"] if node[1] == "-" else _BP["other"]
    if kind == "lit" and node[1].startswith("-"):
        return _BP["unary"]
    return 1000


def _print(node: tuple, min_bp: int = 0) -> str:
    if node[0] == "cast":
        return _print(_cast_value(node), min_bp)
    text = _render(node)
    return f"({text})" if _node_bp(node) <= min_bp and _node_bp(node) < 1000 else text


def _render(node: tuple) -> str:
    kind = node[0]
    if kind in ("lit", "name"):
        return node[1]
    if kind == "call":
        name = node[1]
        if name in ("current_timestamp", "transaction_timestamp") and not node[2]:
            return "now()"
        return f"{name}({', '.join(_print(a) for a in node[2])})"
    if kind in ("and", "or"):
        bp = _BP[kind]
        flat: list[tuple] = []
        for item in node[1]:
            item = _strip_casts(item) if _strip_casts(item)[0] == kind else item
            flat.extend(item[1] if item[0] == kind else [item])
        return f" {kind.upper()} ".join(_print(i, bp) for i in flat)
    if kind == "not":
        return "NOT " + _print(node[1], _BP["not"] - 1)
    if kind == "is":
        return f"{_print(node[1], _BP['is'])} IS {node[2]}"
    if kind == "in":
        items = ", ".join(_print(i) for i in node[2])
        return f"{_print(node[1], _BP['in'])} {'NOT IN' if node[3] else 'IN'} ({items})"
    if kind == "op":
        op, bp = node[1], _node_bp(node)
        shown = _LIKE_NAMES.get(op, op)
        return f"{_print(node[2], bp - 1)} {shown} {_print(node[3], bp)}"
    if kind == "pre":
        operand = _print(node[2], _node_bp(node))
        return f"{node[1]}{operand}" if node[1] == "-" else f"{node[1]} {operand}"
    if kind == "array":
        return "ARRAY[" + ", ".join(_print(i) for i in node[1]) + "]"
    if kind == "row":
        return "(" + ", ".join(_print(i) for i in node[1]) + ")"
    if kind == "sub":
        return f"{_print(node[1], _BP['sub'])}[{_print(node[2])}]"
    if kind == "case":
        parts = ["CASE"]
        if node[1] is not None:
            parts.append(_print(node[1]))
        for cond, value in node[2]:
            parts += ["WHEN", _print(cond), "THEN", _print(value)]
        if node[3] is not None:
            parts += ["ELSE", _print(node[3])]
        return " ".join(parts + ["END"])
    raise _Unparsable(kind)  # pragma: no cover


def _fallback(text: str) -> str:
    """Token-level canonical form for text the parser does not understand."""
    try:
        tokens = _tokenize(text)
    except _Unparsable:
        return " ".join(text.split())
    out: list[str] = []
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "cast":  # drop "::type words(mods)[]"
            i += 2
            while i < len(tokens) and tokens[i][0] == "id" and tokens[i][1] in _TYPE_WORDS:
                i += 1
            continue
        out.append(value)
        i += 1
    joined = " ".join(out)
    joined = re.sub(r"\( ", "(", joined)
    joined = re.sub(r" \)", ")", joined)
    joined = re.sub(r" ,", ",", joined)
    return _strip_outer_parens(joined)


def _strip_outer_parens(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, ch in enumerate(text):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and i < len(text) - 1:
                return text
        text = text[1:-1].strip()
    return text


@lru_cache(maxsize=8192)
def normalize_expression(text: str | None) -> str | None:
    """Canonical text of a CHECK / WHERE / index expression (see the module docstring)."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    if re.match(r"(?i)^check\s*\(", text):  # pg_get_constraintdef form: CHECK ((...)) [NOT VALID]
        text = re.sub(r"(?i)\s+not\s+valid$", "", text)[5:].strip()
        text = re.sub(r"(?i)\s+no\s+inherit$", "", text)
    try:
        return _print(_Parser(_tokenize(text)).parse())
    except (_Unparsable, RecursionError, IndexError):
        return _fallback(text)


@lru_cache(maxsize=8192)
def normalize_default(text: str | None, column_type: str | None = None) -> str | None:
    """Canonical text of a column default; ``None`` for no default (or ``NULL``)."""
    if text is None:
        return None
    value = normalize_expression(str(text))
    if value is None or value.upper() == "NULL":
        return None
    if value.startswith("'") and value.endswith("'") and column_type:
        # A quoted literal for a number or boolean column: compare as the bare value.
        base = normalize_type(column_type).split("(")[0]
        body = value[1:-1]
        if base in _NUMERIC_TYPES and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", body):
            return body
        if base == "boolean" and body.lower() in _BOOL_WORDS:
            return _BOOL_WORDS[body.lower()]
        if base == "interval":
            return _interval_literal(body) or value
        if base in ("json", "jsonb"):
            return _json_literal(body) or value
        if base == "uuid" and re.fullmatch(r"\{?[0-9a-fA-F-]{32,36}\}?", body):
            return "'" + body.strip("{}").replace("-", "").lower() + "'"
    return value


_INTERVAL_UNITS = {
    "microsecond": (0, 0, 1),
    "millisecond": (0, 0, 1_000),
    "second": (0, 0, 1_000_000),
    "minute": (0, 0, 60_000_000),
    "hour": (0, 0, 3_600_000_000),
    "day": (0, 1, 0),
    "week": (0, 7, 0),
    "mon": (1, 0, 0),
    "month": (1, 0, 0),
    "year": (12, 0, 0),
    "decade": (120, 0, 0),
    "century": (1200, 0, 0),
}
_INTERVAL_ALIASES = {
    "us": "microsecond",
    "ms": "millisecond",
    "s": "second",
    "sec": "second",
    "m": "minute",
    "min": "minute",
    "h": "hour",
    "hr": "hour",
    "d": "day",
    "w": "week",
    "mons": "mon",
    "y": "year",
    "yr": "year",
}


def _interval_literal(body: str) -> str | None:
    """An interval literal in PostgreSQL's own output form (IntervalStyle ``postgres``), so
    ``'0'``, ``'0 seconds'`` and the stored ``'00:00:00'`` compare equal; None when unsure."""
    months = days = micros = 0
    text = body.strip().lower()
    if text.startswith("@"):
        text = text[1:]
    tokens = text.replace(",", " ").split()
    if not tokens:
        return None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        clock = re.fullmatch(r"([+-]?)(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?", tok)
        if clock:
            sign = -1 if clock.group(1) == "-" else 1
            secs = float(clock.group(4) or 0)
            micros += sign * (
                int(clock.group(2)) * 3_600_000_000
                + int(clock.group(3)) * 60_000_000
                + round(secs * 1_000_000)
            )
            i += 1
            continue
        if not re.fullmatch(r"[+-]?\d+(?:\.\d+)?", tok):
            return None
        number = float(tok)
        unit = tokens[i + 1] if i + 1 < len(tokens) else "second"
        unit = _INTERVAL_ALIASES.get(unit, unit)
        unit = unit[:-1] if unit.endswith("s") and unit[:-1] in _INTERVAL_UNITS else unit
        if unit not in _INTERVAL_UNITS:
            return None
        if number != int(number) and unit not in ("second", "millisecond", "microsecond"):
            return None  # fractional months/days spill over by PostgreSQL's own rules
        m, d, us = _INTERVAL_UNITS[unit]
        months += int(number) * m
        days += int(number) * d
        micros += round(number * us)
        i += 2 if i + 1 < len(tokens) else 1
    parts: list[str] = []
    years, mons = divmod(abs(months), 12)
    sign = "-" if months < 0 else ""
    if years:
        parts.append(f"{sign}{years} year{'s' if years != 1 else ''}")
    if mons:
        parts.append(f"{sign}{mons} mon{'s' if mons != 1 else ''}")
    if days:
        parts.append(f"{days} day{'s' if abs(days) != 1 else ''}")
    if micros or not parts:
        sign = "-" if micros < 0 else ""
        total = abs(micros)
        hours, rest = divmod(total, 3_600_000_000)
        minutes, rest = divmod(rest, 60_000_000)
        seconds, fraction = divmod(rest, 1_000_000)
        clock_text = f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"
        if fraction:
            clock_text += f".{fraction:06d}".rstrip("0")
        parts.append(clock_text)
    return "'" + " ".join(parts) + "'"


def _json_literal(body: str) -> str | None:
    """A JSON literal with keys sorted and no insignificant spaces (jsonb re-spaces it)."""
    import json

    try:
        value = json.loads(body.replace("''", "'"))
    except ValueError:
        return None
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "'" + text.replace("'", "''") + "'"


_EXCLUDE = re.compile(r"(?is)^\s*EXCLUDE\s+USING\s+(\w+)\s*\((.*?)\)(?:\s+WHERE\s*\((.*)\))?\s*$")


def exclusion_definition(text: str) -> str:
    """``EXCLUDE USING gist (a WITH &&, b WITH =) [WHERE (x)]`` in one canonical spelling, from
    ``pg_get_constraintdef`` or from SQLAlchemy's compiled ``ExcludeConstraint``."""
    text = re.sub(r"(?is)^\s*CONSTRAINT\s+(\"[^\"]+\"|\S+)\s+", "", text.strip())
    m = _EXCLUDE.match(text)
    if not m:
        return " ".join(text.split())
    elements = []
    for element in split_top_level(m.group(2)):
        key, _, op = element.rpartition(" WITH ")
        elements.append(f"{index_key(key)} WITH {op.strip()}")
    out = f"EXCLUDE USING {m.group(1).lower()} ({', '.join(elements)})"
    if m.group(3):
        out += f" WHERE ({normalize_expression(m.group(3))})"
    return out


def split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses and quotes."""
    parts, depth, quote, current = [], 0, False, []
    for ch in text:
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


_ORDER_SUFFIX = re.compile(r"(?i)\s+(asc|desc)?\s*(nulls\s+(first|last))?\s*$")


def index_key(text: str, option: int | None = None) -> str:
    """One index key as the snapshot spells it: a bare column name or a canonical expression,
    then ``DESC`` / ``NULLS FIRST`` / ``NULLS LAST`` only where they differ from the default.

    ``option`` is ``pg_index.indoption`` of the key (bit 1 DESC, bit 2 NULLS FIRST); without it
    the order is read from a trailing ``ASC|DESC [NULLS FIRST|LAST]`` in ``text``.
    """
    text = text.strip()
    desc = nulls_first = False
    if option is None:
        m = _ORDER_SUFFIX.search(text)
        if m and m.group().strip():
            desc = (m.group(1) or "").lower() == "desc"
            nulls_first = (m.group(3) or ("first" if desc else "last")).lower() == "first"
            text = text[: m.start()]
        else:
            nulls_first = False
    else:
        desc, nulls_first = bool(option & 1), bool(option & 2)
    if text.startswith('"') and text.endswith('"') and text.count('"') == 2:
        key = text[1:-1]  # a quoted column name; the snapshot holds names unquoted
    elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", text):
        key = text.lower() if quote_ident(text.lower()) == text.lower() else text
    else:
        key = normalize_expression(text) or text
    if desc:
        return key + (" DESC" if nulls_first else " DESC NULLS LAST")
    return key + (" NULLS FIRST" if nulls_first else "")
