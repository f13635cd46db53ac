"""Text and Markdown views of snapshots, differences and reports (the CLI's and report's output).

Pure functions over plain data: a :class:`Snapshot`/:class:`Table`, difference records
(``Difference.to_dict()`` dicts: object, table, name, status, attribute, values, authority,
fix, hint) and the report dict the service builds. Terminal text neutralises control
characters (a hostile name cannot move the cursor or colour the terminal) and aligns wide
characters; Markdown escapes through the same codec as the schema doc.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from typing import Any

from database_use.render.doc import escape, qualified
from database_use.schema.snapshot import Snapshot, Table

_NO_DIFFERENCES = "no differences"


# ---------------------------------------------------------------------------------------------
# terminal helpers
# ---------------------------------------------------------------------------------------------
def clean(value: Any) -> str:
    """One terminal-safe line: control/format characters shown as escapes, never executed."""
    text = value if isinstance(value, str) else _compact(value)
    out: list[str] = []
    for ch in text:
        if ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}" if ord(ch) > 0xFF else f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def _compact(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_compact(v) if not isinstance(v, str) else v for v in value) + ")"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def width(text: str) -> int:
    """Display width: East Asian wide/full-width characters take two cells."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def grid(headers: list[str] | None, rows: Iterable[list[Any]], indent: str = "") -> list[str]:
    """Left-aligned columns separated by two spaces; no trailing whitespace."""
    body = [[clean(c) if c is not None and c != "" else "" for c in row] for row in rows]
    table = ([headers] if headers else []) + body
    if not table:
        return []
    ncols = max(len(r) for r in table)
    widths = [max((width(r[i]) for r in table if i < len(r)), default=0) for i in range(ncols)]
    lines = []
    for row in table:
        cells = [c + " " * (widths[i] - width(c)) for i, c in enumerate(row)]
        lines.append((indent + "  ".join(cells)).rstrip())
    if headers:
        lines.insert(1, (indent + "  ".join("-" * w for w in widths)).rstrip())
    return lines


def _display(schema: str, name: str) -> str:
    return qualified(schema, name)


def _ref_display(snapshot: Snapshot | None, ref_table: str) -> str:
    target = snapshot.tables.get(ref_table) if snapshot else None
    if target is not None:
        return _display(target.schema, target.name)
    schema, _, name = ref_table.partition(".")
    return _display(schema, name) if name else ref_table


def _cols(columns: list[str]) -> str:
    return "(" + ", ".join(columns) + ")"


def _default_text(column: Any) -> str:
    parts = []
    if column.identity:
        parts.append(f"identity {column.identity}")
    if column.generated is not None:
        parts.append(f"generated as ({column.generated}) stored")
    if column.default is not None:
        parts.append(column.default)
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# snapshots
# ---------------------------------------------------------------------------------------------
def render_overview_text(snapshot: Snapshot, *, limit: int | None = None) -> str:
    """One compact line per table (name, kind, columns, PK, FK targets), then the enums."""
    tables = sorted(snapshot.tables.values(), key=lambda t: (t.schema, t.name))
    shown = tables if limit is None else tables[: max(limit, 0)]
    rows = []
    for t in shown:
        pk = "PK" + _cols(t.primary_key.columns) if t.primary_key else ""
        targets = sorted({_ref_display(snapshot, fk.ref_table) for fk in t.foreign_keys})
        rows.append(
            [
                _display(t.schema, t.name),
                t.kind,
                f"{len(t.columns)} col" + ("s" * (len(t.columns) != 1)),
                pk,
                ("→ " + ", ".join(targets)) if targets else "",
            ]
        )
    lines = [
        f"{len(tables)} table(s) · {len(snapshot.enums)} enum(s) · "
        f"schema hash {snapshot.schema_hash()}"
    ]
    if rows:
        lines += ["", *grid(None, rows)]
    if len(shown) < len(tables):
        lines.append(f"… and {len(tables) - len(shown)} more (raise the limit or pick a schema)")
    if snapshot.enums:
        lines += ["", "enums:"]
        for e in sorted(snapshot.enums.values(), key=lambda e: (e.schema, e.name)):
            lines.append(clean(f"  {_display(e.schema, e.name)}: " + " | ".join(e.labels)))
    return "\n".join(lines) + "\n"


def render_table_text(table: Table) -> str:
    """Everything about one table as aligned terminal tables."""
    head = f"{_display(table.schema, table.name)} ({table.kind})"
    if table.comment:
        head += f" — {table.comment}"
    lines = [clean(head), ""]
    keys: dict[str, list[str]] = {c.name: [] for c in table.columns}
    if table.primary_key:
        for name in table.primary_key.columns:
            keys.setdefault(name, []).append("PK")
    for fk in table.foreign_keys:
        for i, name in enumerate(fk.columns):
            ref_col = fk.ref_columns[i] if i < len(fk.ref_columns) else "?"
            keys.setdefault(name, []).append(f"FK → {_ref_display(None, fk.ref_table)}.{ref_col}")
    for u in table.unique_constraints:
        if len(u.columns) == 1 and u.columns[0] in keys and "PK" not in keys[u.columns[0]]:
            keys[u.columns[0]].append("UQ")
    lines += grid(
        ["column", "type", "null", "default", "key", "comment"],
        [
            [
                c.name,
                c.type,
                "yes" if c.nullable else "no",
                _default_text(c),
                ", ".join(keys.get(c.name, [])),
                c.comment or "",
            ]
            for c in table.columns
        ],
    )
    constraints = []
    if table.primary_key:
        constraints.append(
            [table.primary_key.name or "", "PRIMARY KEY " + _cols(table.primary_key.columns)]
        )
    constraints += [
        [u.name or "", "UNIQUE " + _cols(u.columns)]
        for u in sorted(table.unique_constraints, key=lambda u: (u.name or "", u.columns))
    ]
    constraints += [
        [c.name or "", f"CHECK ({c.expression})"]
        for c in sorted(table.check_constraints, key=lambda c: (c.name or "", c.expression))
    ]
    if constraints:
        lines += ["", "constraints:", *grid(None, constraints, indent="  ")]
    if table.foreign_keys:
        rows = []
        for fk in sorted(table.foreign_keys, key=lambda f: (f.name or "", f.columns)):
            rule = f"ON DELETE {fk.on_delete}"
            if fk.on_update != "NO ACTION":
                rule += f" ON UPDATE {fk.on_update}"
            if fk.deferrable:
                rule += " DEFERRABLE" + (" INITIALLY DEFERRED" if fk.initially_deferred else "")
            rows.append(
                [
                    fk.name or "",
                    _cols(fk.columns),
                    f"→ {_ref_display(None, fk.ref_table)}{_cols(fk.ref_columns)}",
                    rule,
                ]
            )
        lines += ["", "foreign keys:", *grid(None, rows, indent="  ")]
    if table.indexes:
        rows = []
        for ix in sorted(table.indexes, key=lambda i: (i.name or "", i.columns)):
            extra = []
            if ix.where:
                extra.append(f"WHERE {ix.where}")
            if ix.include:
                extra.append("INCLUDE " + _cols(ix.include))
            rows.append(
                [
                    ix.name or "",
                    "unique" if ix.unique else "",
                    ix.method,
                    _cols(ix.columns),
                    " ".join(extra),
                ]
            )
        lines += ["", "indexes:", *grid(None, rows, indent="  ")]
    if table.definition is not None:
        lines += ["", "definition:"]
        lines += ["  " + clean(line) for line in table.definition.strip("\n").split("\n")]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# differences
# ---------------------------------------------------------------------------------------------
def _records(differences: Iterable[Any]) -> list[dict[str, Any]]:
    return [d.to_dict() if hasattr(d, "to_dict") else dict(d) for d in differences]


def _group_key(record: dict[str, Any]) -> str:
    return record.get("table") or "(enums and other schema-wide objects)"


def _values_text(values: Any) -> str:
    if isinstance(values, dict):
        return " | ".join(
            f"{side}: {_compact(v) if not isinstance(v, str) else v}" for side, v in values.items()
        )
    return _compact(values) if not isinstance(values, str) else values


def _headline(record: dict[str, Any]) -> str:
    what = f"{record.get('object', '?')} {record.get('name') or ''}".rstrip()
    status = record.get("status", "?")
    if status == "different" and record.get("attribute"):
        status = f"different {record['attribute']}"
    return f"{what}: {status}"


def render_differences_text(differences: Iterable[Any]) -> str:
    """Differences grouped by table, each with its values, authority, fix and hint."""
    records = _records(differences)
    if not records:
        return _NO_DIFFERENCES + "\n"
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(_group_key(record), []).append(record)
    lines: list[str] = []
    for key in sorted(groups):
        lines.append(clean(key))
        for record in groups[key]:
            lines.append("  " + clean(_headline(record)))
            if record.get("values") not in (None, {}, []):
                lines.append("    values:    " + clean(_values_text(record["values"])))
            if record.get("authority"):
                lines.append("    authority: " + clean(record["authority"]))
            if record.get("fix"):
                lines.append("    fix:       " + clean(record["fix"]))
            if record.get("hint"):
                lines.append("    hint:      " + clean(record["hint"]))
        lines.append("")
    count = len(records)
    lines.append(
        f"{count} difference{'s' * (count != 1)} in {len(groups)} group{'s' * (len(groups) != 1)}"
    )
    return "\n".join(lines) + "\n"


def render_not_modelled_text(entries: Iterable[dict[str, Any]]) -> str:
    """The "in the database, not modelled" information, one line per kind ('' when none)."""
    lines = []
    for entry in entries:
        names = ", ".join(entry.get("names") or [])
        more = entry.get("count", 0) - len(entry.get("names") or [])
        lines.append(
            f"  {entry.get('object', '?')} ({entry.get('count', 0)}): {names}"
            + (f" … and {more} more" if more > 0 else "")
        )
    if not lines:
        return ""
    head = "not modelled (information, not drift: SQLAlchemy models cannot declare these):"
    return "\n".join([head, *(clean(line) for line in lines)]) + "\n"


# ---------------------------------------------------------------------------------------------
# Markdown report
# ---------------------------------------------------------------------------------------------
def _md(value: Any) -> str:
    if value is None or value == "":
        return ""
    return escape(value if isinstance(value, str) else _compact(value))


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render_report_markdown(report: dict[str, Any]) -> str:
    """The report (generated_at, schema_hash, comparisons[...]) as a Markdown page."""
    comparisons = report.get("comparisons") or []
    out = ["# Schema report", ""]
    if report.get("generated_at"):
        out.append(f"- Generated: {_md(report['generated_at'])}")
    if report.get("schema_hash"):
        out.append(f"- Live schema hash: `{report['schema_hash']}`")
    if report.get("project_root"):
        out.append(f"- Project: {_md(report['project_root'])}")
    for source, state in sorted((report.get("sources") or {}).items()):
        if isinstance(state, dict) and state.get("error"):
            out.append(f"- Source {_md(source)} failed: {_md(state['error'])}")
    out += ["", "Source of truth: live database > models > doc.", ""]

    out += ["## Summary", "", _md_row(["Comparison", "Differences"]), _md_row(["---", "---:"])]
    for c in comparisons:
        diffs = c.get("differences") or []
        count = c.get("count", len(diffs))
        shown = (
            f"error: {_md(c['error'])}"
            if c.get("error")
            else str(len(diffs) if count is None else count)
        )
        out.append(_md_row([f"{_md(c.get('left'))} vs {_md(c.get('right'))}", shown]))
    out.append("")

    for c in comparisons:
        out += [f"## {_md(c.get('left'))} vs {_md(c.get('right'))}", ""]
        if c.get("error"):
            out += [f"Not compared: {_md(c['error'])}", ""]
            continue
        records = _records(c.get("differences") or [])
        if not records:
            out += ["No differences.", ""]
            continue
        out += [
            _md_row(["Table", "Object", "Name", "Status", "Values", "Authority", "Fix"]),
            _md_row(["---"] * 7),
        ]
        for r in sorted(
            records, key=lambda r: (r.get("table") or "", str(r.get("object")), str(r.get("name")))
        ):
            status = r.get("status", "")
            if r.get("attribute"):
                status = f"{status} ({r['attribute']})"
            fix = r.get("fix") or ""
            if r.get("hint"):
                fix = f"{fix} — {r['hint']}" if fix else r["hint"]
            out.append(
                _md_row(
                    [
                        _md(r.get("table")),
                        _md(r.get("object")),
                        _md(r.get("name")),
                        _md(status),
                        _md(_values_text(r["values"]))
                        if r.get("values") not in (None, {}, [])
                        else "",
                        _md(r.get("authority")),
                        _md(fix),
                    ]
                )
            )
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
