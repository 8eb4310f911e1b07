"""Runs of equal keys in sorted arrays: the segments that vectorized group statistics reduce.

Sorting once by an integer key and reducing each run with `numpy.ufunc.reduceat` is several times
cheaper than hash-grouping the same rows on every statistic.
"""

from __future__ import annotations

import numpy as np


def run_starts(keys: np.ndarray) -> np.ndarray:
    """Where each run of equal values of sorted `keys` starts (positions, ascending)."""
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def run_lengths(starts: np.ndarray, size: int) -> np.ndarray:
    """How long each run is, from its start and the length of the whole array."""
    return np.diff(np.append(starts, size))


def first_where(mask: np.ndarray, starts: np.ndarray, last: bool = False) -> np.ndarray:
    """The first (or last) position within each run where `mask` holds (every run has one)."""
    hits = np.flatnonzero(mask)
    if hits.size == 0:
        return hits
    owner = np.searchsorted(starts, hits, "right") - 1
    changes = owner[1:] != owner[:-1]
    edge = np.concatenate((changes, [True])) if last else np.concatenate(([True], changes))
    return hits[edge]
