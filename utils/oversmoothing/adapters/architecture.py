"""Which Hugging Face families the adapters read, and where each block keeps its modules."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

__all__ = ["FAMILIES", "Architecture", "LayerModules", "ModelNotAvailableError", "architecture_of", "base_model",
           "first_path", "layer_modules", "transformer_layers"]

FAMILIES: dict[str, str] = {
    "bert": "bert",
    "roberta": "bert",
    "xlm-roberta": "bert",
    "gpt2": "gpt2",
    "vit": "vit",
    "deit": "vit",
}
"""``config.model_type`` -> adapter family."""


class ModelNotAvailableError(RuntimeError):
    """The model cannot be loaded here: not cached while offline, not reachable, or an unsupported type."""


@dataclass(frozen=True)
class Architecture:
    """What the adapters need to know about a model's layout.

    Attributes:
        family: ``"bert"``, ``"gpt2"`` or ``"vit"``.
        model_type: ``config.model_type``.
        norm: ``"post"`` (LayerNorm after each residual add, on the residual stream) or ``"pre"``
            (LayerNorm inside each branch, before attention and MLP).
        causal: whether attention is masked to the past.
        modality: ``"text"`` or ``"image"``.
        layers, heads, dim, head_dim: sizes.
        prefix_tokens: special tokens that every input starts with (class/distillation tokens of vision
            models; 0 for text, whose special tokens come from the tokenizer).
    """

    family: str
    model_type: str
    norm: str
    causal: bool
    modality: str
    layers: int
    heads: int
    dim: int
    head_dim: int
    prefix_tokens: int

    @property
    def norm_description(self) -> str:
        """Where the LayerNorm gains act, in words."""
        if self.norm == "post":
            return ("post-LN: X <- LN(X + Attn(X)), X <- LN(X + MLP(X)); the gains multiply the residual stream, "
                    "which the next attention reads directly")
        return ("pre-LN: X <- X + Attn(LN(X)), X <- X + MLP(LN(X)); the gain of the first LayerNorm acts only "
                "inside the attention branch, H_eff = C diag(gain) W_V W_O / sigma (C centres the features)")


def architecture_of(model: nn.Module) -> Architecture:
    """The :class:`Architecture` of a Hugging Face model (a base model or a model with a head).

    Raises:
        ModelNotAvailableError: the model type is not one of :data:`FAMILIES`.
    """
    config = getattr(model, "config", None)
    model_type = getattr(config, "model_type", None)
    if model_type not in FAMILIES:
        raise ModelNotAvailableError(
            f"model type {model_type!r} is not supported; supported: {sorted(FAMILIES)}"
        )
    family = FAMILIES[model_type]
    dim = int(config.hidden_size)
    heads = int(config.num_attention_heads)
    return Architecture(
        family=family,
        model_type=model_type,
        norm="post" if family == "bert" else "pre",
        causal=family == "gpt2",
        modality="image" if family == "vit" else "text",
        layers=int(config.num_hidden_layers),
        heads=heads,
        dim=dim,
        head_dim=dim // heads,
        prefix_tokens={"vit": 1, "deit": 2}.get(model_type, 0),
    )


def base_model(model: nn.Module) -> nn.Module:
    """The bare Transformer inside a model with a head (``model.base_model`` for Hugging Face models)."""
    return getattr(model, "base_model", model)


def first_path(module: nn.Module, *paths: str) -> nn.Module:
    """The first attribute path (``"a.b.c"``) that exists on ``module``: module names differ across versions."""
    for path in paths:
        target = module
        try:
            for part in path.split("."):
                target = getattr(target, part)
        except AttributeError:
            continue
        return target
    raise AttributeError(f"{type(module).__name__} has none of {paths}")


def transformer_layers(model: nn.Module, family: str) -> nn.ModuleList:
    """The blocks of a model of the adapter ``family`` (``"bert"``, ``"gpt2"``, ``"vit"``), in order."""
    base = base_model(model)
    if family == "bert":
        return base.encoder.layer
    if family == "gpt2":
        return base.h
    return first_path(base, "layers", "encoder.layer")


@dataclass(frozen=True)
class LayerModules:
    """The sub-modules of one block that the adapters read or hook."""

    value: nn.Module  # the value projection (for GPT-2: c_attn, sliced)
    output: nn.Module  # the output projection
    attention: nn.Module  # the self-attention module whose input is the attention branch's input
    attention_input_norm: nn.LayerNorm  # the LayerNorm whose output the attention reads
    after_attention_norm: nn.LayerNorm  # the LayerNorm that reads the stream right after the attention add


def layer_modules(model: nn.Module, family: str, index: int) -> LayerModules:
    """The :class:`LayerModules` of block ``index`` (0-based) of a model of the adapter ``family``."""
    layers = transformer_layers(model, family)
    layer = layers[index]
    if family == "bert":
        previous = base_model(model).embeddings.LayerNorm if index == 0 else layers[index - 1].output.LayerNorm
        return LayerModules(layer.attention.self.value, layer.attention.output.dense, layer.attention.self,
                             previous, layer.attention.output.LayerNorm)
    if family == "gpt2":
        return LayerModules(layer.attn.c_attn, layer.attn.c_proj, layer.attn, layer.ln_1, layer.ln_2)
    return LayerModules(first_path(layer, "attention.v_proj", "attention.attention.value"),
                         first_path(layer, "attention.o_proj", "attention.output.dense"),
                         layer.attention, layer.layernorm_before, layer.layernorm_after)
