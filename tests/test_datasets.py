"""Datasets: offline loaders, CIFAR's pickle format, corruptions, stratified fractions and character windows."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import socket
import tarfile

import numpy as np
import pytest
import torch

from oversmoothing import datasets as ds
from oversmoothing.datasets import ArrayDataset, CharVocabulary, DataSplits


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a dataset loader tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def labelled(counts: list[int]) -> ArrayDataset:
    """A dataset with ``counts[c]`` examples of class ``c``, shuffled; inputs are the example numbers."""
    labels = torch.cat([torch.full((count,), label) for label, count in enumerate(counts)])
    labels = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(5))]
    return ArrayDataset(torch.arange(len(labels), dtype=torch.float32)[:, None], labels)


# ---------------------------------------------------------------------------------------------- containers


def test_array_dataset_subset_keeps_pairs_and_order():
    data = ArrayDataset(torch.arange(10.0)[:, None] * 2, torch.arange(10))
    part = data.subset([7, 2, 2])
    assert len(part) == 3
    assert part.inputs[:, 0].tolist() == [14.0, 4.0, 4.0]
    assert part.targets.tolist() == [7, 2, 2]
    with pytest.raises(ValueError, match="indices"):
        data.subset([10])
    with pytest.raises(ValueError, match="indices"):
        data.subset([-1])
    with pytest.raises(ValueError, match="indices"):
        data.subset(torch.zeros(2, 2, dtype=torch.int64))


def test_array_dataset_checks_its_tensors():
    with pytest.raises(TypeError, match="targets must be int64"):
        ArrayDataset(torch.zeros(3, 2), torch.zeros(3, dtype=torch.int32))
    with pytest.raises(ValueError, match="first"):
        ArrayDataset(torch.zeros(3, 2), torch.zeros(4, dtype=torch.int64))
    with pytest.raises(TypeError, match="inputs"):
        ArrayDataset(np.zeros((3, 2)), torch.zeros(3, dtype=torch.int64))


def test_data_splits_check_shapes_classes_and_labels():
    part = ArrayDataset(torch.zeros(4, 1, 2, 2), torch.tensor([0, 1, 2, 1]))
    DataSplits("toy", part, part, num_classes=3, input_shape=(1, 2, 2), classes=("a", "b", "c"))
    with pytest.raises(ValueError, match="input_shape"):
        DataSplits("toy", part, part, num_classes=3, input_shape=(1, 4), classes=("a", "b", "c"))
    with pytest.raises(ValueError, match="class names"):
        DataSplits("toy", part, part, num_classes=3, input_shape=(1, 2, 2), classes=("a", "b"))
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        DataSplits("toy", part, part, num_classes=2, input_shape=(1, 2, 2), classes=("a", "b"))


# ---------------------------------------------------------------------------------------- stratification


def test_training_fraction_keeps_class_proportions():
    data = labelled([100, 40, 60, 7])
    part = ds.training_fraction(data, 0.25, seed=3)
    assert torch.bincount(part.targets, minlength=4).tolist() == [25, 10, 15, 2]  # round(0.25 n_c), at least 1
    # the chosen examples are real rows of the dataset with their own labels, in the original order
    rows = part.inputs[:, 0].long()
    assert torch.equal(data.targets[rows], part.targets)
    assert torch.all(rows[1:] > rows[:-1])


def test_training_fraction_is_seeded_nested_and_complete_at_one():
    data = labelled([50, 30, 20])
    small, large = ds.training_fraction(data, 0.2, seed=1), ds.training_fraction(data, 0.6, seed=1)
    assert set(small.inputs[:, 0].tolist()) < set(large.inputs[:, 0].tolist())
    assert torch.equal(small.inputs, ds.training_fraction(data, 0.2, seed=1).inputs)
    assert not torch.equal(small.inputs, ds.training_fraction(data, 0.2, seed=2).inputs)
    assert torch.equal(ds.training_fraction(data, 1.0).inputs, data.inputs)
    assert torch.bincount(ds.training_fraction(data, 0.001).targets).tolist() == [1, 1, 1]


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5, float("nan"), True, "half"])
def test_training_fraction_rejects_bad_fractions(fraction):
    with pytest.raises(ValueError, match="fraction"):
        ds.training_fraction(labelled([5, 5]), fraction)


def test_training_fraction_needs_class_labels():
    with pytest.raises(ValueError, match="1-D int64"):
        ds.training_fraction(ArrayDataset(torch.zeros(4, 3), torch.zeros(4, 3, dtype=torch.int64)), 0.5)
    with pytest.raises(TypeError, match="ArrayDataset"):
        ds.training_fraction(torch.zeros(4), 0.5)
    with pytest.raises(ValueError, match="seed"):
        ds.training_fraction(labelled([5, 5]), 0.5, seed=-1)


# ------------------------------------------------------------------------------------------ digits, MNIST-1D


def test_digits_splits_are_stratified_and_scaled(no_network):
    splits = ds.load_digits_splits(test_fraction=0.25, seed=0)
    assert splits.name == "digits" and splits.num_classes == 10 and splits.input_shape == (1, 8, 8)
    assert len(splits.train) + len(splits.test) == 1797
    assert splits.train.inputs.dtype == torch.float32 and splits.train.inputs.shape[1:] == (1, 8, 8)
    assert splits.train.inputs.min() == 0 and splits.train.inputs.max() == 1
    total = torch.bincount(torch.cat([splits.train.targets, splits.test.targets]))
    test_counts = torch.bincount(splits.test.targets)
    assert torch.equal(test_counts, torch.floor(total * 0.25 + 0.5).long())
    again = ds.load_digits_splits(test_fraction=0.25, seed=0)
    assert torch.equal(again.test.inputs, splits.test.inputs)
    assert not torch.equal(ds.load_digits_splits(seed=1).test.targets, splits.test.targets)
    with pytest.raises(ValueError, match="test_fraction"):
        ds.load_digits_splits(test_fraction=1.0)


def test_mnist1d_is_generated_locally_and_seeded(no_network):
    np.random.seed(123)
    expected_next = np.random.rand()
    np.random.seed(123)
    splits = ds.load_mnist1d_splits(seed=0, num_samples=200)
    assert np.random.rand() == expected_next  # the global NumPy stream is left as it was
    assert splits.name == "mnist1d" and splits.input_shape == (1, 1, 40)
    assert splits.train.inputs.shape == (160, 1, 1, 40) and splits.test.inputs.shape == (40, 1, 1, 40)
    assert splits.train.inputs.dtype == torch.float32 and splits.train.targets.dtype == torch.int64
    everything = torch.cat([splits.train.inputs, splits.test.inputs])
    assert abs(float(everything.mean())) < 1e-4 and abs(float(everything.std(unbiased=False)) - 1) < 1e-4
    assert torch.bincount(torch.cat([splits.train.targets, splits.test.targets])).tolist() == [20] * 10
    assert torch.equal(ds.load_mnist1d_splits(seed=0, num_samples=200).train.inputs, splits.train.inputs)
    assert not torch.equal(ds.load_mnist1d_splits(seed=1, num_samples=200).train.inputs, splits.train.inputs)
    with pytest.raises(ValueError, match="num_samples"):
        ds.load_mnist1d_splits(num_samples=205)


# ------------------------------------------------------------------------------------------------- CIFAR


def write_pickle(path, content: dict) -> None:
    """Write a dict the way CIFAR's Python 2 files decode: bytes keys, protocol 2."""
    path.write_bytes(pickle.dumps({key.encode(): value for key, value in content.items()}, protocol=2))


def tiny_cifar(root, name: str, per_file: int = 3) -> dict[str, np.ndarray]:
    """Write a small release of ``name`` under ``root`` in CIFAR's layout; return its rows and labels."""
    rng = np.random.default_rng(0)
    release = ds.CIFAR_RELEASES[name]
    folder = root / release.folder
    folder.mkdir(parents=True)
    written = {"train_rows": [], "train_labels": [], "test_rows": [], "test_labels": []}
    for part, files in (("train", release.train_files), ("test", release.test_files)):
        for file in files:
            rows = rng.integers(0, 256, size=(per_file, 3072), dtype=np.uint8)
            labels = rng.integers(0, release.num_classes, size=per_file).tolist()
            content = {"data": rows, "batch_label": f"{file} of {name}".encode(), "filenames": [b"x.png"] * per_file}
            if name == "cifar10":
                content["labels"] = labels
            else:  # CIFAR-100 also holds coarse labels, which must not be read
                content |= {"fine_labels": labels, "coarse_labels": [19 - label % 20 for label in labels]}
            write_pickle(folder / file, content)
            written[f"{part}_rows"].append(rows)
            written[f"{part}_labels"].extend(labels)
    names = [f"class{i}".encode() for i in range(release.num_classes)]
    meta = {"label_names": names} if name == "cifar10" else {"fine_label_names": names,
                                                             "coarse_label_names": [b"coarse"] * 20}
    write_pickle(folder / release.meta_file, meta)
    return {key: np.concatenate(value) if key.endswith("rows") else np.array(value) for key, value in written.items()}


@pytest.mark.parametrize("name, train_files", [("cifar10", 5), ("cifar100", 1)])
def test_cifar_reader_returns_the_written_pixels_in_chw_order(tmp_path, no_network, name, train_files):
    written = tiny_cifar(tmp_path, name)
    splits = ds.load_cifar_splits(tmp_path, name)
    classes = 10 if name == "cifar10" else 100
    assert splits.name == name and splits.num_classes == classes and splits.input_shape == (3, 32, 32)
    assert splits.classes[:2] == ("class0", "class1") and len(splits.classes) == classes
    assert splits.train.inputs.shape == (3 * train_files, 3, 32, 32) and splits.test.inputs.shape == (3, 3, 32, 32)
    assert splits.train.inputs.dtype == torch.float32
    rows = written["train_rows"]
    # one pixel by hand: image 1, green channel (second block of 1,024), row 2, column 3
    assert splits.train.inputs[1, 1, 2, 3] == pytest.approx(rows[1, 1024 + 2 * 32 + 3] / 255.0)
    assert splits.train.inputs[0, 2, 31, 0] == pytest.approx(rows[0, 2048 + 31 * 32] / 255.0)
    expected = torch.from_numpy(rows.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)
    torch.testing.assert_close(splits.train.inputs, expected, rtol=0, atol=1e-7)
    assert torch.equal((splits.test.inputs * 255).round().to(torch.uint8).reshape(3, 3072),
                       torch.from_numpy(written["test_rows"]))
    assert splits.train.targets.tolist() == written["train_labels"].tolist()
    assert splits.test.targets.tolist() == written["test_labels"].tolist()


def test_cifar_reader_reports_missing_files_and_refuses_foreign_objects(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        ds.load_cifar_splits(tmp_path, "cifar10")
    with pytest.raises(ValueError, match="name"):
        ds.load_cifar_splits(tmp_path, "cifar1000")
    tiny_cifar(tmp_path, "cifar100")
    (tmp_path / "cifar-100-python" / "test").write_bytes(pickle.dumps({b"data": io.BytesIO()}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        ds.load_cifar_splits(tmp_path, "cifar100")


def test_cifar_download_checks_md5_and_extracts(tmp_path, no_network):
    source = tmp_path / "source"
    tiny_cifar(source, "cifar10", per_file=2)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    root = tmp_path / "root"
    with pytest.raises(ValueError, match="MD5"):
        ds.download_cifar(root, "cifar10", url=archive.as_uri())  # the official digest does not match
    assert not any(root.iterdir())  # the bad download was removed
    folder = ds.download_cifar(root, "cifar10", url=archive.as_uri(), md5=md5)
    assert folder == root / "cifar-10-batches-py"
    assert len(ds.load_cifar_splits(root, "cifar10").train) == 10


# ------------------------------------------------------------------------------------------- corruptions


def smooth_images(count: int = 6, channels: int = 3, size: int = 16) -> torch.Tensor:
    """Images in [0.15, 0.85] with structure at several scales (so blur and contrast change them)."""
    generator = torch.Generator().manual_seed(0)
    return 0.5 + 0.35 * (2 * torch.rand(count, channels, size, size, generator=generator) - 1)


@pytest.mark.parametrize("kind", ds.CORRUPTIONS)
def test_distortion_grows_with_severity(kind):
    images = smooth_images()
    errors = [float(((ds.corrupt(images, kind, s) - images) ** 2).mean()) for s in range(6)]
    assert errors[0] == 0
    assert all(later > earlier for earlier, later in zip(errors, errors[1:])), errors


@pytest.mark.parametrize("kind", ds.CORRUPTIONS)
def test_corrupt_keeps_shape_dtype_and_pixel_range(kind):
    images = torch.rand(2, 4, 3, 8, 8, dtype=torch.float64)
    out = ds.corrupt(images, kind, 5)
    assert out.shape == images.shape and out.dtype == torch.float64
    assert out.min() >= 0 and out.max() <= 1
    assert ds.corrupt(images, kind, 0) is not images


def test_gaussian_noise_has_the_cifar_c_scale_and_is_seeded():
    grey = torch.full((64, 3, 32, 32), 0.5)
    for severity, std in enumerate(ds.SEVERITY_CONSTANTS["gaussian_noise"], start=1):
        noise = ds.corrupt(grey, "gaussian_noise", severity, seed=4) - grey
        assert float(noise.std()) == pytest.approx(std, rel=0.01)
        assert abs(float(noise.mean())) < 0.002
    assert torch.equal(ds.corrupt(grey, "gaussian_noise", 3, seed=4), ds.corrupt(grey, "gaussian_noise", 3, seed=4))
    assert not torch.equal(ds.corrupt(grey, "gaussian_noise", 3, seed=4), ds.corrupt(grey, "gaussian_noise", 3, seed=5))


@pytest.mark.parametrize("severity", [1, 5])
def test_gaussian_blur_matches_scipy(severity):
    from scipy.ndimage import gaussian_filter

    images = torch.rand(2, 3, 12, 10, dtype=torch.float64)
    sigma = ds.SEVERITY_CONSTANTS["gaussian_blur"][severity - 1]
    expected = gaussian_filter(images.numpy(), sigma=(0, 0, sigma, sigma), mode="nearest", truncate=4.0)
    torch.testing.assert_close(ds.corrupt(images, "gaussian_blur", severity), torch.from_numpy(expected).clamp(0, 1))
    flat = torch.full((1, 1, 5, 5), 0.3)
    torch.testing.assert_close(ds.gaussian_blur(flat, 2.0), flat)


def test_contrast_scales_deviations_from_each_channel_mean():
    images = smooth_images(count=2)
    out = ds.corrupt(images, "contrast", 4)
    means = images.mean(dim=(-2, -1), keepdim=True)
    torch.testing.assert_close(out, (images - means) * 0.3 + means)
    torch.testing.assert_close(out.mean(dim=(-2, -1)), images.mean(dim=(-2, -1)))


@pytest.mark.parametrize(
    "images, kind, severity, error, match",
    [
        (torch.zeros(2, 3, 4, 4, dtype=torch.uint8), "contrast", 1, TypeError, "floating"),
        (torch.zeros(4, 4), "contrast", 1, ValueError, "shape"),
        (torch.full((1, 1, 4, 4), 1.5), "contrast", 1, ValueError, r"\[0, 1\]"),
        (torch.full((1, 1, 4, 4), float("nan")), "contrast", 1, ValueError, "NaN"),
        (torch.zeros(1, 1, 4, 4), "fog", 1, ValueError, "kind"),
        (torch.zeros(1, 1, 4, 4), "contrast", 6, ValueError, "severity"),
        (torch.zeros(1, 1, 4, 4), "contrast", True, ValueError, "severity"),
        (np.zeros((1, 1, 4, 4)), "contrast", 1, TypeError, "Tensor"),
    ],
)
def test_corrupt_validates_its_arguments(images, kind, severity, error, match):
    with pytest.raises(error, match=match):
        ds.corrupt(images, kind, severity)


# -------------------------------------------------------------------------------------------------- text


def test_shipped_corpus_is_the_recorded_shakespeare_extract(no_network):
    text = ds.load_corpus()
    assert len(text) == 1_036_496
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "06bf718c9c69d60b5a1c3f23a276728079ca4769e2c768b628d790075d79b88b")
    assert text.startswith("HAMLET") and "To be, or not to be" in text and "Lord, what fools" in text


def test_load_corpus_reads_plain_and_gzipped_files(tmp_path):
    (tmp_path / "a.txt").write_text("to be or not", encoding="utf-8")
    (tmp_path / "b.txt.gz").write_bytes(gzip.compress("ça va".encode()))
    assert ds.load_corpus(tmp_path / "a.txt") == "to be or not"
    assert ds.load_corpus(tmp_path / "b.txt.gz") == "ça va"
    with pytest.raises(FileNotFoundError):
        ds.load_corpus(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueError, match="empty"):
        ds.load_corpus(tmp_path / "empty.txt")


def test_vocabulary_round_trip_and_errors():
    text = ds.load_corpus()[:20_000] + "ça 日本"
    vocab = CharVocabulary.from_text(text)
    assert list(vocab.chars) == sorted(set(text)) and len(vocab) == len(set(text))
    ids = vocab.encode(text)
    assert ids.dtype == torch.int64 and ids.shape == (len(text),)
    assert vocab.chars[int(ids[0])] == text[0]
    assert vocab.decode(ids) == text
    assert vocab.decode([]) == "" and vocab.encode("").shape == (0,)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        vocab.encode("€")
    with pytest.raises(ValueError, match="ids must lie"):
        vocab.decode([len(vocab)])
    with pytest.raises(ValueError, match="repeat"):
        CharVocabulary(("a", "a"))
    with pytest.raises(ValueError, match="single characters"):
        CharVocabulary(("ab",))


@pytest.mark.parametrize("stride", [None, 1, 3])
def test_char_windows_targets_are_inputs_shifted_by_one(stride):
    text = "the quick brown fox jumps over the lazy dog"
    vocab = CharVocabulary.from_text(text)
    context = 5
    step = context if stride is None else stride
    windows = ds.char_windows(text, vocab, context, stride)
    assert len(windows) == (len(text) - context - 1) // step + 1
    assert windows.inputs.shape == windows.targets.shape == (len(windows), context)
    assert windows.inputs.dtype == windows.targets.dtype == torch.int64
    assert torch.equal(windows.inputs[:, 1:], windows.targets[:, :-1])
    for i in (0, len(windows) - 1):
        start = i * step
        assert vocab.decode(windows.inputs[i]) == text[start:start + context]
        assert vocab.decode(windows.targets[i]) == text[start + 1:start + context + 1]


def test_char_windows_validate_arguments():
    vocab = CharVocabulary.from_text("abc")
    with pytest.raises(ValueError, match="context"):
        ds.char_windows("abcabc", vocab, 0)
    with pytest.raises(ValueError, match="stride"):
        ds.char_windows("abcabc", vocab, 2, stride=0)
    with pytest.raises(ValueError, match="context \\+ 1"):
        ds.char_windows("abc", vocab, 3)
    with pytest.raises(TypeError, match="CharVocabulary"):
        ds.char_windows("abcabc", "abc", 2)


def test_char_splits_hold_out_the_end_of_the_text():
    text = "".join(chr(ord("a") + (i * 7) % 26) for i in range(1000)) + "XYZ"
    splits = ds.char_splits(context=8, val_fraction=0.2, text=text, name="toy")
    assert isinstance(splits, ds.TextSplits) and splits.name == "toy"
    assert splits.num_classes == len(splits.vocab) == 29 and splits.classes == splits.vocab.chars
    assert splits.input_shape == (8,)
    cut = int(len(text) * 0.8)
    assert splits.vocab.decode(splits.train.inputs[0]) == text[:8]
    assert splits.vocab.decode(splits.test.inputs[0]) == text[cut:cut + 8]
    assert splits.vocab.decode(splits.train.targets[-1])[-1] in text[:cut]
    assert len(splits.train) == (cut - 9) // 8 + 1
    shakespeare = ds.char_splits(context=64)
    assert shakespeare.name == "shakespeare" and shakespeare.num_classes == 76
    with pytest.raises(ValueError, match="val_fraction"):
        ds.char_splits(context=8, val_fraction=0.0, text=text)


def test_read_sentences_counts_the_comment_lines_it_skips(tmp_path):
    file = tmp_path / "t.txt"
    file.write_text("# comment\n\n  # indented comment\n  First sentence.  \nSecond one. # not a comment\n")
    lines = ds.read_sentences(file)
    assert lines == ds.SentenceFile(["First sentence.", "Second one. # not a comment"], comments=2, origin=str(file))
    assert ds.load_sentences(file) == lines.sentences and ds.load_sentences(file, limit=1) == lines.sentences[:1]
    shipped = ds.read_sentences()
    assert shipped.sentences == ds.load_sentences() and shipped.origin == "the package's sentences.txt"
