"""The documentation is executed, so it cannot drift from the code: every command and Python snippet of the README
and every `Example:` of the command line's --help.

README convention (README.md says it too):

- ```console blocks: lines starting with ``$ `` are shell commands a reader runs (a command continues on the next
  line while its quotes are open or the line ends with a backslash); the other lines are output, not executed.
- ```python blocks: self-contained Python, run as a script.
- ```text and ```toml blocks: illustrative; a toml block must be valid TOML, and one with a top-level ``epoch``
  must be a valid scenario (prepared too, names resolved, unless it names files).

All console commands and Python blocks run in README order in one temporary directory (so a command can use the
output of an earlier one), with the virtual environment's ``bin`` first on PATH (``leonet`` and ``python`` are
the installed ones) and an 80-column terminal.  Each must exit 0 without a traceback.

`--help` convention: a command's help has a paragraph starting ``Example:``; each `backticked` piece in it is a
command (starting ``leonet ``) or a Python statement (starting ``import ``), run in order in a temporary directory.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
LANGUAGES = {"console", "python", "text", "toml"}
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Block:
    lang: str
    line: int  # 1-based line of the first body line in README.md
    body: str


def blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, in order."""
    out: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(.*)$", lines[i])
        if m is None:
            i += 1
            continue
        lang, start = m.group(1).strip(), i + 1
        j = start
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        out.append(Block(lang, start + 1, "\n".join(lines[start:j])))
        i = j + 1
    return out


def console_commands(block: Block) -> list[tuple[int, str]]:
    """``(README line, command)`` of every ``$ `` command in a console block."""
    cmds: list[tuple[int, str]] = []
    lines = block.body.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            i += 1
            continue
        line_no, cmd = block.line + i, lines[i][2:]
        while _incomplete(cmd) and i + 1 < len(lines):
            i += 1
            cmd += "\n" + lines[i]
        cmds.append((line_no, cmd))
        i += 1
    return cmds


def _incomplete(cmd: str) -> bool:
    if cmd.rstrip().endswith("\\"):
        return True
    try:
        shlex.split(cmd)
    except ValueError:  # "No closing quotation"
        return True
    return False


def env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "80"}


def run_shell(cmd: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env(), capture_output=True, text=True, timeout=900)


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env(), capture_output=True, text=True, timeout=900)


def check(r: subprocess.CompletedProcess[str], what: str) -> None:
    assert r.returncode == 0, f"{what} exited {r.returncode}:\n{r.stdout[-1500:]}\n{r.stderr[-3000:]}"
    assert "Traceback" not in r.stdout + r.stderr, f"{what}:\n{r.stderr[-3000:]}"


# ---------------------------------------------------------------------------------------------------- the parser


def test_parser_reads_the_convention() -> None:
    md = 'x\n```console\n$ leonet run -q\nout line\n$ python -c "print(\n  1)"\n2\n```\n```text\n$ not run\n```\n'
    bs = blocks(md)
    assert [b.lang for b in bs] == ["console", "text"]
    assert console_commands(bs[0]) == [(3, "leonet run -q"), (5, 'python -c "print(\n  1)"')]


# ---------------------------------------------------------------------------------------------------- README


def test_readme_fences_follow_the_convention() -> None:
    bad = [(b.line - 1, b.lang or "(none)") for b in blocks(README.read_text()) if b.lang not in LANGUAGES]
    assert not bad, f"README.md code fences must be one of {sorted(LANGUAGES)}; found (line, language): {bad}"


def test_readme_toml_is_valid() -> None:
    from leonet import assembly
    from leonet.scenario import parse_scenario

    for b in blocks(README.read_text()):
        if b.lang != "toml":
            continue
        try:
            data = tomllib.loads(b.body)
        except tomllib.TOMLDecodeError as exc:
            pytest.fail(f"README.md:{b.line}: invalid TOML ({exc})")
        if "epoch" in data:
            sc = parse_scenario(b.body, source=f"README.md:{b.line}")
            if not re.search(r"\b(tle|omm|track|tracks|file)\s*=\s*\[?\s*\"", b.body):
                assembly.assemble(sc)  # names, pairs and the rest resolve (a block naming files only parses)


def test_readme_runs(tmp_path: Path) -> None:
    """Every console command and Python block of the README, in order, in one directory."""
    steps: list[tuple[int, str, str]] = []
    for b in blocks(README.read_text()):
        if b.lang == "console":
            steps += [(line, "shell", cmd) for line, cmd in console_commands(b)]
        elif b.lang == "python":
            steps.append((b.line, "python", b.body))
    assert len([s for s in steps if s[1] == "shell"]) >= 5 and len([s for s in steps if s[1] == "python"]) >= 2
    for line, kind, code in steps:
        r = run_shell(code, tmp_path) if kind == "shell" else run_python(code, tmp_path)
        check(r, f"README.md:{line} ({kind})")


# ---------------------------------------------------------------------------------------------------- --help


def help_examples() -> list[tuple[str, list[str]]]:
    """``(command path, [example pieces])`` of every command whose help has an ``Example:`` paragraph."""
    import click
    import typer.main

    from leonet.cli import app

    out: list[tuple[str, list[str]]] = []

    def walk(cmd: click.Command, path: list[str]) -> None:
        text = cmd.help or ""
        for para in re.split(r"\n\s*\n", text):
            m = re.search(r"Examples?:(.*)", para, flags=re.S)
            if m:
                out.append((" ".join(path), re.findall(r"`([^`]+)`", m.group(1))))
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])

    walk(typer.main.get_command(app), ["leonet"])
    return out


def test_every_command_has_an_example() -> None:
    import click
    import typer.main

    from leonet.cli import app

    root = typer.main.get_command(app)
    assert isinstance(root, click.Group)
    leaves: list[str] = []
    for name, cmd in root.commands.items():
        if isinstance(cmd, click.Group):
            leaves += [f"leonet {name} {sub}" for sub in cmd.commands]
        else:
            leaves.append(f"leonet {name}")
    have = {path for path, pieces in help_examples() if pieces}
    assert set(leaves) <= have, f"commands without an Example: in --help: {sorted(set(leaves) - have)}"


def test_help_examples_run(tmp_path: Path) -> None:
    examples = help_examples()
    assert examples
    for path, pieces in examples:
        shown = run_shell(f"{path} --help", tmp_path)
        check(shown, f"{path} --help")
        flat = "".join(shown.stdout.split())
        for piece in pieces:
            assert "".join(piece.split()) in flat, f"{path} --help does not show its example {piece!r}"
            if piece.startswith("leonet "):
                check(run_shell(piece, tmp_path), f"{path} --help example `{piece}`")
            elif piece.startswith("import "):
                check(run_python(piece, tmp_path), f"{path} --help example `{piece}`")
            else:
                pytest.fail(f"{path} --help: example piece {piece!r} is neither a command nor Python")


def test_other_docs_python_runs() -> None:
    """The ```python blocks of the package's other Markdown files (e.g. scenarios/policy/README.md) run from the
    repository root, where their relative paths point."""
    docs = sorted([*(REPO / "docs").glob("*.md"), *(REPO / "src" / "leonet").rglob("*.md")])
    ran = 0
    for doc in docs:
        for b in blocks(doc.read_text(encoding="utf-8")):
            if b.lang == "python":
                check(run_python(b.body, REPO), f"{doc.relative_to(REPO)}:{b.line}")
                ran += 1
    assert ran >= 1
