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
        "takes_value": action
        not in ("store_true", "store_false", "store_const", "count", "help", "version"),
    }


def _is_parser_call(call: ast.Call) -> bool:
    return (
        getattr(call.func, "attr", None) == "ArgumentParser"
        or getattr(call.func, "id", None) == "ArgumentParser"
    )


def _parent_names(call: ast.Call) -> list[str]:
    for kw in call.keywords:
        if kw.arg == "parents" and isinstance(kw.value, ast.List | ast.Tuple):
            return [e.id for e in kw.value.elts if isinstance(e, ast.Name)]
    return []


def describe_source(text: str) -> dict[str, Any]:
    """Purpose, argparse arguments and sub-commands of a script, read with ``ast`` only.

    Arguments of a parent parser (``parents=[common]``) are listed where argparse accepts
    them: under each sub-command that names the parent, not at the top, where a sub-command
    script rejects them (``x.py --json set`` fails, ``x.py set --json`` works).
    """
    tree = ast.parse(text)
    doc = ast.get_docstring(tree) or ""
    purpose = doc.strip().splitlines()[0].strip() if doc.strip() else ""
    parser_desc = ""
    commands: dict[str, dict[str, Any]] = {}
    variables: dict[str, str] = {}  # variable holding a sub-parser -> its command name
    parents: dict[str, list[dict[str, Any]]] = {}  # parent parser variable -> its arguments
    uses_parents: dict[str, list[str]] = {}  # command name (or "" for the top) -> parents
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
            elif (
                isinstance(target, ast.Name)
                and _method(node.value) in ("add_mutually_exclusive_group", "add_argument_group")
                and isinstance(_receiver(node.value), ast.Name)
                and _receiver(node.value).id in variables  # type: ignore[union-attr]
            ):  # a group of a sub-command: its arguments belong to that sub-command
                variables[target.id] = variables[_receiver(node.value).id]  # type: ignore[union-attr]
            elif (
                isinstance(target, ast.Name)
                and _is_parser_call(node.value)
                and _kw(node.value, "add_help") is False
            ):
                parents[target.id] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            calls.append((node, _method(node)))
    for call, method in sorted(calls, key=lambda c: (c[0].lineno, c[0].col_offset)):
        if isinstance(call.func, ast.Attribute | ast.Name) and _is_parser_call(call):
            if _kw(call, "add_help") is not False:
                parser_desc = parser_desc or (_kw(call, "description") or "")
                uses_parents.setdefault("", []).extend(_parent_names(call))
        elif method == "add_parser" and call.args:
            cmd = _const(call.args[0])
            if isinstance(cmd, str):
                commands.setdefault(cmd, {"name": cmd, "help": "", "arguments": []})
                commands[cmd]["help"] = _kw(call, "help") or _kw(call, "description") or ""
                uses_parents.setdefault(cmd, []).extend(_parent_names(call))
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
            if isinstance(receiver, ast.Name) and receiver.id in parents:
                parents[receiver.id].append(argument)
            elif isinstance(owner, str):
                commands.setdefault(owner, {"name": owner, "help": "", "arguments": []})
                commands[owner]["arguments"].append(argument)
            else:
                top_arguments.append(argument)
    if not purpose and parser_desc:
        purpose = parser_desc.strip().splitlines()[0]
    for owner, names in uses_parents.items():
        inherited = [arg for name in names for arg in parents.get(name, [])]
        if owner == "":
            top_arguments.extend(inherited)
        elif owner in commands:
            commands[owner]["arguments"].extend(inherited)
    for command in commands.values():
        command["usage"] = usage(command["name"], command["arguments"])
    return {
        "purpose": purpose,
        "arguments": top_arguments,
        "commands": list(commands.values()),
        "has_main_guard": _has_main_guard(tree),
    }


def usage(command: str, arguments: list[dict[str, Any]]) -> str:
    """``set USER [--password-stdin] [--dry-run] [--json]``: the order argparse accepts."""
    parts = [command] if command else []
    for arg in arguments:
        flag = arg["flags"][0] if arg["flags"] else "?"
        if arg["positional"]:
            parts.append(flag.upper() if arg["required"] else f"[{flag.upper()}]")
            continue
        text = flag if not arg["takes_value"] else f"{flag} {flag.lstrip('-').upper()}"
        parts.append(text if arg["required"] else f"[{text}]")
    return " ".join(parts)


# -- does a run need the person's terminal? ---------------------------------------------------
_PROMPTS = frozenset({"getpass", "input", "read_password"})


def _prompt_in(node: ast.AST) -> str | None:
    """The first place in ``node`` that reads from a terminal or stdin, as ``name (line n)``."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            name = getattr(sub.func, "id", None) or getattr(sub.func, "attr", None)
            if name in _PROMPTS:
                return f"{name}() (line {sub.lineno})"
        if isinstance(sub, ast.Attribute) and sub.attr == "stdin":
            return f"stdin (line {sub.lineno})"
    return None


def _called_names(node: ast.AST) -> set[str]:
    return {
        sub.func.id
        for sub in ast.walk(node)
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name)
    }


def _handlers(tree: ast.Module) -> dict[str, str]:
    """Sub-command name → the function ``set_defaults(handler=...)`` / ``func=`` names."""
    variables: dict[str, str] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.targets[0], ast.Name)
            and _method(node.value) == "add_parser"
            and node.value.args
            and isinstance(_const(node.value.args[0]), str)
        ):
            variables[node.targets[0].id] = _const(node.value.args[0])
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _method(node) == "set_defaults":
            receiver = _receiver(node)
            command = variables.get(receiver.id) if isinstance(receiver, ast.Name) else None
            for kw in node.keywords:
                if command and kw.arg in ("handler", "func") and isinstance(kw.value, ast.Name):
                    found[command] = kw.value.id
    return found


def terminal_input(text: str, argv: list[str]) -> str | None:
    """Why running the script with ``argv`` needs a terminal or stdin (None when it does not).

    Read statically: the sub-command ``argv`` picks, its handler and the module functions it
    calls (a few levels) are searched for ``getpass()``, ``input()``, ``read_password()`` or
    ``sys.stdin``; a script without sub-commands is searched whole. ``--password-stdin`` always
    needs stdin.
    """
    if any(a == "--password-stdin" or a.startswith("--password-stdin=") for a in argv):
        return "--password-stdin reads the password from stdin"
    tree = ast.parse(text)
    handlers = _handlers(tree)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    command = next((a for a in argv if a in handlers), None)
    if not handlers:
        where = _prompt_in(tree)
        return f"it reads input at {where}" if where else None
    if command is None:
        return None  # no sub-command chosen: argparse answers with its usage
    todo, seen = [handlers[command]], set()
    while todo and len(seen) < 50:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        where = _prompt_in(functions[name])
        if where:
            return f"its {command!r} command reads input at {where}"
        todo.extend(_called_names(functions[name]))
    return None
