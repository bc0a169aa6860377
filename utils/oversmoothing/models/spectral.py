r"""The value-output map :math:`H` of a block, parameterised by its spectrum, and read back from a model.

Dovonon et al. replace the product :math:`W_V W_O` of a block by one ``d x d`` matrix
:math:`H = V \Lambda V^\top`: :math:`V` is the orthogonal factor of a QR decomposition of a free
parameter :math:`\Theta`, so :math:`H` is symmetric with real eigenvalues :math:`\mathrm{diag}(\Lambda)`,
which are clipped into a set that decides the regime:

- ``"smooth"`` (their "+" model): :math:`\lambda = \mathrm{clip}(\psi^2, \epsilon, \lambda_{\max})`, positive,
  so the DC mode dominates the residual update :math:`X + A X H` (a low-pass filter);
- ``"sharpen"`` (their "−" model): :math:`\lambda = -\mathrm{clip}(\psi^2, \epsilon, 1) \in [-1, 0)`, the range of
  the sufficient condition under which the DC mode never dominates.

:class:`SpectralH` is that matrix as a module; :class:`~oversmoothing.models.values.SpectralValues` puts
it in an attention block, and :meth:`~oversmoothing.models.transformer.TransformerEncoder.value_output_maps`
reads the effective :math:`H` of every block back.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from .._validation import check_choice, check_int

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
        check_int(dim, "dim", minimum=1)
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
