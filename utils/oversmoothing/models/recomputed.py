r"""An attention-only stack whose attention is recomputed from the tokens at every layer, with LayerNorm.

The linear stacks of :mod:`oversmoothing.models.linear` keep one attention matrix ``A`` for every layer.
Here ``A_l`` is a softmax of query-key scores of the current tokens, so it changes with depth, while the
weights are shared by all ``depth`` layers (an ALBERT-like stack). One LayerNorm with gain
:math:`\gamma` and bias :math:`\beta` sits either before the attention branch (``"pre"``) or after the
residual sum (``"post"``):

.. math::

    \text{pre:}\quad  X \leftarrow X + \mathrm{softmax}\!\Big(\frac{\mathrm{LN}(X) W_Q\, (\mathrm{LN}(X) W_K)^\top}{\sqrt{d_k}}\Big)\,\mathrm{LN}(X)\, H,

    \text{post:}\quad X \leftarrow \mathrm{LN}\Big(X + \mathrm{softmax}\!\Big(\frac{X W_Q\, (X W_K)^\top}{\sqrt{d_k}}\Big)\, X H\Big),

with :math:`\mathrm{LN}(X) = Z\,\mathrm{diag}(\gamma) + \mathbf 1 \beta^\top` and ``Z`` the tokens standardised
over their features (:func:`torch.nn.functional.layer_norm`). In the pre-LN stack the gain multiplies
the branch input, so the attention branch acts on ``Z`` through :math:`\mathrm{diag}(\gamma) H`; in the
post-LN stack the gain multiplies the residual stream that enters the next layer.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_choice, check_int, check_positive, check_tokens
from .transformer import Intermediates

__all__ = ["PLACEMENTS", "RecomputedAttentionStack"]

Placement = Literal["pre", "post"]
PLACEMENTS: tuple[str, ...] = ("pre", "post")


def _check_vector(value: object, name: str, size: int, dtype: torch.dtype) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape ({size},), got {type(value).__name__}")
    if value.is_complex() or not value.is_floating_point():
        raise TypeError(f"{name} must have a real floating dtype, got {value.dtype}")
    if value.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},), got {tuple(value.shape)}")
    if not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return value.to(dtype)


class RecomputedAttentionStack(nn.Module):
    r"""``depth`` attention-only layers with shared weights, attention recomputed from the tokens, and LayerNorm.

    Args:
        query: :math:`W_Q`, shape ``(d, d_k)``.
        key: :math:`W_K`, shape ``(d, d_k)``.
        value_output: :math:`H = W_V W_O`, shape ``(d, d)``.
        depth: number of layers ``L`` (at least 1).
        gain: LayerNorm gain :math:`\gamma`, shape ``(d,)``; ones when ``None``.
        bias: LayerNorm bias :math:`\beta`, shape ``(d,)``; zeros when ``None``.
        placement: ``"pre"`` (LayerNorm on the branch input) or ``"post"`` (on the residual sum).
        eps: the LayerNorm's :math:`\varepsilon` (added to the variance).

    All weights are ``nn.Parameter`` s of the dtype of ``value_output`` (use float64 for theory checks),
    shared by every layer. The exact update of each placement is in the module docstring.

    Raises:
        TypeError: a weight is not a real floating tensor.
        ValueError: a shape does not fit, ``depth`` is not a positive int, ``placement`` is unknown or
            ``eps`` is not positive.
    """

    def __init__(self, query: torch.Tensor, key: torch.Tensor, value_output: torch.Tensor, depth: int, *,
                 gain: torch.Tensor | None = None, bias: torch.Tensor | None = None,
                 placement: Placement = "pre", eps: float = 1e-5):
        super().__init__()
        value_output = check_tokens(value_output, "value_output")
        dim = value_output.shape[-1]
        if value_output.shape != (dim, dim):
            raise ValueError(f"value_output must have shape (d, d), got {tuple(value_output.shape)}")
        query = check_tokens(query, "query")
        key = check_tokens(key, "key")
        if query.ndim != 2 or query.shape[0] != dim:
            raise ValueError(f"query must have shape ({dim}, d_k) to match value_output, got {tuple(query.shape)}")
        if key.shape != query.shape:
            raise ValueError(f"key must have the shape of query {tuple(query.shape)}, got {tuple(key.shape)}")
        check_int(depth, "depth", minimum=1)
        check_choice(placement, "placement", PLACEMENTS)
        check_positive(eps, "eps")
        dtype = value_output.dtype
        gain = torch.ones(dim, dtype=dtype) if gain is None else _check_vector(gain, "gain", dim, dtype)
        bias = torch.zeros(dim, dtype=dtype) if bias is None else _check_vector(bias, "bias", dim, dtype)
        self.query = nn.Parameter(query.to(dtype).clone())
        self.key = nn.Parameter(key.to(dtype).clone())
        self.value_output = nn.Parameter(value_output.clone())
        self.gain = nn.Parameter(gain.clone())
        self.bias = nn.Parameter(bias.clone())
        self.depth = depth
        self.placement = placement
        self.eps = float(eps)

    @property
    def dim(self) -> int:
        """Token width ``d``."""
        return self.value_output.shape[-1]

    @property
    def key_dim(self) -> int:
        """Query/key width ``d_k``."""
        return self.query.shape[-1]

    def extra_repr(self) -> str:
        return f"dim={self.dim}, key_dim={self.key_dim}, depth={self.depth}, placement={self.placement!r}"

    def layer_norm(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\mathrm{LN}(X) = Z\,\mathrm{diag}(\gamma) + \mathbf 1\beta^\top`. ``x``: shape ``(..., n, d)``; same shape out."""
        return F.layer_norm(x, (self.dim,), self.gain, self.bias, self.eps)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        r"""Row-stochastic attention :math:`\mathrm{softmax}(X W_Q (X W_K)^\top/\sqrt{d_k})` of the tokens ``x``.

        Args:
            x: the tokens the scores are computed from (already layer-normalised for ``"pre"``),
                shape ``(..., n, d)``.

        Returns:
            Shape ``(..., n, n)``, entrywise positive, rows summing to one.
        """
        scores = (x @ self.query) @ (x @ self.key).transpose(-1, -2) / math.sqrt(self.key_dim)
        return scores.softmax(dim=-1)

    def effective_value_output(self) -> torch.Tensor:
        r"""The ``d x d`` matrix that the fixed-attention theory pairs with each layer's attention.

        Pre-LN: the branch is :math:`A\,\mathrm{LN}(X) H = A Z\,\mathrm{diag}(\gamma) H + \mathbf 1 \beta^\top H`,
        so this is :math:`\mathrm{diag}(\gamma) H`. Post-LN: the update before the norm is
        :math:`X + A X H`, so this is ``H`` itself.

        Returns:
            Shape ``(d, d)``.
        """
        if self.placement == "pre":
            return self.gain.unsqueeze(-1) * self.value_output
        return self.value_output

    def layer(self, x: torch.Tensor, return_attention: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One layer.

        Args:
            x: tokens, shape ``(..., n, d)``.
            return_attention: also return the layer's attention matrix.

        Returns:
            ``(x, attention)``: the new tokens, shape ``(..., n, d)``, and the attention of shape
            ``(..., n, n)`` or ``None``.
        """
        if self.placement == "pre":
            normed = self.layer_norm(x)
            attention = self.attention(normed)
            x = x + attention @ normed @ self.value_output
        else:
            attention = self.attention(x)
            x = self.layer_norm(x + attention @ x @ self.value_output)
        return x, (attention if return_attention else None)

    def _check_input(self, x: torch.Tensor) -> torch.Tensor:
        x = check_tokens(x)
        if x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape (..., n, {self.dim}) to match value_output, got {tuple(x.shape)}")
        return x.to(self.value_output.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens after ``depth`` layers. ``x``: shape ``(..., n, d)``; returns the same shape."""
        x = self._check_input(x)
        for _ in range(self.depth):
            x, _ = self.layer(x)
        return x

    def forward_intermediates(self, x: torch.Tensor, return_attention: bool = False) -> Intermediates:
        """Run the stack and keep every layer's tokens, and its attention matrices on request.

        Args:
            x: tokens, shape ``(..., n, d)``.
            return_attention: also return the attention matrix of every layer.

        Returns:
            :class:`~oversmoothing.models.transformer.Intermediates` with ``hidden_states`` of shape
            ``(L + 1, ..., n, d)`` (index 0 the input), ``attentions`` of shape ``(L, ..., n, n)`` or
            ``None``, and ``output`` equal to ``hidden_states[-1]``.
        """
        x = self._check_input(x)
        states, maps = [x], []
        for _ in range(self.depth):
            x, attention = self.layer(x, return_attention)
            states.append(x)
            maps.append(attention)
        attentions = torch.stack(maps) if return_attention else None
        return Intermediates(output=x, hidden_states=torch.stack(states), attentions=attentions)
