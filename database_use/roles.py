"""The read-only role: what a database role can do, and making one that cannot write.

Read-only script runs are only *enforced* read-only when ``DATABASE_READONLY_URL`` names a
role PostgreSQL itself stops from writing (a session default such as
``default_transaction_read_only`` is one ``SET`` away from off). :func:`inspect_role` asks the
server what a role can do (``sources/sql/readonly_role.sql``: superuser, role attributes,
server-file and server-program roles, ownership, CREATE, write grants);
:func:`check_readonly_role` refuses a read-only run whose role can do any of it.

:func:`plan_readonly_role` + :func:`create_readonly_role` make such a role where
``DATABASE_URL``'s role may (a superuser or CREATEROLE: dev databases), for the person's own
``database-use roles readonly-setup`` command, which shows the plan and asks on the terminal.
Never an MCP tool: an agent does not create roles. The new role gets LOGIN with a generated
password (``secrets``), sent to the server only as a SCRAM verifier computed by libpq, so the
password is in no statement and no server log; CONNECT, USAGE and SELECT on the app's schemas,
and default privileges so tables ``DATABASE_URL``'s role creates later are readable too. It is
checked by logging in as it; only then is ``DATABASE_READONLY_URL`` written to ``.env``
(atomically, every other line kept). A role that fails the check is dropped again.

Strict mode's agent role (:func:`plan_agent_role` + :func:`create_agent_role`, for the
person's ``database-use roles setup``) is made the same way, but as an admin whose credential
the person types (never stored): SELECT on the app's schemas except the project's sensitive
columns, DML only on the tables named, no way to change the schema
(:func:`database_use.strict.schema_changers` empty, checked by logging in). It becomes
``DATABASE_URL``; the owner role's name goes to ``[tool.database-use] owner-role``.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from database_use.errors import ChangeRefused, InvalidRequest, ScriptError
from database_use.settings import mask_url

if TYPE_CHECKING:  # pragma: no cover
    import psycopg

    from database_use.project import Project

ENV_KEY = "DATABASE_READONLY_URL"
ROLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
PASSWORD_BYTES = 24

# readonly_role.sql column -> what it means, for every way a role could write.
PROBLEMS = {
    "superuser": "is a superuser",
    "role_attributes": "has CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS",
    "server_roles": "is a member of pg_write_server_files, pg_execute_server_program, "
    "pg_read_server_files or pg_write_all_data",
    "owns_database": "owns the database",
    "owns_schema": "owns a schema",
    "owns_relation": "owns a table, view or sequence",
    "create_in_database": "may CREATE in the database",
    "create_in_schema": "may CREATE in a schema",
    "table_writes": "has INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES or TRIGGER on a table",
    "sequence_writes": "has USAGE or UPDATE on a sequence (nextval/setval)",
    # A SECURITY DEFINER function runs with its owner's rights: calling one can write.
    "definer_functions": "may EXECUTE a SECURITY DEFINER function of another role (it runs with "
    "that role's rights: REVOKE EXECUTE ON FUNCTION … FROM PUBLIC)",
}


@dataclass(frozen=True)
class RoleReport:
    """What one role can do, from the server's own catalogs."""

    role: str
    flags: dict[str, bool]

    @property
    def problems(self) -> list[str]:
        """Every way this role could write (empty for a read-only role)."""
        return [text for key, text in PROBLEMS.items() if self.flags.get(key)]

    @property
    def may_create_roles(self) -> bool:
        return bool(self.flags.get("may_create_roles"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "can_write": bool(self.problems),
            "problems": self.problems,
            "may_create_roles": self.may_create_roles,
        }


def _one_row(conn: psycopg.Connection, name: str, params: dict | None = None) -> dict[str, Any]:
    from database_use.sources.live import sql

    cur = conn.execute(sql(name), params)
    names = [c.name for c in cur.description or []]
    return dict(zip(names, cur.fetchone() or (), strict=False))


def inspect_role(url: str) -> RoleReport:
    """What the role of ``url`` can do (connects read-only; ConnectionFailed when it cannot)."""
    from database_use.connection import db

    with db.connect(url=url, readonly=True) as conn:
        row = _one_row(conn, "readonly_role")
    role = str(row.pop("role_name", "?"))
    return RoleReport(role=role, flags={k: bool(v) for k, v in row.items()})


def check_readonly_role(url: str) -> str:
    """The role name of ``url`` when it has no way to write; ScriptError naming what it can do."""
    report = inspect_role(url)
    if report.problems:
        raise ScriptError(
            f"{ENV_KEY}'s role {report.role!r} can write ({'; '.join(report.problems)}); "
            "read-only runs refused until it has SELECT only"
        )
    return report.role


# -- making one --------------------------------------------------------------------------------
@dataclass
class ReadonlyPlan:
    """What :func:`create_readonly_role` will run; ``statements`` is safe to show anyone."""

    role: str
    database: str
    admin: RoleReport
    schemas: list[str]
    statements: list[str]
    env_path: Path
    masked_url: str
    notes: list[str] = field(default_factory=list)
    url: str = field(default="", repr=False)  # holds the new password: never shown
    _composed: list[Any] = field(default_factory=list, repr=False)
    _undo: list[Any] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "database": self.database,
            "admin_role": self.admin.role,
            "admin_may_create_roles": self.admin.may_create_roles,
            "schemas": self.schemas,
            "statements": self.statements,
            "env_file": str(self.env_path),
            "env_line": f"{ENV_KEY}={self.masked_url}",
            "notes": self.notes,
        }


def default_role_name(database: str) -> str:
    base = re.sub(r"[^a-z0-9_]", "_", database.lower()).strip("_") or "app"
    if not re.match(r"[a-z_]", base):
        base = "db_" + base
    return f"{base[:50]}_readonly"


def readonly_url(admin_url: str, role: str, password: str | None) -> str:
    """``admin_url`` with the role and password replaced (host, port, database, options kept).

    No ``password``: none in the URL, so libpq takes the person's own (``PGPASSWORD``,
    ``~/.pgpass``, peer or certificate authentication)."""
    parts = urlsplit(admin_url)
    hostport = parts.netloc.rsplit("@", 1)[-1]
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("user", "password")]
    secret = f":{quote(password, safe='')}" if password else ""
    netloc = f"{quote(role, safe='')}{secret}@{hostport}"
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))


def plan_readonly_role(
    project: Project, role: str | None = None, for_role: str | None = None
) -> ReadonlyPlan:
    """The statements that make a read-only role for ``project``'s database (nothing is run).

    ``for_role``: the default privileges follow that role's future tables (the app's owner,
    when an admin runs this) instead of ``DATABASE_URL``'s."""

    admin_url = project.database_url
    admin = inspect_role(admin_url)
    with project.connect(readonly=True) as conn:
        facts, name, password, composed, shown = _new_login_role(conn, role, default_role_name)
    for schema in facts["schemas"]:
        _grant_reading(composed, shown, schema, name, for_role)
    notes = [
        "tables that other roles create later are not covered by the default privileges "
        f"(they follow {for_role or admin.role!r}); grant SELECT on them, or run this again",
    ]
    undo = _revoke_public_create(facts, composed, shown, notes)
    if not admin.may_create_roles:
        notes.append(_no_createrole(admin))
    notes += _env_note(project, ENV_KEY, "read-only runs keep using the old value")
    return ReadonlyPlan(
        **_plan_fields(
            project, admin, facts, name, password, admin_url, shown, notes, composed, undo
        )
    )


def _new_login_role(
    conn: psycopg.Connection, role: str | None, default: Any
) -> tuple[dict[str, Any], str, str, list[Any], list[str]]:
    """Facts, the role's name, a generated password, and the CREATE ROLE + CONNECT statements
    (composed, and as shown). InvalidRequest for a bad or taken name."""
    from psycopg import sql

    facts = _one_row(conn, "readonly_setup", {"role": role or ""})
    name = role or default(facts["database"])
    if not ROLE_RE.fullmatch(name):
        raise InvalidRequest(
            f"role name {name!r} is not a plain lower-case identifier (a-z, 0-9, _)"
        )
    if role is None:
        facts = _one_row(conn, "readonly_setup", {"role": name})
    if facts["role_exists"]:
        raise InvalidRequest(
            f"a role named {name!r} exists already; choose another name with --role NAME"
        )
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    # libpq computes the SCRAM verifier: the password itself never reaches the server.
    verifier = conn.pgconn.encrypt_password(
        password.encode(), name.encode(), b"scram-sha-256"
    ).decode()
    ident = sql.Identifier(name)
    composed = [
        sql.SQL(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
            "NOBYPASSRLS NOINHERIT PASSWORD {}"
        ).format(ident, sql.Literal(verifier)),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            sql.Identifier(facts["database"]), ident
        ),
    ]
    shown = [
        f"CREATE ROLE {_quoted(name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
        "NOBYPASSRLS NOINHERIT PASSWORD '<SCRAM verifier of a generated password>'",
        f"GRANT CONNECT ON DATABASE {_quoted(facts['database'])} TO {_quoted(name)}",
    ]
    return facts, name, password, composed, shown


def _revoke_public_create(
    facts: dict[str, Any], composed: list[Any], shown: list[str], notes: list[str]
) -> list[Any]:
    """REVOKE PUBLIC's CREATE where PostgreSQL before 15 grants it; the undo statements."""
    from psycopg import sql

    undo: list[Any] = []
    for schema in facts["public_create"]:
        template = "REVOKE CREATE ON SCHEMA {} FROM PUBLIC"
        composed.append(sql.SQL(template).format(sql.Identifier(schema)))
        shown.append(template.format(_quoted(schema)))
        undo.append(sql.SQL("GRANT CREATE ON SCHEMA {} TO PUBLIC").format(sql.Identifier(schema)))
        notes.append(
            f"every role may CREATE in schema {schema!r} (the default before PostgreSQL 15): "
            "the REVOKE takes that from roles other than its owner too"
        )
    return undo


def _env_note(project: Project, key: str, otherwise: str) -> list[str]:
    if not _set_outside_dotenv(project.root / ".env", key):
        return []
    return [
        f"{key} is set in this environment and wins over .env: unset it (e.g. in your shell "
        f"profile) or {otherwise}"
    ]


def _plan_fields(
    project: Project,
    admin: RoleReport,
    facts: dict[str, Any],
    name: str,
    password: str,
    admin_url: str,
    shown: list[str],
    notes: list[str],
    composed: list[Any],
    undo: list[Any],
) -> dict[str, Any]:
    url = readonly_url(admin_url, name, password)
    return {
        "role": name,
        "database": facts["database"],
        "admin": admin,
        "schemas": list(facts["schemas"]),
        "statements": shown,
        "env_path": project.root / ".env",
        "masked_url": mask_url(url),
        "notes": notes,
        "url": url,
        "_composed": composed,
        "_undo": undo,
    }


def _grant_reading(
    composed: list[Any], shown: list[str], schema: str, role: str, for_role: str | None
) -> None:
    """USAGE and SELECT on ``schema``, and SELECT on the tables ``for_role`` creates later."""
    from psycopg import sql

    ident, schema_id = sql.Identifier(role), sql.Identifier(schema)
    for template in (
        "GRANT USAGE ON SCHEMA {} TO {}",
        "GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}",
    ):
        composed.append(sql.SQL(template).format(schema_id, ident))
        shown.append(template.format(_quoted(schema), _quoted(role)))
    _default_privilege(composed, shown, schema, role, for_role, "SELECT ON TABLES")


def _default_privilege(
    composed: list[Any], shown: list[str], schema: str, role: str, for_role: str | None, what: str
) -> None:
    from psycopg import sql

    head = "ALTER DEFAULT PRIVILEGES FOR ROLE {} " if for_role else "ALTER DEFAULT PRIVILEGES "
    template = head + "IN SCHEMA {} GRANT " + what + " TO {}"
    names = [for_role] if for_role else []
    composed.append(sql.SQL(template).format(*(sql.Identifier(n) for n in [*names, schema, role])))
    shown.append(template.format(*(_quoted(n) for n in [*names, schema, role])))


def _set_outside_dotenv(env_path: Path, key: str = ENV_KEY) -> bool:
    """Is ``key`` in the environment with a value ``.env`` did not give?"""
    current = os.environ.get(key)
    if not current:
        return False
    from dotenv import dotenv_values

    try:
        return dotenv_values(env_path).get(key) != current
    except OSError:
        return True


def _no_createrole(admin: RoleReport) -> str:
    return (
        f"DATABASE_URL's role {admin.role!r} may not create roles (needs CREATEROLE or "
        "superuser): ask the database's owner to run these statements (see --dry-run)"
    )


def _quoted(identifier: str) -> str:
    """The identifier as PostgreSQL would need it written (for showing only)."""
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", identifier):
        return identifier
    return '"' + identifier.replace('"', '""') + '"'


def create_readonly_role(project: Project, plan: ReadonlyPlan) -> dict[str, Any]:
    """Run ``plan`` (one transaction), log in as the new role and check it, write ``.env``.

    The person's consent is the caller's to get (the CLI asks on the terminal). A role that
    cannot log in or turns out able to write is dropped again and nothing is written.
    """
    import psycopg
    from psycopg import sql

    from database_use.connection import explain_connect_error

    if not plan.admin.may_create_roles:
        raise ChangeRefused(_no_createrole(plan.admin))
    env_path = plan.env_path
    if env_path.is_symlink():
        raise InvalidRequest(f"{env_path} is a symbolic link; nothing was created or written")
    _run_plan(project, plan, "the read-only role")
    try:
        report = inspect_role(plan.url)
    except Exception as exc:  # cannot log in (pg_hba.conf?) or the check failed
        _drop(project, plan, sql)
        reason = exc if not isinstance(exc, psycopg.Error) else explain_connect_error(exc, plan.url)
        raise ChangeRefused(
            f"the new role {plan.role!r} could not log in ({mask_url(str(reason))}); it was "
            "dropped again and .env was not changed"
        ) from None
    if report.problems:
        _drop(project, plan, sql)
        raise ChangeRefused(
            f"the new role {plan.role!r} can still write ({'; '.join(report.problems)}); it was "
            "dropped again and .env was not changed"
        )
    write_env_value(env_path, ENV_KEY, plan.url)
    return {**plan.to_dict(), "created": True, "checked": report.to_dict()}


def _run_plan(project: Project, plan: ReadonlyPlan, what: str) -> None:
    """``plan``'s statements in one transaction as ``project``'s role; ChangeRefused if any fails."""
    import psycopg

    with project.connect(readonly=False) as conn:
        try:
            with conn.transaction():
                for statement in plan._composed:
                    conn.execute(statement)
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ChangeRefused(
                f"creating {what} failed, nothing was changed: {mask_url(first)}"
            ) from None


def _drop(project: Project, plan: ReadonlyPlan, sql: Any) -> None:
    ident = sql.Identifier(plan.role)
    with project.connect(readonly=False) as conn, conn.transaction():
        for statement in plan._undo:
            conn.execute(statement)
        conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
        conn.execute(sql.SQL("DROP ROLE {}").format(ident))


_ENV_LINE = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=")


def write_env_value(path: Path, key: str, value: str) -> None:
    """Set ``key`` in the dotenv file ``path``: first line replaced (later duplicates dropped)
    or one line appended; every other line kept byte for byte. Atomic (temp file + rename),
    the file's mode kept (0600 for a new file)."""
    if "'" in value or "\n" in value:
        raise InvalidRequest(f"{key}'s value cannot be written to {path.name} safely")
    line = f"{key}='{value}'\n"
    try:
        old = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        old, mode = "", 0o600
    out: list[str] = []
    done = False
    for existing in old.splitlines(keepends=True):
        match = _ENV_LINE.match(existing)
        if match and match["key"] == key:
            if not done:
                out.append(line)
                done = True
            continue
        out.append(existing)
    if not done:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(line)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".env.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("".join(out))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# -- the agent's role (strict mode) ------------------------------------------------------------
# ``database-use roles setup``: the person, holding an admin credential, makes the role the
# agent's DATABASE_URL will name. It can read the app's schemas (the project's sensitive
# columns left out), write only the tables the person names, and change no schema: no
# ownership, no CREATE, no TRUNCATE, TRIGGER or REFERENCES. The owner's URL leaves .env; the
# project keeps only the owner role's NAME ([tool.database-use] owner-role).
AGENT_ENV_KEY = "DATABASE_URL"


@dataclass
class AgentPlan(ReadonlyPlan):
    """What :func:`create_agent_role` will run, for ``DATABASE_URL``."""

    owner: str = ""
    dml: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    sensitive: tuple[str, ...] = ()
    admin_url: str = field(default="", repr=False)  # the person's credential: never shown

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "env_line": f"{AGENT_ENV_KEY}={self.masked_url}",
            "owner_role": self.owner,
            "dml_tables": self.dml,
            "excluded_columns": self.excluded,
        }


def default_agent_name(database: str) -> str:
    return default_role_name(database).removesuffix("_readonly") + "_agent"


def _resolve_tables(tables: list[dict], wanted: list[str]) -> list[dict]:
    """The tables ``wanted`` names (``users`` or ``public.users``); InvalidRequest for others."""
    found: list[dict] = []
    for name in wanted:
        schema, _, bare = name.rpartition(".")
        hits = [
            t
            for t in tables
            if t["name"] == bare and (not schema or t["schema"] == schema) and t["kind"] in "rpf"
        ]
        if len(hits) != 1:
            why = "is no table" if not hits else "is in several schemas: qualify it (schema.table)"
            raise InvalidRequest(f"--dml {name!r} {why}; nothing was planned")
        if hits[0] not in found:
            found.append(hits[0])
    return found


def plan_agent_role(
    project: Project,
    admin_url: str,
    *,
    role: str | None = None,
    owner: str,
    dml: list[str] | None = None,
) -> AgentPlan:
    """The statements that make the agent's role (nothing is run; connects as the admin).

    ``dml``: table names that get INSERT, UPDATE, DELETE (and USAGE on their sequences), or
    ``["all"]`` for every table now and later. Tables with a sensitive column (the project's
    ``sensitive-columns``) get SELECT on their other columns only.
    """
    from psycopg import sql

    from database_use.project import Project as _Project
    from database_use.redact import remember_url

    remember_url(admin_url)
    admin_project = _Project(root=project.root, url_override=admin_url)
    admin = inspect_role(admin_url)
    sensitive = tuple(project.config.sensitive_columns)
    with admin_project.connect(readonly=True) as conn:
        facts, name, password, composed, shown = _new_login_role(conn, role, default_agent_name)
        tables = _one_row(conn, "agent_setup", {"owner": owner})
    if not tables["owner_exists"]:
        raise InvalidRequest(
            f"the owner role {owner!r} does not exist; name it with --owner-role NAME"
        )
    if owner == name:
        raise InvalidRequest("the agent role cannot be the owner role")
    every = list(tables["tables"])
    everything = [d.strip() for d in (dml or []) if d.strip()]
    dml_all = everything == ["all"]
    writable = [] if dml_all else _resolve_tables(every, everything)
    ident = sql.Identifier(name)

    def add(template: str, *names: str) -> None:
        composed.append(sql.SQL(template).format(*(sql.Identifier(n) for n in names)))
        shown.append(template.format(*(_quoted(n) for n in names)))

    for schema in facts["schemas"]:
        _grant_reading(composed, shown, schema, name, owner)
        if dml_all:
            add("GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}", schema, name)
            add("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}", schema, name)
            _default_privilege(
                composed, shown, schema, name, owner, "INSERT, UPDATE, DELETE ON TABLES"
            )
            _default_privilege(composed, shown, schema, name, owner, "USAGE ON SEQUENCES")
    excluded: list[str] = []
    for table in every:
        hidden = [c for c in table["columns"] if c in sensitive]
        if not hidden:
            continue
        qualified = sql.Identifier(table["schema"], table["name"])
        shown_name = f"{_quoted(table['schema'])}.{_quoted(table['name'])}"
        composed.append(sql.SQL("REVOKE SELECT ON {} FROM {}").format(qualified, ident))
        shown.append(f"REVOKE SELECT ON {shown_name} FROM {_quoted(name)}")
        visible = [c for c in table["columns"] if c not in sensitive]
        if visible:
            composed.append(
                sql.SQL("GRANT SELECT ({}) ON {} TO {}").format(
                    sql.SQL(", ").join(sql.Identifier(c) for c in visible), qualified, ident
                )
            )
            shown.append(
                f"GRANT SELECT ({', '.join(_quoted(c) for c in visible)}) ON {shown_name} "
                f"TO {_quoted(name)}"
            )
        excluded += [f"{table['schema']}.{table['name']}.{c}" for c in hidden]
    for table in writable:
        qualified = sql.Identifier(table["schema"], table["name"])
        shown_name = f"{_quoted(table['schema'])}.{_quoted(table['name'])}"
        composed.append(
            sql.SQL("GRANT INSERT, UPDATE, DELETE ON {} TO {}").format(qualified, ident)
        )
        shown.append(f"GRANT INSERT, UPDATE, DELETE ON {shown_name} TO {_quoted(name)}")
        for sequence in table["sequences"]:  # already quoted by the catalog query
            composed.append(
                sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(sql.SQL(sequence), ident)
            )
            shown.append(f"GRANT USAGE ON SEQUENCE {sequence} TO {_quoted(name)}")
    notes = [
        f"the default privileges follow the owner role {owner!r}: tables other roles create "
        "later are not readable until granted",
    ]
    if sensitive:
        notes.append(
            f"a table created later with a sensitive column ({', '.join(sensitive)}) is readable "
            "in full through the default privileges: doctor names it; revoke it then"
        )
    undo = _revoke_public_create(facts, composed, shown, notes)
    if not admin.may_create_roles:
        notes.append(
            f"the admin role {admin.role!r} may not create roles (needs CREATEROLE or superuser)"
        )
    notes += _env_note(project, AGENT_ENV_KEY, "the tools keep using the old value")
    return AgentPlan(
        **_plan_fields(
            project, admin, facts, name, password, admin_url, shown, notes, composed, undo
        ),
        owner=owner,
        dml=["all"] if dml_all else [f"{t['schema']}.{t['name']}" for t in writable],
        excluded=excluded,
        sensitive=sensitive,
        admin_url=admin_url,
    )


def create_agent_role(project: Project, plan: AgentPlan) -> dict[str, Any]:
    """Run ``plan`` as the admin (one transaction), log in as the new role and check that it
    cannot change the schema nor read an excluded column, then write ``DATABASE_URL`` to
    ``.env`` (the owner's URL leaves it) and the owner role's name to ``pyproject.toml``.

    A role that fails the check is dropped again and nothing is written.
    """
    import psycopg
    from psycopg import sql

    from database_use import strict
    from database_use.config import write_owner_role
    from database_use.connection import explain_connect_error
    from database_use.project import Project as _Project

    if not plan.admin.may_create_roles:
        raise ChangeRefused(
            f"the admin role {plan.admin.role!r} may not create roles (needs CREATEROLE or "
            "superuser); nothing was created"
        )
    env_path = plan.env_path
    if env_path.is_symlink():
        raise InvalidRequest(f"{env_path} is a symbolic link; nothing was created or written")
    admin_project = _Project(root=project.root, url_override=plan.admin_url)
    old_password = _env_password(env_path, AGENT_ENV_KEY)
    _run_plan(admin_project, plan, "the agent role")
    try:
        found = strict.abilities(plan.url, plan.sensitive)
    except Exception as exc:
        _drop(admin_project, plan, sql)
        reason = exc if not isinstance(exc, psycopg.Error) else explain_connect_error(exc, plan.url)
        raise ChangeRefused(
            f"the new role {plan.role!r} could not log in ({mask_url(str(reason))}); it was "
            "dropped again and .env was not changed"
        ) from None
    wrong = found.changers + [f"can read {c}" for c in found.sensitive_readable]
    if wrong:
        _drop(admin_project, plan, sql)
        raise ChangeRefused(
            f"the new role {plan.role!r} {'; '.join(wrong)}; it was dropped again and .env was "
            "not changed"
        )
    write_env_value(env_path, AGENT_ENV_KEY, plan.url)
    config_file = write_owner_role(project.root, plan.owner)
    left = _keys_holding(env_path, old_password) if old_password else []
    return {
        **plan.to_dict(),
        "created": True,
        "checked": found.to_dict(),
        "owner_role_in": f"{config_file} [tool.database-use] owner-role",
        "owner_password_left_in_env": left,
    }


def _keys_holding(env_path: Path, secret: str) -> list[str]:
    """The keys (or line numbers) of the lines of ``env_path`` that still hold ``secret``."""
    text = env_path.read_text(encoding="utf-8", errors="replace")
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        if secret in line or quote(secret, safe="") in line:
            match = _ENV_LINE.match(line)
            keys.append(match["key"] if match else f"line {number}")
    return keys


def _env_password(env_path: Path, key: str) -> str | None:
    """The password in ``key``'s URL in ``env_path`` (to check it is gone afterwards)."""
    from dotenv import dotenv_values

    try:
        value = dotenv_values(env_path).get(key)
    except OSError:
        return None
    try:
        from urllib.parse import unquote

        password = urlsplit(value or "").password
    except ValueError:
        return None
    return unquote(password) if password else None
