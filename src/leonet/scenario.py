"""Scenarios: what to simulate, as a validated pydantic model, read from TOML with located errors.

A scenario names an epoch (UTC), a time window, one or more networks (constellations, ISL and ground-link
rules) and the ground nodes whose pairs are routed.  ``load_scenario`` accepts a path or a built-in name.
"""

from __future__ import annotations

import math
import re
import tomllib
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from leonet import access as _access
from leonet import beams as _beams
from leonet.errors import InputError
from leonet.orbits.shells import PRESETS, Pattern, Shell
from leonet.safeio import read_text_capped

if TYPE_CHECKING:
    from leonet.policy import Policy

#: The one rule every scenario value obeys, whatever its field: integers within +-2**53 (exact as floats, and far
#: beyond any count leonet can simulate), floats finite, strings without control characters and at most
#: ``MAX_STRING`` characters, nesting at most ``MAX_DEPTH`` deep.  Fields then add their own bounds.
MAX_INT = 2**53
MAX_STRING = 10_000
MAX_DEPTH = 32
#: Largest time (s after the epoch) and step: ~317 years; SGP4 and the time base are meaningless far beyond that.
MAX_TIME_S = 1e10
#: Most satellites in one Walker shell (and planes, satellites per plane): beyond the largest constellations
#: ever filed (hundreds of thousands of satellites, at the ITU), far beyond what fits a 24 GB machine.
MAX_SHELL_SATS = 1_000_000
#: Largest scenario file read (bytes)
MAX_SCENARIO_BYTES = 16 * 1024 * 1024


def describe(value: object) -> str:
    """A short, safe rendering of a user's value for an error message (no 5,000-digit integers)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        return f"an integer of {len(str(abs(value))) if value.bit_length() < 14_000 else 'many'} digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_value(value: object, nested: bool, depth: int = 0) -> None:
    """Raise ``ValueError`` if ``value`` (or, through lists, and through dicts when ``nested``, anything in it)
    breaks the one rule above."""
    if depth > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep; expected a flatter value")
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise ValueError(f"{describe(value)}; expected an integer within +-2**53")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value}; expected a finite number")
    elif isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ValueError(f"a string of {len(value):,} characters; expected at most {MAX_STRING:,}")
        bad = next((ch for ch in value if (ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127), None)
        if bad is not None:
            raise ValueError(f"a string holding the control character {bad!r}; expected printable text")
    elif isinstance(value, list | tuple):
        for item in value:
            check_value(item, nested, depth + 1)
    elif isinstance(value, dict) and nested:
        for key, item in value.items():
            check_value(key, nested, depth + 1)
            check_value(item, nested, depth + 1)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _bounded(cls, v: Any, info: ValidationInfo) -> Any:
        # sub-models (dicts) are checked by their own model; free-form dicts (``policy``) here, all the way down
        check_value(v, nested=info.field_name == "policy")
        return v


class ShellSpec(_Model):
    """A user-defined Walker shell."""

    altitude_km: Annotated[float, Field(gt=0, le=100_000)]
    inclination_deg: Annotated[float, Field(ge=0, le=180)]
    planes: Annotated[int, Field(ge=1, le=MAX_SHELL_SATS)]
    sats_per_plane: Annotated[int, Field(ge=1, le=MAX_SHELL_SATS)]
    phasing: Annotated[int, Field(ge=0, le=MAX_SHELL_SATS)] = 1
    pattern: Pattern = "delta"
    name: str = ""

    @model_validator(mode="after")
    def _size(self) -> ShellSpec:
        if self.planes * self.sats_per_plane > MAX_SHELL_SATS:
            raise ValueError(
                f"{self.planes} planes x {self.sats_per_plane} satellites = {self.planes * self.sats_per_plane:,}; "
                f"expected at most {MAX_SHELL_SATS:,} satellites in a shell"
            )
        if self.phasing >= self.planes:
            raise ValueError(f"phasing is {self.phasing}; expected an integer in 0..planes-1 ({self.planes - 1})")
        return self

    def to_shell(self) -> Shell:
        return Shell(
            self.altitude_km,
            self.inclination_deg,
            self.planes,
            self.sats_per_plane,
            self.phasing,
            self.pattern,
            self.name,
        )


class ConstellationSpec(_Model):
    """One source of satellites: a preset, Walker shells, a TLE / 3LE file or an OMM file (JSON or CSV).

    For TLE / OMM satellites, ``grid = [planes, sats_per_plane]`` declares that the file lists its satellites
    plane by plane (as the Hypatia model's files do), so +Grid ISLs follow that layout exactly; ``grid = "auto"``
    (the default) infers shells, planes and slots from the orbits at the scenario epoch
    (:mod:`leonet.orbits.planes`), for real constellations whose planes are partly filled.
    """

    preset: str | None = None
    shells: Annotated[list[ShellSpec], Field(min_length=1)] | None = None
    tle: Annotated[str, Field(min_length=1)] | None = None
    omm: Annotated[str, Field(min_length=1)] | None = None
    #: a Hypatia satellite-network directory: its tles.txt with its explicit isls.txt (leonet.hypatia.reader)
    hypatia: Annotated[str, Field(min_length=1)] | None = None
    grid: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]] | Literal["auto"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ConstellationSpec:
        given = [k for k in ("preset", "shells", "tle", "omm", "hypatia") if getattr(self, k) is not None]
        if len(given) != 1:
            got = ", ".join(given) or "none"
            raise ValueError(f"give exactly one of preset, shells, tle, omm, hypatia (got {got})")
        if self.preset is not None and self.preset not in PRESETS:
            from leonet.catalog import did_you_mean

            hint = did_you_mean(self.preset, sorted(PRESETS))
            raise ValueError(f"unknown preset {self.preset!r}{hint}; expected one of: {', '.join(sorted(PRESETS))}")
        if self.grid is not None and self.tle is None and self.omm is None:
            raise ValueError("grid applies to tle or omm satellites only")
        return self


class NetworkSpec(_Model):
    """A satellite network: its satellites, its inter-satellite links and its ground-link rule."""

    name: Annotated[str, Field(min_length=1, max_length=200)] = "network"
    constellation: Annotated[list[ConstellationSpec], Field(min_length=1)]
    #: ``plus-grid``: laser ISLs in +Grid; ``none``: bent-pipe (terminal -> satellite -> gateway)
    isl: Literal["plus-grid", "none"] = "plus-grid"
    max_isl_km: Annotated[float, Field(gt=0, le=1e6)] | None = None
    #: default minimum elevation of ground links (deg); Gen1 filings: 25 deg
    min_elevation_deg: Annotated[float, Field(ge=0, lt=90)] = 25.0
    #: if set, ground links go to every satellite within this distance instead (research-model convention)
    max_ground_link_km: Annotated[float, Field(gt=0, le=1e6)] | None = None
    #: whether the scenario's ``[policy]`` governs this network's terminals (false: e.g. a rival network)
    policy: bool = True
    #: propagation speed as a fraction of c in vacuum, per link type
    isl_speed_fraction: Annotated[float, Field(ge=0.001, le=1)] = 1.0
    ground_link_speed_fraction: Annotated[float, Field(ge=0.001, le=1)] = 1.0

    @field_validator("constellation", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v


class StationSpec(_Model):
    """A ground node given by coordinates (WGS-84), or, for a moving terminal, by a track file (CSV or GeoJSON,
    see :mod:`leonet.tracks`; a file of several tracks is matched by the node's name)."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    lat_deg: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon_deg: Annotated[float, Field(ge=-180, le=180)] | None = None
    alt_m: Annotated[float, Field(ge=-500, le=100_000)] = 0.0
    kind: Literal["terminal", "gateway", "station"] = "station"
    min_elevation_deg: Annotated[float, Field(ge=0, lt=90)] | None = None
    track: str | None = None

    @model_validator(mode="after")
    def _where(self) -> StationSpec:
        if self.track is None and (self.lat_deg is None or self.lon_deg is None):
            raise ValueError(f"station {self.name!r} needs lat_deg and lon_deg, or a track file")
        if self.track is not None and self.kind != "terminal":
            raise ValueError(f'station {self.name!r} has a track; expected kind = "terminal" (only terminals move)')
        return self


class GroundSpec(_Model):
    """Ground nodes, in node-id order: ``cities`` first, then ``gateways``, then ``stations``, then every track
    of the ``tracks`` files (each a moving terminal named by its track id).

    ``cities`` is a number N (the N most populous of the shipped top-1000 list) or a list of city names;
    ``gateways = "starlink"`` adds the shipped Starlink gateway sites; ``cities_kind`` says what the cities are
    (``station``: infrastructure, never subject to policy; ``terminal``: user terminals there);
    ``max_track_speed_kmh``: a track point implying a faster ground speed is an error (default 1,500 km/h);
    ``ellipsoid``: the ellipsoid every node's latitude / longitude / height is on when it is placed in Earth-fixed
    coordinates, ``wgs84`` (default) or ``wgs72`` (Hypatia's satgenpy convention: the same stations then sit
    where satgenpy puts them, ~2 m from their WGS-84 positions, so that ground links appear and vanish at a range
    boundary at the same snapshots as in satgenpy).
    """

    cities: Annotated[int, Field(ge=0, le=1000)] | list[str] = 0
    cities_kind: Literal["station", "terminal"] = "station"
    gateways: Literal["none", "starlink"] = "none"
    stations: list[StationSpec] = []
    tracks: list[str] = []
    #: a Hypatia satellite-network directory (or its ground_stations.txt): its stations, after the gateways
    hypatia: Annotated[str, Field(min_length=1)] | None = None
    #: the highest ground speed a track may imply (km/h, inclusive; see leonet.tracks)
    max_track_speed_kmh: Annotated[float, Field(gt=0)] = 1500.0
    #: the ellipsoid of the nodes' geodetic coordinates (leonet.geodesy.ELLIPSOIDS)
    ellipsoid: Literal["wgs84", "wgs72"] = "wgs84"


class SiteSpec(_Model):
    """A fixed site of the access network (a PoP or a gateway) given by coordinates (WGS-84); ``country``: its
    ISO 3166-1 alpha-2 code (PoPs: what the ``country`` homing rule matches terminals against)."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    lat_deg: Annotated[float, Field(ge=-90, le=90)]
    lon_deg: Annotated[float, Field(ge=-180, le=180)]
    country: Annotated[str, Field(pattern=r"^([A-Z]{2})?$")] = ""


def _unique_sites(sites: list[SiteSpec] | str, what: str) -> None:
    if isinstance(sites, list):
        names = [s.name for s in sites]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"{what} names must be unique (repeated: {', '.join(dup)}); expected unique names")


class AccessSpec(_Model):
    """The access path (:mod:`leonet.access`): every terminal to its home PoP through a satellite, lasers (or
    not) and a gateway.  ``pops``: ``"starlink"`` (the shipped StarPerf list) or a list of sites;
    ``gateways``: ``"starlink"`` (the shipped list), ``"ground"`` (the scenario's ground nodes of kind gateway,
    e.g. ``[ground] gateways = "starlink"``) or a list of sites; ``homing``: ``country`` (``country_pops``
    table, else the nearest PoP in the terminal's country, else the nearest) or ``nearest``;
    ``country_pops``: ISO alpha-2 country -> PoP name; ``serving``: ``scheduler`` (the beam scheduler's
    assignment, held per reconfiguration slot) or ``highest`` (highest elevation, per snapshot).  The numbers
    default to the constants of :mod:`leonet.access`, with their sources."""

    mode: Literal["lasers", "bent-pipe"] = "lasers"
    pops: Literal["starlink"] | Annotated[list[SiteSpec], Field(min_length=1)] = "starlink"
    gateways: Literal["starlink", "ground"] | Annotated[list[SiteSpec], Field(min_length=1)] = "starlink"
    homing: Literal["country", "nearest"] = "country"
    country_pops: dict[Annotated[str, Field(pattern=r"^[A-Z]{2}$")], Annotated[str, Field(min_length=1)]] = {}
    fibre_route_factor: Annotated[float, Field(ge=1, le=10)] = _access.FIBRE_ROUTE_FACTOR
    fibre_refractive_index: Annotated[float, Field(ge=1, le=3)] = _access.FIBRE_GROUP_INDEX
    sat_processing_ms: Annotated[float, Field(ge=0, le=1000)] = _access.SAT_PROCESSING_MS
    mac_scheduling_ms: Annotated[float, Field(ge=0, le=1000)] = _access.MAC_SCHEDULING_MS
    gateway_min_elevation_deg: Annotated[float, Field(ge=0, lt=90)] = _access.GATEWAY_MIN_ELEVATION_DEG
    #: how each terminal's serving satellite is chosen: ``scheduler`` (the default), the global beam
    #: scheduler's assignment (:mod:`leonet.scheduler`, the one ``leonet capacity`` uses) computed at each
    #: reconfiguration slot edge and held for the slot (:mod:`leonet.slot_access`); ``highest``: the satellite of
    #: highest elevation at every snapshot
    serving: Literal["scheduler", "highest"] = "scheduler"

    @field_validator("pops", "gateways", mode="before")
    @classmethod
    def _sites(cls, v: Any, info: ValidationInfo) -> Any:
        """One error naming the site and field (a union's error would name only its first member)."""
        choices = ("starlink",) if info.field_name == "pops" else ("starlink", "ground")
        listed = " or ".join(f'"{c}"' for c in choices)
        if isinstance(v, str):
            if v not in choices:
                raise ValueError(f"got {describe(v)}; expected {listed} or a list of sites")
            return v
        if not isinstance(v, list):
            raise ValueError(f"got {describe(v)}; expected {listed} or a list of sites {{name, lat_deg, lon_deg}}")
        if not v:
            raise ValueError(f"an empty list; expected {listed} or at least one site")
        out = []
        for i, item in enumerate(v):
            try:
                out.append(SiteSpec.model_validate(item))
            except ValidationError as exc:
                err = exc.errors()[0]
                where = _loc(tuple(err["loc"]))
                msg = str(err["msg"]).removeprefix("Value error, ")
                msg = re.sub(r"^(Input|String|Value) should (be |have |match )?", "expected ", msg)
                got = err.get("input")
                if err["type"] == "extra_forbidden":
                    msg = "unknown field; expected name, lat_deg, lon_deg, country"
                elif err["type"] == "missing":
                    msg = "missing; expected name, lat_deg and lon_deg (country optional)"
                elif where == "country":
                    msg = 'expected an ISO 3166-1 alpha-2 code in capitals such as "FR", or ""'
                elif not isinstance(got, dict | list) and got is not None:
                    msg += f" (got {describe(got)})"
                raise ValueError(f"[{i}]{'.' + where if where else ''}: {msg}") from None
        return out

    @model_validator(mode="after")
    def _names(self) -> AccessSpec:
        _unique_sites(self.pops, "pops")
        _unique_sites(self.gateways, "gateways")
        if self.country_pops:
            from leonet.catalog import did_you_mean, match_names

            names = self.pop_names()
            for country, pop in self.country_pops.items():
                hits = match_names(pop, names)
                if len(hits) != 1:
                    why = "ambiguous" if hits else "unknown"
                    raise ValueError(
                        f"country_pops.{country}: {why} PoP {pop!r}{did_you_mean(pop, names)}; expected one of: "
                        + ", ".join(names[:30])
                    )
        return self

    def pop_names(self) -> list[str]:
        """The names of the PoPs this section uses."""
        if isinstance(self.pops, list):
            return [p.name for p in self.pops]
        from leonet.catalog import pops

        return [p.name for p in pops()]


class TimeSpec(_Model):
    """The window: snapshots at ``start_s, start_s + step_s, ...`` up to and including ``end_s``."""

    start_s: Annotated[float, Field(ge=0, le=MAX_TIME_S)] = 0.0
    end_s: Annotated[float, Field(ge=0, le=MAX_TIME_S)] = 300.0
    step_s: Annotated[float, Field(gt=0, le=MAX_TIME_S)] = 1.0

    @model_validator(mode="after")
    def _order(self) -> TimeSpec:
        if self.end_s < self.start_s:
            raise ValueError(f"end_s ({self.end_s}) is before start_s ({self.start_s})")
        if (self.end_s - self.start_s) / self.step_s > 10_000_000:
            raise ValueError("more than 10 million snapshots; expected a shorter window or a longer step")
        return self


class RoutingSpec(_Model):
    """``reconfig``: a pair keeps its path for ``reconfiguration_interval_s`` (Starlink schedules in 15 s slots),
    re-routed early only if a link of it disappears; ``ideal``: re-route at every snapshot."""

    mode: Literal["reconfig", "ideal"] = "reconfig"
    reconfiguration_interval_s: Annotated[float, Field(gt=0, le=MAX_TIME_S)] = 15.0


class ReportSpec(_Model):
    """Pairs to plot (names of ground nodes); empty: the report picks a few."""

    pairs: list[tuple[str, str]] = []


#: A ``[capacity]`` service class name: as a policy's service class (letters, digits and ``_.:/+-``).
ClassName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/+-]*$", max_length=80)]


class CapacityClassSpec(_Model):
    """A service class of ``[capacity.classes]``: its ``priority`` (a weight > 0: served first within a cell by
    the scheduler, and the weight of its flows in the max-min fair allocation) and ``cap_mbps`` (per terminal;
    none: no cap)."""

    priority: Annotated[float, Field(gt=0, le=1e6)] = 1.0
    cap_mbps: Annotated[float, Field(ge=0, le=1e7)] | None = None


class CapacitySpec(_Model):
    """``leonet capacity`` (:mod:`leonet.capacity`): the scheduler, the access paths and the flows per 15-s slot;
    needs ``[access]``.  Demand per terminal (Mbit/s; defaults :data:`leonet.capacity.DEMAND_DOWN_MBPS` and
    ``DEMAND_UP_MBPS`` with their sources), the beam payload (defaults :mod:`leonet.beams`), the laser and feeder
    capacities (Gbit/s; none: :data:`leonet.flows.ISL_LASER_GBPS`, ``FEEDER_LINK_GBPS``) and the service
    classes: a terminal registered in the policy with a class listed here is of that class, every other one of
    class ``default`` (priority 1, no cap, unless listed)."""

    demand_down_mbps: Annotated[float, Field(ge=0, le=1e7)] = 100.0
    demand_up_mbps: Annotated[float, Field(ge=0, le=1e7)] = 15.0
    beams_per_sat: Annotated[int, Field(ge=0, le=10_000)] = _beams.STARLINK_BEAMS_PER_SAT
    max_beams_per_cell: Annotated[int, Field(ge=0, le=10_000)] = _beams.STARLINK_MAX_BEAMS_PER_CELL
    isl_gbps: Annotated[float, Field(gt=0, le=1e6)] | None = None
    feeder_gbps: Annotated[float, Field(gt=0, le=1e6)] | None = None
    classes: Annotated[dict[ClassName, CapacityClassSpec], Field(max_length=256)] = {}

    @field_validator("beams_per_sat", "max_beams_per_cell", mode="before")
    @classmethod
    def _whole(cls, v: Any) -> Any:
        """A float where a count is expected: one line saying so (pydantic's own message for a huge float names
        no expectation)."""
        if isinstance(v, float) and not (v.is_integer() and abs(v) <= 10_000):
            raise ValueError(f"got {describe(v)}; expected a whole number of beams, 0..10000")
        return v


#: a fault's name: letters, digits and ``_.:/+-`` (the policy's rule-id pattern), at most 80 characters
FaultName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/+-]*$", max_length=80)]
#: a satellite by node id (0..S-1 of its network) or by name (a TLE / OMM name; Walker satellites are named
#: ``<shell>-p<plane>-s<slot>``, e.g. ``starlink-550-p0-s3``: ``leonet.orbits.constellation.from_shells``)
SatRef = Annotated[int, Field(ge=0)] | Annotated[str, Field(min_length=1, max_length=200)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Seed = Annotated[int, Field(ge=0, le=2**63 - 1)]


class _FaultSpec(BaseModel):
    """What every fault has: an optional ``name`` (default ``faults[i]``), the ``network`` it hits (by name;
    default: every network), and its window ``start_s <= t < end_s`` (seconds after the epoch; no ``end_s``:
    to the end of time).  Half-open, as the policy's windows.  (Not a ``_Model``: a field validator on every
    field, ``kind`` included, cannot be used with pydantic's discriminated unions; the one rule is applied to
    the whole table before validation instead.)"""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for v in data.values():
                check_value(v, nested=False)
        return data

    name: FaultName | None = None
    network: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    start_s: Annotated[float, Field(ge=0, le=MAX_TIME_S)] = 0.0
    end_s: Annotated[float, Field(ge=0, le=MAX_TIME_S)] | None = None

    @model_validator(mode="after")
    def _window(self) -> _FaultSpec:
        if self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError(
                f"end_s ({self.end_s:g}) is not after start_s ({self.start_s:g}); expected a non-empty window"
            )
        return self

    def _exactly_one(self, *fields: str) -> None:
        given = [f for f in fields if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError(f"got {', '.join(given) or 'none'} of {', '.join(fields)}; expected exactly one")


class SatelliteFault(_FaultSpec):
    """Satellites that fail: ``ids`` (node ids or names), or a random ``fraction`` of the network's satellites
    drawn once with ``seed`` (the same satellites stay failed for the whole window of the fault)."""

    kind: Literal["satellite"]
    ids: Annotated[list[SatRef], Field(min_length=1)] | None = None
    fraction: Fraction | None = None
    seed: Seed = 0

    @model_validator(mode="after")
    def _one(self) -> SatelliteFault:
        self._exactly_one("ids", "fraction")
        return self


class IslFault(_FaultSpec):
    """Laser links that fail: ``pairs`` of satellites, a random ``fraction`` of the network's ISLs (drawn once
    with ``seed``), or every laser of the satellites ``sats``."""

    kind: Literal["isl"]
    pairs: Annotated[list[tuple[SatRef, SatRef]], Field(min_length=1)] | None = None
    fraction: Fraction | None = None
    sats: Annotated[list[SatRef], Field(min_length=1)] | None = None
    seed: Seed = 0

    @model_validator(mode="after")
    def _one(self) -> IslFault:
        self._exactly_one("pairs", "fraction", "sats")
        return self


class StormFault(_FaultSpec):
    """A geomagnetic storm at ``start_s``: a ``fraction`` of the satellites whose mean altitude is at most
    ``below_km`` (of shell ``shell`` only, an index into the network's Walker shells, if given) fail, drawn once
    with ``seed``; they do not come back unless ``end_s`` is given (drag brings them down)."""

    kind: Literal["storm"]
    below_km: Annotated[float, Field(gt=0, le=100_000)]
    fraction: Fraction
    shell: Annotated[int, Field(ge=0)] | None = None
    seed: Seed = 0


class GroundFault(_FaultSpec):
    """Ground nodes that are down (gateways, PoPs, stations; they have no ground link): ``names``, or a random
    ``fraction`` of the scenario's gateways drawn once with ``seed``."""

    kind: Literal["ground"]
    names: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=1)] | None = None
    fraction: Fraction | None = None
    seed: Seed = 0

    @model_validator(mode="after")
    def _one(self) -> GroundFault:
        self._exactly_one("names", "fraction")
        return self


class JammingFault(_FaultSpec):
    """A jamming zone: user terminals inside ``polygon`` (a ring of ``[lon, lat]`` points, closed for you if
    open) or inside the built-in ``region`` (a ``region_id`` of ``leonet/data/geofence_regions.geojson``, as
    the policy's geofences name them) have no ground link while the fault is active (``capacity_fraction`` 0,
    the default), or keep their links at that fraction of their capacity (recorded per ground link for the
    throughput model, ``Snapshot.gsl_capacity``)."""

    kind: Literal["jamming"]
    polygon: Annotated[list[tuple[float, float]], Field(min_length=3)] | None = None
    region: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    capacity_fraction: Fraction = 0.0

    @model_validator(mode="after")
    def _where(self) -> JammingFault:
        self._exactly_one("polygon", "region")
        from leonet.policy.compiled import builtin_region, polygon_of_ring

        try:
            if self.polygon is not None:
                polygon_of_ring(self.polygon)
            elif self.region is not None:
                builtin_region(self.region)
        except InputError as exc:
            raise ValueError(exc.problem) from None
        return self


FaultSpec = Annotated[SatelliteFault | IslFault | StormFault | GroundFault | JammingFault, Field(discriminator="kind")]


FAULT_KINDS = ("satellite", "isl", "storm", "ground", "jamming")


class Scenario(_Model):
    """A whole scenario.  ``pairs``: ``"all"`` (every pair of ground nodes that are not gateways), ``"all-nodes"``
    (gateways too), ``"none"`` (no routing: coverage and service only, e.g. for many terminals), or a list of
    ``[src, dst]`` names."""

    #: also the default output directory's name (``leonet-out/<name>``): a plain file name
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^/\\.][^/\\]*$")] = "scenario"
    description: str = ""
    epoch: datetime
    time: TimeSpec = TimeSpec()
    networks: Annotated[list[NetworkSpec], Field(min_length=1)]
    ground: GroundSpec = GroundSpec()
    pairs: Literal["all", "all-nodes", "none"] | list[tuple[str, str]] = "all"
    routing: RoutingSpec = RoutingSpec()
    report: ReportSpec = ReportSpec()
    #: the operator's service policy (see :mod:`leonet.policy`; validated when the scenario is loaded:
    #: :meth:`compiled_policy`)
    policy: dict[str, Any] | None = None
    #: faults in the network (``[[faults]]``, see :mod:`leonet.faults`)
    faults: list[FaultSpec] = []
    #: the access path of every terminal to its PoP (:class:`AccessSpec`); None: not computed
    access: AccessSpec | None = None
    #: ``leonet capacity``'s demands, beams and classes (:class:`CapacitySpec`; needs ``access``); None: defaults
    capacity: CapacitySpec | None = None
    #: UT1 - UTC in seconds for the Earth-rotation angle (IERS Bulletin A gives it; 0 by default)
    dut1_s: Annotated[float, Field(ge=-1, le=1)] = 0.0
    #: directory that relative file names in the scenario are resolved against (set by ``load_scenario``)
    base_dir: str = "."
    #: where the scenario came from, for error messages (set by ``load_scenario``)
    source: str = "<scenario>"

    @field_validator("epoch")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        from leonet.timebase import as_utc

        v = as_utc(v)
        if not (1957 <= v.year <= 2100):
            raise ValueError(f"epoch year {v.year}; expected 1957..2100 (SGP4's element-set epochs)")
        return v

    @model_validator(mode="after")
    def _names(self) -> Scenario:
        names = [n.name for n in self.networks]
        if len(set(names)) != len(names):
            raise ValueError(f"network names must differ (got {names})")
        if not self.networks:
            raise ValueError("at least one network is needed")
        fault_names = [f.name or f"faults[{i}]" for i, f in enumerate(self.faults)]
        dup = next((n for i, n in enumerate(fault_names) if n in fault_names[:i]), None)
        if dup is not None:
            raise ValueError(f"fault name {dup!r} is used twice; expected distinct fault names")
        g = self.ground
        if (
            self.access is not None
            and self.access.gateways == "ground"
            and g.gateways == "none"
            and g.hypatia is None
            and not any(s.kind == "gateway" for s in g.stations)
        ):
            raise ValueError(
                'access.gateways = "ground" but the scenario has no ground node of kind gateway; expected '
                '[ground] gateways = "starlink", stations of kind "gateway", or access.gateways = "starlink"'
            )
        return self

    @model_validator(mode="after")
    def _capacity_needs_access(self) -> Scenario:
        if self.capacity is not None and self.access is None:
            raise ValueError("[capacity] needs the access paths; expected an [access] section too")
        return self

    def with_time(self, **changes: float) -> Scenario:
        """The same scenario over another window: ``sc.with_time(end_s=60)`` keeps ``start_s`` and ``step_s``
        (unlike ``model_copy(update={"time": TimeSpec(end_s=60)})``, which resets them to their defaults);
        the new window is validated."""
        try:
            time = TimeSpec.model_validate({**self.time.model_dump(), **changes})
        except ValidationError as exc:
            err = exc.errors()[0]
            msg = str(err["msg"]).removeprefix("Value error, ").replace("Input should be ", "expected ")
            got = "" if not err["loc"] else f" (got {err.get('input')!r})"
            raise InputError(f"{self.source}: time.{_loc(tuple(err['loc'])) or 'window'}", msg + got) from None
        return self.model_copy(update={"time": time})

    def compiled_policy(self) -> Policy | None:
        """The ``[policy]`` section validated and compiled (geofence files read), or None without one.  Kept
        (in :data:`_COMPILED`) while the scenario's ``policy``, ``source`` and ``base_dir`` are the same objects,
        so loading (which validates) and assembling (which uses it) compile once."""
        if self.policy is None:
            return None
        key = (self.policy, self.source, self.base_dir)
        hit = _COMPILED.get(id(self.policy))
        if hit is not None and all(a is b for a, b in zip(hit[0], key, strict=True)):
            return hit[1]
        from leonet.policy import parse_policy

        policy = parse_policy(self.policy, source=self.source, base_dir=self.base_dir)
        while len(_COMPILED) >= 8:
            del _COMPILED[next(iter(_COMPILED))]
        _COMPILED[id(self.policy)] = (key, policy)  # the key holds the dict: its id is not reused meanwhile
        return policy

    def resolve(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() else Path(self.base_dir) / p


#: compiled policies of recently loaded scenarios: id of the ``policy`` dict -> ((policy, source, base_dir), Policy)
_COMPILED: dict[int, tuple[tuple[object, ...], Policy]] = {}


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with leonet."""
    folder = resources.files("leonet").joinpath("scenarios")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


_TYPE_TAGS = frozenset({"int", "float", "str", "bool", "list", "dict", "tuple", "datetime", "none"})


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, str) and i >= 2 and loc[i - 2] == "faults" and part in FAULT_KINDS:
            continue  # the tag of the discriminated union, not a field
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "tagged-union", "constrained-")) or "[" in part or part in _TYPE_TAGS:
            continue  # pydantic's names of union members and validators, not fields
        else:
            out += ("." if out else "") + part
    return out


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    keys = [p for p in loc if isinstance(p, str)]
    for key in reversed(keys):
        hits = [i + 1 for i, line in enumerate(text.splitlines()) if re.match(rf"\s*{re.escape(key)}\s*=", line)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            return None
    return None


def scenario_from_data(data: dict[str, Any], source: str, text: str = "") -> Scenario:
    """A :class:`Scenario` from parsed data (a TOML document's, or an API's), its first validation error as one
    :class:`InputError` naming ``source``, the line of ``text`` where the field is (when it can be found), the
    field and what was expected."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        line = _line_of(text, loc)
        where = f"{source}:{line}" if line else source
        field = _loc(loc) or "scenario"
        got = err.get("input")
        got_s = "" if isinstance(got, dict | list) or got is None else f" (got {describe(got)})"
        if err["type"] == "value_error" and isinstance(got, int | float | str) and not isinstance(got, bool):
            got_s = ""  # the rule's own message shows the value
        msg = err["msg"].removeprefix("Value error, ")
        msg = re.sub(r"^(Input|List|String|Tuple|Dictionary|Value) should (be |have )?", "expected ", msg)
        msg = msg.replace(" after validation, not ", ", got ")
        if err["type"] == "string_pattern_mismatch" and field == "name":
            msg = "expected a name usable as a directory name (no '/' or '\\', not starting with '.')"
        if isinstance(got, datetime):
            got_s = ""
        if err["type"] == "missing":
            msg = "missing; expected this field to be given"
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            ctx = err.get("ctx") or {}
            field = f"{field}.kind"
            tag = ctx.get("tag")
            msg = f"expected one of {ctx.get('expected_tags', '')}"
            got_s = f" (got {describe(tag)})" if tag is not None else " (no kind given)"
        if err["type"] == "extra_forbidden":
            msg, got_s = "unknown field; expected only the fields the scenario format defines (see the README)", ""
        raise InputError(where, f"field {field}: {msg}{got_s}") from None
    return scenario


def parse_scenario(text: str, source: str = "<scenario>", base_dir: str = ".") -> Scenario:
    """A :class:`Scenario` from TOML text; errors name ``source``, the line where one can be found, the field
    and what was expected."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        where = f"{source}:{m.group(1)}" if m else source
        reason = re.sub(r" ?\(at line.*", "", msg)
        raise InputError(where, f"invalid TOML ({reason}); expected TOML syntax") from None
    except (ValueError, RecursionError) as exc:  # an integer of > 4,300 digits; arrays nested thousands deep
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
        raise InputError(source, f"invalid TOML ({why}); expected TOML within leonet's limits") from None
    data.setdefault("base_dir", base_dir)
    data.setdefault("source", source)
    scenario = scenario_from_data(data, source, text)
    scenario.compiled_policy()  # [policy] errors now, not when the scenario is assembled (`leonet check`)
    return scenario


def load_scenario(name_or_path: str | Path | None = None) -> Scenario:
    """A scenario from a TOML file, or a built-in one by name (``None``: the built-in ``default``)."""
    if name_or_path is None:
        name_or_path = "default"
    p = Path(name_or_path)
    if p.suffix != ".toml" and not p.exists() and str(name_or_path) in builtin_names():
        folder = resources.files("leonet").joinpath("scenarios")
        text = folder.joinpath(f"{name_or_path}.toml").read_text(encoding="utf-8")
        return parse_scenario(text, source=f"<built-in {name_or_path}>", base_dir=str(folder))
    if not p.exists():
        from leonet.catalog import did_you_mean

        known = ", ".join(builtin_names())
        hint = did_you_mean(str(name_or_path), builtin_names()) if p.suffix != ".toml" else ""
        raise InputError(str(p), f"no such file{hint}; expected a scenario file or a built-in name ({known})")
    text = read_text_capped(p, "a UTF-8 TOML scenario file", cap_bytes=MAX_SCENARIO_BYTES)
    # base_dir absolute: files the scenario names are found again from another directory (leonet report DIR)
    return parse_scenario(text, source=str(p), base_dir=str(p.parent.resolve()))
