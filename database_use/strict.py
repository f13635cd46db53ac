"""Strict mode (tier T3): PostgreSQL's own privileges decide who may change the schema.

In strict mode the agent's ``DATABASE_URL`` names a role that cannot change the schema; an
approved change is applied by the person's own terminal command with the owner role's
password, typed there and never stored. Nothing file-based holds against an agent with a shell
as the same OS user, so strictness is read from the server (what the role can do), never from
a file the agent could edit.

:func:`schema_changers` is the one place that says which of a role's abilities
(:class:`database_use.roles.RoleReport` flags) let it change the schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from database_use.roles import RoleReport

# RoleReport flags (sources/sql/readonly_role.sql) that let a role change the schema itself:
# a superuser or CREATEROLE role can make itself a member of the owner; owners ALTER and DROP;
# CREATE adds objects; server files and programs reach past every privilege.
SCHEMA_CHANGE_FLAGS = (
    "superuser",
    "role_attributes",
    "server_roles",
    "owns_database",
    "owns_schema",
    "owns_relation",
    "create_in_database",
    "create_in_schema",
)


def schema_changers(report: RoleReport) -> list[str]:
    """Every way ``report``'s role could change the schema (empty: it cannot)."""
    from database_use.roles import PROBLEMS

    return [PROBLEMS[key] for key in SCHEMA_CHANGE_FLAGS if report.flags.get(key)]


def can_change_schema(report: RoleReport) -> bool:
    return bool(schema_changers(report))
