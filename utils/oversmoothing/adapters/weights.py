r"""The value-output weights and LayerNorm gains of every block, in the book's row-vector convention."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .architecture import architecture_of, layer_modules

__all__ = ["LayerWeights", "attention_update", "layer_weights"]

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
        modules = layer_modules(model, arch.family, index)
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
