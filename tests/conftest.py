"""Shared fixtures: a copy of the repository's corpus and an index built once per session
and per engine.

Every test that uses the index (``index_dir``, ``engine``, ``app``, ``client``) or asks
for ``engine_name`` runs once with each engine: ``engine_name`` is a session fixture
with one parameter per engine, and ``CASEARCH_ENGINE`` is set to it for the test, so
the library's defaults, ``create_app`` and CLI subprocesses all use that engine. Tests
never touch ``corpus/`` or ``index/`` in the working tree.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from casearch.engines import ENGINES
from casearch.index import reindex
from casearch.search import Engine
from casearch.web import create_app

REPO = Path(__file__).resolve().parents[1]
SEED = REPO.parent / "shared" / "seed" / "article-ja.txt"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("corpus")
    shutil.copytree(REPO / "corpus", target, dirs_exist_ok=True)
    return target


@pytest.fixture(scope="session", params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(autouse=True)
def _configured_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """CASEARCH_ENGINE follows the test's engine (whoosh for tests not run per engine)."""
    name = request.getfixturevalue("engine_name") if "engine_name" in request.fixturenames else "whoosh"
    monkeypatch.setenv("CASEARCH_ENGINE", name)


@pytest.fixture(scope="session")
def index_dir(corpus_dir: Path, engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp(f"index-{engine_name}")
    report = reindex(corpus_dir, target, engine=engine_name)
    assert not report.skipped
    return target


@pytest.fixture(scope="session")
def engine(index_dir: Path, engine_name: str) -> Engine:
    return Engine(index_dir, engine_name)


@pytest.fixture(scope="session")
def app(index_dir: Path, corpus_dir: Path, engine_name: str):
    return create_app({
        "INDEX_DIR": str(index_dir), "CORPUS_DIR": str(corpus_dir), "ENGINE": engine_name, "TESTING": True,
    })


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def many_engine(tmp_path_factory: pytest.TempPathFactory, engine_name: str) -> Engine:
    """Forty short documents in both languages sharing a few words, so that queries
    match more passages than a page holds, directly and through the bridge."""
    root = tmp_path_factory.mktemp("passes")
    rng = random.Random(7)
    ja_words = ["エネルギー", "鉄道", "天然ガス", "協力", "貿易", "会議"]
    en_words = ["energy", "railway", "natural gas", "cooperation", "trade", "summit"]
    for n in range(20):
        ja = "。".join(f"{rng.choice(ja_words)}について{rng.choice(ja_words)}の話" for _ in range(3))
        en = ". ".join(f"A note on {rng.choice(en_words)} and {rng.choice(en_words)}" for _ in range(3))
        write(root / "c" / f"ja{n:02}.md", f"# 文書{n}\n\n{ja}。\n")
        write(root / "c" / f"en{n:02}.md", f"---\ntranslation_of: ja{n:02}\n---\n# Note {n}\n\n{en}.\n")
    reindex(root / "c", root / "i", engine=engine_name)
    return Engine(root / "i", engine_name)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests first: spread over two processes (``make test``), the long ones start
    early and the short ones fill the gaps, instead of one long test running alone at the
    end. The order within each group is the collection order."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
