r"""The two anti-oversmoothing filters of Wang et al. (2022), as pure tensor functions.

With :math:`P = \tfrac1n \mathbf 1 \mathbf 1^\top`, :math:`\mathrm{DC}[Y] = P Y` and
:math:`\mathrm{HC}[Y] = (I - P) Y`:

- :func:`attnscale` rescales the high-pass part of an attention matrix,
  :math:`\hat A = A_{DC} + (1 + \omega) A_{HC}` with :math:`A_{DC} = P` and :math:`A_{HC} = A - P`,
  one scalar :math:`\omega` per head; :func:`attnscale_attended` gives :math:`\hat A V` from :math:`A V`
  (the form a fused attention kernel needs);
- :func:`featscale` rescales the two frequency bands of an attention output per channel,
  :math:`Y' = Y + \mathrm{DC}[Y]\,\mathrm{diag}(s_{DC}) + \mathrm{HC}[Y]\,\mathrm{diag}(s_{HC})`.

Both follow the reference code of Wang et al. (``attnscale.py`` and ``featscale.py``), where
:math:`\omega`, :math:`s_{DC}` and :math:`s_{HC}` are learnable and initialised to zero (the identity).
"""

from __future__ import annotations

import torch

from ._validation import check_tokens

__all__ = ["attnscale", "attnscale_attended", "featscale"]


def _as_real_tensor(value: float | torch.Tensor, name: str, like: torch.Tensor) -> torch.Tensor:
    """``value`` as a finite real tensor with ``like``'s dtype and device."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a float or a real tensor, got a bool")
    if isinstance(value, (int, float)):
        value = torch.tensor(float(value), dtype=torch.float64)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a float or a real tensor, got {type(value).__name__}")
    if value.is_complex() or not (value.is_floating_point() or value.dtype in (torch.int32, torch.int64)):
        raise TypeError(f"{name} must be real (a floating dtype), got {value.dtype}")
    if not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return value.to(dtype=like.dtype, device=like.device)


def attnscale(attention: torch.Tensor, omega: float | torch.Tensor) -> torch.Tensor:
    r"""AttnScale: :math:`\hat A = A_{DC} + (1 + \omega) A_{HC}`, the high-pass part of ``A`` scaled by :math:`1 + \omega`.

    Here :math:`A_{DC} = \tfrac1n \mathbf 1 \mathbf 1^\top` (the uniform attention) and
    :math:`A_{HC} = A - A_{DC}`. For every ``X``, :math:`\mathrm{HC}[\hat A X] = (1 + \omega)\,\mathrm{HC}[A X]`;
    :math:`\mathrm{DC}[\hat A X] = \mathrm{DC}[A X]` holds for every ``X`` exactly when the columns of ``A``
    sum to one. When the rows of ``A`` sum to one, so do those of :math:`\hat A`, and the eigenvalues of
    :math:`\hat A` are 1 and :math:`(1 + \omega)\lambda` for the other eigenvalues :math:`\lambda` of ``A``.
    :math:`\omega = 0` returns ``A``; :math:`\omega = -1` returns the uniform attention.

    Args:
        attention: ``A``, shape ``(..., n, n)``, real and finite (usually row-stochastic, e.g. one
            attention map per head with shape ``(B, heads, n, n)``).
        omega: a float, or a real tensor whose shape broadcasts with the batch shape ``(...)`` of
            ``attention``; shape ``(heads,)`` gives one scalar per head for attention of shape
            ``(B, heads, n, n)``, and a shape ``(k, 1, ..., 1)`` sweeps ``k`` values.

    Returns:
        :math:`\hat A`, shape ``(*broadcast(omega.shape, ...), n, n)``, the dtype of ``attention``.

    Raises:
        TypeError: ``attention`` is not a real floating tensor, or ``omega`` is not real.
        ValueError: ``attention`` is not square or not finite; ``omega`` is not finite or does not
            broadcast with the batch shape of ``attention``.
    """
    attention = check_tokens(attention, "attention")
    n = attention.shape[-1]
    if attention.shape[-2] != n:
        raise ValueError(f"attention must be square (..., n, n), got shape {tuple(attention.shape)}")
    omega = _as_real_tensor(omega, "omega", attention)
    try:
        torch.broadcast_shapes(omega.shape, attention.shape[:-2])
    except RuntimeError as error:
        raise ValueError(
            f"omega of shape {tuple(omega.shape)} does not broadcast with the batch shape "
            f"{tuple(attention.shape[:-2])} of attention (one scalar per matrix, e.g. per head)"
        ) from error
    uniform = 1.0 / n
    return uniform + (1 + omega[..., None, None]) * (attention - uniform)


def attnscale_attended(
    attended: torch.Tensor, values: torch.Tensor, omega: float | torch.Tensor, *, validate: bool = True
) -> torch.Tensor:
    r"""AttnScale after attention: :math:`\hat A V` from :math:`A V` and :math:`V`, without forming ``A``.

    :math:`\hat A = P + (1 + \omega)(A - P)` gives :math:`\hat A V = (1 + \omega)\,A V - \omega\,P V`, and
    :math:`P V` is every token's mean of :math:`V`; so this equals ``attnscale(A, omega) @ V`` for every
    ``A``. It serves the fused attention kernel, which returns :math:`A V` but not ``A``.

    Args:
        attended: :math:`A V`, shape ``(..., n, d_v)``.
        values: :math:`V`, the same shape.
        omega: as for :func:`attnscale`: a float, or a real tensor that broadcasts with the batch shape
            ``(...)`` (shape ``(heads,)`` for ``(B, heads, n, d_v)``).
        validate: check the arguments (below); ``False`` skips the checks (a model's forward pass).

    Returns:
        :math:`\hat A V`, shape ``(..., n, d_v)``, the dtype of ``attended``.

    Raises:
        TypeError: a tensor is not real floating, or ``omega`` is not real.
        ValueError: the shapes differ, a tensor is not finite, or ``omega`` does not broadcast.
    """
    if validate:
        attended, values = check_tokens(attended, "attended"), check_tokens(values, "values")
        if attended.shape != values.shape:
            raise ValueError(f"attended and values must have the same shape (..., n, d_v), got "
                             f"{tuple(attended.shape)} and {tuple(values.shape)}")
        omega = _as_real_tensor(omega, "omega", attended)
        try:
            torch.broadcast_shapes(omega.shape, attended.shape[:-2])
        except RuntimeError as error:
            raise ValueError(f"omega of shape {tuple(omega.shape)} does not broadcast with the batch shape "
                             f"{tuple(attended.shape[:-2])} of attended") from error
    omega = omega[..., None, None] if isinstance(omega, torch.Tensor) else omega
    return (1 + omega) * attended - omega * values.mean(dim=-2, keepdim=True)


def featscale(
    y: torch.Tensor, s_dc: float | torch.Tensor, s_hc: float | torch.Tensor, *, validate: bool = True
) -> torch.Tensor:
    r"""FeatScale: :math:`Y' = Y + s_{DC} \odot \mathrm{DC}[Y] + s_{HC} \odot \mathrm{HC}[Y]`, per channel.

    Channel ``k`` of the DC band is multiplied by :math:`1 + s_{DC,k}` and channel ``k`` of the HC band
    by :math:`1 + s_{HC,k}`: :math:`\mathrm{DC}[Y'] = \mathrm{DC}[Y]\,\mathrm{diag}(1 + s_{DC})` and
    :math:`\mathrm{HC}[Y'] = \mathrm{HC}[Y]\,\mathrm{diag}(1 + s_{HC})` exactly. Zero weights return ``Y``.

    Args:
        y: the attention output ``Y``, shape ``(..., n, d)``, real and finite.
        s_dc: :math:`s_{DC}`, a float (the same for every channel) or a real tensor of shape ``(d,)``.
        s_hc: :math:`s_{HC}`, a float or a real tensor of shape ``(d,)``.
        validate: check the arguments (below). ``False`` skips the checks, for tensors known to be right
            (a model's forward pass, whose weights are its own parameters).

    Returns:
        :math:`Y'`, shape ``(..., n, d)``, the dtype of ``y``.

    Raises:
        TypeError: ``y`` is not a real floating tensor, or a weight is not real.
        ValueError: a weight does not have shape ``(d,)`` (or ``()``), or is not finite; ``y`` is not finite.
    """
    if not validate:
        mean = y.mean(dim=-2, keepdim=True)
        return y + s_dc * mean + s_hc * (y - mean)
    y = check_tokens(y, "y")
    d = y.shape[-1]
    weights = []
    for value, name in ((s_dc, "s_dc"), (s_hc, "s_hc")):
        weight = _as_real_tensor(value, name, y)
        if weight.shape not in ((), (d,)):
            raise ValueError(f"{name} must be a float or have shape ({d},) (one weight per channel), "
                             f"got shape {tuple(weight.shape)}")
        weights.append(weight)
    return featscale(y, weights[0], weights[1], validate=False)
