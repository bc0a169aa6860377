"""The theory's predictions against simulation, and the spectrum functions against closed forms (including
the Gaussian asymmetry of chapter 9 and the causal multi-head block spectra of chapter 10)."""

from __future__ import annotations

import math

import pytest
import sympy as sp
import torch

import oversmoothing as ovs
from oversmoothing import generators as gen
from oversmoothing import spectrum

N, D = 6, 4
PER_CELL = 26  # pairs per (attention kind, H kind, residual) cell: 5 x 4 x 2 x 26 = 1,040 pairs
GAP_TOLERANCE = 0.02  # only pairs whose dominant mode leads by more than 2 % per layer are judged
DEPTH = 1800  # (1 - 0.02) ** 1800 < 2e-16: the non-dominant modes are below float64 resolution
GROWTH_TOLERANCE = 1e-6  # relative error of the measured per-layer growth against |mu*|
HC_DC_RATE_TOLERANCE = 0.03  # relative error of the measured decay of the HC part against M_HC / M_DC


def attention_batch(kind: str, generator: torch.Generator) -> torch.Tensor:
    if kind == "circulant":
        weights = torch.rand(PER_CELL, 1, 1, generator=generator, dtype=torch.float64) * 0.9 + 0.05
        return weights * gen.circulant_attention(N, 1.0, dtype=torch.float64) + (1 - weights) / N
    make = {
        "softmax": gen.softmax_attention,
        "symmetric": gen.symmetric_kernel_attention,
        "doubly stochastic": gen.doubly_stochastic_attention,
        "causal": gen.causal_attention,
    }[kind]
    temperature = float(torch.empty(1).uniform_(0.3, 2.0, generator=generator))
    return make(N, key_dim=4, temperature=temperature, batch=(PER_CELL,), generator=generator)


def value_output_batch(kind: str, generator: torch.Generator) -> torch.Tensor:
    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return torch.empty(*shape, dtype=torch.float64).uniform_(low, high, generator=generator)

    if kind == "complex":
        modulus, phase = uniform(0.2, 1.5, PER_CELL, D // 2), uniform(0.1, math.pi - 0.1, PER_CELL, D // 2)
        pairs = torch.polar(modulus, phase)
        eigenvalues = torch.cat([pairs, pairs.conj()], dim=-1)
        return gen.value_output_from_spectrum(eigenvalues, generator=generator)
    if kind == "symmetric positive":
        return gen.value_output_from_spectrum(uniform(0.05, 1.0, PER_CELL, D), symmetric=True, generator=generator)
    if kind == "sharpening":
        return gen.value_output_from_spectrum(uniform(-1.0, -0.2, PER_CELL, D), generator=generator)
    return gen.value_output_from_spectrum(uniform(-1.5, 1.5, PER_CELL, D), generator=generator)


def simulate(attention, value_output, x, residual):
    """Normalised power iteration that also records the relative consensus distance per layer.

    Returns the final direction, the per-layer growth factor measured from the last iterates, and the
    consensus distances. For a real dominant eigenvalue the growth is the norm ratio of the last layer;
    for a complex pair the norm oscillates, so the modulus is read off three consecutive iterates
    x2 = t x1 - s x0 (Cayley-Hamilton on the invariant plane), with s = |mu|^2.
    """
    x = x / torch.linalg.vector_norm(x, dim=(-2, -1), keepdim=True)
    consensus, last = [], []
    for _ in range(DEPTH):
        update = attention @ x @ value_output
        x = x + update if residual else update
        last = (last + [x])[-3:]
        x = x / torch.linalg.vector_norm(x, dim=(-2, -1), keepdim=True)
        consensus.append(ovs.consensus_distance(x))
    # `one` and `two` are the images of the unit-norm `previous` after one and two more layers
    previous = last[0] / torch.linalg.vector_norm(last[0], dim=(-2, -1), keepdim=True)
    one, two = last[1], last[2] * torch.linalg.vector_norm(last[1], dim=(-2, -1), keepdim=True)
    system = torch.stack([one.flatten(-2), -previous.flatten(-2)], dim=-1)
    t_and_s = torch.linalg.lstsq(system, two.flatten(-2).unsqueeze(-1)).solution.squeeze(-1)
    real_growth = torch.linalg.vector_norm(last[2], dim=(-2, -1))
    pair_growth = t_and_s[..., 1].clamp_min(0).sqrt()
    return x, real_growth, pair_growth, torch.stack(consensus, -1)


def measured_hc_decay(consensus: torch.Tensor) -> torch.Tensor:
    """Per-layer decay factor of the HC part, over the layers where it lies between 1e-3 and 1e-11."""
    logs = consensus.log()
    window = (consensus < 1e-3) & (consensus > 1e-11)
    first = torch.where(window.any(-1), window.float().argmax(-1), torch.zeros_like(window[..., 0], dtype=torch.long))
    last = window.shape[-1] - 1 - window.flip(-1).float().argmax(-1)
    span = (last - first).clamp_min(1)
    rise = logs.gather(-1, last.unsqueeze(-1)).squeeze(-1) - logs.gather(-1, first.unsqueeze(-1)).squeeze(-1)
    return torch.where((last - first) >= 8, (rise / span).exp(), torch.full_like(rise, float("nan")))


@pytest.fixture(scope="module")
def sweep():
    generator = torch.Generator().manual_seed(2024)
    rows = []
    for attention_kind in ("softmax", "symmetric", "doubly stochastic", "causal", "circulant"):
        for value_kind in ("complex", "symmetric positive", "sharpening", "mixed"):
            for residual in (True, False):
                attention = attention_batch(attention_kind, generator)
                value_output = value_output_batch(value_kind, generator)
                x = torch.randn(PER_CELL, N, D, generator=generator, dtype=torch.float64)
                predicted = spectrum.dominant_mode(attention, value_output, residual=residual)
                direction, real_growth, pair_growth, consensus = simulate(attention, value_output, x, residual)
                complex_pair = predicted.eigenvalue.imag.abs() > 1e-9 * predicted.modulus
                mu, coordinates = spectrum.mode_coordinates(attention, value_output, direction, residual=residual)
                strongest = coordinates.abs().flatten(-2).argmax(-1, keepdim=True)
                rows.append(dict(
                    label=f"{attention_kind} / {value_kind} / {'residual' if residual else 'no residual'}",
                    predicted=predicted,
                    measured_mu=mu.flatten(-2).gather(-1, strongest).squeeze(-1),
                    growth=torch.where(complex_pair, pair_growth, real_growth),
                    consensus=consensus,
                    hc_decay=measured_hc_decay(consensus),
                ))
    return rows


def test_sweep_has_at_least_1000_pairs_and_most_are_judged(sweep):
    total = sum(len(row["growth"]) for row in sweep)
    judged = sum(int((1 - row["predicted"].rate > GAP_TOLERANCE).sum()) for row in sweep)
    sharpening = sum(int(((1 - row["predicted"].rate > GAP_TOLERANCE) & (row["predicted"].regime_code == 1)).sum())
                     for row in sweep)
    assert total >= 1000
    assert judged >= 0.6 * total, f"only {judged} of {total} pairs have a spectral gap above {GAP_TOLERANCE}"
    assert sharpening >= 50, f"only {sharpening} judged pairs are predicted to sharpen"


def test_simulation_lands_on_the_predicted_dominant_mode(sweep):
    mismatches = []
    for row in sweep:
        predicted = row["predicted"]
        judged = 1 - predicted.rate > GAP_TOLERANCE
        scale = predicted.modulus
        same = ((row["measured_mu"] - predicted.eigenvalue).abs() < 1e-6 * scale) | (
            (row["measured_mu"] - predicted.eigenvalue.conj()).abs() < 1e-6 * scale
        )
        mismatches += [(row["label"], int(k)) for k in torch.nonzero(judged & ~same).flatten()]
    assert not mismatches, f"{len(mismatches)} pairs off their predicted mode: {mismatches[:10]}"


def test_measured_regime_matches_the_prediction(sweep):
    mismatches = []
    for row in sweep:
        predicted = row["predicted"]
        judged = (1 - predicted.rate > GAP_TOLERANCE) & (predicted.regime_code != 2)
        final = row["consensus"][..., -1]
        measured_smoothing = final < 1e-9
        measured_sharpening = final > 1e-3
        expected_smoothing = predicted.regime_code == 0
        wrong = judged & ((expected_smoothing & ~measured_smoothing) | (~expected_smoothing & ~measured_sharpening))
        assert bool((predicted.is_dc == expected_smoothing)[judged].all()), row["label"]
        mismatches += [(row["label"], int(k), float(final[k])) for k in torch.nonzero(wrong).flatten()]
    assert not mismatches, f"{len(mismatches)} regime mismatches: {mismatches[:10]}"


def test_measured_growth_equals_the_dominant_modulus(sweep):
    for row in sweep:
        predicted = row["predicted"]
        judged = (1 - predicted.rate > GAP_TOLERANCE) & (predicted.modulus > 1e-6)
        error = ((row["growth"] - predicted.modulus).abs() / predicted.modulus)[judged]
        assert bool((error < GROWTH_TOLERANCE).all()), (row["label"], error.max())


def test_measured_hc_decay_equals_the_predicted_rate_in_smoothing_cases(sweep):
    checked = 0
    for row in sweep:
        predicted = row["predicted"]
        # a unique HC-dominant modulus (no oscillating complex HC pair) makes the decay geometric
        judged = (predicted.regime_code == 0) & (1 - predicted.hc_dc_rate > GAP_TOLERANCE) & ~row["hc_decay"].isnan()
        if not bool(judged.any()):
            continue
        error = ((row["hc_decay"] - predicted.hc_dc_rate).abs() / predicted.hc_dc_rate)[judged]
        checked += int(judged.sum())
        assert float(error.median()) < HC_DC_RATE_TOLERANCE, (row["label"], error)
    assert checked >= 200


def test_no_residual_always_predicts_smoothing_for_positive_attention(sweep):
    for row in sweep:
        if "no residual" in row["label"] and row["label"].split(" / ")[0] in ("softmax", "symmetric", "doubly stochastic"):
            assert bool((row["predicted"].regime_code == 0).all()), row["label"]


def test_update_eigenvalues_match_the_kronecker_matrix():
    generator = torch.Generator().manual_seed(1)
    attention = gen.softmax_attention(5, generator=generator)
    value_output = torch.randn(3, 3, generator=generator, dtype=torch.float64)
    kronecker = torch.eye(15, dtype=torch.float64) + torch.kron(value_output.T.contiguous(), attention)
    expected = torch.linalg.eigvals(kronecker)
    mu = spectrum.update_eigenvalues(attention, value_output).flatten()
    for value in mu:
        assert float((expected - value).abs().min()) < 1e-10
    no_residual = spectrum.update_eigenvalues(attention, value_output, residual=False).flatten()
    torch.testing.assert_close(no_residual + 1, mu)


def test_endpoint_gap_matches_the_sympy_factorisation():
    r, theta, lam = sp.symbols("r theta lambda_min", real=True)
    g = lambda a: (1 + a * r * sp.cos(theta)) ** 2 + (a * r * sp.sin(theta)) ** 2  # noqa: E731
    factored = r * (1 - lam) * (r * (1 + lam) + 2 * sp.cos(theta))
    assert sp.simplify(g(1) - g(lam) - factored) == 0
    values = torch.polar(torch.tensor([0.5, 1.2, 0.9], dtype=torch.float64), torch.tensor([0.3, 2.5, math.pi], dtype=torch.float64))
    lambda_min = torch.tensor([-0.4, 0.1, -0.9], dtype=torch.float64)
    expected = [float(factored.subs({r: abs(complex(v)), theta: math.atan2(v.imag, v.real), lam: float(m)}))
                for v, m in zip(values, lambda_min)]
    torch.testing.assert_close(spectrum.endpoint_gap(values, lambda_min), torch.tensor(expected, dtype=torch.float64))
    torch.testing.assert_close(spectrum.phase_condition(values, lambda_min), torch.tensor(expected) > 0)


def test_negative_spectrum_in_minus_one_to_zero_is_never_dc_dominant():
    generator = torch.Generator().manual_seed(3)
    attention = gen.softmax_attention(8, batch=(200,), generator=generator)
    eigenvalues = -torch.rand(200, 5, generator=generator, dtype=torch.float64).clamp_min(1e-3)
    value_output = gen.value_output_from_spectrum(eigenvalues, generator=generator)
    mode = spectrum.dominant_mode(attention, value_output)
    assert not bool(mode.is_dc.any())
    assert set(mode.regime) == {"sharpening"}


def test_the_bound_minus_one_is_tight():
    # lambda_H = -1.9 and non-Perron attention eigenvalues near 0.99: the DC mode wins (0.9 > 0.881)
    n = 6
    attention = 0.99 * torch.eye(n, dtype=torch.float64) + 0.01 / n
    value_output = torch.diag(torch.tensor([-1.9, -0.5], dtype=torch.float64))
    mode = spectrum.dominant_mode(attention, value_output)
    assert bool(mode.is_dc) and mode.regime == "smoothing"
    assert math.isclose(float(mode.modulus), 0.9, rel_tol=1e-12)


def test_perron_index_and_dominant_mode_fields():
    attention = gen.circulant_attention(4, next_weight=0.5)
    mode = spectrum.dominant_mode(attention, torch.diag(torch.tensor([0.5, -0.2], dtype=torch.float64)))
    eigenvalues = torch.linalg.eigvals(attention)
    assert abs(complex(eigenvalues[spectrum.perron_index(eigenvalues)]) - 1) < 1e-12
    assert mode.regime == "smoothing" and bool(mode.is_dc)
    assert math.isclose(float(mode.dc_modulus), 1.5) and math.isclose(float(mode.hc_modulus), 1 + 0.5 * 0.2, rel_tol=1e-9)
    assert math.isclose(float(mode.hc_dc_rate), float(mode.hc_modulus) / 1.5)


def test_ties_are_neither():
    mode = spectrum.dominant_mode(torch.full((3, 3), 1 / 3, dtype=torch.float64), torch.zeros(2, 2, dtype=torch.float64))
    assert mode.regime == "neither"


def test_bad_inputs():
    with pytest.raises(ValueError, match="row-stochastic"):
        spectrum.dominant_mode(2 * torch.eye(3, dtype=torch.float64), torch.eye(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="value_output must be square"):
        spectrum.dominant_mode(torch.eye(3, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="depth"):
        spectrum.power_iteration(torch.eye(3, dtype=torch.float64), torch.eye(2, dtype=torch.float64),
                                 torch.ones(3, 2, dtype=torch.float64), 0)
    with pytest.raises(TypeError, match="attention"):
        spectrum.update_eigenvalues(torch.eye(3, dtype=torch.long), torch.eye(2))


def test_attention_with_a_negative_entry_is_refused():
    attention = torch.tensor([[1.5, -0.5], [0.5, 0.5]], dtype=torch.float64)  # rows sum to 1, one entry < 0
    with pytest.raises(ValueError, match=r"row-stochastic, so nonnegative; its smallest entry is -0.5"):
        spectrum.dominant_mode(attention, torch.eye(2, dtype=torch.float64))


def test_batch_shapes_that_do_not_broadcast_name_both_arguments():
    attention = torch.full((3, 4, 4), 0.25, dtype=torch.float64)
    value_output = torch.eye(2, dtype=torch.float64).expand(2, 2, 2)
    message = (r"the batch shapes \(3,\) and \(2,\) of attention of shape \(3, 4, 4\) and value_output of shape "
               r"\(2, 2, 2\) do not broadcast")
    for function in (spectrum.dominant_mode, spectrum.update_eigenvalues):
        with pytest.raises(ValueError, match=message):
            function(attention, value_output)
    with pytest.raises(ValueError, match="attention_eigenvalues of shape"):
        spectrum.dominant_mode_from_spectra(torch.ones(3, 4), torch.ones(2, 2), torch.zeros(3, dtype=torch.long))
    x = torch.ones(5, 4, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"x of shape \(5, 4, 2\) do not broadcast"):
        spectrum.power_iteration(attention, value_output[0], x, 3)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., n, d\) = \(\.\.\., 4, 2\)"):
        spectrum.mode_coordinates(attention, value_output[0], torch.ones(4, 3, dtype=torch.float64))


@pytest.mark.parametrize("attention_min", [1.5, -1.2, float("nan"), torch.tensor([0.2, 2.0])])
def test_phase_condition_needs_attention_min_in_minus_one_to_one(attention_min):
    for function in (spectrum.phase_condition, spectrum.endpoint_gap):
        with pytest.raises(ValueError, match=r"attention_min must lie in \[-1, 1\]"):
            function(torch.tensor(0.5 + 0.1j), attention_min)


def test_phase_condition_accepts_the_ends_of_the_interval():
    values = torch.tensor([0.5 + 0.1j, -1.5 + 0.2j])  # cos(theta) > 0, and cos(theta) > -r with r > 1
    assert spectrum.phase_condition(values, -1.0).tolist() == [True, False]  # cos(theta) > 0
    assert spectrum.phase_condition(values, 1.0).tolist() == [True, True]    # cos(theta) > -r


def test_the_theory_is_exported_at_the_top_level():
    for name in spectrum.__all__:
        assert getattr(ovs, name) is getattr(spectrum, name) and name in ovs.__all__
    assert {"dominant_mode", "update_eigenvalues", "phase_condition"} <= set(spectrum.__all__)


def test_power_iteration_matches_the_stack_direction_and_growth():
    generator = torch.Generator().manual_seed(5)
    attention = gen.softmax_attention(5, generator=generator)
    value_output = torch.randn(3, 3, generator=generator, dtype=torch.float64) / 3
    x = torch.randn(5, 3, generator=generator, dtype=torch.float64)
    direction, log_growth = spectrum.power_iteration(attention, value_output, x, 10)
    final = ovs.LinearAttentionStack(attention, value_output, 10)(x)
    torch.testing.assert_close(direction, final / torch.linalg.norm(final))
    torch.testing.assert_close(log_growth.sum(), (torch.linalg.norm(final) / torch.linalg.norm(x)).log())


# --- the asymmetry of a Gaussian W_V W_O (chapter 9) ---------------------------------------------------


def test_gaussian_asymmetry_formula_and_a_monte_carlo_check():
    assert spectrum.gaussian_asymmetry(1) == 0.0
    assert spectrum.gaussian_asymmetry(10**6) == pytest.approx(2**-0.5, abs=1e-6)
    generator = torch.Generator().manual_seed(0)
    factors = torch.randn(2, 2000, 16, 16, generator=generator, dtype=torch.float64)
    product = factors[0] @ factors[1]
    skew = (product - product.transpose(-1, -2)) / 2
    sampled = (skew.flatten(1).norm(dim=1) / product.flatten(1).norm(dim=1)).mean()
    assert float(sampled) == pytest.approx(spectrum.gaussian_asymmetry(16), abs=0.01)
    with pytest.raises(ValueError, match="dim"):
        spectrum.gaussian_asymmetry(0)


# --- causal multi-head layers (chapter 10): block spectra and the forced regimes ---------------------


def _operator(attention: torch.Tensor, head_maps: torch.Tensor) -> torch.Tensor:
    """The matrix of X -> X + sum_h A_h X H_h on row-major vec(X): I + sum_h A_h kron H_h^T."""
    n, d = attention.shape[-1], head_maps.shape[-1]
    return torch.eye(n * d, dtype=torch.float64) + sum(
        torch.kron(a.contiguous(), h.T.contiguous()) for a, h in zip(attention, head_maps))


def _same_multiset(first: torch.Tensor, second: torch.Tensor, tolerance: float) -> bool:
    distance = (first.flatten()[:, None] - second.flatten()[None, :]).abs()
    return first.numel() == second.numel() and bool((distance.min(dim=1).values < tolerance).all()) and bool(
        (distance.min(dim=0).values < tolerance).all())


def test_split_by_heads_partitions_the_columns():
    H = torch.randn(6, 6, dtype=torch.float64)
    parts = spectrum.split_by_heads(H, 3)
    assert parts.shape == (3, 6, 6)
    torch.testing.assert_close(parts.sum(0), H)
    for h in range(3):
        kept = torch.zeros(6, dtype=torch.bool)
        kept[2 * h:2 * h + 2] = True
        torch.testing.assert_close(parts[h][:, kept], H[:, kept])
        assert bool((parts[h][:, ~kept] == 0).all())
    assert spectrum.split_by_heads(torch.randn(5, 4, 4), 2).shape == (5, 2, 4, 4)
    with pytest.raises(ValueError, match="heads"):
        spectrum.split_by_heads(H, 4)
    with pytest.raises(ValueError, match="value_output"):
        spectrum.split_by_heads(torch.randn(3, 4), 1)


def test_causal_block_eigenvalues_are_the_eigenvalues_of_the_layer():
    generator = ovs.seed_everything(0)
    n, d, heads = 5, 4, 2
    for _ in range(10):
        attention = gen.causal_attention(n, batch=(heads,), generator=generator)
        head_maps = torch.randn(heads, d, d, generator=generator, dtype=torch.float64) / 2    # generic: complex spectra
        blocks = spectrum.causal_block_eigenvalues(attention.diagonal(dim1=-2, dim2=-1), head_maps)
        assert blocks.shape == (n, d)
        assert _same_multiset(blocks, torch.linalg.eigvals(_operator(attention, head_maps)), 1e-6)
        # the first token attends only to itself: block 0 is I + sum_h H_h, the DC block
        dc = torch.linalg.eigvals(torch.eye(d, dtype=torch.float64) + head_maps.sum(0))
        assert _same_multiset(blocks[0], dc, 1e-9)


def test_causal_block_eigenvalues_broadcast_and_reject_bad_input():
    generator = ovs.seed_everything(1)
    diagonals = torch.rand(3, 7, 2, 5, generator=generator, dtype=torch.float64)           # (L, B, heads, n)
    head_maps = torch.randn(3, 1, 2, 4, 4, generator=generator, dtype=torch.float64)       # (L, 1, heads, d, d)
    blocks = spectrum.causal_block_eigenvalues(diagonals, head_maps)
    assert blocks.shape == (3, 7, 5, 4)
    single = spectrum.causal_block_eigenvalues(diagonals[2, 4], head_maps[2, 0])
    assert _same_multiset(blocks[2, 4], single, 1e-12)
    with pytest.raises(ValueError, match="heads"):
        spectrum.causal_block_eigenvalues(diagonals, torch.randn(3, 1, 3, 4, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="NaN"):
        spectrum.causal_block_eigenvalues(diagonals.clone().fill_(float("nan")), head_maps)
    with pytest.raises(ValueError, match="d, d"):
        spectrum.causal_block_eigenvalues(diagonals, torch.randn(3, 1, 2, 4, 3, dtype=torch.float64))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_forced_regimes_hold_for_every_causal_attention(sign):
    """The corollary of chapter 10: a symmetric H with positive spectrum always smooths, with spectrum in
    [-1, 0) never, for any causal heads."""
    generator = ovs.seed_everything(2)
    heads, n, d = 4, 7, 8
    attention = gen.causal_attention(n, temperature=0.3, batch=(64, heads), generator=generator)
    eigenvalues = sign * torch.rand(64, d, generator=generator, dtype=torch.float64).clamp_min(1e-3)
    H = gen.value_output_from_spectrum(eigenvalues, symmetric=True, generator=generator)
    blocks = spectrum.causal_block_eigenvalues(attention.diagonal(dim1=-2, dim2=-1), spectrum.split_by_heads(H, heads))
    smoothing = spectrum.dc_dominates(blocks)
    assert smoothing.shape == (64,)
    assert bool(smoothing.all()) if sign > 0 else not bool(smoothing.any())


def test_dc_dominates_on_the_non_symmetric_counterexample():
    H = torch.tensor([[5.0, -3.0], [4.0, -2.0]], dtype=torch.float64)        # eigenvalues 1 and 2
    self_attention = torch.tensor([[1.0, 0.9], [1.0, 0.1]], dtype=torch.float64)   # (heads, n)
    blocks = spectrum.causal_block_eigenvalues(self_attention, spectrum.split_by_heads(H, 2))
    torch.testing.assert_close(blocks[0].real.sort().values, torch.tensor([2.0, 3.0], dtype=torch.float64))
    assert not bool(spectrum.dc_dominates(blocks))
    one_head = spectrum.causal_block_eigenvalues(torch.tensor([[1.0, 0.5]], dtype=torch.float64), H[None])
    assert bool(spectrum.dc_dominates(one_head))
    with pytest.raises(ValueError, match="n >= 2"):
        spectrum.dc_dominates(blocks[:1])
