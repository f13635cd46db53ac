"""Strict mode (tier T3): PostgreSQL's own privileges decide who may change the schema.

In strict mode the agent's ``DATABASE_URL`` names a role that cannot change the schema; an
approved change is applied by the person's own terminal command with the owner role's
password, typed there and never stored. Nothing file-based holds against an agent with a shell
as the same OS user, so strictness is read from the server (what the role can do), never from
a file the agent could edit.

:func:`schema_changers` is the one place that says which of a role's abilities
(:class:`database_use.roles.RoleReport` flags) let it change the schema.

The person's ``[strict] required = true`` (:mod:`database_use.policy`) makes the MCP server
refuse a schema-changing role (:func:`refuse_if_required`). That flag is not the guard: an
agent with a shell can edit the person's config file like any other. The guard is the role's
privileges, which only someone holding an admin or owner credential can change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from database_use.errors import ChangeRefused

if TYPE_CHECKING:  # pragma: no cover
    from database_use.roles import RoleReport

# RoleReport flags (sources/sql/readonly_role.sql) that let a role change the schema itself:
# a superuser or CREATEROLE role can make itself a member of the owner; owners ALTER and DROP;
# CREATE adds objects; server files and programs reach past every privilege; TRIGGER adds a
# trigger to a table, REFERENCES a foreign key pointing at it; a SECURITY DEFINER function runs
# with its owner's rights.
SCHEMA_CHANGE_FLAGS = (
    "superuser",
    "role_attributes",
    "server_roles",
    "owns_database",
    "owns_schema",
    "owns_relation",
    "create_in_database",
    "create_in_schema",
    "table_ddl_grants",
    "definer_functions",
)
# Texts for the flags the read-only check words differently (roles.PROBLEMS has the rest).
_TEXTS = {
    "table_ddl_grants": "has TRIGGER or REFERENCES on a table (CREATE TRIGGER, a foreign key)",
}


def schema_changers(report: RoleReport) -> list[str]:
    """Every way ``report``'s role could change the schema (empty: it cannot)."""
    from database_use.roles import PROBLEMS

    return [
        _TEXTS.get(key) or PROBLEMS[key] for key in SCHEMA_CHANGE_FLAGS if report.flags.get(key)
    ]


def can_change_schema(report: RoleReport) -> bool:
    return bool(schema_changers(report))


# -- what the agent role may do to the data ----------------------------------------------------
@dataclass(frozen=True)
class Abilities:
    """DATABASE_URL's role as doctor lists it: schema changes, data writes, sensitive reads."""

    report: RoleReport
    dml_tables: list[str]
    sensitive_readable: list[str]

    @property
    def changers(self) -> list[str]:
        return schema_changers(self.report)

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.report.role,
            "can_change_schema": bool(self.changers),
            "schema_changers": self.changers,
            "dml_tables": self.dml_tables,
            "sensitive_readable": self.sensitive_readable,
        }


def abilities(url: str, sensitive: tuple[str, ...] | list[str]) -> Abilities:
    """What the role of ``url`` can do (one read-only connection)."""
    from database_use.connection import db
    from database_use.roles import RoleReport, _one_row

    with db.connect(url=url, readonly=True) as conn:
        row = _one_row(conn, "readonly_role")
        data = _one_row(conn, "agent_role", {"sensitive": list(sensitive)})
    role = str(row.pop("role_name", "?"))
    return Abilities(
        report=RoleReport(role=role, flags={k: bool(v) for k, v in row.items()}),
        dml_tables=list(data.get("dml_tables") or []),
        sensitive_readable=list(data.get("sensitive_readable") or []),
    )


# -- the person's strict setting ---------------------------------------------------------------
SETUP_COMMAND = "database-use roles setup"
_RECHECK_SECONDS = 5.0  # a verdict is reused this long (a tool call reads the URL often)
_verdicts: dict[str, tuple[float, list[str], str]] = {}


def required() -> bool:
    """The person's ``[strict] required`` (a malformed config counts as required: fail closed)."""
    from database_use import policy
    from database_use.errors import DatabaseUseError

    try:
        return policy.load_policy().strict_required
    except DatabaseUseError:
        return True


def refusal(role: str, changers: list[str]) -> str:
    return (
        f"strict mode (required in your config) refuses DATABASE_URL's role {role!r}: it can "
        f"change the schema ({'; '.join(changers)}); the person runs `{SETUP_COMMAND}` on their "
        "terminal so DATABASE_URL names a role that cannot"
    )


def refuse_if_required(url: str) -> None:
    """ChangeRefused (one line) when strict mode is required and ``url``'s role can change the
    schema. Called by the MCP server before a tool connects (:attr:`Project.guard`)."""
    if not required():
        return
    from database_use.roles import inspect_role

    now = time.monotonic()
    cached = _verdicts.get(url)
    if cached is None or now - cached[0] > _RECHECK_SECONDS:
        report = inspect_role(url)
        cached = (now, schema_changers(report), report.role)
        _verdicts[url] = cached
    if cached[1]:
        raise ChangeRefused(refusal(cached[2], cached[1]))
