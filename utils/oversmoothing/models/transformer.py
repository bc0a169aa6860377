r"""A small Transformer encoder in the spirit of nanoGPT, with every switch the book studies.

Residual on or off, LayerNorm before the branch (``"pre"``), after the sum (``"post"``) or not at
all (``"none"``), the MLP on or off, a causal mask, and the value map of the attention branch
(``value_map``, a module from :mod:`oversmoothing.models.values`): the ordinary :math:`W_V W_O`, the
spectral :math:`H` of Dovonon et al. (``"smooth"``, ``"sharpen"``) or the AttnScale and FeatScale filters
of Wang et al. (2022). Attention uses PyTorch's fused ``scaled_dot_product_attention`` unless the
attention weights are asked for; then a readable manual path computes
:math:`\mathrm{softmax}(QK^\top/\sqrt{d_h}) V` and returns the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_choice, check_int, check_tokens
from .spectral import check_eigenvalue_bounds
from .values import AttnScaleValues, FeatScaleValues, LinearValues, SpectralValues, ValueMap

NormPlacement = Literal["pre", "post", "none"]
NORM_PLACEMENTS: tuple[str, ...] = ("pre", "post", "none")
ValueMapName = Literal["standard", "smooth", "sharpen", "attnscale", "featscale"]
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
    value_map: ValueMapName = "standard"
    eigenvalue_floor: float = 1e-3
    max_eigenvalue: float = 1.0

    def __post_init__(self) -> None:
        for name in ("dim", "depth", "heads"):
            check_int(getattr(self, name), name, minimum=1)
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


def build_value_map(config: TransformerConfig) -> ValueMap:
    """The value map module that ``config.value_map`` names (:mod:`oversmoothing.models.values`)."""
    if config.value_map in ("smooth", "sharpen"):
        return SpectralValues(config.dim, config.heads, config.value_map, config.eigenvalue_floor,
                              config.max_eigenvalue, bias=config.bias)
    kinds = {"standard": LinearValues, "attnscale": AttnScaleValues, "featscale": FeatScaleValues}
    return kinds[config.value_map](config.dim, config.heads, bias=config.bias)


class Attention(nn.Module):
    r"""Multi-head self-attention with a fused path and a manual path that returns the weights.

    What happens to the tokens around the attention is the injected ``values`` module
    (:class:`~oversmoothing.models.values.ValueMap`; by default the one ``config.value_map`` names): it
    makes the per-head queries, keys and values, may rescale the attention (AttnScale), and maps the
    merged heads to the branch output (:math:`W_O`, FeatScale).

    Args:
        config: the :class:`TransformerConfig`.
        values: a value map to use instead of the one ``config.value_map`` names.
    """

    def __init__(self, config: TransformerConfig, values: ValueMap | None = None):
        super().__init__()
        self.causal = config.causal
        self.values = build_value_map(config) if values is None else values

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
        q, k, v = self.values.project(x)
        y, weights = self.values.attend(q, k, v, self.causal, return_weights)
        y = self.values.output(y.transpose(1, 2).reshape(batch, n, dim))
        return y, weights

    def value_output_map(self) -> torch.Tensor:
        """The effective ``H``, shape ``(d, d)``: ``W_V W_O`` or the spectral matrix."""
        return self.values.matrix()


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
    """A LayerNorm of width ``d``, or the identity for ``norm="none"``."""
    return nn.Identity() if config.norm == "none" else nn.LayerNorm(config.dim)


class Block(nn.Module):
    r"""One Transformer block.

    ``norm="pre"``:  ``x = x + attn(ln1(x))``; ``x = x + mlp(ln2(x))``.
    ``norm="post"``: ``x = ln1(x + attn(x))``; ``x = ln2(x + mlp(x))``.
    ``norm="none"``: ``x = x + attn(x)``; ``x = x + mlp(x)``.
    Without residual the ``x +`` is dropped. The LayerNorm gains :math:`\gamma` are
    ``ln1.weight`` and ``ln2.weight`` (``ln1``, ``ln2`` are the identity for ``norm="none"``).
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.pre_norm = config.norm == "pre"
        self.residual = config.residual
        self.ln1 = _norm(config)
        self.attn = Attention(config)
        self.ln2 = _norm(config) if config.mlp else None
        self.mlp = MLP(config) if config.mlp else None

    def forward(self, x: torch.Tensor, return_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x``: shape ``(B, n, d)``. Returns ``(x, weights)`` with weights ``(B, heads, n, n)`` or ``None``."""
        if self.pre_norm:
            y, weights = self.attn(self.ln1(x), return_weights)
            x = x + y if self.residual else y
            if self.mlp is not None:
                y = self.mlp(self.ln2(x))
                x = x + y if self.residual else y
            return x, weights
        y, weights = self.attn(x, return_weights)
        x = self.ln1(x + y if self.residual else y)  # post-LN; ln1 is the identity for norm="none"
        if self.mlp is not None:
            y = self.mlp(x)
            x = self.ln2(x + y if self.residual else y)
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

    def value_output_maps(self, include_norm_gain: bool = False) -> torch.Tensor:
        r"""The effective value-output map :math:`H` of every block, in the row-vector convention ``X -> X H``.

        - ``value_map="standard"``, ``"attnscale"``, ``"featscale"``: :math:`H = W_V W_O` (summed over
          heads; biases and the FeatScale rescaling of the output bands are not part of ``H``);
        - ``"smooth"``, ``"sharpen"``: the block's :class:`~oversmoothing.models.spectral.SpectralH` matrix.

        With uniform attention :math:`P = \tfrac1n \mathbf 1 \mathbf 1^\top` and no biases, a block's
        attention branch is exactly :math:`P X H`.

        Args:
            include_norm_gain: multiply on the left by :math:`\mathrm{diag}(\gamma)`, the gain ``ln1.weight``
                of the LayerNorm in front of the branch (pre-LN only), the map that decides the regime when
                :math:`\gamma` has negative entries.

        Returns:
            Shape ``(L, d, d)``, in the parameters' dtype and device; differentiable (use
            ``torch.no_grad()`` for analysis).

        Raises:
            ValueError: ``include_norm_gain`` when ``norm`` is not ``"pre"``.
        """
        self._check_norm_gain(include_norm_gain)
        maps = [block.attn.values.matrix() for block in self.blocks]
        if include_norm_gain:
            maps = [block.ln1.weight[:, None] * h for block, h in zip(self.blocks, maps)]
        return torch.stack(maps)

    def head_value_outputs(self, include_norm_gain: bool = False) -> torch.Tensor:
        r"""Every block's per-head value-output maps :math:`H_h`, shape ``(L, heads, d, d)``.

        Ordinary blocks: :math:`W_V^{(h)} W_O^{(h)}` (columns :math:`S_h` of :math:`W_V`, rows :math:`S_h`
        of :math:`W_O`); smoothing and sharpening blocks: :math:`H E_h`
        (:func:`~oversmoothing.spectrum.split_by_heads`). The maps of a block sum to its
        :meth:`value_output_maps` entry; ``include_norm_gain`` as there.
        """
        self._check_norm_gain(include_norm_gain)
        maps = [block.attn.values.per_head() for block in self.blocks]
        if include_norm_gain:
            maps = [block.ln1.weight[:, None] * h for block, h in zip(self.blocks, maps)]
        return torch.stack(maps)

    def _check_norm_gain(self, include_norm_gain: bool) -> None:
        if include_norm_gain and self.config.norm != "pre":
            raise ValueError(f"include_norm_gain needs a pre-LN encoder (norm='pre'), got norm={self.config.norm!r}")


def _encoder_of(model: nn.Module) -> TransformerEncoder:
    encoder = getattr(model, "encoder", model)
    if not isinstance(encoder, TransformerEncoder):
        raise TypeError(f"model must be a TransformerEncoder or hold one as .encoder, got {type(model).__name__}")
    return encoder


def value_output_maps(model: nn.Module, include_norm_gain: bool = False) -> torch.Tensor:
    """:meth:`TransformerEncoder.value_output_maps` of ``model`` or of its ``.encoder``
    (:class:`~oversmoothing.models.vit.VisionTransformer`, :class:`~oversmoothing.models.char.CharTransformer`).

    Returns:
        Shape ``(L, d, d)``.

    Raises:
        TypeError: ``model`` is neither an encoder nor holds one as ``.encoder``.
        ValueError: ``include_norm_gain`` for an encoder whose ``norm`` is not ``"pre"``.
    """
    return _encoder_of(model).value_output_maps(include_norm_gain)


def head_value_outputs(model: nn.Module, include_norm_gain: bool = False) -> torch.Tensor:
    """:meth:`TransformerEncoder.head_value_outputs` of ``model`` or of its ``.encoder``.

    Returns:
        Shape ``(L, heads, d, d)``.

    Raises:
        TypeError, ValueError: as :func:`value_output_maps`.
    """
    return _encoder_of(model).head_value_outputs(include_norm_gain)
