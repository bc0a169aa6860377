r"""The linear stacks the theory chapters study: a fixed attention matrix ``A`` and a fixed ``H``.

With residual, each layer is :math:`X \leftarrow X + A X H`; without, :math:`X \leftarrow A X H`.
The same ``A`` and ``H`` are used at every layer, so depth is an iteration of one linear map.
"""

from __future__ import annotations

import torch
from torch import nn

from .._validation import check_int, check_tokens
from .transformer import Intermediates


class LinearAttentionStack(nn.Module):
    r"""``depth`` repetitions of :math:`X \leftarrow X + A X H` (or :math:`A X H` without residual).

    Args:
        attention: ``A``, shape ``(n, n)`` or ``(..., n, n)`` (batched attention matrices).
        value_output: ``H = W_V W_O``, shape ``(d, d)`` or ``(..., d, d)``.
        depth: number of layers ``L`` (at least 1).
        residual: keep the skip connection.

    Both matrices are stored as buffers (they are not trained) and must be real and finite.
    """

    def __init__(self, attention: torch.Tensor, value_output: torch.Tensor, depth: int, residual: bool = True):
        super().__init__()
        attention = check_tokens(attention, "attention")
        value_output = check_tokens(value_output, "value_output")
        if attention.shape[-1] != attention.shape[-2]:
            raise ValueError(f"attention must be square (..., n, n), got shape {tuple(attention.shape)}")
        if value_output.shape[-1] != value_output.shape[-2]:
            raise ValueError(f"value_output must be square (..., d, d), got shape {tuple(value_output.shape)}")
        if attention.is_complex() or value_output.is_complex():
            raise TypeError("attention and value_output must be real")
        check_int(depth, "depth", minimum=1)
        self.register_buffer("attention", attention)
        self.register_buffer("value_output", value_output)
        self.depth = depth
        self.residual = residual

    def _check_input(self, x: torch.Tensor) -> torch.Tensor:
        x = check_tokens(x)
        n, d = self.attention.shape[-1], self.value_output.shape[-1]
        if x.shape[-2:] != (n, d):
            raise ValueError(f"x must have shape (..., {n}, {d}) to match attention and value_output, got {tuple(x.shape)}")
        return x.to(self.attention.dtype)

    def layer(self, x: torch.Tensor) -> torch.Tensor:
        """One layer. ``x``: shape ``(..., n, d)``; returns the same shape."""
        update = self.attention @ x @ self.value_output
        return x + update if self.residual else update

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens after ``depth`` layers. ``x``: shape ``(..., n, d)``; returns the same shape."""
        x = self._check_input(x)
        for _ in range(self.depth):
            x = self.layer(x)
        return x

    def forward_intermediates(self, x: torch.Tensor) -> Intermediates:
        """Every layer's tokens: ``hidden_states`` has shape ``(depth + 1, ..., n, d)``, index 0 the input."""
        x = self._check_input(x)
        states = [x]
        for _ in range(self.depth):
            states.append(self.layer(states[-1]))
        return Intermediates(output=states[-1], hidden_states=torch.stack(states), attentions=None)
