"""Input checks of :mod:`oversmoothing.spectrum`: shapes, batch shapes and attention matrices (private module).

Each check raises ``TypeError`` or ``ValueError`` naming the offending argument, and returns what it checked.
"""

from __future__ import annotations

import torch

from ._validation import check_tokens


def check_square(matrix: torch.Tensor, name: str) -> torch.Tensor:
    """Check that ``matrix`` is a real finite floating tensor of shape ``(..., k, k)`` and return it."""
    matrix = check_tokens(matrix, name)
    if matrix.shape[-1] != matrix.shape[-2]:
        raise ValueError(f"{name} must be square (..., k, k), got shape {tuple(matrix.shape)}")
    return matrix


def check_row_stochastic(attention: torch.Tensor, tolerance: float = 1e-6) -> torch.Tensor:
    """Check that ``attention`` (``(..., n, n)``) is nonnegative with rows summing to 1, both within ``tolerance``."""
    attention = check_square(attention, "attention")
    smallest = float(attention.min())
    if smallest < -tolerance:
        raise ValueError(f"attention must be row-stochastic, so nonnegative; its smallest entry is {smallest:.3g}")
    deviation = float((attention.sum(dim=-1) - 1).abs().max())
    if deviation > tolerance:
        raise ValueError(f"attention must be row-stochastic (rows summing to 1); the largest deviation is {deviation:.3g}")
    return attention


def check_batches(*named: tuple[str, torch.Tensor, int]) -> None:
    """Check that the batch (leading) dimensions of tensors broadcast.

    Args:
        named: ``(name, tensor, core)`` triples; the last ``core`` dimensions of ``tensor`` are not batch ones.

    Raises:
        ValueError: naming every tensor with its shape and batch shape.
    """
    batches = [tuple(tensor.shape[:tensor.ndim - core]) for _, tensor, core in named]
    try:
        torch.broadcast_shapes(*batches)
    except RuntimeError:
        described = " and ".join(f"{name} of shape {tuple(tensor.shape)}" for name, tensor, _ in named)
        shapes = " and ".join(map(str, batches))
        raise ValueError(f"the batch shapes {shapes} of {described} do not broadcast") from None


def check_pair(attention: torch.Tensor, value_output: torch.Tensor, *,
               row_stochastic: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Check ``A`` (``(..., n, n)``, row-stochastic if asked) and ``H`` (``(..., d, d)``) with broadcasting batches."""
    attention = check_row_stochastic(attention) if row_stochastic else check_square(attention, "attention")
    value_output = check_square(value_output, "value_output")
    check_batches(("attention", attention, 2), ("value_output", value_output, 2))
    return attention, value_output


def check_layer(attention: torch.Tensor, value_output: torch.Tensor,
                x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Check square ``A`` (``n x n``) and ``H`` (``d x d``) and tokens ``x`` (``(..., n, d)``) that fit them,
    batches included."""
    attention = check_square(attention, "attention")
    value_output = check_square(value_output, "value_output")
    x = check_tokens(x)
    n, d = attention.shape[-1], value_output.shape[-1]
    if x.shape[-2:] != (n, d):
        raise ValueError(f"x must have shape (..., n, d) = (..., {n}, {d}) to fit attention of shape "
                         f"{tuple(attention.shape)} and value_output of shape {tuple(value_output.shape)}, "
                         f"got {tuple(x.shape)}")
    check_batches(("attention", attention, 2), ("value_output", value_output, 2), ("x", x, 2))
    return attention, value_output, x


def check_depth(depth: int) -> int:
    """Check that ``depth`` is a positive int and return it."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    return depth


def check_spectra(attention_eigenvalues: torch.Tensor, value_eigenvalues: torch.Tensor,
                  perron: torch.Tensor) -> None:
    """Check spectra of shapes ``(..., n)`` and ``(..., d)`` and Perron indices ``(...)`` with broadcasting batches."""
    if attention_eigenvalues.ndim < 1 or value_eigenvalues.ndim < 1:
        raise ValueError("attention_eigenvalues and value_eigenvalues must have shape (..., n) and (..., d)")
    check_batches(("attention_eigenvalues", attention_eigenvalues, 1), ("value_eigenvalues", value_eigenvalues, 1),
                  ("perron", torch.as_tensor(perron), 0))


def check_attention_min(attention_min: torch.Tensor | float, valid: tuple[float, float]) -> torch.Tensor:
    """``attention_min`` as a float64 tensor, checked to lie in ``valid`` (up to rounding)."""
    value = torch.as_tensor(attention_min, dtype=torch.float64)
    low, high = valid
    inside = (value >= low - 1e-9) & (value <= high + 1e-9)  # False for NaN
    if not bool(inside.all()):
        offending = float(value[~inside].flatten()[0])
        raise ValueError(f"attention_min must lie in [{low:g}, {high:g}] (the smallest eigenvalue of a row-stochastic "
                         f"attention matrix with a real spectrum), got {offending!r}")
    return value


def check_heads(value_output: torch.Tensor, heads: int) -> int:
    """Check that ``value_output`` has shape ``(..., d, d)`` and ``heads`` is a positive int dividing ``d``;
    return ``d``."""
    if not isinstance(value_output, torch.Tensor) or value_output.ndim < 2 or (
            value_output.shape[-1] != value_output.shape[-2]):
        raise ValueError("value_output must be a tensor of shape (..., d, d), got "
                         f"{getattr(value_output, 'shape', value_output)}")
    d = value_output.shape[-1]
    if not isinstance(heads, int) or isinstance(heads, bool) or heads < 1 or d % heads:
        raise ValueError(f"heads must be a positive int dividing d={d}, got {heads!r}")
    return d


def check_causal_blocks(self_attention: torch.Tensor, head_value_outputs: torch.Tensor) -> None:
    """Check real finite ``self_attention`` (``(..., heads, n)``) and ``head_value_outputs``
    (``(..., heads, d, d)``) with the same number of heads."""
    for name, value, ndim in (("self_attention", self_attention, 2), ("head_value_outputs", head_value_outputs, 3)):
        if not isinstance(value, torch.Tensor) or value.ndim < ndim or value.is_complex():
            raise ValueError(f"{name} must be a real tensor with at least {ndim} dimensions")
        if not bool(torch.isfinite(value).all()):
            raise ValueError(f"{name} contains NaN or infinite entries")
    if head_value_outputs.shape[-1] != head_value_outputs.shape[-2]:
        raise ValueError("head_value_outputs must have shape (..., heads, d, d), got "
                         f"{tuple(head_value_outputs.shape)}")
    if self_attention.shape[-2] != head_value_outputs.shape[-3]:
        raise ValueError(f"self_attention has {self_attention.shape[-2]} heads, head_value_outputs "
                         f"{head_value_outputs.shape[-3]}")


def check_block_eigenvalues(block_eigenvalues: torch.Tensor) -> None:
    """Check that ``block_eigenvalues`` is a tensor of shape ``(..., n, d)`` with ``n >= 2``."""
    if not isinstance(block_eigenvalues, torch.Tensor) or block_eigenvalues.ndim < 2 or (
            block_eigenvalues.shape[-2] < 2):
        raise ValueError("block_eigenvalues must be a tensor of shape (..., n, d) with n >= 2")
