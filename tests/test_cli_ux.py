"""The command line as a person sees it: the progress bar on a terminal, coloured results,
``casearch stats``."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from casearch.cli import main
from casearch.console import ReindexProgress, human_bytes, snippet_text

from conftest import write

pytestmark = pytest.mark.usefixtures("engine_name")  # run once per engine (conftest)


class Terminal(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env)


# --- reindex progress --------------------------------------------------------------------


def test_progress_bar_redraws_one_line_on_a_terminal() -> None:
    screen = Terminal()
    ticks = iter([0.0, 1.0, 2.0, 4.0])
    progress = ReindexProgress(screen, ReindexProgress.mode_for(screen, quiet=False), clock=lambda: next(ticks))
    assert progress.mode == "bar"
    progress("checked 100/400 files")
    progress("checked 200/400 files")
    progress("index format 1.1 != 3.3: rebuilding")  # any other message gets its own line
    progress("checked 400/400 files")
    progress.close()
    out = screen.getvalue()
    assert out.count("\n") == 2  # the notice and the end of the bar, nothing else
    frames = out.split("\r\x1b[2K")
    assert "indexing [" in frames[1] and "100/400 files  25%" in frames[1] and "3 s left" in frames[1]
    assert "200/400 files  50%" in frames[2]
    assert frames[3] == "index format 1.1 != 3.3: rebuilding\n"
    assert "400/400 files 100%" in frames[4] and frames[4].endswith("\n")
    bar = frames[1][frames[1].index("[") + 1 : frames[1].index("]")]
    assert set(bar) == {"█", "░"} and bar.count("█") == round(len(bar) / 4) and len(bar) >= 10


def test_only_file_counts_move_the_bar() -> None:
    """Other messages may carry numbers with a slash (a cache folder under /srv/2026/12)."""
    screen = Terminal()
    progress = ReindexProgress(screen, "bar", clock=lambda: 1.0)
    progress("building the dictionary look-up index, one time, about 20 s, into /srv/2026/12/cache")
    progress.close()
    assert screen.getvalue() == "building the dictionary look-up index, one time, about 20 s, into /srv/2026/12/cache\n"


def test_progress_is_plain_lines_off_a_terminal_and_nothing_when_quiet() -> None:
    pipe = io.StringIO()
    lines = ReindexProgress(pipe, ReindexProgress.mode_for(pipe, quiet=False))
    lines("checked 100/400 files")
    lines("checked 400/400 files")
    lines.close()
    assert pipe.getvalue() == "checked 100/400 files\nchecked 400/400 files\n"
    screen = Terminal()
    quiet = ReindexProgress(screen, ReindexProgress.mode_for(screen, quiet=True))
    quiet("checked 100/400 files")
    quiet.close()
    assert screen.getvalue() == ""


def _run_on_a_terminal(args: list[str], timeout: float = 120) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal; return (exit code, stdout, stderr)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "casearch.cli", *args], stdout=subprocess.PIPE, stderr=follower,
        env={**os.environ, "COLUMNS": "100", "PYTHONIOENCODING": "utf-8"},
    )
    os.close(follower)
    captured = b""
    while True:
        ready, _, _ = select.select([leader], [], [], timeout)
        if not ready:
            process.kill()
            raise AssertionError("no output from the CLI")
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        captured += chunk
    stdout = process.stdout.read().decode()
    process.stdout.close()
    code = process.wait(timeout=timeout)
    os.close(leader)
    return code, stdout, captured.decode("utf-8", errors="replace")


def _corpus(root: Path, files: int) -> Path:
    for n in range(files):
        write(root / f"doc{n:03d}.md", f"---\nlang: en\n---\nNote {n} about the railway.\n")
    return root


def test_reindex_draws_a_bar_on_a_real_terminal(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", 120)  # the library reports every 100 files and at the end
    code, stdout, stderr = _run_on_a_terminal(["reindex", "--corpus", str(corpus), "--index", str(tmp_path / "ix")])
    assert code == 0, stderr
    assert stdout.startswith("added 120, updated 0, removed 0, skipped 0;")
    assert "\r\x1b[2Kindexing [" in stderr and "100/120 files" in stderr and "120/120 files 100%" in stderr
    assert "checked 100/120 files" not in stderr  # the bar replaces the plain lines
    quiet_code, quiet_out, quiet_err = _run_on_a_terminal(
        ["reindex", "--full", "--quiet", "--corpus", str(corpus), "--index", str(tmp_path / "ix")])
    assert quiet_code == 0 and quiet_out.startswith("added 120,")
    assert "indexing [" not in quiet_err and "checked" not in quiet_err


def test_reindex_prints_plain_progress_lines_when_not_a_terminal(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", 3)
    result = run("reindex", "--corpus", str(corpus), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 0 and "checked 3/3 files" in result.stderr and "\r" not in result.stderr
    quiet = run("reindex", "--full", "-q", "--corpus", str(corpus), "--index", str(tmp_path / "ix"))
    assert quiet.exit_code == 0 and "checked" not in quiet.stderr
    assert quiet.stdout.startswith("added 3, updated 0, removed 0, skipped 0;")


# --- search output ---------------------------------------------------------------------------


def test_search_colours_matches_on_request(index_dir: Path) -> None:
    coloured = run("search", "パイプライン", "--limit", "2", "--color", "--index", str(index_dir)).stdout
    assert "\x1b[" in coloured and "[パイプライン]" not in coloured
    assert "\x1b[30m\x1b[43m\x1b[1mパイプライン\x1b[0m" in coloured
    plain = run("search", "パイプライン", "--limit", "2", "--index", str(index_dir)).stdout
    assert "\x1b[" not in plain and "[パイプライン]" in plain
    no_color = run("search", "パイプライン", "--color", "--no-color", "--index", str(index_dir)).stdout
    assert "\x1b[" not in no_color


def test_search_groups_passages_of_one_document_and_shows_did_you_mean(index_dir: Path) -> None:
    out = run("search", "中央アジア", "--lang", "ja", "--limit", "3", "--index", str(index_dir)).stdout
    lines = out.splitlines()
    assert lines[0].split()[1:2] == ["passages"] and "ja " in lines[0]
    numbered = [line for line in lines if line[:2] in ("1.", "2.", "3.")]
    assert numbered[0].startswith("1. 第2回中国・中央アジアサミット") and "/doc/summit-2025/ja#s" in numbered[0]
    assert numbered[1].startswith("2. ↳ ")  # the same document: its title is not repeated
    typo = run("search", "pipline", "--index", str(index_dir))
    assert typo.exit_code == 0 and "Did you mean: pipeline" in typo.stdout
    assert json.loads(run("search", "pipline", "--json", "--index", str(index_dir)).stdout)["suggestion"] == "pipeline"


def test_search_says_one_passage_in_the_singular(index_dir: Path) -> None:
    one = run("search", "Shymkent", "--lang", "en", "--no-color", "--index", str(index_dir))
    assert one.exit_code == 0 and one.stdout.startswith("1 passage (") and "passages" not in one.stdout.splitlines()[0]
    two = run("search", "Shymkent", "--no-color", "--index", str(index_dir))
    assert two.stdout.startswith("2 passages (")


def test_search_says_what_the_other_language_has_when_the_filter_finds_nothing(index_dir: Path) -> None:
    """The page's "nothing in English, but 1 in 日本語" hint, with the option to use."""
    result = run("search", "シルダリヤ", "--lang", "en", "--no-cross", "--no-color", "--index", str(index_dir))
    assert result.exit_code == 0
    assert "Nothing in English, but 1 passage in Japanese: search again with --lang ja (or --lang all)." in result.stdout
    found = run("search", "シルダリヤ", "--lang", "ja", "--no-cross", "--no-color", "--index", str(index_dir))
    assert "Nothing in" not in found.stdout  # only when the filter hides what the other language has
    nowhere = run("search", "zzzzqqqq", "--lang", "en", "--no-color", "--index", str(index_dir))
    assert nowhere.stdout.startswith("0 passages") and "Nothing in" not in nowhere.stdout
    as_json = json.loads(run("search", "シルダリヤ", "--lang", "en", "--no-cross", "--json", "--index", str(index_dir)).stdout)
    assert as_json["facets"]["ja"] == 1  # --json stays the API's document


def test_search_takes_minus_word_as_an_exclusion_without_double_dash(index_dir: Path) -> None:
    plain = json.loads(run("search", "鉄道", "--json", "--index", str(index_dir)).stdout)
    for words in (["鉄道", "-ウズベキスタン"], ["railway", "-Uzbekistan"]):  # -U…n is not a cluster of options
        excluded = run("search", *words, "--json", "--index", str(index_dir))
        assert excluded.exit_code == 0, excluded.output
        data = json.loads(excluded.stdout)
        assert data["query"] == " ".join(words) and 0 < data["total"] < plain["total"]
    assert run("search", "-h").stdout.startswith("Usage: ")  # alone, -h is still help
    typo = run("search", "鉄道", "--limt", "3", "--index", str(index_dir))
    assert typo.exit_code == 2 and "No such option: --limt" in typo.output


def test_reindex_progress_says_checked_not_indexed_when_files_are_skipped(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", 3)
    (corpus / "broken.md").write_bytes(b"\xff\xfe not text")
    result = run("reindex", "--corpus", str(corpus), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 1
    assert "checked 4/4 files" in result.stderr and "indexed 4/4" not in result.stderr
    assert result.stdout.startswith("added 3, updated 0, removed 0, skipped 1;")


def test_snippet_text_decodes_entities() -> None:
    assert snippet_text("a &lt;b&gt; <mark>c</mark> &amp;", color=False) == "a <b> [c] &"


# --- stats ----------------------------------------------------------------------------------


def test_stats_reports_what_the_index_holds(index_dir: Path) -> None:
    result = run("stats", "--index", str(index_dir), "--top", "5")
    assert result.exit_code == 0
    out = result.stdout
    assert "documents    2" in out and "passages     16" in out
    assert "en 1 document / 8 passages" in out and "ja 1 document / 8 passages" in out  # singular for one
    assert "size on disk " in out and "vocabulary " in out
    data = json.loads(run("stats", "--index", str(index_dir), "--json", "--top", "5").stdout)
    assert (data["documents"], data["passages"]) == (2, 16)
    assert data["languages"] == {"en": {"documents": 1, "passages": 8}, "ja": {"documents": 1, "passages": 8}}
    on_disk = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file())
    assert data["size_bytes"] == on_disk and 0 < data["serving_bytes"] <= on_disk
    words = [item["term"] for item in data["top_terms"]]
    assert len(words) == 5 and ("Asia" in words or "中央" in words)
    assert not {"の", "the", "and", "に", "は"} & set(words)
    counts = [item["passages"] for item in data["top_terms"]]
    assert counts == sorted(counts, reverse=True)


def test_stats_without_an_index_exits_1_with_a_hint(tmp_path: Path) -> None:
    result = run("stats", "--index", str(tmp_path / "none"))
    assert result.exit_code == 1 and "casearch reindex" in result.stderr


@pytest.mark.parametrize("command", ["reindex", "search", "analyze", "serve", "stats"])
def test_every_command_has_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0 and "Example: casearch " + command in result.output


def test_human_bytes() -> None:
    assert [human_bytes(n) for n in (0, 1023, 1024, 10 * 1024 ** 2)] == ["0 B", "1023 B", "1.0 KiB", "10.0 MiB"]
