"""Every example in README.md and docs/**/*.md runs as written, and every link between them leads somewhere.

A fenced block's info string says what it is: ``python`` (run in this process), ``bash`` (run by bash,
stopping at the first failing command) or ``text`` (output or other prose, not run). Words after the
language:

- ``mnist``: the example reads MNIST; it finds it through $PYAAE_DATA_DIR, which points at a folder
  whose ``mnist/`` is the MNIST folder of tests/conftest.py, and is skipped where that folder is missing;
- ``root``: run from the repository's root (for commands that name files of the checkout); every other
  example runs in a fresh empty folder, so the pages' commands are shown to work from any folder;
- ``notest: REASON``: not run (installs, the test suite itself, runs of hours), reported as skipped
  with that reason.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List

import pytest
from conftest import MNIST_DIR

import pyaae

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", flags=re.S | re.M)
LANGUAGES = ("python", "bash", "text")
MNIST_PRESENT = (MNIST_DIR / "train-images-idx3-ubyte.gz").exists()
TIMEOUT_S = 600


@dataclass
class Example:
    page: str
    line: int
    info: str
    language: str
    tags: List[str]
    skip_reason: str
    code: str

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


def _examples() -> List[Example]:
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in FENCE.finditer(text):
            info, code = match.group(1).strip(), match.group(2)
            head, _, reason = info.partition("notest:")
            words = head.split()
            found.append(Example(page=str(page.relative_to(ROOT)), line=text.count("\n", 0, match.start()) + 1,
                                 info=info, language=words[0] if words else "", tags=words[1:],
                                 skip_reason=reason.strip() if "notest:" in info else "", code=code))
    return found


EXAMPLES = _examples()
RUNNABLE = [e for e in EXAMPLES if e.language != "text"]


def test_pages_have_examples() -> None:
    assert (ROOT / "docs").is_dir(), "docs/ is missing"
    assert any(e.page == "README.md" and e.language == "python" for e in EXAMPLES), "README.md has no python example"
    assert any(e.page == "README.md" and e.language == "bash" and not e.skip_reason for e in EXAMPLES), \
        "README.md has no shell example that runs"


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_fence_is_known(example: Example) -> None:
    """A block of an unknown language or tag would silently never run."""
    assert example.language in LANGUAGES, f"{example.name}: fence language {example.language!r} not in {LANGUAGES}"
    unknown = set(example.tags) - {"mnist", "root"}
    assert not unknown, f"{example.name}: unknown fence words {sorted(unknown)} (known: mnist, root, notest: REASON)"
    assert "notest:" not in example.info or example.skip_reason, f"{example.name}: notest needs a reason"
    if example.language == "text":
        assert not example.tags and not example.skip_reason, f"{example.name}: a text block is never run"


def _anchors(text: str) -> set:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ +(.+?) *$", FENCE.sub("", text), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_links_lead_somewhere(page: Path) -> None:
    """Relative links name files of the checkout, and their #anchors headings of those files."""
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", FENCE.sub("", page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target} (no file {linked})")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked.read_text()):
            broken.append(f"{target} (no heading #{anchor})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


@pytest.fixture
def example_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working folder, and $PYAAE_DATA_DIR holding mnist/ where the MNIST files are."""
    data = tmp_path / "data"
    data.mkdir()
    if MNIST_PRESENT:
        (data / "mnist").symlink_to(MNIST_DIR.resolve(), target_is_directory=True)
    monkeypatch.setenv("PYAAE_DATA_DIR", str(data))
    work = tmp_path / "work"
    work.mkdir()
    return work


@pytest.mark.parametrize("example", RUNNABLE, ids=[e.name for e in RUNNABLE])
def test_example_runs(example: Example, example_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if example.skip_reason:
        pytest.skip(f"marked notest: {example.skip_reason}")
    if "mnist" in example.tags and not MNIST_PRESENT:
        pytest.skip(f"MNIST IDX files not found in {MNIST_DIR} (set PYAAE_MNIST_DIR)")
    folder = ROOT if "root" in example.tags else example_folder
    if example.language == "python":
        monkeypatch.chdir(folder)
        try:
            exec(compile(example.code, example.name, "exec"), {"__name__": "__example__"})
        finally:  # examples may change the kernels' global settings
            pyaae.set_num_threads(None)
            if pyaae.build_info()["extension_loaded"]:
                pyaae.set_simd_level("auto")
        return
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", example.code], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, (f"{example.name} failed (exit {done.returncode}):\n{example.code}\n"
                                  f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}")
