r"""Measurements of a trained model's value-output maps that every experiment records."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..models import value_output_maps


@torch.no_grad()
def value_map_spectra(model: nn.Module) -> dict[str, Any]:
    r"""The eigenvalues of every block's :math:`H` and of :math:`\mathrm{diag}(\gamma) H`, and the gains' signs.

    Args:
        model: a model holding a pre-LN encoder as ``model.encoder`` (a
            :class:`~oversmoothing.models.VisionTransformer` or :class:`~oversmoothing.models.CharTransformer`).

    Returns:
        ``eigenvalues`` and ``gain_eigenvalues`` as ``{"real", "imag"}``, each ``(L, d)`` (computed in float64),
        and ``negative_gains``: per block, how many entries of the pre-LN gain :math:`\gamma` are negative.
    """
    result: dict[str, Any] = {}
    for key, include in (("eigenvalues", False), ("gain_eigenvalues", True)):
        eigenvalues = torch.linalg.eigvals(value_output_maps(model, include_norm_gain=include).double().cpu())
        result[key] = {"real": eigenvalues.real.tolist(), "imag": eigenvalues.imag.tolist()}
    gains = torch.stack([block.ln1.weight for block in model.encoder.blocks])
    result["negative_gains"] = (gains < 0).sum(dim=-1).tolist()
    return result


__all__ = ["value_map_spectra"]
