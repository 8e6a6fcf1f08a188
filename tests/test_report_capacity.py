"""The capacity figures (leonet.report.capacity): they render, carry their labels, survive empty input, and draw
what they are given (segments cut at the antimeridian, NaN links left out, saturated links counted)."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from matplotlib.collections import LineCollection

from leonet.flows import LinkKind, LinkLayout
from leonet.report.capacity import _segments, layout_lines, throughput_cdf_figure, utilisation_map_figure
from leonet.report.figures import png_base64

PNG = b"\x89PNG\r\n\x1a\n"


def test_cdf_renders_with_labels() -> None:
    rng = np.random.default_rng(0)
    fig = throughput_cdf_figure({"down": rng.uniform(0.05, 2.0, 500), "up": np.r_[0.0, rng.uniform(0.01, 0.2, 99)]})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "throughput per terminal (Mbit/s)" and ax.get_ylabel() == "fraction of terminals"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("down (median ") and "n = 500" in labels[0] and labels[1].startswith("up (")
    assert ax.get_xscale() == "log"  # 0.01 .. 2 Gbit/s spans more than two decades
    # the CDF ends at 1 and is in Mbit/s
    x, y = ax.lines[0].get_data()
    assert y[-1] == pytest.approx(1.0) and x[0] >= 50.0 and x[-1] <= 2000.0
    assert "1 terminal-direction(s) at 0 Mbit/s" in [t.get_text() for t in ax.texts]
    assert base64.b64decode(png_base64(fig)).startswith(PNG)


def test_cdf_single_array_linear() -> None:
    fig = throughput_cdf_figure(np.array([0.1, 0.2, 0.15]), title="slot 0 $x")
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear" and ax.get_title(loc="left") == r"slot 0 \$x"
    assert ax.get_legend().get_texts()[0].get_text().startswith("throughput (median 150 Mbit/s")


@pytest.mark.parametrize("rates", [np.empty(0), {}, {"down": np.empty(0)}, np.array([np.nan])])
def test_cdf_empty(rates: object) -> None:
    fig = throughput_cdf_figure(rates)  # type: ignore[arg-type]
    assert "no flows" in [t.get_text() for t in fig.axes[0].texts]
    assert base64.b64decode(png_base64(fig)).startswith(PNG)


def test_map_renders_with_labels() -> None:
    rng = np.random.default_rng(1)
    n = 400
    lat0, lon0 = rng.uniform(-53, 53, n), rng.uniform(-180, 180, n)
    lat1, lon1 = lat0 + rng.uniform(-5, 5, n), (lon0 + rng.uniform(-10, 10, n) + 180) % 360 - 180
    util = rng.uniform(0, 1, n)
    util[:7] = 1.0
    util[7] = np.nan  # a zero-capacity link
    fig = utilisation_map_figure(lat0, lon0, lat1, lon1, util, title="starlink-550")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "longitude (deg)" and ax.get_ylabel() == "latitude (deg)"
    assert ax.get_title(loc="left") == "starlink-550: link utilisation, 399 links, 7 saturated (thick)"
    assert fig.axes[1].get_ylabel() == "utilisation (load / capacity)"  # the colour bar
    links = [c for c in ax.collections if isinstance(c, LineCollection)][1:]  # after the country outlines
    assert sum(len(c.get_segments()) for c in links) >= 399 and len(links[1].get_segments()) == 7
    assert base64.b64decode(png_base64(fig)).startswith(PNG)


def test_map_empty() -> None:
    e = np.empty(0)
    fig = utilisation_map_figure(e, e, e, e, e)
    assert "no links" in [t.get_text() for t in fig.axes[0].texts]
    assert base64.b64decode(png_base64(fig)).startswith(PNG)
    with pytest.raises(ValueError, match="one length"):
        utilisation_map_figure([0.0], [0.0], [1.0], [1.0], [0.5, 0.5])


def test_segments_cut_at_the_antimeridian() -> None:
    """170E -> 170W crosses at 180 halfway; -170 -> 170 the other way; 0 -> 10 is left alone."""
    seg, link = _segments(np.array([0.0, 10.0, 0.0]), np.array([170.0, -170.0, 0.0]),
                          np.array([10.0, 0.0, 5.0]), np.array([-170.0, 170.0, 10.0]))  # fmt: skip
    assert link.tolist() == [2, 0, 1, 0, 1]
    np.testing.assert_allclose(seg[0], [[0.0, 0.0], [10.0, 5.0]])
    np.testing.assert_allclose(seg[1], [[170.0, 0.0], [180.0, 5.0]])
    np.testing.assert_allclose(seg[3], [[-180.0, 5.0], [-170.0, 10.0]])
    np.testing.assert_allclose(seg[2], [[-170.0, 10.0], [-180.0, 5.0]])
    np.testing.assert_allclose(seg[4], [[180.0, 5.0], [170.0, 0.0]])


def test_layout_lines() -> None:
    """Satellites 0, 1 (ISL 0-1) and gateway node 2 seeing satellite 1: the ISL both ways, the feeder both ways."""
    lay = LinkLayout.build(beam_satellite=[0], isl=[[0, 1]], feeder=[[2, 1]])
    lat, lon = np.array([10.0, 20.0, 30.0]), np.array([100.0, 110.0, 120.0])
    ids, lat0, lon0, lat1, lon1 = layout_lines(lay, lat, lon)
    assert ids.tolist() == [2, 3, 4, 5]
    assert lat0.tolist() == [10.0, 20.0, 30.0, 20.0] and lat1.tolist() == [20.0, 10.0, 20.0, 30.0]
    assert lon0.tolist() == [100.0, 110.0, 120.0, 110.0] and lon1.tolist() == [110.0, 100.0, 110.0, 120.0]
    ids, *_ = layout_lines(lay, lat, lon, kinds=[LinkKind.ISL])
    assert ids.tolist() == [2, 3]
    with pytest.raises(ValueError, match="no single far end"):
        layout_lines(lay, lat, lon, kinds=[LinkKind.USER_UP])
