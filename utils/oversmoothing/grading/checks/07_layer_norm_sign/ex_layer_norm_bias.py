"""Checks of exercise ex-layer-norm-bias: ``flip_gaps(stack, inputs)``, how far the pre-LN stack with -H is from
the stack with H and the gains negated (bias kept), and with gains and bias negated together."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_layer_norm_bias"
points = 3

DIM, DEPTH = 6, 5


def _weights(seed):
    generator = torch.Generator().manual_seed(seed)
    W_Q, W_K = (torch.randn(DIM, DIM, generator=generator, dtype=torch.float64) / DIM**0.5 for _ in range(2))
    H = ovs.generators.value_output_from_spectrum(0.1 + 0.4 * torch.rand(DIM, generator=generator, dtype=torch.float64),
                                                  symmetric=True, generator=generator)
    gain, bias = (torch.randn(DIM, generator=generator, dtype=torch.float64) for _ in range(2))
    inputs = torch.randn(3, 7, DIM, generator=generator, dtype=torch.float64)
    return W_Q, W_K, H, gain, bias, inputs


def _hidden(W_Q, W_K, H, gain, bias, inputs):
    stack = ovs.models.RecomputedAttentionStack(W_Q, W_K, H, DEPTH, gain=gain, bias=bias)
    with torch.no_grad():
        return stack.forward_intermediates(inputs).hidden_states


def _gaps(flip_gaps, W_Q, W_K, H, gain, bias, inputs):
    gaps = flip_gaps(ovs.models.RecomputedAttentionStack(W_Q, W_K, H, DEPTH, gain=gain, bias=bias), inputs)
    assert len(gaps) == 2, f"flip_gaps returns two numbers (only_gain, both), got {gaps!r}"
    return float(gaps[0]), float(gaps[1])


@test_case(hidden=False)
def both_flipped_is_the_negated_stack(flip_gaps):
    W_Q, W_K, H, gain, bias, inputs = _weights(0)
    only_gain, both = _gaps(flip_gaps, W_Q, W_K, H, gain, bias, inputs)
    assert both < 1e-10, f"negating gamma and beta together gives exactly the -H stack (gap 0), got a gap of {both:.3g}"
    assert only_gain > 1e-3, f"negating only gamma does not give the -H stack when beta != 0, got a gap of {only_gain:.3g}"


@test_case(hidden=True)
def only_gain_gap_is_the_largest_difference(flip_gaps):
    W_Q, W_K, H, gain, bias, inputs = _weights(1)
    only_gain, _ = _gaps(flip_gaps, W_Q, W_K, H, gain, bias, inputs)
    expected = float((_hidden(W_Q, W_K, H, -gain, bias, inputs) - _hidden(W_Q, W_K, -H, gain, bias, inputs)).abs().max())
    assert abs(only_gain - expected) < 1e-9, f"only_gain: expected the largest absolute difference {expected:.6f}, got {only_gain:.6f}"


@test_case(hidden=True)
def without_bias_both_gaps_vanish(flip_gaps):
    W_Q, W_K, H, gain, _, inputs = _weights(2)
    only_gain, both = _gaps(flip_gaps, W_Q, W_K, H, gain, torch.zeros(DIM, dtype=torch.float64), inputs)
    assert max(only_gain, both) < 1e-10, f"with beta = 0 both flips give the -H stack (gaps 0), got {only_gain:.3g}, {both:.3g}"
