"""The skill file against the Agent Skills spec, and against the real server and CLI.

SKILL.md is what agents read first, so it must not name a tool or command that does not exist,
and every tool the server offers must be in its decision tree.
"""

from __future__ import annotations

import argparse
import re

import pytest

from tests.conftest import REPO_ROOT

SKILL_DIR = REPO_ROOT / "skills" / "database-use"
SKILL_MD = SKILL_DIR / "SKILL.md"
ALLOWED_KEYS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def split_frontmatter(text: str) -> tuple[list[str], str]:
    lines = text.split("\n")
    assert lines[0] == "---", "SKILL.md must start with a '---' frontmatter line"
    end = lines.index("---", 1)
    return lines[1:end], "\n".join(lines[end + 1 :])


def parse_frontmatter(lines: list[str]) -> dict[str, str]:
    """Top-level ``key: value`` pairs (no YAML library here; the spec keeps it that simple)."""
    data: dict[str, str] = {}
    for line in lines:
        if not line.strip() or line.startswith((" ", "\t")):
            continue  # nested lines of metadata: belong to the key above
        key, sep, value = line.partition(":")
        assert sep, f"frontmatter line is not 'key: value': {line!r}"
        assert key not in data, f"frontmatter key {key!r} repeated"
        data[key.strip()] = value.strip()
    return data


@pytest.fixture(scope="module")
def skill() -> tuple[dict[str, str], str, list[str]]:
    lines, body = split_frontmatter(SKILL_MD.read_text(encoding="utf-8"))
    return parse_frontmatter(lines), body, lines


# --------------------------------------------------------------------------- the spec's rules
def test_frontmatter_name_matches_folder(skill):
    meta, _, _ = skill
    assert meta["name"] == SKILL_DIR.name == "database-use"
    assert len(meta["name"]) <= 64
    assert NAME_RE.match(meta["name"]), "lowercase letters, digits and single hyphens only"


def test_frontmatter_only_allowed_keys(skill):
    meta, _, _ = skill
    assert set(meta) <= ALLOWED_KEYS, f"keys outside the spec: {set(meta) - ALLOWED_KEYS}"


def test_description_rules(skill):
    meta, _, lines = skill
    desc = meta["description"]
    assert 0 < len(desc) <= 1024
    assert "<" not in desc and ">" not in desc
    # One line: the next frontmatter line must be another key, not a continuation.
    idx = next(i for i, line in enumerate(lines) if line.startswith("description:"))
    assert idx + 1 == len(lines) or not lines[idx + 1].startswith((" ", "\t"))
    # What it does AND when to use it.
    assert "Use it for" in desc or "Use when" in desc
    for word in ("PostgreSQL", "SQLAlchemy", "drift", "column", "script"):
        assert word in desc


@pytest.mark.parametrize("key", ["name", "description", "license", "compatibility"])
def test_frontmatter_values_are_plain_yaml_scalars(skill, key):
    """Unquoted YAML values break on ': ' or ' #'; the spec's loaders would choke or truncate."""
    meta, _, _ = skill
    assert key in meta, f"the skill ships {key}"
    value = meta[key]
    assert ": " not in value and " #" not in value, value
    assert not value.startswith(("'", '"', "[", "{", "&", "*", "!", "|", ">", "%", "@", "`"))
    if key == "compatibility":
        assert len(value) <= 500


def test_body_under_500_lines(skill):
    _, body, _ = skill
    assert len(SKILL_MD.read_text(encoding="utf-8").splitlines()) < 500
    assert body.strip()


def test_every_reference_link_resolves_and_every_reference_is_linked(skill):
    _, body, _ = skill
    links = set(re.findall(r"\]\(([^)#\s]+)\)", body))
    assert links, "SKILL.md links its references"
    for link in links:
        assert not link.startswith(("http:", "https:", "/")), link
        assert (SKILL_DIR / link).is_file(), f"broken link {link}"
    on_disk = {p.relative_to(SKILL_DIR).as_posix() for p in (SKILL_DIR / "references").glob("*.md")}
    assert on_disk <= links, f"references nobody links: {on_disk - links}"
    # Links inside the references resolve too.
    for ref in (SKILL_DIR / "references").glob("*.md"):
        for link in re.findall(r"\]\(([^)#\s]+)\)", ref.read_text(encoding="utf-8")):
            if not link.startswith(("http:", "https:")):
                assert (ref.parent / link).resolve().is_file(), f"{ref.name}: broken link {link}"


# --------------------------------------------------------------------------- rules kept
@pytest.mark.parametrize(
    "needle",
    [
        "DATABASE_URL",
        ".env",
        "models/models_*.py",
        "temp/",
        "utils_db/",
        ".roo/docs/database_schema.md",
        ".roo/docs/pgdb_changes.md",
        ".roo/reports/",
        "approve <id>",
        "PostgreSQL only",
        "project://facts",
        "[tool.database-use]",
    ],
)
def test_rules_of_the_original_skill_survive(skill, needle):
    _, body, _ = skill
    assert needle in body


# The example app's facts are kept, as that project's facts, in a reference.
@pytest.mark.parametrize(
    "needle",
    [
        "5433",
        "config.py",
        "TEST_DATABASE_URL",
        "TestingConfig",
        "WTF_CSRF_ENABLED = False",
        "utils_db/database.py",
        "pw_hashed",
        "utils_db/schema_compare.py",
        "user_password_utils.py",
        "user_management_utils.py",
        "media_utils.py",
        "app.py",
        "pytest",
    ],
)
def test_the_example_projects_facts_are_in_their_reference(needle):
    assert needle in (SKILL_DIR / "references" / "example-project.md").read_text(encoding="utf-8")


def test_the_skill_states_no_projects_facts_as_rules(skill):
    _, body, _ = skill
    for fact in ("utils_db/database.py", "user_password_utils", "media_utils", "TestingConfig"):
        assert fact not in body, fact
    assert "default port is **5433**" not in body and "hashed in `pw_hashed`" not in body


def test_source_of_truth_order(skill):
    _, body, _ = skill
    order = [
        body.index(s)
        for s in (
            "1. live PostgreSQL",
            "2. `models/models_*.py`",
            "3. `.roo/docs/database_schema.md`",
        )
    ]
    assert order == sorted(order)
    steps = [
        body.index(s)
        for s in (
            "1. **Change the live DB**",
            "2. **Update the models**",
            "3. **Regenerate the docs**",
            "4. **Log it**",
        )
    ]
    assert steps == sorted(steps)


# --------------------------------------------------------------------------- tools and commands
def decision_rows(body: str) -> list[list[str]]:
    section = body.split("## Decision tree", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def tools_named(body: str) -> set[str]:
    names: set[str] = set()
    for row in decision_rows(body):
        names.update(re.findall(r"`([a-z][a-z_]*)(?:[(`])", row[1]))
    # Tool calls written as `name(...)` anywhere in the body count too.
    names.update(re.findall(r"`([a-z][a-z_]+)\(", body))
    return names


def cli_commands_named(text: str) -> set[str]:
    names = set(re.findall(r"`database-use ([a-z][a-z-]+)", text))
    names.update(re.findall(r"`database-use ([a-z][a-z-]+)", text))
    names.discard("command")  # the placeholder in "database-use <command>" prose
    return names


def subcommands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


@pytest.fixture(scope="module")
def server_tools():
    pytest.importorskip("mcp_server.server")
    import anyio
    from mcp import Client

    from mcp_server.server import build_server

    async def listing():
        server = build_server(REPO_ROOT, "postgresql://nobody@127.0.0.1:1/none")
        async with Client(server, raise_exceptions=True) as client:
            return (await client.list_tools()).tools

    return {tool.name: tool for tool in anyio.run(listing)}


def test_every_tool_named_exists_and_every_server_tool_is_named(skill, server_tools):
    _, body, _ = skill
    named = tools_named(body)
    table_tools = set()
    for row in decision_rows(body):
        table_tools.update(re.findall(r"`([a-z][a-z_]*)(?:[(`])", row[1]))
    assert named - set(server_tools) == set(), "SKILL.md names tools the server lacks"
    assert set(server_tools) - table_tools == set(), "server tools missing from the decision tree"


def test_contract_tools_are_all_in_the_skill(skill):
    """Independent of the server build: the 13 tool names of the contract (DESIGN.md)."""
    _, body, _ = skill
    contract = {
        "introspect",
        "compare",
        "generate_docs",
        "validate",
        "report",
        "log_change",
        "propose_column_change",
        "apply_change",
        "list_changes",
        "list_scripts",
        "run_script",
        "draft_script",
        "promote_script",
    }
    assert contract <= tools_named(body)


def test_tool_prefix_uses_the_server_name(skill):
    from database_use.installer import SERVER_NAME

    _, body, _ = skill
    for prefix in re.findall(r"mcp__([a-z-]+)__", body):
        assert prefix == SERVER_NAME
    server = pytest.importorskip("mcp_server.server")
    assert server.SERVER_NAME == SERVER_NAME


@pytest.fixture(scope="module")
def cli_parser() -> argparse.ArgumentParser:
    inspector = pytest.importorskip("database_use.cli.main")
    return inspector.build_parser()


def all_docs_text() -> str:
    parts = [split_frontmatter(SKILL_MD.read_text(encoding="utf-8"))[1]]
    parts += [
        p.read_text(encoding="utf-8") for p in sorted((SKILL_DIR / "references").glob("*.md"))
    ]
    return "\n".join(parts)


def test_every_cli_command_named_exists(cli_parser, skill):
    known = subcommands(cli_parser)
    assert known, "the CLI has sub-commands"
    text = all_docs_text()
    named = cli_commands_named(text)
    _, body, _ = skill
    for row in decision_rows(body):
        for cell in re.findall(r"`([a-z][a-z-]+)[ `]", row[2]):
            if cell not in ("python", "create", "schema-compare"):  # its own console script
                named.add(cell)
    assert {
        "introspect",
        "compare-db-models",
        "compare-models-doc",
        "generate-docs",
        "report",
        "validate",
        "approve",
        "install-skill",
        "register",
    } <= named
    assert named - known == set(), f"documented commands the CLI lacks: {named - known}"


def test_every_cli_command_is_in_the_cli_reference(cli_parser):
    reference = (SKILL_DIR / "references" / "cli.md").read_text(encoding="utf-8")
    missing = {c for c in subcommands(cli_parser) if f"`database-use {c}" not in reference}
    assert missing == set(), f"CLI commands not in references/cli.md: {missing}"


def test_the_skill_folder_is_only_text_we_ship():
    for path in SKILL_DIR.rglob("*"):
        if path.is_file():
            assert path.suffix == ".md", f"unexpected file in the skill: {path}"
            path.read_text(encoding="utf-8")


def test_paths_the_skill_names_exist_in_the_repo():
    # The example project must hold what the skill tells agents to look at.
    for rel in ("utils_db/database.py", "models/models_user.py", "models/models_media.py"):
        assert (REPO_ROOT / rel).is_file(), rel
    for rel in (
        "utils_db/user_password_utils.py",
        "utils_db/user_management_utils.py",
        "utils_db/media_utils.py",
        "utils_db/schema_inspector.py",
        "utils_db/schema_compare.py",
    ):
        assert (REPO_ROOT / rel).is_file(), rel
