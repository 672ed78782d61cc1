"""Corpus faults: every odd file is indexed when it can be, else skipped with path and reason.

Each case puts one faulty file beside two good ones and runs a real reindex: the good
files are always indexed, the faulty one is either indexed (and then searchable, with
clean text) or reported as skipped with its path and a reason a user can act on. The CLI
turns that into the contract's exit codes (0 all indexed, 1 some skipped, 3 nothing done).
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casearch import corpus as corpus_mod
from casearch import index as index_mod
from casearch.cli import main
from casearch.corpus import (
    MAX_PASSAGE_CHARS, MAX_TITLE_CHARS, CorpusFile, discover, passages, read_bytes, read_document,
    read_reserved, split_passages,
)
from casearch.errors import CorpusError
from casearch.index import reindex
from casearch.search import Engine, validate_request

from conftest import write

GOOD = {"good/rail.md": "---\ntitle: 鉄道\n---\n中国とキルギスの鉄道計画。\n",
        "good/gas.txt": "Gas\nNatural gas pipelines cross Kazakhstan.\n"}
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def make_corpus(root: Path) -> Path:
    for rel, text in GOOD.items():
        write(root / rel, text)
    return root


def doc_ids(index_dir: Path, q: str) -> list[str]:
    return sorted({h.doc_id for h in Engine(index_dir).search(validate_request({"q": q, "per_page": "50"})).hits})


def document(index_dir: Path, doc_id: str):
    return Engine(index_dir).document(doc_id)


def assert_good_ones_indexed(index_dir: Path) -> None:
    assert doc_ids(index_dir, "鉄道計画") == ["good/rail"]
    assert doc_ids(index_dir, "Kazakhstan") == ["good/gas"]


# --- faults that can still be indexed ------------------------------------------------

INDEXABLE: dict[str, tuple[str, bytes, str, str]] = {
    # name: (file, bytes, a query that must find it, the title it must have)
    "utf8-bom": ("bom.md", "\ufeff---\ntitle: BOM文書\n---\n本文にボムがある。\n".encode(), "ボム", "BOM文書"),
    "crlf": ("crlf.md", b"---\r\ntitle: CRLF\r\nlang: en\r\n---\r\nlead\r\n\r\n## Second\r\nzebra text\r\n",
             "zebra", "CRLF"),
    "lone-cr": ("cr.txt", b"Old Mac\rwalrus line one\rline two\r", "walrus", "Old Mac"),
    "upper-case-lang": ("upper.md", b"---\ntitle: Upper\nlang: EN\n---\nquokka\n", "quokka", "Upper"),
    "front-matter-only": ("fm.md", b"---\ntitle: Only a title pangolin\n---\n", "pangolin", "Only a title pangolin"),
    "control-chars": ("ctl.txt", b"Ti\x00tle\x1b[31m\nnarwhal\x07 body\x0cnext\x7f page\n", "narwhal", "Title[31m"),
    "blank-title-falls-back": ("blank-title.md", b"---\ntitle: '   '\n---\n# \n\naxolotl\n", "axolotl",
                               "blank-title"),
    "basic-iso-date": ("d.md", b"---\ntitle: Dated\ndate: 20250617\n---\nokapi\n", "okapi", "Dated"),
}


@pytest.mark.parametrize("case", sorted(INDEXABLE), ids=sorted(INDEXABLE))
def test_odd_but_readable_files_are_indexed_with_clean_text(tmp_path: Path, case: str) -> None:
    name, raw, query, title = INDEXABLE[case]
    corpus = make_corpus(tmp_path / "corpus")
    (corpus / name).write_bytes(raw)
    report = reindex(corpus, tmp_path / "ix")
    assert report.skipped == [] and report.added == 3
    assert_good_ones_indexed(tmp_path / "ix")
    doc_id = name.rsplit(".", 1)[0]
    assert doc_ids(tmp_path / "ix", query) == [doc_id]
    view = document(tmp_path / "ix", doc_id)
    assert view.title == title
    stored = "\n".join([view.title] + [p for s in view.sections for p in s.blocks_html])
    assert not any(c in stored for c in "\r\ufeff\x00\x07\x1b\x7f")


def test_crlf_sections_and_dates_are_parsed_like_lf(tmp_path: Path) -> None:
    lf = "---\ntitle: T\ndate: 2025-06-17\n---\nlead\n\n## One\nbody\n"
    a = read_document(CorpusFile("a", tmp_path / "a.md", "a.md"), lf.encode())
    b = read_document(CorpusFile("a", tmp_path / "a.md", "a.md"), lf.replace("\n", "\r\n").encode())
    assert (a.title, a.date, a.sections) == (b.title, b.date, b.sections)
    assert [s.heading for s in a.sections] == [None, "One"]


def test_a_huge_first_line_is_cut_for_the_title_but_stays_searchable(tmp_path: Path) -> None:
    line = "start " + "中国の鉄道とエネルギー協力。" * 4000 + " wombat"
    corpus = make_corpus(tmp_path / "corpus")
    write(corpus / "oneline.txt", line)
    report = reindex(corpus, tmp_path / "ix")
    assert report.skipped == []
    view = document(tmp_path / "ix", "oneline")
    assert len(view.title) <= MAX_TITLE_CHARS and view.title.startswith("start ") and view.title.endswith("…")
    assert doc_ids(tmp_path / "ix", "wombat") == ["oneline"]  # the end of the line is in the body
    body = "".join(p for s in view.sections for p in s.blocks_html)
    assert body.count("中国の鉄道とエネルギー協力。") == 4000


def test_huge_headings_are_cut_but_their_text_is_kept(tmp_path: Path) -> None:
    heading = "heading " * 100 + "capybara"
    doc = read_document(CorpusFile("h", tmp_path / "h.md", "h.md"), f"# {heading}\n\n## {heading}\nbody\n".encode())
    assert len(doc.title) <= MAX_TITLE_CHARS and len(doc.sections[1].heading) <= MAX_TITLE_CHARS
    assert "capybara" in doc.sections[0].text and "capybara" in doc.sections[1].text


# --- faults that are skipped ----------------------------------------------------------

SKIPPED: dict[str, tuple[str, bytes, str]] = {
    # name: (file, bytes, the reason must contain)
    "invalid-utf8": ("bad.md", "---\ntitle: x\n---\n正しい\n".encode() + b"\n\xe3\x81 broken\n", "not valid UTF-8 (byte"),
    "latin1": ("latin1.txt", "Café crème\n".encode("latin-1"), "not valid UTF-8"),
    "utf16": ("utf16.txt", "タイトル\n本文\n".encode("utf-16"), "UTF-16"),
    "empty": ("empty.md", b"", "empty file"),
    "whitespace-only": ("blank.txt", " \n\u3000\n\t\n".encode(), "empty file"),
    "bom-only": ("bomonly.md", b"\xef\xbb\xbf", "empty file"),
    "nul-only": ("nul.txt", b"\x00\x00\x00", "empty file"),
    "front-matter-never-closed": ("open.md", b"---\ntitle: x\nbody text\n", "never closed"),
    "front-matter-bad-line": ("line.md", b"---\njust words\n---\ntext", "line 2"),
    "front-matter-bad-lang": ("lang.md", b"---\nlang: fr\n---\ntext", "lang must be"),
    "front-matter-bad-date": ("date.md", b"---\ndate: 17/06/2025\n---\ntext", "ISO 8601"),
}


@pytest.mark.parametrize("case", sorted(SKIPPED), ids=sorted(SKIPPED))
def test_unreadable_content_is_skipped_with_path_and_reason(tmp_path: Path, case: str) -> None:
    name, raw, reason = SKIPPED[case]
    corpus = make_corpus(tmp_path / "corpus")
    (corpus / name).write_bytes(raw)
    report = reindex(corpus, tmp_path / "ix")
    assert [s.path for s in report.skipped] == [name]
    assert reason in report.skipped[0].reason
    assert report.added == 2
    assert_good_ones_indexed(tmp_path / "ix")


def test_invalid_utf8_reason_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"one\ntwo\nthr\xffee\n")
    with pytest.raises(CorpusError, match=r"byte 11, line 3"):
        read_document(CorpusFile("x", path, "x.txt"), path.read_bytes())


def test_size_limit_is_exact_and_configurable(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    limit = 1000
    write(corpus / "at-limit.txt", "At limit\n" + "x" * (limit - len("At limit\n")))
    write(corpus / "over-limit.txt", "Over limit\n" + "y" * limit)
    report = reindex(corpus, tmp_path / "ix", max_file_bytes=limit)
    assert [s.path for s in report.skipped] == ["over-limit.txt"]
    assert "too large (1011 bytes; the limit is 1000" in report.skipped[0].reason
    assert "CASEARCH_MAX_FILE_BYTES" in report.skipped[0].reason
    assert report.added == 3 and document(tmp_path / "ix", "at-limit") is not None


def test_size_limit_from_the_environment_reaches_the_cli(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    write(corpus / "big.txt", "Big\n" + "z" * 5000)
    args = ["reindex", "--corpus", str(corpus), "--index", str(tmp_path / "ix")]
    result = CliRunner().invoke(main, args, env={"CASEARCH_MAX_FILE_BYTES": "4096"})
    assert result.exit_code == 1, result.output
    assert "skipped big.txt: file too large (5004 bytes; the limit is 4096" in result.stderr
    assert result.stdout.startswith("added 2, updated 0, removed 0, skipped 1;")


def test_a_malformed_size_limit_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    args = ["reindex", "--corpus", str(corpus), "--index", str(tmp_path / "ix")]
    result = CliRunner().invoke(main, args, env={"CASEARCH_MAX_FILE_BYTES": "20MB"})
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code in (2, 3) and "CASEARCH_MAX_FILE_BYTES" in result.stderr


def test_a_file_that_grows_while_read_is_never_read_past_the_limit(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path / "grow.txt", "Small\nfile\n")
    real_fstat = os.fstat

    def fstat_before_growth(fd: int):  # the size is checked, then the file grows
        info = real_fstat(fd)
        with open(path, "ab") as out:
            out.write(b"g" * 5000)
        return info

    monkeypatch.setattr(corpus_mod.os, "fstat", fstat_before_growth)
    with pytest.raises(CorpusError, match="too large .*growing"):
        read_bytes(CorpusFile("grow", path, "grow.txt"), 1000)


# --- links, special files, names, permissions ------------------------------------------

def test_file_symlink_loop_and_broken_link_are_skipped(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    os.symlink("loop-b.md", corpus / "loop-a.md")
    os.symlink("loop-a.md", corpus / "loop-b.md")
    os.symlink("nowhere.md", corpus / "dangling.md")
    os.symlink("good/gas.txt", corpus / "alias.txt")  # a working file link is just a file
    report = reindex(corpus, tmp_path / "ix")
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"loop-a.md", "loop-b.md", "dangling.md"}
    assert "symlink loop" in reasons["loop-a.md"] and "symlink loop" in reasons["loop-b.md"]
    assert "broken symlink" in reasons["dangling.md"] and "nowhere.md" in reasons["dangling.md"]
    assert doc_ids(tmp_path / "ix", "Kazakhstan") == ["alias", "good/gas"]


@pytest.mark.timeout(60)
def test_folder_symlink_loops_end_and_are_reported(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    os.symlink("..", corpus / "good" / "up")  # back to the corpus folder
    os.symlink(".", corpus / "good" / "self")
    os.symlink(str(corpus), corpus / "good" / "absolute")
    os.symlink("../good", corpus / "good" / "again")
    report = reindex(corpus, tmp_path / "ix")
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"good/up/", "good/self/", "good/absolute/", "good/again/"}
    assert all("symlink loop" in reasons[p] for p in reasons)
    assert report.added == 2
    assert_good_ones_indexed(tmp_path / "ix")


def test_folder_links_are_followed_once_per_real_folder(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    outside = tmp_path / "outside"
    write(outside / "ext.md", "# External\n\nmarmoset lives outside the corpus.\n")
    os.symlink("../outside", outside / "inner-loop")  # a loop inside the linked folder
    os.symlink(str(outside), corpus / "linked")
    os.symlink(str(outside), corpus / "linked-twice")
    os.symlink("good", corpus / "sibling")  # inside the corpus: would index good/ twice
    report = reindex(corpus, tmp_path / "ix")
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"linked/inner-loop/", "linked-twice/", "sibling/"}
    assert "already indexed as good/" in reasons["sibling/"]
    assert "already indexed as linked/" in reasons["linked-twice/"]
    assert "symlink loop" in reasons["linked/inner-loop/"]
    assert doc_ids(tmp_path / "ix", "marmoset") == ["linked/ext"]
    assert doc_ids(tmp_path / "ix", "Kazakhstan") == ["good/gas"]


@pytest.mark.timeout(60)
def test_a_fifo_and_a_device_are_skipped_without_blocking(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    os.mkfifo(corpus / "pipe.md")  # opening it for reading would wait for a writer forever
    os.symlink("/dev/zero", corpus / "zeros.txt")  # reading it never ends
    report = reindex(corpus, tmp_path / "ix")
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons == {"pipe.md": "not a regular file (a named pipe)",
                       "zeros.txt": "not a regular file (a character device)"}
    assert_good_ones_indexed(tmp_path / "ix")


def test_a_folder_named_like_a_document_is_walked(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    write(corpus / "notes.md" / "inner.md", "Inner\n\nbandicoot\n")
    report = reindex(corpus, tmp_path / "ix")
    assert report.skipped == [] and doc_ids(tmp_path / "ix", "bandicoot") == ["notes.md/inner"]


def test_a_file_name_that_is_not_utf8_is_skipped_readably(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    with open(os.path.join(os.fsencode(corpus), b"caf\xe9.md"), "wb") as out:
        out.write(b"# Cafe\n\nespresso\n")
    report = reindex(corpus, tmp_path / "ix")
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("caf\\xe9.md", "file name is not valid UTF-8; rename the file")]
    assert report.added == 2 and doc_ids(tmp_path / "ix", "espresso") == []


def test_odd_but_valid_file_names_are_indexed_and_reachable(tmp_path: Path, app_for) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    names = ["with space.md", "hash#and?query.md", "per%2ecent.md", "日本語/名前.md", "quote\"'.md",
             "<script>alert(1)</script>.md", "semi;colon&amp.md", "../dots.md", "a..b/c.md"]
    for n, name in enumerate(names):
        write(corpus / "sub" / name, f"para{n} gecko\n")
    names = [os.path.normpath(f"sub/{name}") for name in names]
    report = reindex(corpus, tmp_path / "ix")
    assert report.skipped == [] and report.added == 2 + len(names)
    client = app_for(tmp_path / "ix")
    hits = client.get("/api/search", query_string={"q": "gecko", "per_page": "50"}).get_json()["hits"]
    assert sorted(h["doc_id"] for h in hits) == sorted(n[:-3] for n in names)
    for hit in hits:
        assert hit["url"].isascii() and "\n" not in hit["url"] and "#" not in hit["url"].split("#s")[0]
        page = client.get(hit["url"].split("#")[0])
        assert page.status_code == 200, hit["url"]
        assert "<script>alert" not in page.get_data(as_text=True)


def test_a_file_name_with_a_control_character_is_skipped_readably(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    write(corpus / "new\nline.md", "# Two lines\n\nnewt\n")
    write(corpus / "bell\x07" / "tab\t.txt", "Bell\n\nnewt\n")
    report = reindex(corpus, tmp_path / "ix")
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("bell\\x07/tab\\t.txt", "file name contains a control character; rename the file"),
        ("new\\nline.md", "file name contains a control character; rename the file")]
    assert report.added == 2 and doc_ids(tmp_path / "ix", "newt") == []


def _deny(monkeypatch, function: str, target: Path) -> None:
    real = getattr(corpus_mod.os, function)

    def denied(path, *args, **kwargs):
        if os.fspath(path) == os.fspath(target):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(corpus_mod.os, function, denied)


def test_an_unreadable_file_is_skipped(tmp_path: Path, monkeypatch) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    secret = write(corpus / "secret.md", "# Secret\n\nhidden\n")
    _deny(monkeypatch, "open", secret)  # root ignores mode bits, so the denial is simulated
    report = reindex(corpus, tmp_path / "ix")
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("secret.md", "cannot read file: permission denied (Permission denied)")]
    assert_good_ones_indexed(tmp_path / "ix")


@pytest.mark.skipif(IS_ROOT, reason="root reads files whatever their mode")
def test_an_unreadable_file_by_mode_is_skipped(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    secret = write(corpus / "secret.md", "# Secret\n\nhidden\n")
    secret.chmod(0)
    report = reindex(corpus, tmp_path / "ix")
    assert [s.path for s in report.skipped] == ["secret.md"] and "permission denied" in report.skipped[0].reason


def test_an_unreadable_folder_is_skipped_and_the_rest_indexed(tmp_path: Path, monkeypatch) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    write(corpus / "locked" / "inside.md", "# In\n\nhidden\n")
    _deny(monkeypatch, "scandir", corpus / "locked")
    report = reindex(corpus, tmp_path / "ix")
    assert [(s.path, s.reason) for s in report.skipped] == [("locked/", "cannot read folder: Permission denied")]
    assert_good_ones_indexed(tmp_path / "ix")


def test_documents_under_a_folder_that_turns_unreadable_stay_searchable(tmp_path: Path, monkeypatch) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    write(corpus / "locked" / "inside.md", "# In\n\nhidden treasure\n")
    reindex(corpus, tmp_path / "ix")
    _deny(monkeypatch, "scandir", corpus / "locked")
    report = reindex(corpus, tmp_path / "ix")
    assert [s.path for s in report.skipped] == ["locked/"]
    assert report.removed == 0 and doc_ids(tmp_path / "ix", "treasure") == ["locked/inside"]


def test_an_unreadable_corpus_folder_means_nothing_done(tmp_path: Path, monkeypatch) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    _deny(monkeypatch, "scandir", corpus)
    result = CliRunner().invoke(main, ["reindex", "--corpus", str(corpus), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 3 and "Corpus folder cannot be read" in result.stderr
    assert not (tmp_path / "ix" / "CURRENT").exists()


def test_a_file_vanishing_mid_run_is_skipped_then_removed(tmp_path: Path, monkeypatch) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    write(corpus / "gone.md", "# Gone\n\nephemeral words\n")
    reindex(corpus, tmp_path / "ix")
    write(corpus / "gone.md", "# Gone\n\nchanged words\n")
    real_discover = index_mod.discover

    def discover_then_delete(corpus_dir: Path):
        listed = real_discover(corpus_dir)
        (corpus / "gone.md").unlink()  # deleted after the listing, before it is read
        return listed

    monkeypatch.setattr(index_mod, "discover", discover_then_delete)
    report = reindex(corpus, tmp_path / "ix")
    assert [s.path for s in report.skipped] == ["gone.md"] and "vanished" in report.skipped[0].reason
    assert doc_ids(tmp_path / "ix", "ephemeral") == ["gone"]  # the previous version stays
    monkeypatch.setattr(index_mod, "discover", real_discover)
    later = reindex(corpus, tmp_path / "ix")
    assert (later.removed, later.skipped) == (1, []) and doc_ids(tmp_path / "ix", "ephemeral") == []
    assert_good_ones_indexed(tmp_path / "ix")


@pytest.mark.timeout(120)
def test_a_folder_deeper_than_pythons_recursion_limit(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    depth = sys.getrecursionlimit() + 20
    levels = [os.path.join(corpus, *["d"] * n) for n in range(1, depth + 1)]
    for level in levels:  # Path.mkdir(parents=True) itself recurses
        os.mkdir(level)
    Path(levels[-1], "bottom.md").write_text("# Bottom\n\nabyssal\n", encoding="utf-8")
    try:
        files, skipped = discover(corpus)
        assert skipped == [] and files[0].doc_id == "/".join(["d"] * depth + ["bottom"])
        assert [f.doc_id for f in files[1:]] == ["good/gas", "good/rail"]
    finally:
        os.unlink(Path(levels[-1], "bottom.md"))
        for level in reversed(levels):  # so that the temporary folder can be removed
            os.rmdir(level)


@pytest.mark.parametrize("fault", ["not-utf8", "too-large", "fifo", "unreadable", "front-matter"])
def test_a_file_that_turns_bad_keeps_its_previous_version(tmp_path: Path, monkeypatch, fault: str) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    path = write(corpus / "turns.md", "# Turns\n\nplatypus\n")
    reindex(corpus, tmp_path / "ix", max_file_bytes=1000)
    breakers: dict[str, Callable[[], None]] = {
        "not-utf8": lambda: path.write_bytes(b"\xff\xfe\xfa"),
        "too-large": lambda: path.write_text("# Turns\n\n" + "x" * 2000),
        "fifo": lambda: (path.unlink(), os.mkfifo(path)),
        "unreadable": lambda: _deny(monkeypatch, "open", path),
        "front-matter": lambda: path.write_text("---\ntitle: never closed\n"),
    }
    breakers[fault]()
    report = reindex(corpus, tmp_path / "ix", max_file_bytes=1000)
    assert [s.path for s in report.skipped] == ["turns.md"] and report.removed == 0
    assert doc_ids(tmp_path / "ix", "platypus") == ["turns"]
    assert_good_ones_indexed(tmp_path / "ix")


# --- reserved files ----------------------------------------------------------------------

def test_reserved_files_are_read_with_the_same_guards(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    assert read_reserved(corpus, "_glossary.tsv", 1000) is None
    write(corpus / "_glossary.tsv", "鉄道\trailway\n")
    assert read_reserved(corpus, "_glossary.tsv", 1000) == "鉄道\trailway\n".encode()
    with pytest.raises(CorpusError, match="too large"):
        read_reserved(corpus, "_glossary.tsv", 5)
    (corpus / "_glossary.tsv").unlink()
    os.mkfifo(corpus / "_glossary.tsv")
    with pytest.raises(CorpusError, match="named pipe"):
        read_reserved(corpus, "_glossary.tsv", 1000)
    os.mkdir(corpus / "_userdict.csv")
    with pytest.raises(CorpusError, match="a folder"):
        read_reserved(corpus, "_userdict.csv", 1000)


@pytest.mark.parametrize("name", ["_glossary.tsv", "_userdict.csv"])
def test_an_unreadable_reserved_file_is_skipped_not_a_traceback(tmp_path: Path, name: str) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    os.mkdir(corpus / name)
    result = CliRunner().invoke(main, ["reindex", "--corpus", str(corpus), "--index", str(tmp_path / "ix")])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1 and f"skipped {name}: " in result.stderr
    assert_good_ones_indexed(tmp_path / "ix")


@pytest.mark.slow
def test_a_fifo_as_glossary_does_not_hang_the_reindex(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    os.mkfifo(corpus / "_glossary.tsv")
    try:
        finished = _cli(corpus, tmp_path / "ix", timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("casearch reindex still blocked after 10 s")
    assert finished.returncode == 1 and "_glossary.tsv" in finished.stderr


# --- exit codes -----------------------------------------------------------------------

def _cli(corpus: Path, index: Path, *extra: str, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "casearch.cli", "reindex", "--corpus", str(corpus), "--index", str(index), *extra],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, "PYTHONWARNINGS": "error"},
    )


@pytest.mark.slow
def test_cli_exit_codes_and_skipped_lines_for_a_faulty_corpus(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    clean = _cli(corpus, tmp_path / "ix")
    assert clean.returncode == 0 and clean.stdout.startswith("added 2, updated 0, removed 0, skipped 0;")
    for name, raw, _reason in SKIPPED.values():
        (corpus / name).write_bytes(raw)
    os.mkfifo(corpus / "pipe.md")
    os.symlink("..", corpus / "good" / "up")
    faulty = _cli(corpus, tmp_path / "ix")
    assert faulty.returncode == 1, faulty.stderr
    assert "Traceback" not in faulty.stderr
    expected = sorted([name for name, _, _ in SKIPPED.values()] + ["pipe.md", "good/up/"])
    assert faulty.stdout.startswith(f"added 0, updated 0, removed 0, skipped {len(expected)};")
    lines = [line for line in faulty.stderr.splitlines() if line.startswith("skipped ")]
    assert sorted(line.split(": ", 1)[0][len("skipped "):] for line in lines) == expected
    assert_good_ones_indexed(tmp_path / "ix")


@pytest.mark.slow
def test_cli_exit_3_leaves_the_previous_index_untouched(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    assert _cli(corpus, tmp_path / "ix").returncode == 0
    before = {p: p.read_bytes() for p in (tmp_path / "ix").rglob("*") if p.is_file()}
    missing = _cli(tmp_path / "no-corpus", tmp_path / "ix")
    assert missing.returncode == 3 and "Corpus folder not found" in missing.stderr
    as_file = tmp_path / "a-file"
    as_file.write_text("not a folder")
    unwritable = _cli(corpus, as_file)
    assert unwritable.returncode == 3 and "not writable" in unwritable.stderr
    assert "Traceback" not in missing.stderr + unwritable.stderr
    import fcntl

    fd = os.open(tmp_path / "ix" / ".reindex.lock", os.O_WRONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        write(corpus / "new.md", "# New\n\nunseen\n")
        locked = _cli(corpus, tmp_path / "ix", "--full")
    finally:
        os.close(fd)
    assert locked.returncode == 3 and "locked" in locked.stderr and "Traceback" not in locked.stderr
    after = {p: p.read_bytes() for p in (tmp_path / "ix").rglob("*") if p.is_file()}
    assert after == before


# --- properties -----------------------------------------------------------------------

CONTROL = {chr(c) for c in [*range(0x00, 0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0)]}
markdownish = st.lists(
    st.one_of(
        st.sampled_from(["---", "title: T", "lang: ja", "lang: en", "date: 2025-06-17", "## 見出し", "# Title",
                         "", "\r", "\ufeff", "- item", "key:", ": v", "##", "#", "日本語の文。", "English text."]),
        st.text(max_size=80),
    ),
    max_size=30,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=markdownish, suffix=st.sampled_from([".md", ".txt"]), crlf=st.booleans(),
       junk=st.binary(max_size=8))
def test_any_file_is_a_document_or_a_reason(lines, suffix, crlf, junk) -> None:
    text = ("\r\n" if crlf else "\n").join(lines)
    raw = text.encode("utf-8", "surrogatepass") + junk
    path = Path("/nonexistent") / f"doc{suffix}"
    try:
        doc = read_document(CorpusFile("doc", path, f"doc{suffix}"), raw)
    except CorpusError as exc:
        assert str(exc)  # a reason for the user
        return
    assert doc.lang in ("ja", "en") and doc.title and len(doc.title) <= MAX_TITLE_CHARS
    assert [s.number for s in doc.sections] == list(range(1, len(doc.sections) + 1))
    everything = [doc.title] + [s.text for s in doc.sections] + [s.heading or "" for s in doc.sections]
    assert not any(c in CONTROL or c in "\r\ufeff" for part in everything for c in part)
    for passage in passages(doc):
        assert len(passage.text) <= MAX_PASSAGE_CHARS


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("あ文。. !?\n x")), max_size=600), st.integers(5, 60))
def test_split_passages_is_bounded_and_loses_nothing(text: str, limit: int) -> None:
    chunks = split_passages(text, limit)
    assert all(0 < len(c) <= limit for c in chunks)
    assert "".join("".join(chunks).split()) == "".join(text.split())


hostile_files = st.dictionaries(
    keys=st.from_regex(r"[a-z]{1,6}(/[a-z]{1,6})?\.(md|txt)", fullmatch=True).filter(
        lambda k: not k.startswith("good/")),
    values=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.sampled_from([raw for _, raw, _ in SKIPPED.values()] + [raw for _, raw, _, _ in INDEXABLE.values()]),
    ),
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(files=hostile_files)
def test_reindex_of_any_corpus_indexes_the_good_and_reports_the_rest(tmp_path_factory, files) -> None:
    base = tmp_path_factory.mktemp("hostile")
    corpus = make_corpus(base / "corpus")
    for rel, raw in files.items():
        target = corpus / rel
        if target.parent.exists() and not target.parent.is_dir():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_dir():
            target.write_bytes(raw)
    report = reindex(corpus, base / "ix")
    listed, conflicts = discover(corpus)
    skipped = {s.path for s in report.skipped}
    assert all(s.reason for s in report.skipped) and {c.path for c in conflicts} <= skipped
    engine = Engine(base / "ix")
    for file in listed:
        assert (file.rel in skipped) == (engine.document(file.doc_id) is None), file.rel
    assert report.added == len([f for f in listed if f.rel not in skipped])
    assert_good_ones_indexed(base / "ix")


@pytest.fixture()
def app_for():
    from casearch.web import create_app

    def make(index_dir: Path):
        return create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()

    return make
