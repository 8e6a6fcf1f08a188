"""Import/export without loss, for generated policies (hypothesis): a ``[policy]`` written as a revision's
rows and read back validates to an equal :class:`~leonet.policy.PolicyConfig` (the parser is the reference:
both sides go through ``parse_policy_config``), and so does its TOML export read by ``tomllib``."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from leonet.control import revisions, schema
from leonet.policy.models import parse_policy_config
from leonet.tomlout import dumps

COUNTRIES = ["UA", "PL", "DE", "JP", "TW", "US", "MX", "FR"]
names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,11}", fullmatch=True)
countries = st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=4, unique=True)
times = st.integers(0, 10 * 365 * 86400).map(lambda s: datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=s))
floats = st.floats(0.5, 5000, allow_nan=False, allow_infinity=False)


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


@st.composite
def windows(draw: st.DrawFn, a: str = "active_from", b: str = "active_until") -> dict[str, Any]:
    out: dict[str, Any] = {}
    t0 = draw(st.none() | times)
    if t0 is not None:
        out[a] = _iso(t0)
    if draw(st.booleans()):
        out[b] = _iso((t0 or datetime(2019, 1, 1, tzinfo=UTC)) + timedelta(days=draw(st.integers(1, 900))))
    return out


def square(i: int) -> dict[str, Any]:
    """Disjoint 1 x 1 degree squares (geofences of equal priority must not overlap)."""
    x, y = -170 + 3 * i, -60 + (i % 7) * 3
    return {"type": "Polygon", "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]]}


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    ids = iter(f"r{i}" for i in range(1000))
    declared = draw(st.lists(names, max_size=3, unique=True))
    p: dict[str, Any] = {"whitelists": declared}
    if draw(st.booleans()):
        p["default"] = {
            "unregistered": draw(st.sampled_from(["serve", "deny"])),
            "outside_countries": draw(st.sampled_from(["serve", "deny"])),
            "moving_above_kmh": draw(floats),
            **({"unregistered_service_class": draw(names)} if draw(st.booleans()) else {}),
        }
    lic = draw(st.none() | st.lists(st.just(0), max_size=3))  # None: licences left out (no licence check)
    if lic is not None:
        p["licences"] = [
            {"id": next(ids), "countries": draw(countries), **draw(windows("valid_from", "valid_until"))} for _ in lic
        ]
    fences = []
    for i in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["deny", "allow"] + (["whitelist-only"] if declared else [])))
        g: dict[str, Any] = {"id": next(ids), "action": action, "priority": i, **draw(windows())}
        if draw(st.booleans()):
            g["countries"] = draw(countries)
        else:
            g["geometry"] = square(i)
        if action == "whitelist-only":
            g["whitelist"] = draw(st.sampled_from(declared))
        if draw(st.booleans()):
            g["check_axes"] = False
        fences.append(g)
    p["geofences"] = fences
    p["country_overrides"] = [
        {"id": next(ids), "country": draw(st.sampled_from(COUNTRIES)), "geometry": square(40 + i)}
        for i in range(draw(st.integers(0, 2)))
    ]
    terms = []
    for i in range(draw(st.integers(0, 6))):
        acc = draw(st.sampled_from(["a1", "a2", "a3"]))
        t: dict[str, Any] = {
            "id": f"KIT-{i}",
            "account": acc,
            "account_type": {"a1": "person", "a2": "org", "a3": "mil"}[acc],
        }
        t["service_class"] = draw(st.sampled_from(["fixed", "mobile", "military"]))
        if draw(st.booleans()):
            t["registered_country"] = draw(st.sampled_from(COUNTRIES))
        t["status"] = draw(st.sampled_from(["active", "suspended"]))
        t["whitelists"] = draw(st.lists(st.sampled_from(declared), unique=True)) if declared else []
        t["exempt_speed_cap"] = draw(st.booleans())
        if draw(st.booleans()):
            t["abroad_since"] = _iso(draw(times))
        terms.append(t)
    p["terminals"] = terms
    p["quotas"] = [
        {"id": next(ids), "account_type": k, "max_terminals": draw(st.sampled_from([50, "unlimited"]))}
        for k in draw(st.lists(st.sampled_from(["person", "org", "mil"]), unique=True))
    ]
    p["mobility"] = [
        {
            "id": next(ids),
            "service_class": c,
            "in_motion": draw(st.booleans()),
            **({"max_speed_kmh": draw(floats)} if draw(st.booleans()) else {}),
            **({"max_altitude_m": draw(floats)} if draw(st.booleans()) else {}),
            **({"roaming_days": draw(floats)} if draw(st.booleans()) else {}),
        }
        for c in draw(st.lists(st.sampled_from(["fixed", "mobile", "aviation"]), unique=True))
    ]
    p["speed_caps"] = []
    for _ in range(draw(st.integers(0, 2))):
        cap: dict[str, Any] = {"id": next(ids), "max_speed_kmh": draw(floats), **draw(windows())}
        if draw(st.booleans()):
            cap["countries"] = draw(countries)
        cap["exempt_account_types"] = draw(st.lists(st.sampled_from(["mil", "org"]), unique=True))
        p["speed_caps"].append(cap)
    p["motion_bans"] = [
        {"id": next(ids), "countries": draw(countries), **draw(windows())} for _ in range(draw(st.integers(0, 2)))
    ]
    p["service_bans"] = [
        {"id": next(ids), "service_classes": draw(st.lists(names, min_size=1, max_size=2, unique=True)),
         **({"countries": draw(countries)} if draw(st.booleans()) else {}), **draw(windows())}
        for _ in range(draw(st.integers(0, 2)))
    ]  # fmt: skip
    return p


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    eng = create_engine(f"sqlite:///{tmp_path_factory.mktemp('rt') / 'rt.db'}")
    schema.Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


_rev = iter(range(1, 10**6))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(policies())
def test_generated_policies_round_trip(engine, policy: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    config = parse_policy_config(policy)
    rev = next(_rev)
    pos = {t.id: (float(i), float(-i), 10.0 * i) for i, t in enumerate(config.terminals) if i % 2 == 0}
    with Session(engine) as s, s.begin():
        s.add(schema.Revision(id=rev, kind="import", author="t", created_utc="now", has_policy=True,
                              licences_listed=config.licences is not None))  # fmt: skip
        s.flush()
        revisions.write(s, revisions.to_rows(config, rev, pos))
    with Session(engine) as s:
        back = revisions.read(s, rev)
        assert revisions.positions(s, rev) == pos
    assert back is not None
    assert parse_policy_config(back) == config
    assert (config.licences is None) == ("licences" not in back)
    # and through TOML text, as `leonet control export` writes it
    assert parse_policy_config(tomllib.loads(dumps({"policy": back}))["policy"]) == config


def test_the_comparison_can_fail() -> None:
    a = parse_policy_config({"licences": []})
    assert a != parse_policy_config({}) and a != parse_policy_config({"licences": [{"id": "x", "countries": ["UA"]}]})
