import math
from collections import namedtuple

import torch

from converter.tensors.compare import compare_outputs, flatten_outputs

Pair = namedtuple("Pair", "masks scores")


def test_flatten_names_nested_leaves_in_order() -> None:
    a, b, c = torch.zeros(1), torch.ones(1), torch.full((1,), 2.0)
    names = [n for n, _ in flatten_outputs({"out": a, "extra": [b, (c, 3)]})]
    assert names == ["output['out']", "output['extra'][0]", "output['extra'][1][0]", "output['extra'][1][1]"]
    assert [n for n, _ in flatten_outputs(Pair(a, b))] == ["output[0]", "output[1]"]
    assert flatten_outputs(a)[0][0] == "output"


def test_within_tolerance_passes_and_reports_errors() -> None:
    ref = torch.tensor([1.0, 2.0, 0.0])
    got = ref + torch.tensor([1e-6, -2e-6, 5e-7])
    (cmp,) = compare_outputs(ref, got, atol=1e-5, rtol=1e-5)
    assert cmp.passed
    assert math.isclose(cmp.max_abs_error, 2e-6, rel_tol=0.05)  # float32 rounding
    # relative error ignores the reference zero (|ref| < atol), so it is 1e-6 / 1, not 5e-7 / 0
    assert math.isclose(cmp.max_rel_error, 1e-6, rel_tol=0.05)


def test_worst_leaf_fails_and_others_pass() -> None:
    ref = {"masks": torch.zeros(2, 2), "scores": torch.ones(3)}
    got = {"masks": torch.zeros(2, 2), "scores": torch.tensor([1.0, 1.5, 1.0])}
    masks, scores = compare_outputs(ref, got, atol=1e-4, rtol=1e-4)
    assert masks.passed and not scores.passed
    assert scores.name == "output['scores']" and math.isclose(scores.max_abs_error, 0.5)


def test_shape_dtype_and_structure_mismatches_fail_with_a_reason() -> None:
    (shape,) = compare_outputs(torch.zeros(2, 3), torch.zeros(3, 2), 1e-4, 1e-4)
    assert not shape.passed and "shape" in shape.problem
    (dtype,) = compare_outputs(torch.zeros(2), torch.zeros(2, dtype=torch.float64), 1e-4, 1e-4)
    assert not dtype.passed and "dtype" in dtype.problem
    (structure,) = compare_outputs((torch.zeros(1), torch.zeros(1)), torch.zeros(1), 1e-4, 1e-4)
    assert not structure.passed and "2 outputs" in structure.problem


def test_nans_in_the_same_places_are_equal_and_elsewhere_are_not() -> None:
    ref = torch.tensor([float("nan"), 1.0])
    assert compare_outputs(ref, ref.clone(), 1e-4, 1e-4)[0].passed
    (diff,) = compare_outputs(ref, torch.tensor([float("nan"), float("nan")]), 1e-4, 1e-4)
    assert not diff.passed and diff.max_abs_error == math.inf


def test_python_scalars_and_integer_tensors() -> None:
    assert compare_outputs((torch.tensor([1, 2]), 3), (torch.tensor([1, 2]), 3), 0.0, 0.0)[1].passed
    assert not compare_outputs(torch.tensor([1, 2]), torch.tensor([1, 3]), 0.0, 0.0)[0].passed


def test_equal_infinities_match_and_any_other_non_finite_pair_is_infinitely_far() -> None:
    inf = math.inf
    mask = torch.tensor([0.0, -inf, 1.0, inf])
    (same,) = compare_outputs(mask, mask.clone(), 1e-4, 1e-4)
    assert same.passed and same.max_abs_error == 0.0 and same.max_rel_error == 0.0
    for got in ([0.0, 5.0, 1.0, inf], [0.0, -inf, 1.0, -inf], [0.0, -inf, inf, inf], [0.0, -inf, 1.0, math.nan]):
        (cmp,) = compare_outputs(mask, torch.tensor(got), 1e-4, 1e-4)
        assert not cmp.passed and cmp.max_abs_error == inf, got
