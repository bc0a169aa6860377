r"""The value-output map :math:`H` of a block, parameterised by its spectrum, and read back from a model.

Dovonon et al. replace the product :math:`W_V W_O` of a block by one ``d x d`` matrix
:math:`H = V \Lambda V^\top`: :math:`V` is the orthogonal factor of a QR decomposition of a free
parameter :math:`\Theta`, so :math:`H` is symmetric with real eigenvalues :math:`\mathrm{diag}(\Lambda)`,
which are clipped into a set that decides the regime:

- ``"smooth"`` (their "+" model): :math:`\lambda = \mathrm{clip}(\psi^2, \epsilon, \lambda_{\max})`, positive,
  so the DC mode dominates the residual update :math:`X + A X H` (a low-pass filter);
- ``"sharpen"`` (their "−" model): :math:`\lambda = -\mathrm{clip}(\psi^2, \epsilon, 1) \in [-1, 0)`, the range of
  the sufficient condition under which the DC mode never dominates.

:class:`SpectralH` is that matrix as a module; :func:`value_output_maps` returns the effective :math:`H`
of every block of a :class:`~oversmoothing.models.transformer.TransformerEncoder` (``W_V W_O`` for the
ordinary blocks), optionally with the LayerNorm gain that precedes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import torch
from torch import nn

from .._validation import check_choice
from ..spectrum import split_by_heads

if TYPE_CHECKING:
    from .transformer import TransformerEncoder

SpectralSign = Literal["smooth", "sharpen"]
SPECTRAL_SIGNS: tuple[str, ...] = ("smooth", "sharpen")


class SpectralH(nn.Module):
    r"""A symmetric ``d x d`` matrix :math:`H = V\,\mathrm{diag}(\lambda)\,V^\top` whose eigenvalues stay in a set.

    :math:`V` is the orthogonal factor of ``torch.linalg.qr(theta)``, with its columns multiplied by the
    signs of :math:`\mathrm{diag}(R)` so that it is unique (:math:`R` gets a positive diagonal); gradients
    flow through the QR decomposition, recomputed at every call. The eigenvalues are

    - ``sign="smooth"``: :math:`\mathrm{clamp}(\psi^2, \text{floor}, \text{max\_eigenvalue})`;
    - ``sign="sharpen"``: :math:`-\mathrm{clamp}(\psi^2, \text{floor}, 1) \in [-1, -\text{floor}] \subset [-1, 0)`.

    A clamp passes no gradient while :math:`\psi^2` sits outside its bounds, so training cannot push an
    eigenvalue out of the set. ``theta`` starts Gaussian (a Haar-random :math:`V`) and :math:`\psi^2`
    uniform inside the set, so the eigenvalues start spread over it.

    Args:
        dim: width ``d``.
        sign: ``"smooth"`` or ``"sharpen"``.
        floor: smallest modulus of an eigenvalue, in ``(0, 1)``.
        max_eigenvalue: the upper clip of the smoothing model (ignored for ``"sharpen"``, whose clip is 1);
            larger than ``floor``.

    Attributes:
        theta: the free parameter :math:`\Theta`, shape ``(d, d)``.
        psi: :math:`\psi`, shape ``(d,)``.
    """

    def __init__(self, dim: int, sign: SpectralSign, floor: float = 1e-3, max_eigenvalue: float = 1.0):
        super().__init__()
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        self.sign = check_choice(sign, "sign", SPECTRAL_SIGNS)
        check_eigenvalue_bounds(floor, max_eigenvalue)
        self.floor = float(floor)
        self.upper = float(max_eigenvalue) if sign == "smooth" else 1.0
        self.theta = nn.Parameter(torch.randn(dim, dim))
        self.psi = nn.Parameter(torch.empty(dim).uniform_(self.floor, self.upper).sqrt_())

    def basis(self) -> torch.Tensor:
        """The orthogonal eigenvector matrix ``V``, shape ``(d, d)`` (columns are eigenvectors of ``H``)."""
        q, r = torch.linalg.qr(self.theta)
        signs = torch.where(r.diagonal() < 0, -1.0, 1.0).to(q.dtype)
        return q * signs

    def eigenvalues(self) -> torch.Tensor:
        """The clipped eigenvalues, shape ``(d,)``, in the order of the columns of :meth:`basis`."""
        magnitude = self.psi.square().clamp(self.floor, self.upper)
        return magnitude if self.sign == "smooth" else -magnitude

    def matrix(self) -> torch.Tensor:
        r""":math:`H = V\,\mathrm{diag}(\lambda)\,V^\top`, shape ``(d, d)``, symmetric."""
        basis = self.basis()
        return (basis * self.eigenvalues()) @ basis.T

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: shape ``(..., d)``. Returns ``x @ H``, the same shape (``H`` computed once per call)."""
        return x @ self.matrix()

    def extra_repr(self) -> str:
        return f"dim={self.psi.shape[0]}, sign={self.sign!r}, eigenvalues in ±[{self.floor:g}, {self.upper:g}]"


def check_eigenvalue_bounds(floor: float, max_eigenvalue: float) -> None:
    """Raise ``ValueError`` unless ``0 < floor < 1`` and ``max_eigenvalue > floor`` (both finite)."""
    if not 0 < floor < 1:
        raise ValueError(f"the eigenvalue floor must lie in (0, 1), got {floor!r}")
    if not floor < max_eigenvalue < float("inf"):
        raise ValueError(f"max_eigenvalue must be finite and larger than the eigenvalue floor {floor!r}, "
                         f"got {max_eigenvalue!r}")


def value_output_maps(model: nn.Module, include_norm_gain: bool = False) -> torch.Tensor:
    r"""The effective value-output map :math:`H` of every block, in the row-vector convention ``X -> X H``.

    - ``value_map="standard"``, ``"attnscale"``, ``"featscale"``: :math:`H = W_V W_O` with
      ``W_V = attn.qkv.weight[2d:].T`` and ``W_O = attn.proj.weight.T`` (summed over heads; biases and
      the FeatScale rescaling of the output bands are not part of ``H``).
    - ``"smooth"``, ``"sharpen"``: the block's :class:`SpectralH` matrix.

    With uniform attention :math:`P = \tfrac1n \mathbf 1 \mathbf 1^\top` and no biases, a block's attention
    branch is exactly :math:`P X H`.

    Args:
        model: a :class:`~oversmoothing.models.transformer.TransformerEncoder`, or a model holding one as
            ``.encoder`` (:class:`~oversmoothing.models.vit.VisionTransformer`,
            :class:`~oversmoothing.models.char.CharTransformer`).
        include_norm_gain: multiply on the left by :math:`\mathrm{diag}(\gamma)`, the gain ``ln1.weight`` of
            the LayerNorm in front of the branch (pre-LN only), the map that decides the regime when
            :math:`\gamma` has negative entries.

    Returns:
        Shape ``(L, d, d)``, in the parameters' dtype and device; differentiable (use ``torch.no_grad()``
        for analysis).

    Raises:
        TypeError: ``model`` is neither an encoder nor holds one as ``.encoder``.
        ValueError: ``include_norm_gain`` for an encoder whose ``norm`` is not ``"pre"``.
    """
    encoder = _encoder_of(model, include_norm_gain)
    maps = []
    for block in encoder.blocks:
        value_output = block.attn.value_output_map()
        maps.append(block.ln1.weight[:, None] * value_output if include_norm_gain else value_output)
    return torch.stack(maps)


def _encoder_of(model: nn.Module, include_norm_gain: bool = False) -> TransformerEncoder:
    """The encoder of ``model``; with ``include_norm_gain`` it must be pre-LN."""
    from .transformer import TransformerEncoder  # a module-level import would be circular

    encoder = getattr(model, "encoder", model)
    if not isinstance(encoder, TransformerEncoder):
        raise TypeError(f"model must be a TransformerEncoder or hold one as .encoder, got {type(model).__name__}")
    if include_norm_gain and encoder.config.norm != "pre":
        raise ValueError(f"include_norm_gain needs a pre-LN encoder (norm='pre'), got norm={encoder.config.norm!r}")
    return encoder


def head_value_outputs(model: nn.Module, include_norm_gain: bool = False) -> torch.Tensor:
    r"""Every block's per-head value-output maps :math:`H_h`, shape ``(L, heads, d, d)``.

    Ordinary blocks: :math:`W_V^{(h)} W_O^{(h)}` (columns :math:`S_h` of :math:`W_V`, rows :math:`S_h` of
    :math:`W_O`); smoothing and sharpening blocks: :math:`H E_h` (:func:`split_by_heads`). The maps of a
    block sum to its :func:`~oversmoothing.models.value_output_maps` entry. With ``include_norm_gain``,
    each is multiplied on the left by :math:`\mathrm{diag}(\gamma)`, the gain of the pre-LN in front of it.

    Args:
        model: an encoder or a model holding one as ``.encoder``, as for :func:`value_output_maps`.
        include_norm_gain: multiply by the pre-LN gain (pre-LN only).

    Raises:
        TypeError, ValueError: as :func:`value_output_maps`.
    """
    encoder = _encoder_of(model, include_norm_gain)
    config = encoder.config
    maps = []
    for block in encoder.blocks:
        attention = block.attn
        if attention.value_output is not None:
            per_head = split_by_heads(attention.value_output.matrix(), config.heads)
        else:
            value = attention.qkv.weight[2 * config.dim:].T.reshape(config.dim, config.heads, config.head_dim)
            output = attention.proj.weight.T.reshape(config.heads, config.head_dim, config.dim)
            per_head = value.permute(1, 0, 2) @ output
        maps.append(block.ln1.weight[:, None] * per_head if include_norm_gain else per_head)
    return torch.stack(maps)
