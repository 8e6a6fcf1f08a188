"""The on-disk cache of the borders index gives exactly the index that a fresh build gives, and a corrupt or
unwritable cache only costs time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from leonet import cache
from leonet.policy import borders


def _fresh() -> borders.Borders:
    borders.borders.cache_clear()
    return borders.borders()


def test_a_cached_borders_index_equals_a_fresh_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEONET_CACHE_DIR", "off")
    built = _fresh()
    monkeypatch.setenv("LEONET_CACHE_DIR", str(tmp_path))
    first = _fresh()  # builds and saves
    assert len(list(tmp_path.glob("*.npz"))) == 1
    second = _fresh()  # restores from the entry
    for name, arr in built.grid.state.items():
        np.testing.assert_array_equal(second.grid.state[name], arr, err_msg=name)
        np.testing.assert_array_equal(first.grid.state[name], arr, err_msg=name)
    assert all(a.equals(b) for a, b in zip(built.geoms, second.geoms, strict=True))
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(-90, 90, 20_000), rng.uniform(-180, 180, 20_000)
    np.testing.assert_array_equal(second.lookup(lat, lon), built.lookup(lat, lon))
    borders.borders.cache_clear()


def test_a_corrupt_or_unwritable_cache_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEONET_CACHE_DIR", str(tmp_path))
    _fresh()
    (entry,) = tmp_path.glob("*.npz")
    entry.write_bytes(b"not an npz")
    assert cache.load_arrays("anything") is None
    again = _fresh()  # the corrupt entry is ignored and replaced
    assert again.lookup(np.array([41.01]), np.array([28.98]))[0] == again.index_of("TR")  # Istanbul
    assert cache.load_arrays("missing key") is None
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    monkeypatch.setenv("LEONET_CACHE_DIR", str(blocked / "sub"))
    cache.save_arrays("k", {"a": np.arange(3)})  # cannot write: ignored
    assert cache.load_arrays("k") is None
    borders.borders.cache_clear()
