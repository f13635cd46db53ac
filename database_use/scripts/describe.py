"""What a script is for and which arguments it takes, read statically.

The scripts are never imported or run to describe them: the module docstring gives the
purpose, and the ``argparse`` calls (``add_argument``, ``add_subparsers``/``add_parser``) give
the arguments and sub-commands, read from the syntax tree.
"""

from __future__ import annotations

import ast
from typing import Any


def _has_main_guard(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.If):
            test = node.test
            if (
                isinstance(test, ast.Compare)
                and isinstance(test.left, ast.Name)
                and test.left.id == "__name__"
                and any(
                    isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators
                )
            ):
                return True
    return False


def _const(node: ast.AST | None) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.JoinedStr):  # f-strings: keep the literal parts
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.Tuple | ast.List):
        return [_const(e) for e in node.elts]
    return None


def _kw(call: ast.Call, name: str) -> Any:
    for kw in call.keywords:
        if kw.arg == name:
            return _const(kw.value)
    return None


def _has_kw(call: ast.Call, name: str) -> bool:
    return any(kw.arg == name for kw in call.keywords)


def _method(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _receiver(call: ast.Call) -> ast.AST | None:
    return call.func.value if isinstance(call.func, ast.Attribute) else None


def _describe_argument(call: ast.Call) -> dict[str, Any]:
    flags = [a for a in (_const(x) for x in call.args) if isinstance(a, str)]
    positional = bool(flags) and not flags[0].startswith("-")
    action = _kw(call, "action")
    return {
        "flags": flags,
        "positional": positional,
        "required": positional
        and _kw(call, "nargs") not in ("?", "*")
        or bool(_kw(call, "required")),
        "help": _kw(call, "help") or "",
        "choices": _kw(call, "choices") if isinstance(_kw(call, "choices"), list) else None,
        "takes_value": action not in ("store_true", "store_false", "count", "help", "version"),
    }


def describe_source(text: str) -> dict[str, Any]:
    """Purpose, argparse arguments and sub-commands of a script, read with ``ast`` only."""
    tree = ast.parse(text)
    doc = ast.get_docstring(tree) or ""
    purpose = doc.strip().splitlines()[0].strip() if doc.strip() else ""
    parser_desc = ""
    commands: dict[str, dict[str, Any]] = {}
    variables: dict[str, str] = {}  # variable holding a sub-parser -> its command name
    top_arguments: list[dict[str, Any]] = []
    # Walk assignments in source order so `p = sub.add_parser("x")` is known before `p.add_argument`.
    calls: list[tuple[ast.Call, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            target = node.targets[0]
            if isinstance(target, ast.Name) and _method(node.value) == "add_parser":
                cmd = _const(node.value.args[0]) if node.value.args else None
                if isinstance(cmd, str):
                    variables[target.id] = cmd
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            calls.append((node, _method(node)))
    for call, method in sorted(calls, key=lambda c: (c[0].lineno, c[0].col_offset)):
        if isinstance(call.func, ast.Attribute | ast.Name) and (
            getattr(call.func, "attr", None) == "ArgumentParser"
            or getattr(call.func, "id", None) == "ArgumentParser"
        ):
            parser_desc = parser_desc or (_kw(call, "description") or "")
        elif method == "add_parser" and call.args:
            cmd = _const(call.args[0])
            if isinstance(cmd, str):
                commands.setdefault(cmd, {"name": cmd, "help": "", "arguments": []})
                commands[cmd]["help"] = _kw(call, "help") or _kw(call, "description") or ""
        elif method == "add_argument":
            receiver = _receiver(call)
            owner: str | None = None
            if isinstance(receiver, ast.Name):
                owner = variables.get(receiver.id)
            elif isinstance(receiver, ast.Call) and _method(receiver) == "add_parser":
                owner = _const(receiver.args[0]) if receiver.args else None
            argument = _describe_argument(call)
            if "-h" in argument["flags"] or "--help" in argument["flags"]:
                continue
            if isinstance(owner, str):
                commands.setdefault(owner, {"name": owner, "help": "", "arguments": []})
                commands[owner]["arguments"].append(argument)
            else:
                top_arguments.append(argument)
    if not purpose and parser_desc:
        purpose = parser_desc.strip().splitlines()[0]
    return {
        "purpose": purpose,
        "arguments": top_arguments,
        "commands": list(commands.values()),
        "has_main_guard": _has_main_guard(tree),
    }
