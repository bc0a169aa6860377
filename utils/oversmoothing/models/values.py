r"""The value maps of an attention block: what it does with the tokens around the attention itself.

An :class:`~oversmoothing.models.transformer.Attention` block holds one of these modules (as timm's
blocks hold an injected norm or MLP layer). Each makes the per-head queries, keys and values
(:meth:`ValueMap.project`), may rescale the attention (:meth:`ValueMap.attend`) and maps the attended,
merged heads to the branch output (:meth:`ValueMap.output`); :meth:`ValueMap.matrix` reads back its
effective value-output map :math:`H` (row-vector convention ``X -> X H``).

- :class:`LinearValues` (``value_map="standard"``): :math:`W_V` and :math:`W_O`, so :math:`H = W_V W_O`;
- :class:`AttnScaleValues` (``"attnscale"``): AttnScale of Wang et al. (2022),
  :math:`\hat A_h = A_{DC} + (1 + \omega_h) A_{HC}`;
- :class:`FeatScaleValues` (``"featscale"``): FeatScale on the branch output;
- :class:`SpectralValues` (``"smooth"``, ``"sharpen"``): the symmetric :math:`H` of
  :class:`~oversmoothing.models.spectral.SpectralH`, no output projection.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .. import filters
from ..spectrum import split_by_heads
from .spectral import SpectralH, SpectralSign

__all__ = ["AttnScaleValues", "FeatScaleValues", "LinearValues", "SpectralValues", "ValueMap", "softmax_attention"]


def softmax_attention(q: torch.Tensor, k: torch.Tensor, causal: bool) -> torch.Tensor:
    r""":math:`\mathrm{softmax}(QK^\top/\sqrt{d_h})` with an optional causal mask.

    ``q``, ``k``: shape ``(B, heads, n, d_h)``. Returns the weights, shape ``(B, heads, n, n)``.
    """
    n = q.shape[-2]
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    if causal:
        future = torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
    return scores.softmax(dim=-1)


class ValueMap(nn.Module):
    """What an attention block does with the tokens before and after attending (the base class)."""

    def __init__(self, heads: int):
        super().__init__()
        self.heads = heads

    def project(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x``: tokens, shape ``(B, n, d)``. Returns queries, keys and values, each ``(B, heads, n, d_h)``."""
        raise NotImplementedError

    def attend(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, return_weights: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attention of every head: ``(A_h V_h, A_h)``, shapes ``(B, heads, n, d_h)`` and ``(B, heads, n, n)``.

        Without ``return_weights`` the weights are not formed (PyTorch's fused kernel) and ``None`` is
        returned in their place.
        """
        if return_weights:
            weights = softmax_attention(q, k, causal)
            return weights @ v, weights
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal), None

    def output(self, y: torch.Tensor) -> torch.Tensor:
        """``y``: the attended heads merged, shape ``(B, n, d)``. Returns the branch output, same shape."""
        raise NotImplementedError

    def matrix(self) -> torch.Tensor:
        """The effective value-output map ``H``, shape ``(d, d)``."""
        raise NotImplementedError

    def per_head(self) -> torch.Tensor:
        """The value-output map of every head, shape ``(heads, d, d)``; they sum to :meth:`matrix`."""
        raise NotImplementedError


class LinearValues(ValueMap):
    r"""Per-head values and an output projection: ``qkv`` (``d -> 3d``: queries, keys and values of all
    heads) and ``proj`` (``d -> d``), so :math:`H = W_V W_O` with ``W_V = qkv.weight[2d:].T`` and
    ``W_O = proj.weight.T`` (biases are not part of ``H``)."""

    def __init__(self, dim: int, heads: int, bias: bool = True):
        super().__init__(heads)
        self.qkv = nn.Linear(dim, 3 * dim, bias=bias)
        self.proj = nn.Linear(dim, dim, bias=bias)

    def project(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        batch, n, dim = x.shape
        q, k, v = self.qkv(x).view(batch, n, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        return q, k, v

    def output(self, y: torch.Tensor) -> torch.Tensor:
        return self.proj(y)

    def matrix(self) -> torch.Tensor:
        dim = self.proj.in_features
        return self.qkv.weight[2 * dim:].T @ self.proj.weight.T

    def per_head(self) -> torch.Tensor:
        r""":math:`W_V^{(h)} W_O^{(h)}`: columns :math:`S_h` of :math:`W_V` times rows :math:`S_h` of :math:`W_O`."""
        dim = self.proj.in_features
        value = self.qkv.weight[2 * dim:].T.reshape(dim, self.heads, dim // self.heads)
        output = self.proj.weight.T.reshape(self.heads, dim // self.heads, dim)
        return value.permute(1, 0, 2) @ output


class AttnScaleValues(LinearValues):
    r""":class:`LinearValues` with AttnScale: head ``h`` attends with
    :math:`\hat A_h = A_{DC} + (1 + \omega_h) A_{HC}` (``omega``, shape ``(heads,)``, starts at zero, where
    the block is the standard one). The weights returned are :math:`\hat A_h`, which may have negative
    entries; the fused path computes :math:`\hat A_h V_h` from :math:`A_h V_h`
    (:func:`~oversmoothing.filters.attnscale_attended`)."""

    def __init__(self, dim: int, heads: int, bias: bool = True):
        super().__init__(dim, heads, bias)
        self.omega = nn.Parameter(torch.zeros(heads))

    def attend(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, return_weights: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if return_weights:
            weights = filters.attnscale(softmax_attention(q, k, causal), self.omega)
            return weights @ v, weights
        attended, _ = super().attend(q, k, v, causal, return_weights=False)
        return filters.attnscale_attended(attended, v, self.omega.to(attended.dtype), validate=False), None


class FeatScaleValues(LinearValues):
    r""":class:`LinearValues` with FeatScale on the branch output,
    :math:`Y' = Y + s_{DC} \odot \mathrm{DC}[Y] + s_{HC} \odot \mathrm{HC}[Y]` (``s_dc``, ``s_hc``: shape
    ``(d,)``, start at zero, where the block is the standard one; they are not part of ``H``)."""

    def __init__(self, dim: int, heads: int, bias: bool = True):
        super().__init__(dim, heads, bias)
        self.s_dc = nn.Parameter(torch.zeros(dim))
        self.s_hc = nn.Parameter(torch.zeros(dim))

    def output(self, y: torch.Tensor) -> torch.Tensor:
        return filters.featscale(self.proj(y), self.s_dc, self.s_hc, validate=False)


class SpectralValues(ValueMap):
    r"""The spectral :math:`H` of Dovonon et al.: ``qk`` (``d -> 2d``: per-head queries and keys) and ``h``,
    a :class:`~oversmoothing.models.spectral.SpectralH`; no output projection. The value of head ``h`` is
    its slice of columns :math:`S_h` of :math:`XH`, so the branch is
    :math:`\mathrm{concat}_h\big(A_h (X H)_{:, S_h}\big)`, which is exactly :math:`A X H` when all heads
    attend alike. The paper does not say how it handles heads; this choice is the book's own."""

    def __init__(self, dim: int, heads: int, sign: SpectralSign, floor: float, max_eigenvalue: float,
                 bias: bool = True):
        super().__init__(heads)
        self.qk = nn.Linear(dim, 2 * dim, bias=bias)
        self.h = SpectralH(dim, sign, floor, max_eigenvalue)

    def project(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        batch, n, dim = x.shape
        head_dim = dim // self.heads
        q, k = self.qk(x).view(batch, n, 2, self.heads, head_dim).permute(2, 0, 3, 1, 4)
        v = self.h(x).view(batch, n, self.heads, head_dim).transpose(1, 2)
        return q, k, v

    def output(self, y: torch.Tensor) -> torch.Tensor:
        return y

    def matrix(self) -> torch.Tensor:
        return self.h.matrix()

    def per_head(self) -> torch.Tensor:
        r""":math:`H E_h` (:func:`~oversmoothing.spectrum.split_by_heads`)."""
        return split_by_heads(self.h.matrix(), self.heads)
