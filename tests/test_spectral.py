"""Spectral value maps: ``SpectralH`` keeps its spectrum in its set, the ``value_map`` blocks compute
what their formulas say (AttnScale and FeatScale as in :mod:`oversmoothing.filters`; their fused and
manual paths agree in ``tests/test_models.py``), ``value_output_maps``
and ``head_value_outputs`` read the effective ``H`` (and its per-head parts) back, and ``spectrum.asymmetry`` measures how far ``H`` is from symmetric."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import oversmoothing as ovs
from oversmoothing import filters
from oversmoothing.models import VALUE_MAPS, SpectralH, head_value_outputs, value_output_maps
from oversmoothing.spectrum import asymmetry

DIM, HEADS = 16, 4
HEAD_DIM = DIM // HEADS


def make_encoder(value_map: str, **overrides) -> ovs.TransformerEncoder:
    settings = dict(dim=DIM, depth=2, heads=HEADS, init_std=DIM**-0.5, value_map=value_map) | overrides
    ovs.seed_everything(0)
    return ovs.TransformerEncoder(ovs.TransformerConfig(**settings)).eval()


def split_heads(x: torch.Tensor) -> torch.Tensor:
    """``(B, n, d) -> (B, heads, n, d_h)``."""
    return x.view(*x.shape[:2], HEADS, HEAD_DIM).transpose(1, 2)


def explicit_softmax(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    return (split_heads(q) @ split_heads(k).transpose(-2, -1) / math.sqrt(HEAD_DIM)).softmax(-1)


def merge_heads(y: torch.Tensor) -> torch.Tensor:
    """``(B, heads, n, d_h) -> (B, n, d)``."""
    return y.transpose(1, 2).reshape(y.shape[0], y.shape[2], DIM)


# --------------------------------------------------------------------------------------------
# SpectralH
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sign", ["smooth", "sharpen"])
def test_spectral_h_is_symmetric_with_an_orthogonal_unique_basis(sign):
    torch.manual_seed(0)
    module = SpectralH(8, sign, floor=0.01, max_eigenvalue=0.7).double()
    with torch.no_grad():
        basis, eigenvalues, matrix = module.basis(), module.eigenvalues(), module.matrix()
    torch.testing.assert_close(basis.T @ basis, torch.eye(8, dtype=torch.float64))
    torch.testing.assert_close(matrix, matrix.T)
    # V is the Q of theta = Q R with diag(R) > 0
    r = basis.T @ module.theta.detach()
    torch.testing.assert_close(r, r.triu())
    assert bool((r.diagonal() > 0).all())
    # H's spectrum is the clipped psi^2 with V's columns as eigenvectors
    torch.testing.assert_close(matrix @ basis, basis * eigenvalues)
    low, high = (0.01, 0.7) if sign == "smooth" else (-1.0, -0.01)
    assert bool((eigenvalues >= low).all() and (eigenvalues <= high).all())
    assert float(eigenvalues.max() - eigenvalues.min()) > 0.2          # spread over the set at initialisation
    x = torch.randn(3, 5, 8, dtype=torch.float64)
    torch.testing.assert_close(module(x).detach(), x @ matrix)


@pytest.mark.parametrize("sign, expected", [("smooth", [0.01, 0.01, 0.25, 0.7]), ("sharpen", [-0.01, -0.01, -0.25, -1.0])])
def test_spectral_h_clips_psi_squared(sign, expected):
    module = SpectralH(4, sign, floor=0.01, max_eigenvalue=0.7)
    with torch.no_grad():
        module.psi.copy_(torch.tensor([0.0, -0.05, -0.5, 3.0]))
    torch.testing.assert_close(module.eigenvalues(), torch.tensor(expected))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(dim=0, sign="smooth"), ValueError, "dim"),
        (dict(dim=4, sign="plus"), ValueError, "sign"),
        (dict(dim=4, sign="smooth", floor=0.0), ValueError, "floor"),
        (dict(dim=4, sign="smooth", floor=0.1, max_eigenvalue=0.05), ValueError, "max_eigenvalue"),
    ],
)
def test_spectral_h_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        SpectralH(**kwargs)


@pytest.mark.parametrize("value_map", ["smooth", "sharpen"])
@pytest.mark.parametrize("push", [1.0, -1.0])
def test_spectrum_stays_in_its_set_during_aggressive_training(value_map, push):
    """AdamW with a large learning rate and a loss that rewards (push=+1) or punishes (-1) large |lambda|."""
    floor, top = 0.05, 0.8
    model = make_encoder(value_map, eigenvalue_floor=floor, max_eigenvalue=top).train()
    low, high = (floor, top) if value_map == "smooth" else (-1.0, -floor)
    optimiser = torch.optim.AdamW(model.parameters(), lr=0.3, weight_decay=0.05)
    generator = torch.Generator().manual_seed(0)
    x, target = torch.randn(4, 6, DIM, generator=generator), torch.randn(4, 6, DIM, generator=generator)
    for _ in range(12):
        loss = F.mse_loss(model(x), target) - push * value_output_maps(model).square().sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            maps = value_output_maps(model).double()
            eigenvalues = torch.linalg.eigvalsh(maps)
            bases = torch.stack([block.attn.values.h.basis() for block in model.blocks]).double()
        torch.testing.assert_close(maps, maps.transpose(-2, -1))
        torch.testing.assert_close(bases.transpose(-2, -1) @ bases, torch.eye(DIM, dtype=torch.float64).expand_as(bases),
                                   atol=1e-5, rtol=0)
        assert float(eigenvalues.min()) >= low - 1e-5 and float(eigenvalues.max()) <= high + 1e-5
    # the loss drove the spectrum onto the clip it pushes towards (so the clip was exercised)
    bound = high if (push > 0) == (value_map == "smooth") else low
    assert float((eigenvalues - bound).abs().min()) < 1e-5


@pytest.mark.parametrize("value_map", ["smooth", "sharpen"])
def test_gradients_reach_theta_and_psi(value_map):
    model = make_encoder(value_map).train()
    model(torch.randn(2, 5, DIM)).square().mean().backward()
    for block in model.blocks:
        spectral = block.attn.values.h
        assert float(spectral.theta.grad.abs().max()) > 0
        assert bool((spectral.psi.grad != 0).all())
        assert float(block.attn.values.qk.weight.grad.abs().max()) > 0


# --------------------------------------------------------------------------------------------
# The value_map blocks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value_map", ["smooth", "sharpen"])
def test_spectral_heads_take_their_columns_of_x_h_without_output_projection(value_map):
    attn = make_encoder(value_map, depth=1).blocks[0].attn
    x = torch.randn(2, 6, DIM)
    with torch.no_grad():
        y, weights = attn(x, return_weights=True)
        q, k = attn.values.qk(x).chunk(2, dim=-1)
        xh = x @ attn.values.h.matrix()
        expected = merge_heads(explicit_softmax(q, k) @ split_heads(xh))
    torch.testing.assert_close(weights, explicit_softmax(q, k))
    torch.testing.assert_close(y, expected)
    assert not hasattr(attn.values, "proj") and not hasattr(attn.values, "qkv")


@pytest.mark.parametrize("value_map", ["smooth", "sharpen"])
def test_spectral_branch_is_a_x_h_when_all_heads_attend_alike(value_map):
    attn = make_encoder(value_map, depth=1).blocks[0].attn
    with torch.no_grad():                                      # give every head head 0's queries and keys
        weight = attn.values.qk.weight.view(2, HEADS, HEAD_DIM, DIM)
        weight.copy_(weight[:, :1].clone().expand_as(weight))
        bias = attn.values.qk.bias.view(2, HEADS, HEAD_DIM)
        bias.copy_(bias[:, :1].clone().expand_as(bias))
        x = torch.randn(2, 6, DIM)
        manual, weights = attn(x, return_weights=True)
        fused, _ = attn(x)
        attention = weights[:, 0]
        assert float((weights - attention[:, None]).abs().max()) == 0
        assert float((attention - 1 / 6).abs().max()) > 1e-2  # not uniform, so A matters
        expected = attention @ x @ attn.values.h.matrix()
    torch.testing.assert_close(manual, expected)
    torch.testing.assert_close(fused, expected, rtol=1e-4, atol=1e-5)


def test_attnscale_equals_filters_attnscale_on_the_explicit_weights():
    attn = make_encoder("attnscale", depth=1).blocks[0].attn
    x = torch.randn(2, 6, DIM)
    with torch.no_grad():
        attn.values.omega.copy_(torch.tensor([-0.5, 0.0, 0.7, 2.0]))
        q, k, v = attn.values.qkv(x).chunk(3, dim=-1)
        scaled = filters.attnscale(explicit_softmax(q, k), attn.values.omega)
        expected = attn.values.proj(merge_heads(scaled @ split_heads(v)))
        unscaled = attn.values.proj(merge_heads(explicit_softmax(q, k) @ split_heads(v)))
        manual, weights = attn(x, return_weights=True)
        fused, _ = attn(x)
    assert float((expected - unscaled).abs().max()) > 1e-2     # omega changes the output
    torch.testing.assert_close(weights, scaled)
    torch.testing.assert_close(manual, expected)
    torch.testing.assert_close(fused, expected, rtol=1e-4, atol=1e-5)


def test_featscale_equals_filters_featscale_on_the_attention_output():
    attn = make_encoder("featscale", depth=1).blocks[0].attn
    x = torch.randn(2, 6, DIM)
    with torch.no_grad():
        plain, _ = attn(x)                                         # s_dc = s_hc = 0: the identity
        s_dc, s_hc = torch.randn(DIM), torch.randn(DIM)
        attn.values.s_dc.copy_(s_dc)
        attn.values.s_hc.copy_(s_hc)
        scaled, _ = attn(x)
    torch.testing.assert_close(scaled, filters.featscale(plain, s_dc, s_hc))
    assert float((scaled - plain).abs().max()) > 1e-2


def test_standard_blocks_have_no_extra_parameters():
    names = {name.rsplit(".", 1)[-1] for name, _ in make_encoder("standard").named_parameters()}
    assert names.isdisjoint({"omega", "s_dc", "s_hc", "theta", "psi"})
    attn = make_encoder("standard").blocks[0].attn
    assert attn.values.qkv.out_features == 3 * DIM and isinstance(attn.values.proj, torch.nn.Linear)


@pytest.mark.parametrize("value_map", ["attnscale", "featscale"])
def test_causal_with_a_token_mean_filter_is_rejected(value_map):
    with pytest.raises(ValueError, match="causal"):
        ovs.TransformerConfig(dim=DIM, heads=HEADS, causal=True, value_map=value_map)


@pytest.mark.parametrize(
    "overrides, match",
    [
        (dict(value_map="spectral"), "value_map"),
        (dict(eigenvalue_floor=0.0), "floor"),
        (dict(eigenvalue_floor=1.0), "floor"),
        (dict(eigenvalue_floor=0.1, max_eigenvalue=0.1), "max_eigenvalue"),
    ],
)
def test_bad_spectral_config_is_rejected(overrides, match):
    with pytest.raises(ValueError, match=match):
        ovs.TransformerConfig(**overrides)


# --------------------------------------------------------------------------------------------
# value_output_maps
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value_map", VALUE_MAPS)
def test_value_output_maps_reproduce_the_branch_under_uniform_attention(value_map):
    model = make_encoder(value_map, bias=False, norm="pre")
    generator = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for block in model.blocks:                              # zero queries and keys: uniform attention
            query_key = block.attn.values.qk if value_map in ("smooth", "sharpen") else block.attn.values.qkv
            query_key.weight[: 2 * DIM].zero_()
            block.ln1.weight.copy_(torch.randn(DIM, generator=generator))   # signs mixed
        x = torch.randn(2, 6, DIM, generator=generator)
        maps, with_gain = value_output_maps(model), value_output_maps(model, include_norm_gain=True)
        mean = F.layer_norm(x, (DIM,)).mean(dim=-2, keepdim=True).expand_as(x)
        for layer, block in enumerate(model.blocks):
            torch.testing.assert_close(block.attn(x)[0], x.mean(dim=-2, keepdim=True).expand_as(x) @ maps[layer])
            torch.testing.assert_close(block.attn(block.ln1(x))[0], mean @ with_gain[layer])
    assert maps.shape == (2, DIM, DIM)
    assert float((with_gain - maps).abs().max()) > 1e-2


def test_value_output_maps_accept_models_holding_an_encoder_and_check_input():
    ovs.seed_everything(0)
    vit = ovs.VisionTransformer(ovs.TransformerConfig(dim=DIM, depth=3, heads=HEADS, value_map="sharpen"), 8, 4)
    torch.testing.assert_close(value_output_maps(vit), value_output_maps(vit.encoder))
    assert value_output_maps(vit).shape == (3, DIM, DIM)
    char = ovs.CharTransformer(ovs.TransformerConfig(dim=DIM, depth=2, heads=HEADS, causal=True), 5, 8)
    block = char.encoder.blocks[1].attn
    torch.testing.assert_close(value_output_maps(char)[1], block.values.qkv.weight[2 * DIM:].T @ block.values.proj.weight.T)
    with pytest.raises(TypeError, match="TransformerEncoder"):
        value_output_maps(torch.nn.Linear(3, 3))
    with pytest.raises(ValueError, match="pre-LN"):
        value_output_maps(make_encoder("standard", norm="post"), include_norm_gain=True)


@pytest.mark.parametrize("variant", ["standard", "smooth", "sharpen"])
def test_head_value_outputs_rebuild_the_attention_branch(variant):
    ovs.seed_everything(3)
    config = ovs.TransformerConfig(dim=8, depth=2, heads=2, causal=True, value_map=variant, bias=False)
    model = ovs.CharTransformer(config, vocab_size=11, context=6)
    with torch.no_grad():
        for block in model.encoder.blocks:
            block.ln1.weight.uniform_(-1.5, 1.5)
        maps = head_value_outputs(model)
        assert maps.shape == (2, 2, 8, 8)
        torch.testing.assert_close(maps.sum(1), value_output_maps(model))
        gained = head_value_outputs(model, include_norm_gain=True)
        torch.testing.assert_close(gained.sum(1), value_output_maps(model, include_norm_gain=True))
        x = torch.randn(3, 6, 8)
        branch, weights = model.encoder.blocks[0].attn(x, return_weights=True)             # weights (B, heads, n, n)
        rebuilt = torch.einsum("bhkl,bld,hde->bke", weights, x, maps[0])
    torch.testing.assert_close(branch, rebuilt, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------------------------
# asymmetry
# --------------------------------------------------------------------------------------------


def test_asymmetry_closed_forms_and_batches():
    generator = torch.Generator().manual_seed(0)
    g = torch.randn(5, 6, 6, generator=generator, dtype=torch.float64)
    symmetric, antisymmetric = g + g.transpose(-2, -1), g - g.transpose(-2, -1)
    torch.testing.assert_close(asymmetry(symmetric), torch.zeros(5, dtype=torch.float64))
    torch.testing.assert_close(asymmetry(antisymmetric), torch.ones(5, dtype=torch.float64))
    mixed = symmetric + 2 * antisymmetric                       # orthogonal parts: norms add in squares
    expected = 2 * antisymmetric.norm(dim=(-2, -1)) / mixed.norm(dim=(-2, -1))
    torch.testing.assert_close(asymmetry(mixed), expected)
    gaussian = asymmetry(torch.randn(400, 400, generator=generator, dtype=torch.float64))
    assert abs(float(gaussian) - 2**-0.5) < 0.01
    assert asymmetry(g).shape == (5,)


def test_asymmetry_rejects_bad_input():
    with pytest.raises(ValueError, match="square"):
        asymmetry(torch.randn(3, 4))
    with pytest.raises(ValueError, match="zero"):
        asymmetry(torch.zeros(2, 3, 3))
    with pytest.raises(TypeError, match="floating"):
        asymmetry(torch.ones(3, 3, dtype=torch.long))



def test_attention_takes_an_injected_value_map():
    from oversmoothing.models.transformer import Attention
    from oversmoothing.models.values import SpectralValues

    values = SpectralValues(DIM, HEADS, "sharpen", 1e-3, 1.0)
    attention = Attention(ovs.TransformerConfig(dim=DIM, depth=1, heads=HEADS), values=values)
    assert attention.values is values
    torch.testing.assert_close(attention.value_output_map(), values.h.matrix())
    x = torch.randn(2, 5, DIM)
    with torch.no_grad():
        fused, _ = attention(x)
        manual, weights = attention(x, return_weights=True)
    torch.testing.assert_close(fused, manual)
    assert weights.shape == (2, HEADS, 5, 5)
