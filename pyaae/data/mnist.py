"""MNIST from the four original IDX files: verified by their published checksums, split the paper's
way (train 50,000 / validation 10,000 / test 10,000), pixels scaled to [0, 1].

Files are read gzip-compressed or not. With ``download=True`` missing files are fetched from a list
of mirrors (no more than each file's published size is read), verified, and written atomically
(temporary file, then rename, then the folder synced): an interrupted or corrupt download never
leaves a partial file behind.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .._atomic import write_atomically


@dataclass(frozen=True)
class MnistFile:
    """One of the four files: name (without .gz), published SHA-256 of the gzip file and of the IDX
    bytes inside it, IDX magic number, item count, and the gzip file's size in bytes (a download
    reads no more than that)."""

    name: str
    sha256_gz: str
    sha256_raw: str
    magic: int
    count: int
    size_gz: int


FILES = {
    "train-images": MnistFile("train-images-idx3-ubyte",
                              "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                              "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 2051, 60000, 9912422),
    "train-labels": MnistFile("train-labels-idx1-ubyte",
                              "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                              "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 2049, 60000, 28881),
    "test-images": MnistFile("t10k-images-idx3-ubyte",
                             "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                             "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 2051, 10000, 1648877),
    "test-labels": MnistFile("t10k-labels-idx1-ubyte",
                             "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                             "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 2049, 10000, 4542),
}

DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
SPLITS = ("train", "validation", "test")
TRAIN_SIZE = 50000  # the paper's split of the 60,000 training images: 50,000 train, 10,000 validation


class MnistError(RuntimeError):
    """A missing, corrupt or undownloadable MNIST file (the message names it)."""


class MnistMissing(MnistError):
    """An MNIST file that is not in ``folder``, with downloads off. ``name``: the file (gzip form);
    ``empty``: whether the folder holds none of the four files (a mistyped path, most likely)."""

    def __init__(self, folder: Path, name: str, empty: bool) -> None:
        self.folder, self.name, self.empty = folder, name, empty
        what = "holds no MNIST files" if empty else f"lacks {name} (nor its uncompressed form)"
        super().__init__(f"{folder} {what}; pass download=True or point data_dir at a folder with the MNIST IDX "
                         "files")


def default_data_dir() -> Path:
    """$PYAAE_DATA_DIR/mnist if set, else the per-user cache ($XDG_CACHE_HOME or ~/.cache)/pyaae/mnist."""
    if os.environ.get("PYAAE_DATA_DIR"):
        return Path(os.environ["PYAAE_DATA_DIR"]) / "mnist"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "pyaae" / "mnist"


def load_mnist(data_dir: Union[str, os.PathLike, None] = None, split: str = "train", *,
               download: bool = False, mirrors: Sequence[str] = DEFAULT_MIRRORS) -> Tuple[torch.Tensor, torch.Tensor]:
    """Images float32 [n, 784] in [0, 1] and labels int64 [n] of one split.

    Args:
        data_dir: folder holding the four IDX files (``.gz`` or not); None uses ``default_data_dir()``.
        split: "train" (the first 50,000 training images), "validation" (the last 10,000) or "test".
        download: fetch missing files from ``mirrors`` (verified, written atomically).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    if download and (isinstance(mirrors, str) or not mirrors):
        raise ValueError(f"mirrors must be a non-empty list of base URLs to download from, got {mirrors!r}")
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    part = "test" if split == "test" else "train"
    images = _read(folder, FILES[f"{part}-images"], download, mirrors)
    labels = _read(folder, FILES[f"{part}-labels"], download, mirrors)
    if split == "train":
        images, labels = images[:TRAIN_SIZE], labels[:TRAIN_SIZE]
    elif split == "validation":
        images, labels = images[TRAIN_SIZE:], labels[TRAIN_SIZE:]
    pixels = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    return pixels, torch.from_numpy(labels.astype(np.int64))


def _read(folder: Path, spec: MnistFile, download: bool, mirrors: Sequence[str]) -> np.ndarray:
    path = _locate(folder, spec)
    if path is None:
        if not download:
            raise MnistMissing(folder, spec.name + ".gz", not holds_mnist(folder))
        path = download_file(folder, spec, mirrors)
    blob = path.read_bytes()
    gz = path.suffix == ".gz"
    if hashlib.sha256(blob).hexdigest() != (spec.sha256_gz if gz else spec.sha256_raw):
        raise MnistError(f"{path} is corrupt: its SHA-256 is not the published one")
    return _parse(gzip.decompress(blob) if gz else blob, spec, path)


def holds_mnist(folder: Union[str, os.PathLike]) -> bool:
    """Whether ``folder`` holds any of the four MNIST files (gzip or not)."""
    return any(_locate(Path(folder), spec) for spec in FILES.values())


def _locate(folder: Path, spec: MnistFile) -> Optional[Path]:
    for name in (spec.name + ".gz", spec.name):
        if (folder / name).is_file():
            return folder / name
    return None


def _parse(raw: bytes, spec: MnistFile, path: Path) -> np.ndarray:
    header = np.frombuffer(raw[:16], dtype=">u4")
    if len(header) < 2 or header[0] != spec.magic or header[1] != spec.count:
        raise MnistError(f"{path}: not an MNIST IDX file of {spec.count} items (magic {spec.magic})")
    if spec.magic == 2051:
        return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(spec.count, 28, 28)
    return np.frombuffer(raw, dtype=np.uint8, offset=8)


def download_file(folder: Path, spec: MnistFile, mirrors: Sequence[str], timeout: float = 60.0) -> Path:
    """Fetch ``spec``'s gzip file from the first mirror that serves it intact; return its path. A
    folder created for it is removed again when every mirror fails (a mistyped path leaves nothing)."""
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (spec.name + ".gz")
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + target.name
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                blob = response.read(spec.size_gz + 1)  # one byte more tells a longer file
        except (urllib.error.URLError, OSError) as exc:
            failures.append(f"{url}: {exc}")
            continue
        if len(blob) > spec.size_gz:
            failures.append(f"{url}: longer than the published {spec.size_gz} bytes (not the MNIST file)")
            continue
        if hashlib.sha256(blob).hexdigest() != spec.sha256_gz:
            failures.append(f"{url}: checksum mismatch (corrupt download)")
            continue
        return write_atomically(target, lambda tmp: Path(tmp).write_bytes(blob))
    if created and not any(folder.iterdir()):
        folder.rmdir()
    raise MnistError(f"could not download {target.name} into {folder}: " + "; ".join(failures))
