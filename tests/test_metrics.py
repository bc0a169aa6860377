"""Tests for :mod:`oversmoothing.metrics`: closed forms, SymPy cross-checks, invariances, bad input."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sympy as sp
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import oversmoothing as ovs
from oversmoothing.metrics import (
    METRICS,
    consensus_distance,
    cosine_similarity_matrix,
    dc_component,
    effective_rank,
    geometric_decay_rate,
    hc_component,
    hc_dc_ratio,
    layer_metrics,
    mean_cosine_similarity,
    rank_one_residual,
    select_tokens,
    singular_value_ratio,
)

F64 = torch.float64

# The six scalar metrics, keyed by their column name in ``layer_metrics``.
SCALAR_METRICS = {
    "mean_cosine": mean_cosine_similarity,
    "hc_dc_ratio": hc_dc_ratio,
    "consensus_distance": consensus_distance,
    "rank_one_residual": rank_one_residual,
    "effective_rank": effective_rank,
    "sigma_ratio": singular_value_ratio,
}
PUBLIC_FUNCTIONS = [
    *SCALAR_METRICS.values(),
    cosine_similarity_matrix,
    dc_component,
    hc_component,
    select_tokens,
]
RATIO_AND_RANK_METRICS = [hc_dc_ratio, consensus_distance, rank_one_residual, effective_rank, singular_value_ratio]


def tensor(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=F64)


def gaussian(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def close(actual: torch.Tensor, expected, *, tol: float = 1e-12) -> None:
    expected = torch.as_tensor(expected, dtype=actual.dtype)
    torch.testing.assert_close(actual, expected.expand_as(actual), rtol=tol, atol=tol)


def sympy_mean_cosine(rows: list[list[int]]) -> sp.Expr:
    """Mean cosine over ordered pairs of distinct tokens, exactly, from the definition."""
    vectors = [sp.Matrix(row) for row in rows]
    n = len(vectors)
    total = sum(
        vectors[i].dot(vectors[j]) / (vectors[i].norm() * vectors[j].norm())
        for i in range(n)
        for j in range(n)
        if i != j
    )
    return sp.nsimplify(sp.simplify(total / (n * (n - 1))))


# --------------------------------------------------------------------------------------------
# Closed forms and SymPy
# --------------------------------------------------------------------------------------------


def test_two_rational_tokens_cosine_matches_sympy():
    rows = [[3, 4], [4, 3]]
    exact = sympy_mean_cosine(rows)
    assert exact == sp.Rational(24, 25)
    x = tensor(rows)
    close(mean_cosine_similarity(x), float(exact), tol=1e-15)
    close(cosine_similarity_matrix(x)[0, 1], float(exact), tol=1e-15)


def test_several_rational_tokens_mean_cosine_matches_sympy():
    # All of norm 5 (or 13), so every cosine is rational and the mean is an exact rational.
    rows = [[3, 4, 0], [4, 3, 0], [0, 5, 0], [-3, 4, 0], [5, 12, 0], [0, 0, 13]]
    exact = sympy_mean_cosine(rows)
    assert exact.is_Rational
    close(mean_cosine_similarity(tensor(rows)), float(exact), tol=1e-14)


def test_mean_cosine_identity_holds_symbolically():
    # ||sum_i u_i||^2 - n == sum_{i != j} <u_i, u_j> for unit vectors u_i = (cos t_i, sin t_i).
    t = sp.symbols("t0:4", real=True)
    units = [sp.Matrix([sp.cos(ti), sp.sin(ti)]) for ti in t]
    n = len(units)
    total = sum(units, sp.zeros(2, 1))
    pairwise = sum(units[i].dot(units[j]) for i in range(n) for j in range(n) if i != j)
    assert sp.simplify(total.dot(total) - n - pairwise) == 0


@pytest.mark.parametrize("theta", [0.0, 0.3, math.pi / 3, math.pi / 2, 2.0, math.pi])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 250.0])
def test_two_tokens_at_known_angle(theta, scale):
    x = tensor([[1.0, 0.0, 0.0], [scale * math.cos(theta), scale * math.sin(theta), 0.0]])
    close(mean_cosine_similarity(x), math.cos(theta), tol=1e-14)
    matrix = cosine_similarity_matrix(x)
    close(matrix, [[1.0, math.cos(theta)], [math.cos(theta), 1.0]], tol=1e-14)


def test_hc_dc_ratio_and_consensus_match_sympy():
    rows = [[1, 2, 0], [3, -1, 2], [0, 4, 1], [2, 2, -3]]
    X = sp.Matrix(rows)
    n = X.rows
    ones = sp.ones(n, 1)
    dc = ones * (ones.T * X) / n
    hc = X - dc
    frob2 = lambda m: sum(v**2 for v in m)  # noqa: E731
    ratio = sp.sqrt(frob2(hc) / frob2(dc))
    relative = sp.sqrt(frob2(hc) / frob2(X))
    x = tensor(rows)
    close(hc_dc_ratio(x), float(ratio), tol=1e-14)
    close(consensus_distance(x), float(relative), tol=1e-14)
    close(consensus_distance(x, relative=False), float(sp.sqrt(frob2(hc))), tol=1e-14)
    close(dc_component(x), np.array(dc, dtype=float), tol=1e-14)
    close(hc_component(x), np.array(hc, dtype=float), tol=1e-14)


def test_consensus_distance_is_the_minimum_over_c_sympy():
    # min_c ||X - 1 c^T||_F^2 solved symbolically: the minimiser is the mean, the minimum ||HC||^2.
    rows = [[2, -1], [0, 3], [5, 1]]
    X = sp.Matrix(rows)
    c = sp.symbols("c0:2", real=True)
    objective = sum((X[i, k] - c[k]) ** 2 for i in range(X.rows) for k in range(X.cols))
    solution = sp.solve([sp.diff(objective, ck) for ck in c], c, dict=True)[0]
    assert [solution[ck] for ck in c] == [sp.Rational(7, 3), 1]
    minimum = objective.subs(solution)
    close(consensus_distance(tensor(rows), relative=False), float(sp.sqrt(minimum)), tol=1e-14)


def test_rank_metrics_match_sympy_singular_values():
    # X = U diag(5, 2) V^T with rational orthogonal U (3x2 columns) and V, so sigma = (5, 2) exactly.
    U = sp.Matrix([[sp.Rational(3, 5), sp.Rational(-4, 5)], [sp.Rational(4, 5), sp.Rational(3, 5)], [0, 0]])
    V = sp.Matrix([[sp.Rational(5, 13), sp.Rational(-12, 13)], [sp.Rational(12, 13), sp.Rational(5, 13)]])
    X = U * sp.diag(5, 2) * V.T
    sigma = sorted((sp.nsimplify(s) for s in X.singular_values()), reverse=True)
    sigma = [s for s in sigma if s != 0]
    assert sigma == [5, 2]
    residual = sp.sqrt(sum(s**2 for s in sigma[1:]) / sum(s**2 for s in sigma))
    p = [s / sum(sigma) for s in sigma]
    erank = sp.exp(-sum(pk * sp.log(pk) for pk in p))
    x = torch.tensor(np.array(X, dtype=float))
    close(rank_one_residual(x), float(residual), tol=1e-14)
    close(effective_rank(x), float(erank), tol=1e-14)
    close(singular_value_ratio(x), float(sp.Rational(2, 5)), tol=1e-14)


@pytest.mark.parametrize("n", [2, 3, 7])
def test_all_tokens_equal(n):
    c = gaussian(5, seed=n)
    x = c.expand(n, 5).clone()
    close(mean_cosine_similarity(x), 1.0)
    close(hc_dc_ratio(x), 0.0)
    close(consensus_distance(x), 0.0)
    close(consensus_distance(x, relative=False), 0.0)
    close(rank_one_residual(x), 0.0)
    close(effective_rank(x), 1.0, tol=1e-10)
    close(singular_value_ratio(x), 0.0)
    close(hc_component(x), torch.zeros_like(x))
    close(dc_component(x), x)


@pytest.mark.parametrize("n", [2, 3, 8])
def test_orthogonal_tokens(n):
    x = torch.eye(n, dtype=F64)
    close(mean_cosine_similarity(x), 0.0)
    close(cosine_similarity_matrix(x), torch.eye(n, dtype=F64))
    close(effective_rank(x), float(n))
    close(singular_value_ratio(x), 1.0)
    close(rank_one_residual(x), math.sqrt((n - 1) / n))
    # DC rows are 1/n, so ||DC||_F = 1 and ||HC||_F^2 = n - 1.
    close(hc_dc_ratio(x), math.sqrt(n - 1))
    close(consensus_distance(x), math.sqrt((n - 1) / n))


@pytest.mark.parametrize("signs", [[1, -1], [1, 1, -1], [1, -1, -1, 1, 1], [-1, -1, -1, 1]])
def test_rank_one_with_mixed_signs(signs):
    n = len(signs)
    scalars = torch.tensor(signs, dtype=F64) * (1.0 + torch.arange(n, dtype=F64))
    direction = gaussian(6, seed=n)
    x = scalars[:, None] * direction[None, :]
    close(rank_one_residual(x), 0.0)
    close(effective_rank(x), 1.0, tol=1e-10)
    close(singular_value_ratio(x), 0.0)
    # cos(x_i, x_j) = sign_i sign_j, so the mean is ((sum of signs)^2 - n) / (n (n - 1)).
    expected = (sum(signs) ** 2 - n) / (n * (n - 1))
    close(mean_cosine_similarity(x), expected)
    assert mean_cosine_similarity(x) < 1 - 1e-6


def test_antipodal_tokens_have_zero_dc():
    v = gaussian(4, seed=1)
    w = gaussian(4, seed=2)
    for x in (torch.stack([v, -v]), torch.stack([v, -v, w, -w])):
        close(dc_component(x), torch.zeros_like(x))
        assert torch.isinf(hc_dc_ratio(x))
    close(mean_cosine_similarity(torch.stack([v, -v])), -1.0)  # the lower bound -1/(n-1) for n = 2


def test_hc_dc_ratio_inf_only_where_dc_vanishes_in_a_batch():
    v = gaussian(3, seed=3)
    x = torch.stack([torch.stack([v, -v]), torch.stack([v, 2 * v])])
    ratio = hc_dc_ratio(x)
    assert torch.isinf(ratio[0]) and torch.isfinite(ratio[1])
    close(ratio[1], 1 / 3)  # ||x1 - x2|| / ||x1 + x2|| = 1 / 3


@pytest.mark.parametrize("n,d", [(2, 3), (7, 4), (16, 16)])
def test_mean_cosine_equals_explicit_pairwise_mean(n, d):
    x = gaussian(3, 5, n, d, seed=n * d)
    matrix = cosine_similarity_matrix(x)
    assert matrix.shape == (3, 5, n, n)
    off_diagonal = ~torch.eye(n, dtype=torch.bool)
    explicit = matrix[..., off_diagonal].mean(dim=-1)
    fast = mean_cosine_similarity(x)
    assert fast.shape == (3, 5)
    close(fast, explicit)
    close(matrix, matrix.transpose(-1, -2))
    close(torch.diagonal(matrix, dim1=-2, dim2=-1), 1.0)


# --------------------------------------------------------------------------------------------
# exclude
# --------------------------------------------------------------------------------------------


def test_exclude_first_token_equals_slicing():
    x = gaussian(2, 6, 4, seed=4)
    close(mean_cosine_similarity(x, exclude=[0]), mean_cosine_similarity(x[..., 1:, :]))
    close(select_tokens(x, [0]), x[..., 1:, :])
    close(select_tokens(x, None), x)


def test_exclude_negative_and_repeated_indices():
    x = gaussian(6, 4, seed=5)
    close(mean_cosine_similarity(x, exclude=[-1]), mean_cosine_similarity(x[:-1]))
    close(select_tokens(x, [0, -6, 2, 2]), x[[1, 3, 4, 5]])
    close(mean_cosine_similarity(x, exclude=(1, -2)), mean_cosine_similarity(x[[0, 2, 3, 5]]))


@pytest.mark.parametrize("index", [6, -7, 100])
def test_exclude_out_of_range(index):
    with pytest.raises(ValueError, match=r"exclude index .* out of range"):
        mean_cosine_similarity(gaussian(6, 4), exclude=[index])


@pytest.mark.parametrize("exclude", [0, "0", [0.5], [True]])
def test_exclude_wrong_type(exclude):
    with pytest.raises(TypeError, match="exclude"):
        select_tokens(gaussian(6, 4), exclude)


def test_exclude_leaving_one_token():
    with pytest.raises(ValueError, match="at least 2 tokens"):
        mean_cosine_similarity(gaussian(3, 4), exclude=[0, 1])


# --------------------------------------------------------------------------------------------
# DC / HC decomposition and the consensus distance
# --------------------------------------------------------------------------------------------


def test_dc_plus_hc_is_x_and_they_are_orthogonal():
    x = gaussian(4, 3, 9, 5, seed=6)
    dc, hc = dc_component(x), hc_component(x)
    assert dc.shape == hc.shape == x.shape
    close(dc + hc, x)
    close(hc.sum(dim=-2), torch.zeros(4, 3, 5, dtype=F64))
    close((dc * hc).sum(dim=(-2, -1)), torch.zeros(4, 3, dtype=F64))
    # every DC row is the token mean
    close(dc, x.mean(dim=-2, keepdim=True).expand_as(x))


def test_consensus_distance_is_minimal_over_c():
    x = gaussian(2, 8, 5, seed=7)
    distance = consensus_distance(x, relative=False)
    close(distance, torch.linalg.vector_norm(hc_component(x), dim=(-2, -1)))
    close(consensus_distance(x), distance / torch.linalg.vector_norm(x, dim=(-2, -1)))
    mean = x.mean(dim=-2, keepdim=True)
    generator = torch.Generator().manual_seed(8)
    for step in (1e-4, 1e-2, 1.0):
        for _ in range(20):
            c = mean + step * torch.randn(mean.shape, generator=generator, dtype=F64)
            perturbed = torch.linalg.vector_norm(x - c, dim=(-2, -1))
            assert bool((perturbed >= distance).all())


def test_consensus_distance_of_zero_matrix_is_zero_when_absolute():
    close(consensus_distance(torch.zeros(3, 2, dtype=F64), relative=False), 0.0)


# --------------------------------------------------------------------------------------------
# layer_metrics
# --------------------------------------------------------------------------------------------


def hidden_states(layers: int = 4, batch: int = 3, n: int = 6, d: int = 5) -> torch.Tensor:
    return gaussian(layers, batch, n, d, seed=9)


def test_layer_metrics_table_shape_and_columns():
    table = layer_metrics(hidden_states())
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["layer", *METRICS]
    assert table["layer"].tolist() == [0, 1, 2, 3]
    assert table[list(METRICS)].dtypes.map(lambda t: t == np.float64).all()


def test_layer_metrics_tensor_and_list_agree():
    states = hidden_states()
    pd.testing.assert_frame_equal(layer_metrics(states), layer_metrics(list(states)))
    pd.testing.assert_frame_equal(layer_metrics(states), layer_metrics(tuple(states)))


def test_layer_metrics_average_over_batch():
    states = hidden_states()
    table = layer_metrics(states)
    for name, function in SCALAR_METRICS.items():
        per_example = torch.stack([function(layer) for layer in states])  # (L + 1, batch)
        np.testing.assert_allclose(table[name].to_numpy(), per_example.mean(dim=1).numpy(), rtol=1e-12)
        for layer in range(states.shape[0]):
            values = [float(function(states[layer, b])) for b in range(states.shape[1])]
            assert table[name][layer] == pytest.approx(np.mean(values), rel=1e-12)


def test_layer_metrics_without_batch_and_with_two_batch_dims():
    states = hidden_states()
    single = layer_metrics(states[:, 0])
    for name, function in SCALAR_METRICS.items():
        np.testing.assert_allclose(single[name].to_numpy(), function(states[:, 0]).numpy(), rtol=1e-12)
    two_dims = layer_metrics(states.reshape(4, 3, 1, 6, 5))
    pd.testing.assert_frame_equal(two_dims, layer_metrics(states))


def test_layer_metrics_subset_and_exclude():
    states = hidden_states()
    table = layer_metrics(states, metrics=["sigma_ratio", "mean_cosine"])
    assert list(table.columns) == ["layer", "sigma_ratio", "mean_cosine"]
    excluded = layer_metrics(states, exclude=[0], metrics=["mean_cosine", "hc_dc_ratio"])
    sliced = layer_metrics(states[..., 1:, :], metrics=["mean_cosine", "hc_dc_ratio"])
    pd.testing.assert_frame_equal(excluded, sliced)


def test_layer_metrics_unknown_metric():
    with pytest.raises(ValueError, match=r"metrics='bogus'"):
        layer_metrics(hidden_states(), metrics=["mean_cosine", "bogus"])


def test_layer_metrics_takes_a_single_name_as_a_string():
    states = hidden_states()
    pd.testing.assert_frame_equal(layer_metrics(states, metrics="mean_cosine"),
                                  layer_metrics(states, metrics=["mean_cosine"]))


@pytest.mark.parametrize("metrics, error, match", [
    ([], ValueError, "metrics must name at least one"),
    (3, TypeError, "metrics must be a name or a sequence of names"),
    ({"mean_cosine"}, TypeError, "metrics must be a name or a sequence of names"),
    ("m", ValueError, r"metrics='m' is not one of"),
])
def test_layer_metrics_rejects_bad_metric_lists(metrics, error, match):
    with pytest.raises(error, match=match):
        layer_metrics(hidden_states(), metrics=metrics)


def test_excluding_every_token_is_refused_naming_exclude():
    states = hidden_states(n=3)
    with pytest.raises(ValueError, match=r"exclude=\[0, 1, 2\] removes all 3 tokens"):
        select_tokens(states, [0, 1, 2])
    with pytest.raises(ValueError, match=r"exclude=\[0, 1, 2\] removes all 3 tokens"):
        layer_metrics(states, exclude=[0, 1, 2])
    with pytest.raises(ValueError, match=r"exclude=\[0, -1\] leaves 1 of the 3 tokens"):
        layer_metrics(states, exclude=[0, -1])


def test_layer_metrics_bad_input():
    with pytest.raises(TypeError, match="hidden_states"):
        layer_metrics([])
    with pytest.raises(TypeError, match="hidden_states"):
        layer_metrics([np.zeros((3, 2))])
    with pytest.raises(ValueError, match="hidden_states must all have one shape"):
        layer_metrics([gaussian(4, 3), gaussian(5, 3)])
    with pytest.raises(ValueError, match=r"hidden_states must have shape \(L \+ 1"):
        layer_metrics(gaussian(4, 3))
    with pytest.raises(ValueError, match="hidden_states contains NaN"):
        layer_metrics(torch.full((2, 3, 4), float("nan"), dtype=F64))
    with pytest.raises(ValueError, match="hidden_states has an all-zero matrix"):
        layer_metrics(torch.zeros(2, 3, 4, dtype=F64), metrics=["effective_rank"])


# --------------------------------------------------------------------------------------------
# Property-based tests
# --------------------------------------------------------------------------------------------

PROPERTY = settings(max_examples=50, deadline=None)


@st.composite
def integer_tokens(draw, min_d: int = 1) -> torch.Tensor:
    """Small integer-valued matrices (exact sums, so the DC part is either exactly zero or not small)."""
    n = draw(st.integers(2, 6))
    d = draw(st.integers(min_d, 5))
    array = draw(hnp.arrays(np.float64, (n, d), elements=st.integers(-4, 4).map(float)))
    return torch.from_numpy(array)


def usable(x: torch.Tensor, function) -> bool:
    """Whether ``function`` is defined at ``x`` (no zero token for cosine, not all zero otherwise)."""
    if function is mean_cosine_similarity:
        return bool((torch.linalg.vector_norm(x, dim=-1) > 0).all())
    if function is singular_value_ratio and x.shape[-1] < 2:
        return False
    return bool(x.abs().sum() > 0)


def assert_same(a: torch.Tensor, b: torch.Tensor) -> None:
    if torch.isinf(a).any() or torch.isinf(b).any():
        assert torch.equal(torch.isinf(a), torch.isinf(b))
        return
    torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


@PROPERTY
@given(x=integer_tokens(), seed=st.integers(0, 2**31 - 1))
def test_token_permutation_invariance(x, seed):
    permutation = torch.randperm(x.shape[-2], generator=torch.Generator().manual_seed(seed))
    checked = 0
    for function in SCALAR_METRICS.values():
        if usable(x, function):
            assert_same(function(x[permutation]), function(x))
            checked += 1
    assume(checked > 0)


@PROPERTY
@given(
    x=integer_tokens(),
    scales=st.lists(st.floats(0.01, 100.0), min_size=6, max_size=6),
)
def test_mean_cosine_invariant_under_positive_token_scaling(x, scales):
    assume(usable(x, mean_cosine_similarity))
    factors = torch.tensor(scales[: x.shape[-2]], dtype=F64)[:, None]
    assert_same(mean_cosine_similarity(factors * x), mean_cosine_similarity(x))
    assert_same(cosine_similarity_matrix(factors * x), cosine_similarity_matrix(x))


def test_hc_dc_ratio_not_invariant_under_token_scaling():
    # Two tokens: HC/DC = ||x1 - x2|| / ||x1 + x2||. x = [(1,0), (1,1)] gives 1/sqrt(5);
    # doubling the second token gives [(1,0), (2,2)] and sqrt(5)/sqrt(13). The mean cosine stays put.
    x = tensor([[1, 0], [1, 1]])
    scaled = tensor([[1, 0], [2, 2]])
    assert sp.sqrt(sp.Rational(1, 5)) != sp.sqrt(sp.Rational(5, 13))
    close(hc_dc_ratio(x), 1 / math.sqrt(5))
    close(hc_dc_ratio(scaled), math.sqrt(5 / 13))
    close(mean_cosine_similarity(scaled), mean_cosine_similarity(x))


@PROPERTY
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(2, 7),
    d=st.integers(2, 6),
    batch=st.integers(1, 3),
)
def test_orthogonal_feature_rotation_invariance(seed, n, d, batch):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, n, d, generator=generator, dtype=F64)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=generator, dtype=F64))
    close(q.T @ q, torch.eye(d, dtype=F64))
    rotated = x @ q
    for function in SCALAR_METRICS.values():
        torch.testing.assert_close(function(rotated), function(x), rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(cosine_similarity_matrix(rotated), cosine_similarity_matrix(x), rtol=1e-9, atol=1e-9)


def assert_in_documented_ranges(x: torch.Tensor) -> None:
    n, d = x.shape[-2:]
    eps = 1e-12
    if usable(x, mean_cosine_similarity):
        value = mean_cosine_similarity(x)
        assert bool(((value >= -1 / (n - 1) - eps) & (value <= 1 + eps)).all())
        matrix = cosine_similarity_matrix(x)
        assert bool((matrix.abs() <= 1 + eps).all())
    if usable(x, hc_dc_ratio):
        assert bool((hc_dc_ratio(x) >= 0).all())
        distance = consensus_distance(x)
        assert bool(((distance >= 0) & (distance <= 1 + eps)).all())
        residual = rank_one_residual(x)
        assert bool(((residual >= 0) & (residual < 1)).all())
        erank = effective_rank(x)
        assert bool(((erank >= 1 - eps) & (erank <= min(n, d) + eps)).all())
        if d >= 2:
            ratio = singular_value_ratio(x)
            assert bool(((ratio >= 0) & (ratio <= 1 + eps)).all())


@PROPERTY
@given(x=integer_tokens())
def test_documented_ranges_integer_tokens(x):
    assert_in_documented_ranges(x)


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 8), d=st.integers(1, 8), shift=st.floats(-3, 3))
def test_documented_ranges_gaussian_tokens(seed, n, d, shift):
    assert_in_documented_ranges(gaussian(2, n, d, seed=seed) + shift)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS, ids=lambda f: f.__name__)
def test_one_dimensional_input(function):
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., n, d\)"):
        function(torch.ones(4, dtype=F64))


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS, ids=lambda f: f.__name__)
def test_integer_dtype(function):
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        function(torch.ones(3, 4, dtype=torch.int64))


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS, ids=lambda f: f.__name__)
def test_complex_dtype(function):
    # Regression: complex input used to pass the check, and mean_cosine_similarity returned a complex number.
    with pytest.raises(TypeError, match="x must be real"):
        function(torch.ones(3, 4, dtype=torch.complex128))


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS, ids=lambda f: f.__name__)
def test_numpy_array(function):
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        function(np.ones((3, 4)))


@pytest.mark.parametrize("function", [f for f in PUBLIC_FUNCTIONS if f is not select_tokens], ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_input(function, bad):
    x = gaussian(2, 3, 4)
    x[1, 2, 0] = bad
    with pytest.raises(ValueError, match="x contains NaN or infinite entries"):
        function(x)


@pytest.mark.parametrize("dtype,value", [(torch.float16, 6e4), (torch.float32, 3e38), (torch.float64, 1e308)])
def test_large_finite_entries_whose_sum_overflows_are_accepted(dtype, value):
    # The finiteness check first looks at the sum; an overflowing sum of finite entries must not be rejected.
    x = torch.full((2, 4, 3), value, dtype=dtype)
    x[:, 0, 0] = value / 2
    assert torch.isinf(x.sum())
    assert dc_component(x).shape == x.shape  # accepted (the values themselves may overflow)
    if dtype == torch.float16:  # measured in float32, where the token norms do not overflow
        torch.testing.assert_close(mean_cosine_similarity(x).double(), mean_cosine_similarity(x.double() / value))


def test_non_finite_entry_found_whatever_the_sum():
    # +inf and -inf together make a NaN sum; a NaN anywhere makes a NaN sum.
    x = gaussian(3, 4)
    x[0, 0], x[2, 3] = float("inf"), -float("inf")
    with pytest.raises(ValueError, match="x contains NaN or infinite entries"):
        hc_component(x)


def test_select_tokens_passes_non_finite_through():
    x = torch.tensor([[float("nan"), 1.0], [2.0, 3.0]])
    kept = select_tokens(x, [1])
    assert kept.shape == (1, 2) and torch.isnan(kept[0, 0]) and kept[0, 1] == 1.0


@pytest.mark.parametrize("function", [mean_cosine_similarity, singular_value_ratio], ids=lambda f: f.__name__)
def test_single_token_where_pairs_are_needed(function):
    with pytest.raises(ValueError, match="x must have at least 2 tokens"):
        function(gaussian(1, 4))


def test_single_feature_for_sigma_ratio():
    with pytest.raises(ValueError, match="x must have at least 2 features"):
        singular_value_ratio(gaussian(4, 1))


@pytest.mark.parametrize("function", [mean_cosine_similarity, cosine_similarity_matrix], ids=lambda f: f.__name__)
def test_zero_token_for_cosine(function):
    x = gaussian(2, 4, 3)
    x[1, 2] = 0.0
    with pytest.raises(ValueError, match="x has a zero token"):
        function(x)


@pytest.mark.parametrize("function", RATIO_AND_RANK_METRICS, ids=lambda f: f.__name__)
def test_all_zero_matrix(function):
    x = gaussian(3, 4, 3)
    x[1] = 0.0  # one all-zero matrix in the batch is enough
    with pytest.raises(ValueError, match="x has an all-zero matrix"):
        function(x)


# --------------------------------------------------------------------------------------------
# Half precision
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", list(SCALAR_METRICS))
def test_half_precision_is_computed_in_float32(dtype, name):
    function = SCALAR_METRICS[name]
    x = gaussian(2, 6, 5, seed=10) + 0.5
    low = x.to(dtype)
    value = function(low)
    assert value.dtype == torch.float32
    torch.testing.assert_close(value, function(low.to(F64)).float(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(value.double(), function(x), rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_matrices_and_table(dtype):
    x = (gaussian(3, 6, 5, seed=11) + 0.5).to(dtype)
    assert cosine_similarity_matrix(x).dtype == torch.float32
    assert dc_component(x).dtype == dtype and hc_component(x).dtype == dtype
    table = layer_metrics(x)
    assert np.isfinite(table[list(METRICS)].to_numpy()).all()


# --------------------------------------------------------------------------------------------
# CUDA
# --------------------------------------------------------------------------------------------


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_metrics_on_cuda_match_cpu(dtype):
    x = (gaussian(4, 3, 32, 16, seed=12) + 0.3).to(dtype)
    for name, function in SCALAR_METRICS.items():
        on_gpu = function(x.cuda())
        assert on_gpu.device.type == "cuda", name
        torch.testing.assert_close(on_gpu.cpu(), function(x), rtol=1e-4, atol=1e-4, msg=name)
    pd.testing.assert_frame_equal(layer_metrics(x.cuda()), layer_metrics(x), rtol=1e-4, atol=1e-4)
    close(mean_cosine_similarity(x.cuda(), exclude=[0]).cpu(), mean_cosine_similarity(x, exclude=[0]), tol=1e-4)


@pytest.mark.parametrize("dtype, scale", [(torch.float64, 1e200), (torch.float64, 1e-200), (torch.float32, 1e25), (torch.float32, 1e-25)])
def test_scale_free_metrics_survive_extreme_magnitudes(dtype, scale):
    # deep residual stacks grow or shrink geometrically; the scale-invariant metrics must not overflow
    x = torch.randn(2, 6, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64) + 0.5
    reference = ovs.layer_metrics(x.unsqueeze(1))
    extreme = ovs.layer_metrics((x * scale).to(dtype).unsqueeze(1))
    tolerance = 1e-9 if dtype == torch.float64 else 1e-4
    assert ((reference - extreme).abs().drop(columns="layer") < tolerance).all().all(), (reference, extreme)
    torch.testing.assert_close(ovs.cosine_similarity_matrix((x * scale).to(dtype)).double(),
                               ovs.cosine_similarity_matrix(x), atol=tolerance, rtol=0)


# --------------------------------------------------------------------------------------------
# geometric_decay_rate
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.93, 1.0, 1.2])
def test_geometric_decay_rate_of_a_geometric_sequence(rate):
    values = 3.0 * rate ** np.arange(40)
    assert math.isclose(geometric_decay_rate(values), rate, rel_tol=1e-10)
    assert math.isclose(geometric_decay_rate(torch.tensor(values), start=5), rate, rel_tol=1e-10)


def test_geometric_decay_rate_ignores_the_rounding_floor():
    values = np.maximum(0.3 ** np.arange(60), 1e-16)            # flat at the bottom, as rounding makes it
    assert math.isclose(geometric_decay_rate(values, floor=1e-12), 0.3, rel_tol=1e-10)


def test_geometric_decay_rate_of_an_oscillating_sequence():
    steps = np.arange(200)
    values = 0.9**steps * (2 + np.cos(1.3 * steps))               # bounded oscillation around a geometric decay
    assert abs(geometric_decay_rate(values, floor=1e-30) - 0.9) < 0.01


@pytest.mark.parametrize(
    ("values", "kwargs"),
    [
        (np.ones((3, 3)), {}),
        (np.array([1.0, 0.0, 1.0]), {}),
        (np.array([1.0, np.inf]), {}),
        (np.array([1.0, 0.5]), {"start": 2}),
        (np.array([1.0, 0.5]), {"floor": 1.5}),
        (np.array([1.0, 1e-20, 1e-21]), {}),                   # one step above the floor
    ],
)
def test_geometric_decay_rate_rejects_bad_input(values, kwargs):
    with pytest.raises(ValueError):
        geometric_decay_rate(values, **kwargs)


# --------------------------------------------------------------------------------------------
# measured_regime
# --------------------------------------------------------------------------------------------


def test_measured_regime_reads_the_regime_off_the_hc_dc_curve():
    from oversmoothing.metrics import measured_regime

    generator = torch.Generator().manual_seed(0)
    x0 = torch.randn(3, 5, 2, generator=generator, dtype=F64)
    mean = x0.mean(dim=-2, keepdim=True)
    layers = torch.arange(41, dtype=F64)[:, None, None, None]
    smoothing = mean + (x0 - mean) * 0.8 ** layers           # HC shrinks geometrically: log ratio falls by 0.22
    sharpening = mean * 0.7 ** layers + (x0 - mean)          # DC shrinks: the ratio grows
    slow = mean + (x0 - mean) * 0.995 ** layers              # falls by 0.005 per layer < tau / 2
    assert measured_regime(smoothing).tolist() == ["smoothing"] * 3
    assert measured_regime(sharpening).tolist() == ["sharpening"] * 3
    assert measured_regime(slow).tolist() == ["sharpening"] * 3
    assert measured_regime(slow, gap_tolerance=0.001).tolist() == ["smoothing"] * 3
    collapsed = mean + (x0 - mean) * torch.cat([0.5 ** layers[:35], 0 * layers[35:] + 1e-12])   # stalls at 1e-12
    assert measured_regime(collapsed).tolist() == ["smoothing"] * 3
    with pytest.raises(ValueError, match="L >= 2"):
        measured_regime(smoothing[:2])
    with pytest.raises(ValueError, match="positive"):
        measured_regime(smoothing, gap_tolerance=0)


# --------------------------------------------------------------------------------------------
# the README's first example
# --------------------------------------------------------------------------------------------


def test_the_readme_first_example_runs_and_shows_the_tokens_aligning(capsys):
    readme = Path(__file__).resolve().parents[1] / "README.md"
    found = re.search(r"## The package\n\n```python\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
    assert found, "README.md lost its first example under '## The package'"
    namespace: dict[str, object] = {}
    with torch.random.fork_rng():  # the example seeds the global generator
        exec(compile(found.group(1), str(readme), "exec"), namespace)
    assert "mean_cosine" in capsys.readouterr().out
    table = layer_metrics(namespace["states"])
    assert abs(table.mean_cosine.iloc[0]) < 0.02 and table.mean_cosine.iloc[-1] > 0.3  # the tokens align with depth
    assert table.hc_dc_ratio.iloc[-1] < table.hc_dc_ratio.iloc[0] / 3
