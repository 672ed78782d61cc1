"""The command line, through click's runner and (for serve) a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from casearch.cli import main

from conftest import write
from live_server import free_port, stop

pytestmark = pytest.mark.usefixtures("engine_name")  # run once per engine (conftest)


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def test_version_and_help() -> None:
    assert run("--version").output.startswith("casearch, version ")
    for command in ["reindex", "search", "analyze", "serve"]:
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example:" in result.output


def test_reindex_summary_line_and_exit_codes(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    write(corpus / "a.md", "鉄道の話\n")
    first = run("reindex", "--corpus", str(corpus), "--index", str(tmp_path / "ix"))
    assert first.exit_code == 0
    assert first.stdout.strip().splitlines()[-1].startswith("added 1, updated 0, removed 0, skipped 0; 1 passages; ")
    (corpus / "bad.md").write_bytes(b"\xff")
    second = run("reindex", "--corpus", str(corpus), "--index", str(tmp_path / "ix"))
    assert second.exit_code == 1 and "bad.md" in second.stderr and "UTF-8" in second.stderr
    assert second.stdout.strip().startswith("added 0, updated 0, removed 0, skipped 1;")


def test_reindex_without_corpus_exits_3_with_hint(tmp_path: Path) -> None:
    result = run("reindex", "--corpus", str(tmp_path / "none"), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 3 and "Corpus folder not found" in result.stderr
    assert not (tmp_path / "ix" / "CURRENT").exists()


def test_environment_variables_choose_folders(tmp_path: Path) -> None:
    write(tmp_path / "c/a.md", "鉄道の話\n")
    env = {"CASEARCH_CORPUS": str(tmp_path / "c"), "CASEARCH_INDEX": str(tmp_path / "ix")}
    assert run("reindex", env=env).exit_code == 0
    assert json.loads(run("search", "鉄道", "--json", env=env).stdout)["total"] == 1


def test_search_json_equals_the_endpoint(index_dir: Path, client) -> None:
    result = run("search", "天然", "ガス", "--lang", "ja", "--json", "--index", str(index_dir))
    cli = json.loads(result.stdout)
    api = client.get("/api/search", query_string={"q": "天然 ガス", "lang": "ja"}).get_json()
    cli.pop("took_ms"), api.pop("took_ms")
    assert result.exit_code == 0 and cli == api


def test_search_text_output(index_dir: Path) -> None:
    result = run("search", "パイプライン", "--index", str(index_dir), "--limit", "1")
    assert result.exit_code == 0 and "[パイプライン]" in result.stdout and "/doc/summit-2025/ja#s5" in result.stdout


def test_search_exit_codes(index_dir: Path, tmp_path: Path) -> None:
    assert run("search", "存在しない語彙", "--index", str(index_dir)).exit_code == 0
    missing = run("search", "x", "--index", str(tmp_path / "none"))
    assert missing.exit_code == 1 and "casearch reindex" in missing.stderr
    assert run("search", "x" * 501, "--index", str(index_dir)).exit_code == 2
    assert run("search", "x", "--limit", "0", "--index", str(index_dir)).exit_code == 2


def test_analyze_json_offsets(tmp_path: Path) -> None:
    text = "天然ｶﾞｽの　pipelines。"
    tokens = json.loads(run("analyze", text, "--json").stdout)["tokens"]
    assert [t["surface"] for t in tokens] == ["天然", "ｶﾞｽ", "の", "pipelines", "。"]
    for token in tokens:
        assert text[token["start"] : token["end"]] == token["surface"]
        assert set(token) >= {"surface", "start", "end", "term", "base", "reading", "pos", "indexed"}
    assert tokens[1]["term"] == "ガス" and tokens[3]["term"] == "pipelin" and tokens[4]["indexed"] is False


@pytest.mark.slow
def test_serve_builds_missing_index_and_answers(corpus_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    index = tmp_path / "fresh-index"
    process = subprocess.Popen(
        [sys.executable, "-m", "casearch.cli", "serve", "--port", str(port),
         "--corpus", str(corpus_dir), "--index", str(index)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    try:
        data = _get_json(f"http://127.0.0.1:{port}/api/search?q=%E3%83%91%E3%82%A4%E3%83%97%E3%83%A9%E3%82%A4%E3%83%B3")
        assert data["hits"][0]["section"] == "エネルギー・インフラで結びつく6カ国"
        assert "<mark>パイプライン</mark>" in data["hits"][0]["snippet"]
        assert (index / "CURRENT").exists()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q=", timeout=10)
        except urllib.error.HTTPError as error:
            assert error.code == 400
        else:
            pytest.fail("empty q was accepted")
    finally:
        stop(process)


def _get_json(url: str, attempts: int = 100) -> dict:
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"server never answered {url}")


def test_reindex_of_a_missing_corpus_leaves_no_index_folder(tmp_path: Path) -> None:
    result = run("reindex", "--corpus", str(tmp_path / "nowhere"), "--index", str(tmp_path / "index"))
    assert result.exit_code == 3 and "nowhere" in result.output
    assert not (tmp_path / "index").exists()


@pytest.mark.parametrize("command", ["reindex", "serve"])
def test_a_missing_corpus_leaves_no_index_folder_from_a_real_process(tmp_path: Path, command: str) -> None:
    """Exit 3 with the reason, and not even the index's parent folders are created
    (serve builds a missing index first, so it meets the missing corpus too)."""
    from live_server import free_port

    index = tmp_path / "deep" / "index"
    command = ["reindex"] if command == "reindex" else ["serve", "--port", str(free_port())]
    result = subprocess.run(
        [sys.executable, "-m", "casearch.cli", *command, "--corpus", str(tmp_path / "nowhere"), "--index", str(index)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 3 and "Corpus folder not found" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
