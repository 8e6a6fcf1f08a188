"""A finished output directory read back as :class:`~leonet.results.Results` (for ``leonet report DIR``).

The tables come from the directory's Parquet files, exactly as ``leonet run`` wrote them; the scenario from its
``scenario.json``, prepared again (ground nodes, orbits, policy decisions), since the report also draws
positions that are not stored.  Files a scenario names (TLEs, tracks) are read again from where the scenario
said they were.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from leonet import assembly
from leonet.errors import InputError
from leonet.parts import access_dataset, routes_dataset
from leonet.results import Results
from leonet.scenario import Scenario

#: the files ``leonet run`` writes that the report reads
TABLES = ("routes", "summary", "networks", "service", "terminals")


def read_results(folder: Path | str) -> Results:
    """The results stored in ``folder`` (written by ``leonet run`` or :func:`leonet.store.write_results`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(str(folder), "no such directory; expected an output directory of `leonet run`")
    missing = [f"{n}.parquet" for n in TABLES if n != "routes" and not (folder / f"{n}.parquet").is_file()]
    if not (folder / "routes").is_dir() and not (folder / "routes.parquet").is_file():  # parts, or before them
        missing.insert(0, "routes/")
    if not (folder / "scenario.json").is_file():
        missing.insert(0, "scenario.json")
    if missing:
        raise InputError(str(folder), f"{', '.join(missing)} missing; expected an output directory of `leonet run`")
    meta = folder / "scenario.json"
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        scenario = Scenario.model_validate(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            str(meta), f"not JSON ({exc.__class__.__name__}); expected the scenario leonet wrote"
        ) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "scenario"
        raise InputError(str(meta), f"field {field}: {err['msg']}; expected the scenario leonet wrote") from None
    with warnings.catch_warnings():  # the run that wrote the directory already warned (old element sets)
        warnings.simplefilter("ignore", assembly.LeonetWarning)
        prep = assembly.assemble(scenario, force=True)  # that run also passed (or was forced past) the size limits
    tables = {n: _read(folder / f"{n}.parquet") for n in TABLES if n != "routes"}
    nets = tables["networks"]
    unusable: dict[str, int] = {}
    if "unusable_sats" in nets.column_names:
        names, counts = nets.column("network").to_pylist(), nets.column("unusable_sats").to_pylist()
        unusable = {str(n): int(c or 0) for n, c in zip(names, counts, strict=True)}
    try:
        routes = routes_dataset(folder)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(str(folder / "routes"), f"unreadable ({exc}); expected leonet's Parquet parts") from None
    access = None
    if (folder / "access").is_dir():
        try:
            access = access_dataset(folder)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(str(folder / "access"), f"unreadable ({exc}); expected leonet's Parquet parts") from None
    return Results(
        scenario,
        prep,
        routes,
        tables["summary"],
        tables["networks"],
        tables["service"],
        tables["terminals"],
        unusable,
        access,
    )


def _read(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(str(path), f"unreadable ({exc}); expected the Parquet table leonet wrote") from None
