"""Ground nodes: cities, gateways and user terminals as arrays (geodetic and ECEF), in node-id order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from leonet import catalog
from leonet.errors import InputError
from leonet.geodesy import ELLIPSOIDS, to_ecef_km, up_unit
from leonet.tracks import TrackSet, interpolate

KINDS = ("station", "terminal", "gateway")


@dataclass(frozen=True)
class GroundNodes:
    """G ground nodes; ``min_elevation_deg`` is NaN where the network's default applies."""

    names: tuple[str, ...]
    kind: tuple[str, ...]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    alt_m: NDArray[np.float64]
    min_elevation_deg: NDArray[np.float64]
    #: ground indices of the nodes that move, and their tracks (in the same order)
    moving: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    tracks: TrackSet | None = None
    #: the ellipsoid the geodetic coordinates are on, for the Earth-fixed positions: "wgs84" or "wgs72"
    #: (Hypatia's satgenpy places its ground stations on WGS-72); the up vectors are the geodetic normals
    ellipsoid: str = "wgs84"

    @property
    def size(self) -> int:
        return len(self.names)

    @cached_property
    def ecef_km(self) -> NDArray[np.float64]:
        """ECEF positions (km) of the nodes at rest (a moving node: its first track point)."""
        return to_ecef_km(self.lat_deg, self.lon_deg, self.alt_m, self.ellipsoid)

    @cached_property
    def up(self) -> NDArray[np.float64]:
        return up_unit(self.lat_deg, self.lon_deg)

    @cached_property
    def is_terminal(self) -> NDArray[np.bool_]:
        return np.array([k == "terminal" for k in self.kind], dtype=bool)

    def geodetic_at(
        self, t_s: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Latitude, longitude, height and ground speed of every node at times ``t_s``, each (T, G): what the
        policy needs, without the ECEF positions and up vectors of :meth:`at`."""
        T, G = len(t_s), self.size
        lat = np.broadcast_to(self.lat_deg, (T, G)).copy()
        lon = np.broadcast_to(self.lon_deg, (T, G)).copy()
        alt = np.broadcast_to(self.alt_m, (T, G)).copy()
        speed = np.zeros((T, G))
        if self.tracks is not None and len(self.moving):
            st = interpolate(self.tracks, t_s)
            m = self.moving
            lat[:, m], lon[:, m], alt[:, m], speed[:, m] = st.lat_deg, st.lon_deg, st.alt_m, st.speed_kmh
        return lat, lon, alt, speed

    def at(self, t_s: NDArray[np.float64]) -> GroundState:
        """Every node at times ``t_s`` (seconds after the epoch): arrays shaped (T, G) and (T, G, 3)."""
        T, G = len(t_s), self.size
        lat = np.broadcast_to(self.lat_deg, (T, G)).copy()
        lon = np.broadcast_to(self.lon_deg, (T, G)).copy()
        alt = np.broadcast_to(self.alt_m, (T, G)).copy()
        speed = np.zeros((T, G))
        if self.tracks is None or len(self.moving) == 0:
            return GroundState(
                lat, lon, alt, speed, np.broadcast_to(self.ecef_km, (T, G, 3)), np.broadcast_to(self.up, (T, G, 3))
            )
        st = interpolate(self.tracks, t_s)
        m = self.moving
        lat[:, m], lon[:, m], alt[:, m], speed[:, m] = st.lat_deg, st.lon_deg, st.alt_m, st.speed_kmh
        ecef = np.broadcast_to(self.ecef_km, (T, G, 3)).copy()
        up = np.broadcast_to(self.up, (T, G, 3)).copy()
        ecef[:, m] = to_ecef_km(st.lat_deg, st.lon_deg, st.alt_m, self.ellipsoid)
        up[:, m] = up_unit(st.lat_deg, st.lon_deg)
        return GroundState(lat, lon, alt, speed, ecef, up)

    @cached_property
    def is_gateway(self) -> NDArray[np.bool_]:
        """Which nodes are gateways (read at every snapshot in bent-pipe mode, so built once)."""
        return np.array([k == "gateway" for k in self.kind], dtype=bool)

    def index(self, name: str, where: str = "ground node") -> int:
        """Index of a node by name: exact, else as :func:`leonet.catalog.resolve_name` reads it ("Moscow" finds
        "Moskva-(Moscow)"); an unknown name gets "did you mean", an ambiguous one the list of choices."""
        return catalog.resolve_name(name, self.names, where, "ground node", "one of the scenario's ground nodes")


class GroundState(NamedTuple):
    """Ground nodes at T snapshots: geodetic (T, G), speed (km/h), ECEF (T, G, 3) km and up vectors."""

    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    alt_m: NDArray[np.float64]
    speed_kmh: NDArray[np.float64]
    ecef_km: NDArray[np.float64]
    up: NDArray[np.float64]


def make_ground(
    names: Sequence[str],
    lat_deg: Sequence[float],
    lon_deg: Sequence[float],
    alt_m: Sequence[float] | None = None,
    kind: Sequence[str] | None = None,
    min_elevation_deg: Sequence[float | None] | None = None,
    ellipsoid: str = "wgs84",
) -> GroundNodes:
    """Ground nodes from plain sequences, with range checks that name the node; ``ellipsoid``: the one their
    coordinates are on (:data:`leonet.geodesy.ELLIPSOIDS`)."""
    n = len(names)
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    alt = np.zeros(n) if alt_m is None else np.asarray(alt_m, dtype=np.float64)
    kinds = tuple(kind) if kind is not None else ("station",) * n
    el = np.array([np.nan if e is None else e for e in (min_elevation_deg or [None] * n)], dtype=np.float64)
    for i, nm in enumerate(names):
        if not -90.0 <= lat[i] <= 90.0:
            raise InputError(f"ground node {nm!r}.lat_deg", f"got {lat[i]}; expected -90..90")
        if not -180.0 <= lon[i] <= 180.0:
            raise InputError(f"ground node {nm!r}.lon_deg", f"got {lon[i]}; expected -180..180")
        if kinds[i] not in KINDS:
            raise InputError(f"ground node {nm!r}.kind", f"got {kinds[i]!r}; expected one of {', '.join(KINDS)}")
    if len(set(names)) != n:
        dup = sorted({x for x in names if list(names).count(x) > 1})
        raise InputError("ground", f"node names must be unique (repeated: {', '.join(dup)}); expected unique names")
    if ellipsoid not in ELLIPSOIDS:
        raise InputError("ground.ellipsoid", f"got {ellipsoid!r}; expected one of {', '.join(ELLIPSOIDS)}")
    return GroundNodes(tuple(names), kinds, lat, lon, alt, el, ellipsoid=ellipsoid)
