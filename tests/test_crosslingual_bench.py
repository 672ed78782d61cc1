"""bench/crosslingual.py on a few generated page pairs: the split, the queries and the
table (never the man-page corpus, never timings)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from casearch.index import reindex
from casearch.search import Engine

from conftest import REPO, write

spec = importlib.util.spec_from_file_location("crosslingual_bench", REPO / "bench" / "crosslingual.py")
bench = importlib.util.module_from_spec(spec)
sys.modules["crosslingual_bench"] = bench
spec.loader.exec_module(bench)

PAGES = [("ls", "ls - ディレクトリの内容を一覧表示する", "ls - list directory contents"),
         ("cp", "cp - ファイルとディレクトリをコピーする", "cp - copy files and directories"),
         ("passwd", "passwd - パスワードファイル", "passwd - the password file")]


@pytest.mark.parametrize(("page", "split", "inside"), [
    ("getent(1)", "a-l", True), ("ls(1)", "a-l", True), ("Intro(1)", "a-l", True), ("mkdir(2)", "a-l", False),
    ("mkdir(2)", "m-z", True), ("_exit(2)", "a-l", False), ("_exit(2)", "m-z", False), ("_exit(2)", "all", True),
])
def test_pages_split_by_first_letter(page: str, split: str, inside: bool) -> None:
    assert bench.in_split(page, split) is inside


def test_description_query_drops_the_command_and_joins_content_words() -> None:
    assert bench.description_query("cp - copy files and directories") == "copy OR files OR directories"


def test_table_reports_both_directions_with_and_without_expansion(tmp_path: Path) -> None:
    rows = []
    for name, ja, en in PAGES:
        write(tmp_path / f"c/ja/1/{name}.md", f"---\nlang: ja\ntranslations: en/1/{name}\n---\n## 名前\n\n{ja}\n")
        write(tmp_path / f"c/en/1/{name}.md", f"---\nlang: en\ntranslation_of: ja/1/{name}\n---\n## NAME\n\n{en}\n")
        rows.append([f"{name}(1)", f"ja/1/{name}", f"en/1/{name}", en, ja])
    reindex(tmp_path / "c", tmp_path / "ix")
    table = bench.evaluate(Engine(tmp_path / "ix"), rows)
    assert [(r["direction"], r["cross"]) for r in table] == [
        ("en → ja", True), ("en → ja", False), ("ja → en", True), ("ja → en", False)]
    for row in table:
        assert row["queries"] == 3 and 0 <= row["mrr10"] <= row["hit10"] <= 1 and len(row["ranks"]) == 3
    crossed = {r["direction"]: r for r in table if r["cross"]}
    assert crossed["ja → en"]["hit10"] == 1.0  # every Japanese description finds its English page
    assert "| ja → en | 1 |" in bench.markdown(table)
