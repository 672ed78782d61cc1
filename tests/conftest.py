"""Shared fixtures: a copy of the repository's corpus and an index built once per session.

Tests never touch ``corpus/`` or ``index/`` in the working tree.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def index_dir(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("index")
    report = reindex(corpus_dir, target)
    assert not report.skipped
    return target


@pytest.fixture(scope="session")
def engine(index_dir: Path) -> Engine:
    return Engine(index_dir)


@pytest.fixture(scope="session")
def app(index_dir: Path, corpus_dir: Path):
    return create_app({"INDEX_DIR": str(index_dir), "CORPUS_DIR": str(corpus_dir), "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
