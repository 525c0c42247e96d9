"""Snapshots: mid-run round trips continue bit-identically; damaged blobs are refused."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

import hessianlr as h
from hessianlr import Info

from conftest import bits


def observations(rng, groups):
    values = []
    for _ in range(groups):
        values += [float(rng.exponential()), float(rng.normal(1.0, 1.5))]
    return values


def drive(tuner, steps, rng, start=0):
    """Observes every wanted step in [start, steps) and returns the bit patterns of all rates."""
    trace = []
    for t in range(start, steps):
        values = observations(rng, tuner.groups)
        if tuner.wants_curvature(t):
            tuner.observe_curvature(t, values)
        trace.append([bits(x) for x in tuner.lrs(t)])
    return trace


def make():
    return h.HessianLR(groups=3, initial_lr=[0.1, 0.01, 0.5], num_warmup_steps=4, update_period=3,
                       lr_bounds=(0.5, 2.0), smoothing_factor=0.8)


def test_mid_run_round_trip_continues_bit_identically():
    with make() as original:
        drive(original, 25, np.random.default_rng(5))
        blob = original.save()
        tail_rng = np.random.default_rng(6)
        expected = drive(original, 60, tail_rng, start=25)
        final = original.save()
    with h.HessianLR(groups=3) as restored:  # default options: restore brings them back
        restored.restore(blob)
        assert restored.save() == blob
        assert restored.get_param(h.Param.UPDATE_PERIOD) == 3
        assert drive(restored, 60, np.random.default_rng(6), start=25) == expected
        assert restored.save() == final
        assert restored.info(Info.UPDATES) > 5


def test_restore_overwrites_a_used_tuner():
    with make() as a, make() as b:
        drive(a, 10, np.random.default_rng(1))
        drive(b, 30, np.random.default_rng(2))
        b.restore(a.save())
        assert b.save() == a.save()


def test_truncations_are_refused_and_change_nothing():
    with make() as source, make() as target:
        drive(source, 12, np.random.default_rng(3))
        blob = source.save()
        drive(target, 7, np.random.default_rng(4))
        before = target.save()
        for length in range(len(blob)):
            with pytest.raises(h.SnapshotCorruptError):
                target.restore(blob[:length])
        with pytest.raises(h.SnapshotCorruptError):
            target.restore(blob + b"\0")
        assert target.save() == before


def test_bit_flips_are_refused_and_change_nothing():
    with make() as source, make() as target:
        drive(source, 12, np.random.default_rng(3))
        blob = source.save()
        before = target.save()
        for index in range(len(blob)):
            for bit in (0, 7):
                damaged = bytearray(blob)
                damaged[index] ^= 1 << bit
                expected = (h.SnapshotCorruptError, h.SnapshotVersionError) if index in (4, 5) else h.SnapshotCorruptError
                with pytest.raises(expected):
                    target.restore(bytes(damaged))
        assert target.save() == before


def test_valid_checksum_with_invalid_option_is_refused():
    """A crafted payload with a correct CRC still cannot smuggle in an option `set` refuses."""
    with h.HessianLR() as tuner:
        blob = bytearray(tuner.save())
        # the default smoothing 0.9 is the only double 0.9 in a fresh tuner's payload
        smoothing_at = bytes(blob).find(struct.pack("<d", 0.9))
        assert smoothing_at >= 16 and bytes(blob).count(struct.pack("<d", 0.9)) == 1
        struct.pack_into("<d", blob, smoothing_at, 1.5)
        struct.pack_into("<I", blob, len(blob) - 4, zlib.crc32(bytes(blob[:-4])))
        before = tuner.save()
        with pytest.raises(h.SnapshotCorruptError, match="smoothing"):
            tuner.restore(bytes(blob))
        assert tuner.save() == before


def test_other_group_count_is_a_mismatch():
    with h.HessianLR(groups=3) as three, h.HessianLR(groups=2) as two:
        with pytest.raises(h.SnapshotMismatchError):
            two.restore(three.save())
