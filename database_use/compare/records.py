"""The difference record and what every comparator shares: the two sides, their authority, the
one-line fix worded for the side that has to follow, and a sentence per record.

``authority`` is the side that wins by the source-of-truth order live db > models > doc (a
saved JSON snapshot last); ``fix`` says in one line what to change on the other side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from database_use.display import escape_for_display
from database_use.schema.snapshot import Snapshot

RANK = {"db": 0, "models": 1, "doc": 2, "json": 3}
REGENERATE = "run generate-docs (database-use generate-docs)"
RESAVE = (
    "the saved snapshot holds a past state: save it again (schema_compare.py SOURCE "
    "--save-snapshot PATH) once this state is wanted"
)


@dataclass
class Difference:
    """One difference between two sources. ``values`` maps each side's name → its value."""

    object: str
    table: str | None
    name: str | None
    status: str
    attribute: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    authority: str | None = None
    fix: str | None = None
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON record; every key is always present (None where it does not apply)."""
        return {
            "object": self.object,
            "table": self.table,
            "name": self.name,
            "status": self.status,
            "attribute": self.attribute,
            "values": dict(self.values),
            "authority": self.authority,
            "fix": self.fix,
            "hint": self.hint,
        }


@dataclass
class Sides:
    left: Snapshot
    right: Snapshot
    lname: str
    rname: str

    @cached_property  # asked for every attribute of every column: the sources do not change
    def authority(self) -> str:
        lrank = RANK.get(self.left.source, 9)
        rrank = RANK.get(self.right.source, 9)
        return self.rname if rrank < lrank else self.lname

    @property
    def follower(self) -> str:
        return self.lname if self.authority == self.rname else self.rname

    def kind_of(self, name: str) -> str:
        return (self.left if name == self.lname else self.right).source

    def snap_of(self, name: str) -> Snapshot:
        return self.left if name == self.lname else self.right

    @property
    def with_models(self) -> bool:
        return "models" in (self.left.source, self.right.source)

    @property
    def regenerate(self) -> str:
        """The fix when the follower is generated: regenerate the doc, or save the snapshot."""
        return RESAVE if self.kind_of(self.follower) == "json" else REGENERATE


def model_origin(sides: Sides, table: str) -> str:
    """``models/models_user.py class User`` for a table of the models side, when known."""
    for snap in (sides.left, sides.right):
        origins = getattr(snap, "model_origins", None)
        if snap.source == "models" and origins and table in origins:
            path, cls, line = (*origins[table], None)[:3]
            where = f"{path}:{line}" if line else path
            return f"{where} class {cls}" if cls else f"{where} Table({table.split('.', 1)[-1]!r})"
    return f"the model of {table} (models/models_*.py)"


def make_fix(sides: Sides, table: str | None, change_models: str, change_db: str) -> str:
    """The one-line fix, worded for the side that has to follow the authority."""
    kind = sides.kind_of(sides.follower)
    if kind == "models":
        where = model_origin(sides, table) if table else "models/models_*.py"
        return f"in {where}: {change_models}"
    if kind in ("doc", "json"):
        return sides.regenerate
    return (
        f"on {sides.follower}: {change_db} (as on {sides.authority}; a reviewed, approved change)"
    )


def side_values(sides: Sides, lv: Any, rv: Any) -> dict[str, Any]:
    return {sides.lname: lv, sides.rname: rv}


def missing_status(sides: Sides, left_has: bool) -> str:
    return f"missing_in_{sides.rname if left_has else sides.lname}"


def changed(
    sides: Sides,
    obj: str,
    table: str | None,
    name: str | None,
    attribute: str,
    values: tuple[Any, Any],
    fix: str,
    hint: str | None = None,
) -> Difference:
    """A ``different`` record: both sides hold it, ``attribute`` differs (``values``: left, right)."""
    return Difference(
        object=obj,
        table=table,
        name=name,
        status="different",
        attribute=attribute,
        values=side_values(sides, *values),
        authority=sides.authority,
        fix=fix,
        hint=hint,
    )


def missing(
    sides: Sides,
    obj: str,
    table: str | None,
    name: str | None,
    left_has: bool,
    values: tuple[Any, Any],
    fix: str,
) -> Difference:
    """A ``missing_in_<side>`` record: only one side holds it (``values``: left, right)."""
    return Difference(
        object=obj,
        table=table,
        name=name,
        status=missing_status(sides, left_has),
        values=side_values(sides, *values),
        authority=sides.authority,
        fix=fix,
    )


# -- one sentence per record (validate's message) ---------------------------------------------

_SIDE_WORDS = {"db": "the database", "models": "the models", "doc": "the doc"}
_SHOWN = 60  # characters of a value quoted in a sentence


def one_line(text: str) -> str:
    """``text`` safe on one terminal line: hidden characters, newlines and tabs escaped."""
    return escape_for_display(text).replace("\n", "\\n").replace("\t", "\\t")


def _side(name: str) -> str:
    return _SIDE_WORDS.get(name, name)


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value) or "none"
    text = str(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def subject(record: dict[str, Any]) -> str:
    """What a record is about: ``trigger shop.products.products_audit``, ``table public.users``."""
    obj, table, name = record.get("object") or "?", record.get("table"), record.get("name")
    words = obj.replace("_", " ")
    if obj in ("table", "view"):
        return f"{words} {table or name}"
    if obj == "grant":
        return f"privileges of {name} on {table}" if table else f"privileges of {name}"
    if table:
        return f"{words} {table}.{name}" if name else f"{words} of {table}"
    return f"{words} {name}"


def describe(record: dict[str, Any]) -> str:
    """One plain sentence for a record: ``trigger shop.products.products_audit is in the database
    but not in the doc`` (hidden characters escaped)."""
    status, values = record.get("status") or "", record.get("values") or {}
    what = subject(record)
    if status.startswith("missing_in_"):
        absent = status.removeprefix("missing_in_")
        holder = next((s for s in values if s != absent), None)
        where = f"in {_side(holder)} but " if holder else ""
        return one_line(f"{what} is {where}not in {_side(absent)}")
    attribute = record.get("attribute") or "definition"
    if attribute == "body":
        return one_line(f"{what}: body differs")
    shown = ", ".join(f"{_side(s)}: {_shown(v)}" for s, v in values.items())
    return one_line(f"{what}: {attribute.replace('_', ' ')} differs ({shown})")
