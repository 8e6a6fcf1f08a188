"""``leonet control import/export`` and ``leonet audit verify``: the control database from the command line
(registered in :mod:`leonet.cli` by one line; bad input -> one line, exit code 2)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from leonet.cli import _guard, app, console, err_console
from leonet.errors import InputError

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="The control database: sqlite:///FILE or postgresql://USER@HOST/DB. Default: ./leonet-serve.db "
        "(SQLite), the one `leonet serve` uses.",
        show_default=False,
    ),
]

control_app = typer.Typer(
    help="The control database of `leonet serve`: import a scenario's policy into it, export it back.",
    no_args_is_help=True,
)
audit_app = typer.Typer(help="The control database's audit log.", no_args_is_help=True)


@control_app.command("import")
@_guard
def control_import(
    scenario: Annotated[str, typer.Argument(help="A scenario TOML file, or the name of a built-in scenario.")],
    db: DbOption = None,
) -> None:
    """Import a scenario into the control database: into an empty one as revision 1 (scenario, policy,
    terminals and their positions, clock at the scenario's start); into one holding the same scenario as a
    new applied revision (audited).

    Example: `leonet control import front-whitelist-2026 --db sqlite:///control.db`
    """
    from leonet.control import ControlStore
    from leonet.scenario import load_scenario

    sc = load_scenario(scenario)
    store = ControlStore.open(db, scenario=sc)
    try:
        rev = store.revision() if store.imported else store.import_policy(sc, actor=f"cli:{_user()}")
        n_terms = len(store.terminals())
        console.print(f"{store.url}: scenario {sc.name}, revision {rev} applied ({n_terms} registered terminals)",
                      highlight=False, soft_wrap=True)  # fmt: skip
    finally:
        store.close()


def _user() -> str:
    try:
        return os.getlogin()
    except OSError:
        return os.environ.get("USER", "unknown")


@control_app.command("export")
@_guard
def control_export(
    db: DbOption = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the scenario here (default: standard output).")
    ] = None,
) -> None:
    """Export the control database's applied state as a scenario TOML file: the imported scenario with the
    applied revision's [policy] and the terminals where the registry puts them. Relative geofence files are
    written as absolute paths, so the file loads from anywhere.

    Example: `leonet control import front-whitelist-2026 --db sqlite:///c.db`
    `leonet control export --db sqlite:///c.db -o exported.toml` `leonet check exported.toml`
    """
    from leonet.control import ControlStore
    from leonet.tomlout import dumps

    store = ControlStore.open(db, scenario=None)
    try:
        text = dumps(store.export_scenario(absolute_files=True))
    finally:
        store.close()
    if output is None:
        sys.stdout.write(text)
        return
    target = output.resolve()
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        raise InputError(str(output), f"cannot write it ({exc.strerror}); expected a writable path") from None
    err_console.print(f"wrote {output}", highlight=False)


@audit_app.command("verify")
@_guard
def audit_verify(db: DbOption = None) -> None:
    """Check the audit log's hash chain: every entry's hash recomputed, every link to the previous entry.
    Exit code 0: "N entries, chain intact"; 1: the first broken entry is named.

    Example: `leonet control import default --db sqlite:///a.db` `leonet audit verify --db sqlite:///a.db`
    """
    from leonet.control import ControlStore

    store = ControlStore.open(db, scenario=None)
    try:
        v = store.verify_audit()
    finally:
        store.close()
    if v.intact:
        console.print(f"{v.entries} entries, chain intact", highlight=False)
        return
    err_console.print(f"leonet: audit log broken at entry seq {v.broken_seq}: {v.problem}", highlight=False,
                      markup=False, soft_wrap=True)  # fmt: skip
    raise typer.Exit(code=1)


app.add_typer(control_app, name="control")
app.add_typer(audit_app, name="audit")
