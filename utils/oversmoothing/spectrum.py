r"""The theory's predictions: the spectrum of the layer update and which of its modes wins.

With a fixed attention matrix ``A`` (``n x n``, row-stochastic) and a fixed ``H`` (``d x d``), the
residual layer :math:`X \mapsto X + A X H` is linear in ``X``. Its eigenvalues are
:math:`\mu_{ij} = 1 + \lambda^A_i \lambda^H_j` with eigen-matrices :math:`v_i w_j^\top` (``v_i`` a right
eigenvector of ``A``, ``w_j`` a left eigenvector of ``H``); without the residual they are
:math:`\lambda^A_i \lambda^H_j`. Nothing here forms the ``nd x nd`` Kronecker matrix.

The mode with :math:`\lambda^A_i = 1` (eigenvector :math:`\mathbf 1`, the *DC mode*) has identical
tokens. Comparing :math:`M_{DC} = \max_j |\mu_{1j}|` with :math:`M_{HC} = \max_{i \ne 1, j} |\mu_{ij}|`
predicts the regime: ``"smoothing"`` (:math:`M_{DC} > M_{HC}`, the HC/DC ratio decays like
:math:`(M_{HC}/M_{DC})^L`), ``"sharpening"`` (:math:`M_{HC} > M_{DC}`) or ``"neither"`` (a tie).

All functions accept leading batch dimensions and use ``torch.linalg.eigvals``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ._spectrum_checks import (check_attention_min, check_block_eigenvalues, check_causal_blocks, check_depth,
                               check_heads, check_layer, check_pair, check_spectra, check_square)
from ._validation import check_int

__all__ = [
    "ATTENTION_MIN_RANGE",
    "REGIMES",
    "DominantMode",
    "asymmetry",
    "causal_block_eigenvalues",
    "dc_dominates",
    "dominant_mode",
    "dominant_mode_from_spectra",
    "endpoint_gap",
    "gaussian_asymmetry",
    "mode_coordinates",
    "perron_index",
    "phase_condition",
    "power_iteration",
    "split_by_heads",
    "update_eigenvalues",
]

REGIMES: tuple[str, ...] = ("smoothing", "sharpening", "neither")
"""The predicted regimes, in the order of :attr:`DominantMode.regime_code`."""

ATTENTION_MIN_RANGE: tuple[float, float] = (-1.0, 1.0)
r"""Where :math:`\lambda_{\min}` of a row-stochastic matrix with a real spectrum lies: no eigenvalue has modulus
above 1."""


def asymmetry(matrix: torch.Tensor) -> torch.Tensor:
    r"""How far a square matrix is from symmetric: :math:`\|(H - H^\top)/2\|_F \,/\, \|H\|_F`.

    Since :math:`\|H\|_F^2 = \|(H + H^\top)/2\|_F^2 + \|(H - H^\top)/2\|_F^2`, the value lies in
    :math:`[0, 1]`: 0 for a symmetric ``H`` (real spectrum, orthogonal eigenvectors), 1 for an
    antisymmetric one (imaginary spectrum), about :math:`1/\sqrt 2` for a Gaussian random matrix.

    Args:
        matrix: ``H``, shape ``(..., k, k)``, real, finite and nonzero in every batch entry.

    Returns:
        Shape ``(...)``, the dtype of ``matrix``.

    Raises:
        TypeError: ``matrix`` is not a real floating tensor.
        ValueError: ``matrix`` is not square, not finite, or a batch entry is the zero matrix.
    """
    matrix = check_square(matrix, "matrix")
    total = torch.linalg.matrix_norm(matrix)
    if bool((total == 0).any()):
        raise ValueError("matrix contains a zero matrix, whose asymmetry is undefined")
    return torch.linalg.matrix_norm(matrix - matrix.transpose(-2, -1)) / (2 * total)


def gaussian_asymmetry(dim: int) -> float:
    r"""The asymmetry of :math:`H = W_V W_O` with independent centred Gaussian ``dim x dim`` factors, from
    expected squared norms: :math:`\sqrt{(1 - 1/d)/2}` (chapter 9). The :func:`asymmetry` of one draw
    concentrates around it as ``dim`` grows.

    Raises:
        ValueError: ``dim`` is not a positive int.
    """
    check_int(dim, "dim", minimum=1)
    return math.sqrt((1 - 1 / dim) / 2)


def perron_index(attention_eigenvalues: torch.Tensor) -> torch.Tensor:
    r"""Index of the eigenvalue of a row-stochastic matrix that is closest to 1 (the Perron/DC eigenvalue).

    Args:
        attention_eigenvalues: shape ``(..., n)``, complex or real.

    Returns:
        Shape ``(...)``, ``torch.long``.
    """
    return (attention_eigenvalues - 1).abs().argmin(dim=-1)


def update_eigenvalues(attention: torch.Tensor, value_output: torch.Tensor, residual: bool = True) -> torch.Tensor:
    r"""All eigenvalues of the layer update, :math:`\mu_{ij} = 1 + \lambda^A_i \lambda^H_j` (or :math:`\lambda^A_i \lambda^H_j`).

    Args:
        attention: ``A``, shape ``(..., n, n)``.
        value_output: ``H``, shape ``(..., d, d)``; batch shapes must broadcast with ``A``'s.
        residual: include the identity (the skip connection).

    Returns:
        Shape ``(..., n, d)``, complex: entry ``[i, j]`` pairs eigenvalue ``i`` of ``A`` (in the order of
        ``torch.linalg.eigvals``) with eigenvalue ``j`` of ``H``.

    Raises:
        TypeError, ValueError: ``attention`` or ``value_output`` is not a real square floating tensor, or
            their batch shapes do not broadcast.
    """
    attention, value_output = check_pair(attention, value_output)
    return _products(torch.linalg.eigvals(attention), torch.linalg.eigvals(value_output), residual)


def _products(lambda_a: torch.Tensor, lambda_h: torch.Tensor, residual: bool) -> torch.Tensor:
    products = lambda_a.unsqueeze(-1) * lambda_h.unsqueeze(-2)
    return 1 + products if residual else products


@dataclass(frozen=True)
class DominantMode:
    r"""The mode of the layer update with the largest modulus, and what it predicts.

    Every field has the batch shape ``(...)`` of the inputs.

    Attributes:
        attention_index: ``i*``, the index of :math:`\lambda^A_{i^*}` (order of ``torch.linalg.eigvals``).
        value_index: ``j*``, the index of :math:`\lambda^H_{j^*}`.
        eigenvalue: :math:`\mu^* = \mu_{i^* j^*}` (complex).
        is_dc: whether :math:`\lambda^A_{i^*}` is the Perron eigenvalue 1 (the DC, identical-tokens mode).
        rate: :math:`\max\{|\mu| : \mu \notin \{\mu^*, \bar\mu^*\}\} / |\mu^*|`, the factor per layer by which
            the other modes fade relative to the dominant one (direction convergence).
        dc_modulus: :math:`M_{DC} = \max_j |\mu_{1j}|`.
        hc_modulus: :math:`M_{HC} = \max_{i \ne 1, j} |\mu_{ij}|`.
        regime_code: index into :data:`REGIMES`.
    """

    attention_index: torch.Tensor
    value_index: torch.Tensor
    eigenvalue: torch.Tensor
    is_dc: torch.Tensor
    rate: torch.Tensor
    dc_modulus: torch.Tensor
    hc_modulus: torch.Tensor
    regime_code: torch.Tensor

    @property
    def modulus(self) -> torch.Tensor:
        r""":math:`|\mu^*|`, the growth factor per layer of the dominant mode."""
        return self.eigenvalue.abs()

    @property
    def hc_dc_rate(self) -> torch.Tensor:
        r""":math:`M_{HC}/M_{DC}`: below 1 the HC/DC ratio decays like its ``L``-th power (smoothing)."""
        return self.hc_modulus / self.dc_modulus

    @property
    def regime(self) -> str | np.ndarray:
        """The predicted regime: a string, or an array of strings for batched inputs."""
        names = np.array(REGIMES)[self.regime_code.cpu().numpy()]
        return str(names) if names.ndim == 0 else names


def dominant_mode(attention: torch.Tensor, value_output: torch.Tensor, residual: bool = True,
                  tolerance: float = 1e-9) -> DominantMode:
    r"""Which mode of :math:`X \mapsto X + A X H` (or :math:`A X H`) dominates, and the regime it predicts.

    Args:
        attention: ``A``, shape ``(..., n, n)``, row-stochastic: nonnegative, rows summing to 1.
        value_output: ``H``, shape ``(..., d, d)``, real; batch shapes must broadcast with ``A``'s.
        residual: include the skip connection.
        tolerance: relative tolerance under which :math:`M_{DC}` and :math:`M_{HC}` count as tied
            (regime ``"neither"``).

    Returns:
        A :class:`DominantMode`.

    Raises:
        ValueError: ``attention`` is not row-stochastic (an entry below ``-1e-6`` or a row sum off 1 by more
            than ``1e-6``), a matrix is not square, or the batch shapes of ``attention`` and
            ``value_output`` do not broadcast.
    """
    attention, value_output = check_pair(attention, value_output, row_stochastic=True)
    lambda_a = torch.linalg.eigvals(attention)
    lambda_h = torch.linalg.eigvals(value_output)
    return dominant_mode_from_spectra(lambda_a, lambda_h, perron_index(lambda_a), residual, tolerance)


def dominant_mode_from_spectra(attention_eigenvalues: torch.Tensor, value_eigenvalues: torch.Tensor,
                               perron: torch.Tensor, residual: bool = True,
                               tolerance: float = 1e-9) -> DominantMode:
    r""":func:`dominant_mode` from precomputed spectra (e.g. of a real model's attention maps and weights).

    Args:
        attention_eigenvalues: :math:`\lambda^A`, shape ``(..., n)``.
        value_eigenvalues: :math:`\lambda^H`, shape ``(..., d)``.
        perron: index of the Perron eigenvalue in ``attention_eigenvalues``, shape ``(...)``.
        residual: include the skip connection.
        tolerance: relative tolerance for ties.
    """
    check_spectra(attention_eigenvalues, value_eigenvalues, perron)
    mu = _products(attention_eigenvalues.to(torch.complex128), value_eigenvalues.to(torch.complex128), residual)
    n, d = mu.shape[-2:]
    modulus = mu.abs()
    flat = modulus.flatten(-2)
    best = flat.argmax(dim=-1)
    attention_index, value_index = best // d, best % d
    eigenvalue = mu.flatten(-2).gather(-1, best.unsqueeze(-1)).squeeze(-1)

    scale = eigenvalue.abs().clamp_min(torch.finfo(torch.float64).tiny).unsqueeze(-1)
    same = ((mu.flatten(-2) - eigenvalue.unsqueeze(-1)).abs() <= tolerance * scale) | (
        (mu.flatten(-2) - eigenvalue.conj().unsqueeze(-1)).abs() <= tolerance * scale
    )
    rest = flat.masked_fill(same, 0.0).max(dim=-1).values
    rate = rest / scale.squeeze(-1)

    is_perron_row = torch.arange(n, device=mu.device) == perron.unsqueeze(-1)  # (..., n)
    dc_modulus = modulus.masked_fill(~is_perron_row.unsqueeze(-1), -1.0).flatten(-2).max(dim=-1).values
    hc_modulus = modulus.masked_fill(is_perron_row.unsqueeze(-1), -1.0).flatten(-2).max(dim=-1).values.clamp_min(0.0)
    regime = torch.full_like(best, 2)
    regime[dc_modulus > hc_modulus * (1 + tolerance)] = 0
    regime[hc_modulus > dc_modulus * (1 + tolerance)] = 1
    return DominantMode(
        attention_index=attention_index,
        value_index=value_index,
        eigenvalue=eigenvalue,
        is_dc=attention_index == perron,
        rate=rate,
        dc_modulus=dc_modulus,
        hc_modulus=hc_modulus,
        regime_code=regime,
    )


def endpoint_gap(value_eigenvalue: torch.Tensor, attention_min: torch.Tensor | float) -> torch.Tensor:
    r""":math:`g(1) - g(\lambda_{\min})` of the phase lemma, :math:`g(\lambda) = |1 + \lambda \lambda^H|^2`.

    Equals :math:`r (1 - \lambda_{\min}) (r (1 + \lambda_{\min}) + 2\cos\theta)` for :math:`\lambda^H = r e^{i\theta}`.

    Args:
        value_eigenvalue: :math:`\lambda^H`, any shape, complex or real.
        attention_min: :math:`\lambda_{\min}`, the smallest eigenvalue of ``A`` (real spectrum), in
            :math:`[-1, 1]`; broadcastable.

    Returns:
        Real tensor of the broadcast shape; positive exactly when the DC candidate wins.

    Raises:
        ValueError: ``attention_min`` lies outside :math:`[-1, 1]` or is NaN.
    """
    value_eigenvalue = torch.as_tensor(value_eigenvalue).to(torch.complex128)
    attention_min = check_attention_min(attention_min, ATTENTION_MIN_RANGE)
    return (1 + value_eigenvalue).abs() ** 2 - (1 + attention_min * value_eigenvalue).abs() ** 2


def phase_condition(value_eigenvalue: torch.Tensor, attention_min: torch.Tensor | float) -> torch.Tensor:
    r"""The phase lemma's test: :math:`\cos\theta > -r(1 + \lambda_{\min})/2` for :math:`\lambda^H = r e^{i\theta}`.

    True exactly when, for a real attention spectrum in :math:`[\lambda_{\min}, 1]` with
    :math:`\lambda_{\min} < 1`, the DC eigenvalue :math:`1 + \lambda^H` has a larger modulus than every
    :math:`1 + \lambda^A \lambda^H`. (Zero-modulus :math:`\lambda^H` gives ``False``.)

    Args:
        value_eigenvalue: :math:`\lambda^H`, any shape, complex or real.
        attention_min: :math:`\lambda_{\min}` in :math:`[-1, 1]` (a row-stochastic matrix has no eigenvalue
            of modulus above 1), broadcastable.

    Returns:
        Boolean tensor of the broadcast shape.

    Raises:
        ValueError: ``attention_min`` lies outside :math:`[-1, 1]` or is NaN.
    """
    value_eigenvalue = torch.as_tensor(value_eigenvalue).to(torch.complex128)
    attention_min = check_attention_min(attention_min, ATTENTION_MIN_RANGE)
    r, theta = value_eigenvalue.abs(), value_eigenvalue.angle()
    return (r > 0) & (torch.cos(theta) > -r * (1 + attention_min) / 2)


def mode_coordinates(attention: torch.Tensor, value_output: torch.Tensor, x: torch.Tensor,
                     residual: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Coordinates of ``X`` in the eigen-matrix basis, ``X = sum_ij C_ij v_i w_j^T``, with each mode's eigenvalue.

    With ``V`` the right eigenvectors of ``A`` (columns) and ``W`` the left eigenvectors of ``H``
    (columns, :math:`w_j^\top H = \lambda_j w_j^\top`), :math:`C = V^{-1} X W^{-\top}`. Needs
    diagonalisable ``A`` and ``H``.

    Args:
        attention: shape ``(..., n, n)``.
        value_output: shape ``(..., d, d)``.
        x: shape ``(..., n, d)``.
        residual: whether the eigenvalues returned include the skip connection's ``1 +``.

    Returns:
        ``(eigenvalues, coordinates)``, both shape ``(..., n, d)`` and complex: entry ``[i, j]`` is
        :math:`\mu_{ij}` and :math:`C_{ij}`, in the same order.
    """
    attention, value_output, x = check_layer(attention, value_output, x)
    lambda_a, right_a = torch.linalg.eig(attention)
    lambda_h, left_h = torch.linalg.eig(value_output.transpose(-1, -2))
    x = x.to(right_a.dtype)
    coordinates = torch.linalg.solve(right_a, x) @ torch.linalg.inv(left_h).transpose(-1, -2)
    return _products(lambda_a, lambda_h, residual), coordinates


def power_iteration(attention: torch.Tensor, value_output: torch.Tensor, x: torch.Tensor, depth: int,
                    residual: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Iterate the layer ``depth`` times, renormalising after each layer (the direction is unchanged).

    Args:
        attention: ``A``, shape ``(..., n, n)``.
        value_output: ``H``, shape ``(..., d, d)``.
        x: :math:`X_0`, shape ``(..., n, d)``.
        depth: number of layers.
        residual: include the skip connection.

    Returns:
        ``(direction, log_growth)``: :math:`X_L/\lVert X_L \rVert_F`, shape ``(..., n, d)``, and
        :math:`\log(\lVert X_{\ell+1} \rVert_F / \lVert X_\ell \rVert_F)` for every layer, shape ``(..., depth)``.
    """
    attention, value_output, x = check_layer(attention, value_output, x)
    check_depth(depth)
    x = x / torch.linalg.vector_norm(x, dim=(-2, -1), keepdim=True)
    growth = []
    for _ in range(depth):
        update = attention @ x @ value_output
        x = x + update if residual else update
        norm = torch.linalg.vector_norm(x, dim=(-2, -1), keepdim=True)
        growth.append(norm.squeeze(-1).squeeze(-1).log())
        x = x / norm
    return x, torch.stack(growth, dim=-1)


def split_by_heads(value_output: torch.Tensor, heads: int) -> torch.Tensor:
    r"""The per-head maps :math:`H E_h` of a shared :math:`H` whose columns are split among ``heads`` heads.

    Head ``h`` owns the contiguous columns :math:`S_h = \{h d_h, \dots, (h + 1) d_h - 1\}`, ``d_h = d / heads``
    (the layout of :class:`~oversmoothing.models.transformer.Attention`), and :math:`E_h` zeroes the others.

    Args:
        value_output: :math:`H`, shape ``(..., d, d)``.
        heads: number of heads, dividing ``d``.

    Returns:
        Shape ``(..., heads, d, d)``; the maps sum to :math:`H`.
    """
    d = check_heads(value_output, heads)
    owner = torch.arange(d, device=value_output.device) // (d // heads)             # (d,): the head of each column
    selection = owner == torch.arange(heads, device=value_output.device)[:, None]      # (heads, d): diagonal of E_h
    return value_output.unsqueeze(-3) * selection.to(value_output.dtype)[:, None, :]


def causal_block_eigenvalues(self_attention: torch.Tensor, head_value_outputs: torch.Tensor) -> torch.Tensor:
    r"""Eigenvalues of the diagonal blocks :math:`M_k = I + \sum_h (A_h)_{kk} H_h` of a causal multi-head layer.

    For lower-triangular attention maps :math:`A_h` the layer :math:`X \mapsto X + \sum_h A_h X H_h` is block
    triangular over tokens, so its eigenvalues are exactly those of :math:`M_1, \dots, M_n`; with
    row-stochastic maps, :math:`M_1 = I + \sum_h H_h` holds the DC eigenvalues.

    Args:
        self_attention: the diagonals :math:`(A_h)_{kk}`, shape ``(..., heads, n)``, real.
        head_value_outputs: :math:`H_h`, shape ``(..., heads, d, d)``, real; leading dimensions broadcast
            with those of ``self_attention``.

    Returns:
        Shape ``(..., n, d)``, complex: row ``k`` holds the eigenvalues of :math:`M_k` (``k = 0`` is the DC block).
    """
    check_causal_blocks(self_attention, head_value_outputs)
    dtype = torch.promote_types(self_attention.dtype, head_value_outputs.dtype)
    blocks = torch.einsum("...hk,...hij->...kij", self_attention.to(dtype), head_value_outputs.to(dtype))
    blocks = blocks + torch.eye(blocks.shape[-1], dtype=dtype, device=blocks.device)
    return torch.linalg.eigvals(blocks)


def dc_dominates(block_eigenvalues: torch.Tensor) -> torch.Tensor:
    """Whether the DC block's largest eigenvalue modulus beats every other block's.

    Args:
        block_eigenvalues: output of :func:`causal_block_eigenvalues`, shape ``(..., n, d)`` with ``n >= 2``.

    Returns:
        Shape ``(...)``, bool: ``True`` where the layer is in the smoothing regime.
    """
    check_block_eigenvalues(block_eigenvalues)
    modulus = block_eigenvalues.abs()
    return modulus[..., 0, :].amax(dim=-1) > modulus[..., 1:, :].flatten(-2).amax(dim=-1)
