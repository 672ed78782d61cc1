"""The benchmark runs end to end on a handful of fixture documents (no apt-get, no man pages).

Checks that every figure is produced and sane (positive, counted, ratios computed) for
each engine measured, never how fast anything is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from casearch import engines

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / "bench" / "run.py"

PAGES = {
    "ja/1/ls": ("ls(1)", "ja", "translations: en/1/ls", [
        ("名前", "ls - ディレクトリの内容を一覧表示する"),
        ("説明", "ファイルの情報を表示する。環境変数 LANG によって表示が変わる。\n\n"
                 "オプションを指定しなければ、カレントディレクトリのファイルを名前順に並べる。"),
    ]),
    "en/1/ls": ("ls(1)", "en", "translation_of: ja/1/ls", [
        ("NAME", "ls - list directory contents"),
        ("DESCRIPTION", "List information about the files. The environment variable LANG changes the output.\n\n"
                        "Without options, the files of the current directory are sorted by name."),
    ]),
    "ja/1/cp": ("cp(1)", "ja", "translations: en/1/cp", [
        ("名前", "cp - ファイルとディレクトリをコピーする"),
        ("説明", "ファイルを開く前に権限を確認する。シンボリックリンクをたどってコピーする。"),
    ]),
    "en/1/cp": ("cp(1)", "en", "translation_of: ja/1/cp", [
        ("NAME", "cp - copy files and directories"),
        ("DESCRIPTION", "Permissions are checked before the file is opened. Symbolic links are followed."),
    ]),
    "ja/5/passwd": ("passwd(5)", "ja", "", [
        ("名前", "passwd - パスワードファイル"),
        ("説明", "ユーザーアカウントの情報を保持する。各行はコロンで区切られた七つのフィールドからなる。"),
    ]),
    "en/7/environ": ("environ(7)", "en", "", [
        ("NAME", "environ - user environment"),
        ("DESCRIPTION", "The environment variable list is made available to the process when it starts."),
    ]),
}

QUERIES = [
    ("single", "ファイル"), ("single", "権限"),
    ("compound", "環境変数"), ("compound", "カレントディレクトリ"),
    ("phrase", '"ファイルを開く"'), ("phrase", '"名前順に並べる"'),
    ("english", "directory"), ("english", "environment variable"),
]


def write_fixture(root: Path) -> tuple[Path, Path]:
    corpus = root / "corpus"
    for doc_id, (title, lang, link, sections) in PAGES.items():
        front = ["---", f"title: {title}", f"lang: {lang}"] + ([link] if link else []) + ["---", ""]
        body = "\n\n".join(f"## {heading}\n\n{text}" for heading, text in sections)
        path = corpus / f"{doc_id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(front) + body + "\n", encoding="utf-8")
    queries = root / "queries.tsv"
    queries.write_text("class\tquery\n" + "".join(f"{c}\t{q}\n" for c, q in QUERIES), encoding="utf-8")
    return corpus, queries


def measured_engines() -> list[str]:
    return ["whoosh", "tantivy"] if engines.available("tantivy") else ["whoosh"]


def check_engine(results: dict, name: str) -> None:
    """Every figure of one engine: produced, positive, counted."""
    measured = results["engines"][name]
    points = {p["scale_label"]: p for p in measured["points"]}
    assert set(points) == {"1×", "2×"}
    main, double = points["1×"], points["2×"]
    assert main["documents"] == len(PAGES) and double["documents"] == 2 * len(PAGES)
    assert double["passages"] > main["passages"] > 0
    for figure in ("reindex_s", "reindex_rss_mb", "reindex_tree_rss_mb", "index_mb", "incr1_s", "incr_pct_s"):
        assert main[figure] > 0, figure
    assert main["query"]["runs"] >= 20 and main["query"]["queries"] == len(QUERIES)
    assert main["query"]["with_hits"] >= 4
    assert 0 < main["query"]["ms"]["50"] <= main["query"]["ms"]["99"]
    assert set(main["query"]["per_class"]) == {"single", "compound", "phrase", "english"}
    assert 0 < main["query"]["took_ms"]["50"] <= main["query"]["took_ms"]["99"]
    assert main["http"]["requests"] > 0 and main["http"]["non_2xx"] == 0 and main["rps"] > 0
    assert main["http"]["engine"] == name and main["engine"] == name
    assert measured["growth"]["reindex_s"]["slope"] is not None
    assert "all on" in measured["variants"]
    assert isinstance(measured["lean"], dict) and 0 < measured["lean"]["index_mb"] < main["index_mb"]


@pytest.mark.slow
def test_benchmark_runs_end_to_end_on_fixture_documents(tmp_path: Path) -> None:
    corpus, queries = write_fixture(tmp_path)
    out_json, out_md = tmp_path / "results.json", tmp_path / "results.md"
    names = measured_engines()
    argv = [
        sys.executable, str(RUN), "--corpus", str(corpus), "--queries", str(queries), "--skip-install",
        "--runs", "20", "--growth-runs", "4", "--variant-runs", "4", "--scales", "1,2",
        "--http-seconds", "1", "--growth-http-seconds", "1", "--load", "python", "--engines", ",".join(names),
        "--work", str(tmp_path / "work"), "--json-out", str(out_json), "--md-out", str(out_md),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=480, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads(out_json.read_text(encoding="utf-8"))
    assert results["engine_names"] == names and set(results["engines"]) == set(names)
    for name in names:
        check_engine(results, name)

    base = results["baselines"]
    assert base["floor"]["seconds"] > 0 and base["floor"]["tokens"] > 0
    assert base["fts"]["queries"] == len(QUERIES) and base["fts"]["runs"] >= 20

    table = out_md.read_text(encoding="utf-8")
    assert table.strip() == done.stdout.strip()
    assert "## Engines side by side (scale 1)" in table
    side_by_side = table.split("## Engines side by side (scale 1)")[1].split("\n## ")[0]
    header = next(line for line in side_by_side.splitlines() if line.startswith("| figure"))
    assert all(f"| {name} |" in header for name in names)
    assert "× floor" in side_by_side and "× FTS5" in side_by_side
    if len(names) == 2:
        assert "| tantivy ÷ whoosh |" in header
    for name in names:
        assert f"## {name}: figures" in table and f"### {name}: growth" in table
    assert "slope" in table
    for name in names:
        check_verdicts(table, results["engines"][name], name)


def verdict_of(section: str, row_start: str) -> str:
    row = next(line for line in section.splitlines() if line.startswith(row_start))
    return row.rstrip(" |").rsplit("|", 1)[1].strip()


def check_verdicts(table: str, measured: dict, name: str) -> None:
    """Each verdict in the engine's table follows from its own figures and the targets."""
    section = table.split(f"## {name}: figures")[1].split("\n## ")[0]
    point = next(p for p in measured["points"] if p["scale_label"] == "1×")
    expected = {
        "| Query p99 |": point["query"]["ms"]["99"] < 20.0,
        "| Incremental reindex, 1 file changed": point["incr1_s"] < 0.5,
        "| Full reindex peak memory": point["reindex_tree_rss_mb"] < 1024.0,
    }
    for row_start, ok in expected.items():
        assert verdict_of(section, row_start) == ("**pass**" if ok else "**FAIL**"), (name, row_start)


def test_benchmark_refuses_an_unknown_engine(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(RUN), "--engines", "whoosh,lucene", "--work", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "lucene" in done.stderr
