"""``make demo``: the whole workflow on a throwaway database, start to end.

introspect → compare (with a deliberate drift) → generate docs → validate → a change proposal.
It never touches an existing database's tables: with no DATABASE_URL it starts an embedded
PostgreSQL; with one, it creates (and afterwards drops) a throwaway database on that server.
The demo project lives in ``temp/demo-project`` so you can look at the files it wrote.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from database_use import hints

REPO_ROOT = Path(__file__).resolve().parents[2]


def step(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 68 - len(title)), flush=True)


@contextmanager
def throwaway_database() -> Iterator[str]:
    import psycopg
    from psycopg import sql

    from database_use.settings import mask_url, validate_url

    url = os.environ.get("DATABASE_URL")
    if not url:
        from database_use.dev.embedded_pg import EmbeddedPostgres

        with EmbeddedPostgres() as server:
            print(f"embedded PostgreSQL started: {mask_url(server.url)}")
            with psycopg.connect(server.url, autocommit=True) as conn:
                conn.execute("CREATE DATABASE app_demo")
            yield server.url_for("app_demo")
        print("embedded PostgreSQL stopped")
        return
    admin = validate_url(url)
    name = f"database_use_demo_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    print(f"throwaway database {name} created on {mask_url(admin)}")
    base, _, _ = admin.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        print(f"throwaway database {name} dropped")


def make_project() -> Path:
    root = REPO_ROOT / "temp" / "demo-project"
    shutil.rmtree(root, ignore_errors=True)
    (root / "models").mkdir(parents=True)
    for path in (REPO_ROOT / "models").glob("models_*.py"):
        shutil.copy(path, root / "models" / path.name)
    for sub in (".roo/docs", ".roo/reports", ".roo/changes", "temp", "utils_db"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name in ("__init__.py", "database.py"):  # the app's own db, as the models import it
        shutil.copy(REPO_ROOT / "utils_db" / name, root / "utils_db" / name)
    return root


def create_example_schema(url: str, project_root: Path) -> None:
    from sqlalchemy import create_engine

    import models  # noqa: F401 - the example app's tables, registered on db.metadata
    from database_use.settings import sqlalchemy_url
    from utils_db.database import db

    engine = create_engine(sqlalchemy_url(url))
    try:
        db.metadata.create_all(engine)
    finally:
        engine.dispose()


def run() -> int:
    from database_use import service
    from database_use.project import Project
    from database_use.render.report import render_differences_text, render_overview_text

    with throwaway_database() as url:
        root = make_project()
        project = Project(root=root, url_override=url)
        create_example_schema(url, root)
        print(f"demo project: {root.relative_to(REPO_ROOT)}")

        step("1. introspect the live schema")
        snapshot = service.load_source(project, "db")
        print(render_overview_text(snapshot))

        step("2. compare live DB ↔ models, after a deliberate drift")
        with project.connect(readonly=False, autocommit=True) as conn:
            conn.execute("ALTER TABLE users ADD COLUMN nickname character varying(40)")
            conn.execute("ALTER TABLE media ALTER COLUMN path TYPE character varying(500)")
        print(
            "ALTER TABLE users ADD COLUMN nickname ...; ALTER TABLE media ALTER COLUMN path TYPE ..."
        )
        result = service.compare(project, "db", "models")
        print(render_differences_text(result["differences"]))

        step("3. generate the schema doc from the live database")
        generated = service.generate_docs(project)
        print(
            f"wrote {generated['path']} in the demo project "
            f"(schema hash {generated['schema_hash']}, changed={generated['changed']})"
        )

        step("4. validate: the doc is current with the live database")
        checked = service.validate(project)
        print(
            "doc is current" if checked["ok"] else render_differences_text(checked["differences"])
        )
        with project.connect(readonly=False, autocommit=True) as conn:
            conn.execute("COMMENT ON COLUMN users.nickname IS 'shown in the UI'")
        checked = service.validate(project)
        print(
            "after COMMENT ON COLUMN users.nickname:",
            "doc is current"
            if checked["ok"]
            else f"{len(checked['differences'])} difference(s) — exit code 1 in CI",
        )
        print(render_differences_text(checked["differences"]))
        service.generate_docs(project)

        step("5. propose column changes (they apply only with a person's approval)")
        from database_use.changes import propose_column_change

        with project.connect(readonly=False, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO users (email, username, pw_hashed) VALUES "
                "('ada@example.org', 'ada', 'demo-placeholder'), "
                "('alan@example.org', 'alan', 'demo-placeholder')"
            )
        print("two users inserted (their nickname is NULL)")
        for request in (
            {"table": "users", "action": "set_not_null", "column": "nickname"},
            {
                "table": "users",
                "action": "add",
                "column": "display_name",
                "type": "varchar(80)",
                "nullable": True,
            },
        ):
            proposal = propose_column_change(project, **request)
            print(f"\nproposal {proposal['id']} ({proposal['status']}):")
            for statement in proposal["sql"]:
                print(f"  SQL: {statement}")
            for finding in proposal["risk"]:
                print(
                    f"  risk {finding['code']} [{finding['level']}, lock {finding['lock']}]: "
                    f"{finding['message']}\n    safer: {finding['safe_alternative']}"
                )
            if not proposal["risk"]:
                print("  risk: no findings")
            dry = proposal["dry_run"]
            print(
                "  dry-run: "
                + ("would succeed" if dry["ok"] else f"would FAIL: {dry.get('error')}")
            )
            print("  a person approves with: " + hints.command(project, "approve", proposal["id"]))
        print("\nnothing was applied: no person approved (an agent cannot approve; see README)")
        readonly_role_and_doctor(project, embedded=not os.environ.get("DATABASE_URL"))
    return 0


def readonly_role_and_doctor(project, *, embedded: bool) -> None:
    """A read-only role on the embedded server (roles are cluster-wide: never on yours), a
    read-only script that tries to write, and the tier doctor gives this setup."""
    from database_use import doctor, roles
    from database_use.errors import DatabaseUseError
    from database_use.scripts import service as scripts

    step("6. a read-only role, then a script that tries to write")
    if not embedded:
        print(
            "skipped on your DATABASE_URL server (a role is cluster-wide); run "
            + hints.command(project, "roles", "readonly-setup")
            + " yourself"
        )
    else:
        plan = roles.plan_readonly_role(project)
        for statement in plan.statements:
            print(f"  SQL: {statement}")
        roles.create_readonly_role(project, plan)
        print(f"created {plan.role!r}, checked, and set {roles.ENV_KEY} in the demo's .env")
        attempt = (
            "import os, psycopg\n"
            "c = psycopg.connect(os.environ['DATABASE_URL'], autocommit=True)\n"
            "# the session default is one SET away from off; the role's grants are not\n"
            "c.execute('SET default_transaction' + '_read_only = off')\n"
            "try:\n"
            "    c.execute(\"UPDATE users SET username = 'x'\")\n"
            "    print('wrote')\n"
            "except psycopg.Error as exc:\n"
            "    print('refused by PostgreSQL:', str(exc).splitlines()[0])\n"
        )
        scripts.draft_script(project, "try_a_write", attempt)
        try:
            result = scripts.run_script(project, "temp/try_a_write")
            print(result["stdout"].strip(), f"(readonly_enforced={result['readonly_enforced']})")
        except DatabaseUseError as exc:
            print(f"not run: {exc}")
        finally:
            os.environ.pop(roles.ENV_KEY, None)
    step("7. doctor: the tier this setup gives")
    print(doctor.render_text(doctor.diagnose(project)))


def main() -> int:
    from database_use.dev.embedded_pg import EmbeddedPostgresError
    from database_use.errors import DatabaseUseError
    from database_use.settings import mask_url

    try:
        return run()
    except (DatabaseUseError, EmbeddedPostgresError) as exc:
        print(f"error: {mask_url(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
