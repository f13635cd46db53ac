"""A test helper: an app database owned by a LOGIN role that is no superuser (as in production),
made on the harness server. The caller drops the database and the role afterwards."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict


@dataclass(frozen=True)
class OwnedDatabase:
    owner: str
    password: str
    owner_url: str
    dbname: str


def owned_database(pg_server, make_database, *, createrole: bool = False) -> OwnedDatabase:
    """A new empty database and its owner role (owning the database and schema public)."""
    owner = f"own_{uuid.uuid4().hex[:8]}"
    password = f"pw-{uuid.uuid4().hex}"
    url = make_database("empty")
    dbname = conninfo_to_dict(url)["dbname"]
    attributes = sql.SQL("LOGIN CREATEROLE" if createrole else "LOGIN")
    pg_server.execute(
        sql.SQL("CREATE ROLE {} {} PASSWORD {}").format(
            sql.Identifier(owner), attributes, sql.Literal(password)
        )
    )
    pg_server.execute(
        sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(dbname), sql.Identifier(owner)
        )
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
    params = conninfo_to_dict(url)
    owner_url = f"postgresql://{owner}:{password}@{params['host']}:{params['port']}/{dbname}"
    return OwnedDatabase(owner, password, owner_url, dbname)
