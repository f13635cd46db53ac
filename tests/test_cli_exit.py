"""How a command's process ends (issue 16: start-up and teardown trimmed, nothing lost).

The console entry (``database_use.cli.main:entry``, also ``python -m database_use`` and the
seed's ``utils_db/schema_inspector.py``) pauses the collector from the start; a read command
then ends the process without interpreter teardown. These tests hold that its output is still
whole, its exit code kept, the exit handlers still run, a reader that leaves early still gets
silence; that other commands end the ordinary way with the collector back on; and that a
caller in this process gets its collector back.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from database_use.cli import main as cli_main

REPO_ROOT = Path(__file__).resolve().parent.parent

# A process that runs the real entry with two witnesses: an exit handler (runs on either way
# out) and an object whose finaliser only an interpreter teardown calls.
PROBE = textwrap.dedent(
    """
    import atexit, gc, os, sys

    class Witness:
        def __del__(self):
            os.write(2, b"TEARDOWN\\n")

    witness = Witness()
    atexit.register(lambda: os.write(2, b"ATEXIT gc=%d\\n" % gc.isenabled()))
    sys.argv = ["database-use", *sys.argv[1:]]
    from database_use.cli.main import entry
    entry()
    """
)


def _run(*args: str, url: str | None, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if url:
        env["DATABASE_URL"] = url
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=120,
    )


def test_read_command_skips_teardown_yet_output_and_exit_handlers_are_whole(
    project, example_db_url
):
    result = _run(
        "--project-root", str(project), "--format", "json", "introspect", url=example_db_url
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # flushed whole before the process ended
    assert data["table_count"] == 2
    assert "ATEXIT gc=0" in result.stderr  # paused for the read, and the handler ran
    assert "TEARDOWN" not in result.stderr


def test_read_command_keeps_its_exit_code_and_one_line_error(project, example_db_url):
    result = _run(
        "--project-root", str(project), "introspect", "--table", "nosuch", url=example_db_url
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "nosuch" in errors[0]
    assert "Traceback" not in result.stderr and "TEARDOWN" not in result.stderr
    # validate on a project without its doc: differences, exit 1, through the same exit.
    result = _run("--project-root", str(project), "validate", url=example_db_url)
    assert result.returncode == 1, result.stderr
    assert "TEARDOWN" not in result.stderr


def test_other_commands_end_the_ordinary_way_with_the_collector_on(project):
    result = _run("--project-root", str(project), "list-changes", url=None)
    assert result.returncode == 0, result.stderr
    assert "ATEXIT gc=1" in result.stderr  # the start-up pause ended where the command began
    assert "TEARDOWN" in result.stderr


def test_reader_that_leaves_early_gets_silence(project, example_db_url):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=example_db_url, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "database_use", "--project-root", str(project), "introspect"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.close()  # like `| head` that is done before the first line
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert err.decode() == ""


def test_in_process_caller_gets_its_collector_back(project, example_db_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", example_db_url)
    assert gc.isenabled()
    assert cli_main.main(["--project-root", str(project), "introspect"]) == 0
    assert gc.isenabled()
    gc.disable()
    try:
        assert cli_main.main(["--project-root", str(project), "list-changes"]) == 0
        assert not gc.isenabled()  # left as it was found: paused
    finally:
        gc.enable()
    assert "public.users" in capsys.readouterr().out
