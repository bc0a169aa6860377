r"""A small Transformer encoder in the spirit of nanoGPT, with every switch the book studies.

Residual on or off, LayerNorm before the branch (``"pre"``), after the sum (``"post"``) or not at
all (``"none"``), the MLP on or off, a causal mask, and the value map of the attention branch
(``value_map``): the ordinary :math:`W_V W_O`, the spectral :math:`H` of Dovonon et al.
(``"smooth"``, ``"sharpen"``; see :mod:`oversmoothing.models.spectral`) or the AttnScale and FeatScale
filters of Wang et al. (2022). Attention uses PyTorch's fused ``scaled_dot_product_attention`` unless
the attention weights are asked for; then a readable manual path computes
:math:`\mathrm{softmax}(QK^\top/\sqrt{d_h}) V` and returns the weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from .. import filters
from .._validation import check_choice, check_tokens
from .spectral import SpectralH, check_eigenvalue_bounds

NormPlacement = Literal["pre", "post", "none"]
NORM_PLACEMENTS: tuple[str, ...] = ("pre", "post", "none")
ValueMap = Literal["standard", "smooth", "sharpen", "attnscale", "featscale"]
VALUE_MAPS: tuple[str, ...] = ("standard", "smooth", "sharpen", "attnscale", "featscale")
"""The value maps of :attr:`TransformerConfig.value_map`."""


@dataclass
class TransformerConfig:
    r"""Shape and switches of a Transformer encoder.

    Attributes:
        dim: token width ``d``.
        depth: number of blocks ``L``.
        heads: attention heads; ``dim`` must be divisible by it.
        mlp_ratio: hidden width of the MLP as a multiple of ``dim``.
        mlp: include the MLP sub-layer.
        residual: keep the skip connections around both sub-layers.
        norm: LayerNorm placement, ``"pre"``, ``"post"`` or ``"none"``.
        causal: mask attention to earlier tokens (language models).
        bias: biases in the linear layers.
        init_std: standard deviation of the normal initialisation of linear weights.
        value_map: what the attention branch does with the attended tokens (:data:`VALUE_MAPS`):

            - ``"standard"``: per-head value maps and an output projection, :math:`W_V W_O`;
            - ``"smooth"`` / ``"sharpen"``: one symmetric :math:`H` with eigenvalues in
              ``[eigenvalue_floor, max_eigenvalue]`` / ``[-1, -eigenvalue_floor]``
              (:class:`~oversmoothing.models.spectral.SpectralH`), see :class:`Attention` for the heads;
            - ``"attnscale"``: AttnScale, :math:`\hat A_h = A_{DC} + (1 + \omega_h) A_{HC}`;
            - ``"featscale"``: FeatScale on the branch output,
              :math:`Y' = Y + s_{DC} \odot \mathrm{DC}[Y] + s_{HC} \odot \mathrm{HC}[Y]`.

            AttnScale and FeatScale mix all tokens through :math:`A_{DC}` or :math:`\mathrm{DC}[Y]`,
            so neither is allowed with ``causal=True``.
        eigenvalue_floor: smallest eigenvalue modulus of the spectral :math:`H`, in ``(0, 1)``.
        max_eigenvalue: upper clip of the ``"smooth"`` eigenvalues (the ``"sharpen"`` clip is 1).
    """

    dim: int = 64
    depth: int = 4
    heads: int = 4
    mlp_ratio: float = 4.0
    mlp: bool = True
    residual: bool = True
    norm: NormPlacement = "pre"
    causal: bool = False
    bias: bool = True
    init_std: float = 0.02
    value_map: ValueMap = "standard"
    eigenvalue_floor: float = 1e-3
    max_eigenvalue: float = 1.0

    def __post_init__(self) -> None:
        for name in ("dim", "depth", "heads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.dim % self.heads:
            raise ValueError(f"dim={self.dim} must be divisible by heads={self.heads}")
        check_choice(self.norm, "norm", NORM_PLACEMENTS)
        if self.mlp_ratio <= 0:
            raise ValueError(f"mlp_ratio must be positive, got {self.mlp_ratio!r}")
        if self.init_std <= 0:
            raise ValueError(f"init_std must be positive, got {self.init_std!r}")
        check_choice(self.value_map, "value_map", VALUE_MAPS)
        check_eigenvalue_bounds(self.eigenvalue_floor, self.max_eigenvalue)
        if self.causal and self.value_map in ("attnscale", "featscale"):
            raise ValueError(f"value_map={self.value_map!r} averages over all tokens, future ones included, "
                             "so it cannot be causal; use causal=False or another value_map")

    @property
    def head_dim(self) -> int:
        """Width ``d_h = dim / heads`` of one head."""
        return self.dim // self.heads


@dataclass(frozen=True)
class Intermediates:
    """What depth analysis needs from a forward pass.

    Attributes:
        output: the model's final tokens, shape ``(..., n, d)`` (after a final norm, if any).
        hidden_states: token states of every layer, shape ``(L + 1, ..., n, d)``; index 0 is the
            input of the first block, index ``l`` the output of block ``l``.
        attentions: attention weights of every block, shape ``(L, ..., heads, n, n)``, or ``None``
            when not requested.
    """

    output: torch.Tensor
    hidden_states: torch.Tensor
    attentions: torch.Tensor | None


class Attention(nn.Module):
    r"""Multi-head self-attention with a fused path and a manual path that returns the weights.

    The modules depend on ``config.value_map``:

    - ``"standard"``, ``"attnscale"``, ``"featscale"``: ``qkv`` (``d -> 3d``: queries, keys, values of all
      heads) and ``proj`` (``d -> d``), so the value-output map is :math:`W_V W_O`.
      ``"attnscale"`` adds ``omega`` (shape ``(heads,)``), ``"featscale"`` adds ``s_dc`` and ``s_hc``
      (shape ``(d,)``), all initialised to zero, where the block equals the standard one.
    - ``"smooth"``, ``"sharpen"``: ``qk`` (``d -> 2d``: per-head queries and keys), ``value_output``, a
      :class:`~oversmoothing.models.spectral.SpectralH`, and no output projection (``proj`` is the
      identity). The value of head ``h`` is its slice of columns :math:`S_h` of :math:`XH`, so the branch is
      :math:`\mathrm{concat}_h\big(A_h (X H)_{:, S_h}\big)`, which is exactly :math:`A X H` when all heads
      attend alike. The paper does not say how it handles heads; this choice is the book's own.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.heads = config.heads
        self.head_dim = config.head_dim
        self.causal = config.causal
        if config.value_map in ("smooth", "sharpen"):
            self.qk = nn.Linear(config.dim, 2 * config.dim, bias=config.bias)
            self.value_output = SpectralH(config.dim, config.value_map, config.eigenvalue_floor,
                                          config.max_eigenvalue)
            self.proj = nn.Identity()
        else:
            self.qkv = nn.Linear(config.dim, 3 * config.dim, bias=config.bias)
            self.value_output = None
            self.proj = nn.Linear(config.dim, config.dim, bias=config.bias)
        attnscale, featscale = config.value_map == "attnscale", config.value_map == "featscale"
        self.omega = nn.Parameter(torch.zeros(config.heads)) if attnscale else None
        self.s_dc = nn.Parameter(torch.zeros(config.dim)) if featscale else None
        self.s_hc = nn.Parameter(torch.zeros(config.dim)) if featscale else None

    def forward(self, x: torch.Tensor, return_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        r"""Attend.

        Args:
            x: tokens, shape ``(B, n, d)``.
            return_weights: compute the attention weights explicitly and return them.

        Returns:
            ``(y, weights)``: ``y`` of shape ``(B, n, d)``; ``weights`` of shape ``(B, heads, n, n)``
            (rows sum to one) or ``None``. The weights are those that multiply the values: for
            ``"attnscale"`` the rescaled :math:`\hat A_h` (which may have negative entries).
        """
        batch, n, dim = x.shape
        if self.value_output is None:
            q, k, v = self.qkv(x).view(batch, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        else:
            q, k = self.qk(x).view(batch, n, 2, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
            v = self.value_output(x).view(batch, n, self.heads, self.head_dim).transpose(1, 2)
        if return_weights:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)
            if self.causal:
                future = torch.ones(n, n, dtype=torch.bool, device=x.device).triu(1)
                scores = scores.masked_fill(future, float("-inf"))
            weights = scores.softmax(dim=-1)
            if self.omega is not None:
                weights = filters.attnscale(weights, self.omega)
            y = weights @ v
        else:
            weights = None
            y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
            if self.omega is not None:  # A_DC V is the token mean of V: (1 + w) A V - w mean(V)
                omega = self.omega.to(y.dtype)[:, None, None]
                y = (1 + omega) * y - omega * v.mean(dim=-2, keepdim=True)
        y = self.proj(y.transpose(1, 2).reshape(batch, n, dim))
        if self.s_dc is not None:
            y = filters._featscale(y, self.s_dc, self.s_hc)
        return y, weights

    def value_output_map(self) -> torch.Tensor:
        """The effective ``H``, shape ``(d, d)``: ``W_V W_O`` or the spectral matrix; see
        :func:`~oversmoothing.models.spectral.value_output_maps`."""
        if self.value_output is not None:
            return self.value_output.matrix()
        dim = self.proj.in_features
        return self.qkv.weight[2 * dim:].T @ self.proj.weight.T


class MLP(nn.Module):
    """Position-wise two-layer perceptron with GELU."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        hidden = int(config.mlp_ratio * config.dim)
        self.fc1 = nn.Linear(config.dim, hidden, bias=config.bias)
        self.fc2 = nn.Linear(hidden, config.dim, bias=config.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: shape ``(..., d)``; returns the same shape."""
        return self.fc2(F.gelu(self.fc1(x)))


def _norm(config: TransformerConfig) -> nn.Module:
    return nn.Identity() if config.norm == "none" else nn.LayerNorm(config.dim)


class Block(nn.Module):
    r"""One Transformer block.

    ``norm="pre"``:  ``x = x + attn(ln1(x))``; ``x = x + mlp(ln2(x))``.
    ``norm="post"``: ``x = ln1(x + attn(x))``; ``x = ln2(x + mlp(x))``.
    ``norm="none"``: ``x = x + attn(x)``; ``x = x + mlp(x)``.
    Without residual the ``x +`` is dropped. The LayerNorm gains :math:`\gamma` are
    ``ln1.weight`` and ``ln2.weight``.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.norm = config.norm
        self.residual = config.residual
        self.ln1 = _norm(config)
        self.attn = Attention(config)
        self.ln2 = _norm(config) if config.mlp else None
        self.mlp = MLP(config) if config.mlp else None

    def _sublayer(self, x: torch.Tensor, branch, norm: nn.Module) -> torch.Tensor:
        if self.norm == "pre":
            out = branch(norm(x))
            return x + out if self.residual else out
        out = branch(x)
        out = x + out if self.residual else out
        return norm(out) if self.norm == "post" else out

    def forward(self, x: torch.Tensor, return_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x``: shape ``(B, n, d)``. Returns ``(x, weights)`` with weights ``(B, heads, n, n)`` or ``None``."""
        weights = None

        def attend(h: torch.Tensor) -> torch.Tensor:
            nonlocal weights
            y, weights = self.attn(h, return_weights)
            return y

        x = self._sublayer(x, attend, self.ln1)
        if self.mlp is not None:
            x = self._sublayer(x, self.mlp, self.ln2)
        return x, weights


class TransformerEncoder(nn.Module):
    """A stack of :class:`Block` s acting on token embeddings.

    Args:
        config: the :class:`TransformerConfig`.

    A pre-LN encoder ends with a LayerNorm (as in GPT-2 and ViT); the others do not.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.depth))
        self.final_norm = nn.LayerNorm(config.dim) if config.norm == "pre" else nn.Identity()
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=self.config.init_std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    def _check_input(self, x: torch.Tensor) -> torch.Tensor:
        x = check_tokens(x, finite=False)
        if x.ndim != 3 or x.shape[-1] != self.config.dim:
            raise ValueError(f"x must have shape (B, n, {self.config.dim}), got {tuple(x.shape)}")
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: tokens, shape ``(B, n, d)``. Returns the final tokens, same shape."""
        x = self._check_input(x)
        for block in self.blocks:
            x, _ = block(x)
        return self.final_norm(x)

    def forward_intermediates(self, x: torch.Tensor, return_attention: bool = False) -> Intermediates:
        """Run the stack and keep every layer's tokens (and attention maps on request).

        Args:
            x: tokens, shape ``(B, n, d)``.
            return_attention: also return each block's attention weights (manual path).

        Returns:
            :class:`Intermediates` with ``hidden_states`` of shape ``(L + 1, B, n, d)`` and
            ``attentions`` of shape ``(L, B, heads, n, n)`` or ``None``.
        """
        x = self._check_input(x)
        states, maps = [x], []
        for block in self.blocks:
            x, weights = block(x, return_attention)
            states.append(x)
            maps.append(weights)
        attentions = torch.stack(maps) if return_attention else None
        return Intermediates(output=self.final_norm(x), hidden_states=torch.stack(states), attentions=attentions)
