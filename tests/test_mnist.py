"""MNIST loading from the original IDX files: the paper's split, checksums, clear errors, and
downloads from mirrors (a local HTTP server on 127.0.0.1 here) written atomically."""
from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import threading
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
import torch
from conftest import MNIST_DIR as SHARED
from conftest import needs_mnist

from pyaae.data import MnistError, MnistMissing, default_data_dir, load_mnist
from pyaae.data.mnist import FILES, download_file

pytestmark = needs_mnist


def test_the_papers_split() -> None:
    sizes = {"train": 50000, "validation": 10000, "test": 10000}
    for split, n in sizes.items():
        images, labels = load_mnist(SHARED, split)
        assert images.shape == (n, 784) and images.dtype == torch.float32
        assert labels.shape == (n,) and labels.dtype == torch.int64
        assert images.min() == 0.0 and images.max() == 1.0 and labels.min() == 0 and labels.max() == 9
    train, train_labels = load_mnist(SHARED, "train")
    validation, _ = load_mnist(SHARED, "validation")
    _, test_labels = load_mnist(SHARED, "test")
    everything = torch.cat([train, validation])
    assert abs(everything.mean().item() - 0.1307) < 1e-4 and abs(everything.std().item() - 0.3081) < 1e-4
    assert train_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test_labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert torch.bincount(test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_uncompressed_files_load_the_same(tmp_path: Path) -> None:
    for spec in FILES.values():
        (tmp_path / spec.name).write_bytes(gzip.decompress((SHARED / (spec.name + ".gz")).read_bytes()))
    for a, b in zip(load_mnist(tmp_path, "test"), load_mnist(SHARED, "test")):
        assert torch.equal(a, b)


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(MnistMissing, match=f"{tmp_path} holds no MNIST files; pass download=True") as error:
        load_mnist(tmp_path, "test")
    assert (error.value.folder, error.value.name, error.value.empty) == (tmp_path, "t10k-images-idx3-ubyte.gz", True)
    shutil.copy(SHARED / "t10k-images-idx3-ubyte.gz", tmp_path)
    with pytest.raises(MnistMissing, match="lacks t10k-labels-idx1-ubyte.gz"):
        load_mnist(tmp_path, "test")


def test_corrupt_file_names_it(tmp_path: Path) -> None:
    for spec in FILES.values():
        shutil.copy(SHARED / (spec.name + ".gz"), tmp_path)
    blob = bytearray((tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes())
    blob[100] ^= 0xFF
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(blob))
    with pytest.raises(MnistError, match=r"t10k-labels-idx1-ubyte.gz is corrupt"):
        load_mnist(tmp_path, "test")


def test_unknown_split() -> None:
    with pytest.raises(ValueError, match="split must be one of train, validation, test"):
        load_mnist(SHARED, "dev")


def test_default_data_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYAAE_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path / "mnist"


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple]:
    """An HTTP server on 127.0.0.1 serving a copy of the MNIST files; yields (url, served folder)."""
    served = tmp_path / "served"
    served.mkdir()
    for spec in FILES.values():
        shutil.copy(SHARED / (spec.name + ".gz"), served)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        server.shutdown()
        server.server_close()


def test_download_from_a_mirror(mirror, tmp_path: Path) -> None:
    url, _ = mirror
    target = tmp_path / "data"
    images, labels = load_mnist(target, "test", download=True, mirrors=["http://127.0.0.1:9/unreachable/", url])
    assert images.shape == (10000, 784)
    assert sorted(p.name for p in target.iterdir()) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_corrupt_download_fails_clearly_and_leaves_nothing(mirror, tmp_path: Path) -> None:
    url, served = mirror
    blob = bytearray((served / "t10k-images-idx3-ubyte.gz").read_bytes())
    blob[5000] ^= 0xFF
    (served / "t10k-images-idx3-ubyte.gz").write_bytes(bytes(blob))
    target = tmp_path / "data"
    with pytest.raises(MnistError, match="could not download t10k-images-idx3-ubyte.gz into .*checksum mismatch"):
        load_mnist(target, "test", download=True, mirrors=[url])
    assert not target.exists()  # created for the download, removed with nothing in it


def test_download_reads_no_more_than_the_published_size(mirror, tmp_path: Path, monkeypatch) -> None:
    """A response was read whole, however long: a hostile or broken mirror could fill the memory."""
    url, served = mirror
    with open(served / "t10k-labels-idx1-ubyte.gz", "ab") as f:
        f.write(bytes(1 << 20))
    reads = []
    urlopen = urllib.request.urlopen

    def recording(*args, **kwargs):
        response = urlopen(*args, **kwargs)
        read = response.read
        response.read = lambda *a: reads.append(a) or read(*a)
        return response

    monkeypatch.setattr(urllib.request, "urlopen", recording)
    with pytest.raises(MnistError, match=r"could not download t10k-labels-idx1-ubyte.gz into .*longer than the "
                                         r"published 4542 bytes"):
        download_file(tmp_path / "data", FILES["test-labels"], [url])
    assert reads == [(4543,)] and not (tmp_path / "data").exists()


def test_a_failed_download_leaves_no_folder(tmp_path: Path) -> None:
    """A mistyped data_dir was created, and stayed, though nothing could be fetched into it."""
    with pytest.raises(MnistError, match="could not download t10k-images-idx3-ubyte.gz into"):
        load_mnist(tmp_path / "mnsit", "test", download=True, mirrors=["http://127.0.0.1:9/unreachable/"])
    assert list(tmp_path.iterdir()) == []
