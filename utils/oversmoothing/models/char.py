"""A small causal character-level language model on the book's blocks."""

from __future__ import annotations

import torch
from torch import nn

from ..datasets import CharVocabulary
from .transformer import Intermediates, TransformerConfig, TransformerEncoder
from .._validation import check_int


class CharTransformer(nn.Module):
    """Causal Transformer over characters: token and position embeddings, encoder, tied output head.

    Args:
        config: the encoder's :class:`TransformerConfig`; ``causal`` must be ``True``.
        vocab_size: number of distinct characters.
        context: the longest sequence the model accepts.
    """

    def __init__(self, config: TransformerConfig, vocab_size: int, context: int):
        super().__init__()
        if not config.causal:
            raise ValueError("config.causal must be True for a language model")
        if vocab_size < 2 or context < 1:
            raise ValueError(f"vocab_size must be >= 2 and context >= 1, got {vocab_size} and {context}")
        self.context = context
        self.token_embed = nn.Embedding(vocab_size, config.dim)
        self.pos_embed = nn.Parameter(torch.randn(1, context, config.dim) * config.init_std)
        self.encoder = TransformerEncoder(config)
        nn.init.normal_(self.token_embed.weight, std=config.init_std)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """``tokens``: integer ids ``(B, n)`` with ``n <= context``. Returns embeddings ``(B, n, d)``."""
        if tokens.ndim != 2 or tokens.dtype not in (torch.int32, torch.int64):
            raise ValueError(f"tokens must be an integer tensor of shape (B, n), got {tuple(tokens.shape)} {tokens.dtype}")
        if tokens.shape[1] > self.context:
            raise ValueError(f"tokens has {tokens.shape[1]} positions, more than context={self.context}")
        return self.token_embed(tokens) + self.pos_embed[:, : tokens.shape[1]]

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``tokens``: ``(B, n)``. Returns next-character logits ``(B, n, vocab_size)`` (weights tied to the embedding)."""
        return self.encoder(self.embed(tokens)) @ self.token_embed.weight.T

    def forward_intermediates(self, tokens: torch.Tensor, return_attention: bool = False) -> Intermediates:
        """Per-layer tokens and, on request, attention maps; see
        :meth:`TransformerEncoder.forward_intermediates`."""
        return self.encoder.forward_intermediates(self.embed(tokens), return_attention)


@torch.no_grad()
def generate(model: CharTransformer, vocab: CharVocabulary, prompt: str, length: int, temperature: float = 0.8,
             seed: int = 0) -> str:
    """Continue ``prompt`` by ``length`` characters, sampled one at a time (greedy when ``temperature == 0``).

    Args:
        model: a trained :class:`~oversmoothing.models.CharTransformer`.
        vocab: its vocabulary; ``prompt`` must use only its characters.
        prompt: at least one character.
        length: characters to generate, non-negative.
        temperature: divides the logits before sampling; ``0`` takes the most likely character.
        seed: seeds the sampler.

    Returns:
        The generated characters, without the prompt.
    """
    if not prompt:
        raise ValueError("prompt must hold at least one character")
    check_int(length, "length", minimum=0)
    if not temperature >= 0:
        raise ValueError(f"temperature must be non-negative, got {temperature!r}")
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    ids = vocab.encode(prompt).to(device)[None]
    was_training = model.training
    model.eval()
    for _ in range(length):
        logits = model(ids[:, -model.context:])[0, -1].double().cpu()
        if temperature == 0:
            following = logits.argmax().reshape(1)
        else:
            following = torch.multinomial(torch.softmax(logits / temperature, dim=-1), 1, generator=generator)
        ids = torch.cat([ids, following.to(device)[None]], dim=1)
    model.train(was_training)
    return vocab.decode(ids[0, len(prompt):].cpu())
