"""Test helpers over the chunked run: a network's whole window as record batches plus its (T, G) coverage
array, and the policy's decisions over the whole window (both dense over the window: for small test windows
only; the library itself keeps neither)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from leonet.assembly import World
from leonet.chunk import CHUNK
from leonet.policy import Decisions
from leonet.runlength import merge
from leonet.runner import chunks
from leonet.step import decide


def simulate(
    world: World, net_index: int, progress: Callable[[int], None] | None = None, chunk: int = CHUNK
) -> tuple[list[pa.RecordBatch], np.ndarray]:
    """The serial run of one network: its non-empty route batches and whether each ground node had a ground
    link at each snapshot (T, G), from the chunks' coverage run-lengths."""
    batches, cov = [], []
    for res in chunks(world, net_index, chunk):
        if res.routes.num_rows:
            batches.append(res.routes)
        cov.append(res.coverage)
        if progress is not None:
            progress(res.k1 - res.k0)
    coverage = merge(cov).to_array(world.ground.size, len(world.times_s)).astype(bool)
    return batches, coverage


def window_decisions(world: World, chunk: int = CHUNK) -> Decisions | None:
    """The policy's decisions at every snapshot of the window (T, N), decided chunk by chunk as the run does."""
    parts: list[Decisions] = []
    carry = None
    for k0 in range(0, len(world.times_s), chunk):
        d, carry = decide(world, world.times_s[k0 : k0 + chunk], carry)
        if d is None:
            return None
        parts.append(d)
    p0 = parts[0]
    return Decisions(
        p0.terminal_ids,
        np.concatenate([p.t_s for p in parts]),
        np.concatenate([p.served for p in parts]),
        np.concatenate([p.rule for p in parts]),
        p0.rule_ids,
        p0.reasons,
        np.concatenate([p.country for p in parts]),
        p0.country_codes,
    )
