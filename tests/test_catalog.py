"""The shipped cities: unique names (a repeated name qualified by its country), their countries, and the one name
resolver the loader, the command line and the report share (aliases, ambiguity, "did you mean")."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from conftest import shared_file
from leonet import assembly, catalog
from leonet.errors import InputError
from leonet.scenario import parse_scenario

REPO = Path(__file__).resolve().parents[1]


def test_names_are_unique_and_old_unique_names_are_kept() -> None:
    names = [c.name for c in catalog.cities()]
    assert len(names) == len(set(names)) == 1000
    raw = [c.name for c in catalog.raw_cities()]
    repeated = {n for n in raw if raw.count(n) > 1}
    assert repeated == {"Hyderabad", "Santiago", "Valencia", "Anyang"}  # the shipped list's duplicates
    for new, old in zip(names, raw, strict=True):
        assert new == old if old not in repeated else new.startswith(f"{old}-(")
    assert "Hyderabad-(India)" in names and "Hyderabad-(Pakistan)" in names
    assert "Santiago-(Chile)" in names and "Santiago-(Dominican-Republic)" in names


def test_every_old_name_still_resolves_to_its_city() -> None:
    names = [c.name for c in catalog.cities()]
    for i, c in enumerate(catalog.raw_cities()):
        if [x.name for x in catalog.raw_cities()].count(c.name) == 1:
            assert catalog.city(c.name) == catalog.cities()[i]
            assert catalog.find_name(c.name, names) == i


def test_bare_ambiguous_name_is_a_clear_error_listing_the_choices() -> None:
    with pytest.raises(InputError) as e:
        catalog.city("Hyderabad", where="ground.cities[0]")
    msg = str(e.value)
    assert "ground.cities[0]" in msg and "ambiguous" in msg
    assert "Hyderabad-(India)" in msg and "Hyderabad-(Pakistan)" in msg
    assert catalog.city("hyderabad (pakistan)").country_iso_a2 == "PK"
    assert catalog.city("Valencia-(Spain)").lat_deg == pytest.approx(39.46975)


def test_country_is_not_an_alias_of_a_city() -> None:
    with pytest.raises(InputError, match="unknown city 'India'"):
        catalog.city("India")
    assert catalog.city("Moscow").name == "Moskva-(Moscow)"  # a real alias still is


def test_unknown_city_suggests_close_names() -> None:
    with pytest.raises(InputError, match=r"did you mean Tokyo"):
        catalog.city("Tokio")


def test_cities_1000_loads_and_prepares(tmp_path: Path) -> None:
    """`cities = N` failed for every N >= 265 (the 265th city repeats a name)."""
    sc = parse_scenario(
        """
name = "all-cities"
epoch = 2026-02-23T00:00:00Z
[time]
end_s = 0
[[networks]]
constellation = { preset = "starlink-550" }
[ground]
cities = 1000
"""
    )
    prep = assembly.assemble(sc)
    assert prep.ground.size == 1000 and len(set(prep.ground.names)) == 1000
    assert len(prep.src) == 1000 * 999 // 2


def test_country_file_is_current() -> None:
    """The shipped country of every city equals a fresh point-in-polygon against Natural Earth 50m borders
    (shapely `contains`, nearest polygon for a coastal city just outside; tools/make_city_countries.py)."""
    spec = importlib.util.spec_from_file_location("make_city_countries", REPO / "tools" / "make_city_countries.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_city_countries"] = mod
    spec.loader.exec_module(mod)
    import shapely.ops  # noqa: F401

    fresh = mod.render(mod.city_countries(shared_file("borders/ne_50m_admin_0_countries.geojson")))
    assert fresh == catalog.read_text(catalog.CITY_COUNTRIES_FILE)
    by_name = {c.name: c for c in catalog.cities()}
    assert by_name["Tokyo"].country_iso_a2 == "JP" and by_name["São-Paulo"].country == "Brazil"
    assert max(float(r.split(",")[3]) for r in fresh.splitlines()[1:]) < 10.0  # coastal cities: a few km off


def test_search_cities() -> None:
    assert {c.name for c in catalog.search_cities("hyderabad")} == {"Hyderabad-(India)", "Hyderabad-(Pakistan)"}
    jp = catalog.search_cities("JP")
    assert jp and all(c.country_iso_a2 == "JP" for c in jp) and jp[0].name == "Tokyo"
    assert [c.rank for c in catalog.search_cities(None)] == list(range(1, 1001))
