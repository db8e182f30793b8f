"""Synthetic NHS numbers: modulus 11, reserved test range, keying errors."""

from __future__ import annotations

import nhs_number
import numpy as np

from bettercare.data.synth import nhs


def test_known_check_digit():
    # 943 476 5919 is the NHS Data Dictionary's worked example.
    assert nhs.check_digit(np.array([943476591]))[0] == 9
    assert nhs.is_valid(np.array([9434765919, 9434765918])).tolist() == [True, False]


def test_generated_numbers_are_valid_unique_and_in_test_range():
    rng = np.random.Generator(np.random.PCG64(1))
    numbers = nhs.generate(rng, 20_000)
    assert len(np.unique(numbers)) == len(numbers)
    assert ((numbers >= 9_990_000_000) & (numbers <= 9_999_999_999)).all()
    assert nhs.is_valid(numbers).all()
    assert all(nhs_number.is_valid(str(n)) for n in numbers[:500])


def test_mistyped_numbers_mostly_fail_modulus_11():
    rng = np.random.Generator(np.random.PCG64(2))
    numbers = nhs.generate(rng, 5_000)
    typed = nhs.mistype(rng, numbers)
    assert (typed != numbers).mean() > 0.99
    assert (typed // 10_000_000 == 999).all()  # the test-range prefix is kept
    assert (~nhs.is_valid(typed)).mean() > 0.9
    assert sum(not nhs_number.is_valid(str(n)) for n in typed[:500]) > 450


def test_large_populations_fill_999_then_spill_into_the_synthetic_9xx_range():
    rng = np.random.Generator(np.random.PCG64(3))
    numbers = nhs.generate(rng, 1_000_000)
    assert len(np.unique(numbers)) == 1_000_000
    assert nhs.is_valid(numbers).all()
    assert (numbers // 10_000_000 == 999).sum() == nhs.CAPACITY_999
    assert (numbers >= 9_900_000_000).all()  # never outside "not to be issued" 9xx
    synthetic = nhs_number.REGION_SYNTHETIC
    assert all(nhs_number.is_valid(str(n), for_region=synthetic) for n in numbers[:200])
