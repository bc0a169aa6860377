"""How far each residual branch of a :class:`~oversmoothing.models.transformer.TransformerEncoder` moves the
tokens: the size of the branch's output relative to the residual stream it is added to."""

from __future__ import annotations

import torch

from .transformer import TransformerEncoder

__all__ = ["relative_branch_steps"]


def _frobenius(t: torch.Tensor) -> torch.Tensor:
    """``||t[..., :, :]||_F`` of every sequence: ``(..., n, d)`` -> ``(...)``, in float64."""
    return t.double().flatten(-2).norm(dim=-1)


def relative_branch_steps(model: TransformerEncoder, x: torch.Tensor) -> dict[str, torch.Tensor]:
    r"""Relative steps :math:`\lVert F(X) \rVert_F / \lVert X \rVert_F` of the attention and MLP branches.

    :math:`X` is the residual stream the branch output is added to: the block's input for the attention branch,
    and the stream after the attention sub-layer for the MLP branch (in a pre-LN block the branch reads
    ``ln(X)``, in a post-LN block ``X`` itself). One forward pass, without gradients; forward hooks catch the
    branch outputs and are removed afterwards.

    Args:
        model: an encoder with residual connections.
        x: tokens, shape ``(B, n, d)``.

    Returns:
        ``{"attention": (L, B), "MLP": (L, B)}``: one step per block and sequence (no ``"MLP"`` entry when the
        blocks have no MLP).

    Raises:
        TypeError: ``model`` is not a :class:`TransformerEncoder`.
        ValueError: ``model`` has no residual connections (a branch is then not a step), or ``x`` has the wrong
            shape.
    """
    if not isinstance(model, TransformerEncoder):
        raise TypeError(f"model must be a TransformerEncoder, got {type(model).__name__}")
    if not model.config.residual:
        raise ValueError("model must have residual connections: without them a branch replaces the stream")
    attention: list[torch.Tensor] = []
    mlp: list[tuple[torch.Tensor, torch.Tensor]] = []
    hooks = [block.attn.register_forward_hook(lambda _, inputs, out: attention.append(out[0])) for block in model.blocks]
    hooks += [block.mlp.register_forward_hook(lambda _, inputs, out: mlp.append((inputs[0], out)))
              for block in model.blocks if block.mlp is not None]
    try:
        with torch.no_grad():
            streams = model.forward_intermediates(x).hidden_states[:-1]          # (L, B, n, d): each block's input
    finally:
        for hook in hooks:
            hook.remove()
    attention_out = torch.stack(attention)
    steps = {"attention": _frobenius(attention_out) / _frobenius(streams)}
    if mlp:
        mlp_in, mlp_out = map(torch.stack, zip(*mlp))
        mlp_stream = streams + attention_out if model.config.norm == "pre" else mlp_in
        steps["MLP"] = _frobenius(mlp_out) / _frobenius(mlp_stream)
    return steps
