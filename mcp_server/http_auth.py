"""Bearer-token authentication for the streamable HTTP transport.

Any local process can reach a loopback port, so the HTTP transport is never open: at start
the server makes a fresh token (``secrets.token_urlsafe(32)``), writes it to
``<user config dir>/http-token`` (0600, outside the project) and shows it once on stderr for
the person to give their client (``Authorization: Bearer <token>``). Every HTTP request
without exactly that header gets 401 before it reaches the MCP app — so a process without
the token can neither call a tool nor answer an elicitation. A new start makes a new token.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from database_use import policy

TOKEN_FILE = "http-token"


def token_path() -> Path:
    return policy.config_dir() / TOKEN_FILE


def new_token() -> tuple[str, Path]:
    """A fresh token, written 0600 to :func:`token_path` (replacing the last one)."""
    token = secrets.token_urlsafe(32)
    policy.ensure_private_dir()
    path = token_path()
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    os.replace(tmp, path)
    return token, path


class BearerAuth:
    """ASGI middleware: HTTP requests must carry ``Authorization: Bearer <token>``."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            given = b""
            for name, value in scope.get("headers") or []:
                if name.lower() == b"authorization":
                    given = value
                    break
            if not hmac.compare_digest(given, self.expected):
                await _unauthorized(send)
                return
        await self.app(scope, receive, send)


async def _unauthorized(send: Any) -> None:
    body = json.dumps(
        {
            "error": "unauthorized: send Authorization: Bearer <token> (see the server's start-up line)"
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b'Bearer realm="database-use"'),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
