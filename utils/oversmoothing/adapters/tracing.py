"""One forward pass of a Hugging Face model, recorded with hooks: states, attention and branch inputs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from .architecture import Architecture, architecture_of, layer_modules, transformer_layers

__all__ = ["Trace", "trace"]

@dataclass
class Trace:
    """What one forward pass of a real model produced, layer by layer (a batch of equal-length inputs).

    Attributes:
        hidden_states: the residual stream entering block 1 and leaving every block, before any final
            LayerNorm, shape ``(L + 1, B, n, d)``. For post-LN models this is the output of each block's last
            LayerNorm; for pre-LN models it is the raw stream.
        attention_inputs: what each attention sub-layer reads (the first LayerNorm's output for pre-LN;
            the stream itself for post-LN), shape ``(L, B, n, d)``.
        attention_residuals: the stream right after each attention residual add (before the LayerNorm
            that follows it), shape ``(L, B, n, d)``.
        attentions: attention maps, shape ``(L, B, heads, n, n)``, or ``None``.
    """

    hidden_states: torch.Tensor
    attention_inputs: torch.Tensor
    attention_residuals: torch.Tensor
    attentions: torch.Tensor | None


def _first_tensor(value: object) -> torch.Tensor:
    return value[0] if isinstance(value, (tuple, list)) else value


@contextlib.contextmanager
def _recording(model: nn.Module, arch: Architecture) -> Iterator[dict[str, list]]:
    """Temporary hooks that record block inputs/outputs, attention inputs and post-attention streams."""
    records: dict[str, list] = {"block_in": [], "block_out": [], "attention_in": [], "attention_residual": []}
    handles = []
    layers = transformer_layers(model, arch.family)

    def pre_hook(key):
        def hook(module, args, kwargs):
            records[key].append((args[0] if args else kwargs["hidden_states"]).detach())
        return hook

    def post_hook(key):
        def hook(module, args, output):
            records[key].append(_first_tensor(output).detach())
        return hook

    try:
        handles.append(layers[0].register_forward_pre_hook(pre_hook("block_in"), with_kwargs=True))
        for index, layer in enumerate(layers):
            modules = layer_modules(model, arch.family, index)
            handles.append(layer.register_forward_hook(post_hook("block_out")))
            handles.append(modules.attention.register_forward_pre_hook(pre_hook("attention_in"), with_kwargs=True))
            handles.append(modules.after_attention_norm.register_forward_pre_hook(pre_hook("attention_residual"),
                                                                                  with_kwargs=True))
        yield records
    finally:
        for handle in handles:
            handle.remove()


def trace(model: nn.Module, inputs: dict[str, torch.Tensor], return_attention: bool = True) -> Trace:
    """Run ``model(**inputs)`` once and return its :class:`Trace`; the hooks are removed afterwards.

    Args:
        model: a supported Hugging Face model loaded with ``attn_implementation="eager"`` (needed for maps).
        inputs: the model's keyword inputs (``input_ids``/``attention_mask`` or ``pixel_values``), a batch
            of inputs without padding (see :func:`group_by_length`).
        return_attention: also return the attention maps.

    Returns:
        The :class:`Trace`, on the CPU (the model may run on any device; the analyses run on the CPU).

    Raises:
        ValueError: attention maps were asked for but the model does not use eager attention.
    """
    arch = architecture_of(model)
    implementation = getattr(model.config, "_attn_implementation", "eager")
    if return_attention and implementation != "eager":
        raise ValueError(f"attention maps need attn_implementation='eager', the model uses {implementation!r}; "
                         "reload it with attn_implementation='eager'")
    with _recording(model, arch) as records, torch.no_grad():
        outputs = model(**inputs, output_attentions=return_attention)
    attentions = None
    if return_attention:
        maps = getattr(outputs, "attentions", None)
        if maps is None or len(maps) != arch.layers:
            raise RuntimeError("the model returned no attention maps; load it with attn_implementation='eager'")
        attentions = torch.stack([m.detach() for m in maps])
    return Trace(
        hidden_states=torch.stack(records["block_in"][:1] + records["block_out"]).cpu(),
        attention_inputs=torch.stack(records["attention_in"]).cpu(),
        attention_residuals=torch.stack(records["attention_residual"]).cpu(),
        attentions=attentions.cpu() if attentions is not None else None,
    )
