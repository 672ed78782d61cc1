"""Build the bilingual benchmark corpus from Debian manual pages.

Pipeline, one stage per function:

    ensure_packages   apt-get the four man page packages (bypassing dpkg path-excludes)
    list_pages        dpkg -L -> real page files (no symlinks, no ``.so`` alias stubs)
    select_pages      --limit: sorted, pages present in both languages first
    render_page       man --nj --nh -l FILE | col -b -x  (MANWIDTH=10000, C.UTF-8)
    page_to_markdown  drop header/footer and box drawing; column-0 lines -> ``## ``
    write_corpus      OUT/<ja|en>/<section>/<name>.md with front matter, pairs.tsv

Usage::

    python bench/make_corpus.py                       # full corpus in bench/data/corpus
    python bench/make_corpus.py --limit 100 --out bench/data/small/corpus

The folder (``ja``/``en``) says which package tree a page came from; the ``lang`` front
matter key is detected from the text (``ja/builtins.1`` is untranslated English).
Generated data is never committed (``bench/.gitignore``).
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = {"ja": ("manpages-ja", "manpages-ja-dev"), "en": ("manpages", "manpages-dev")}
MAN_ROOTS = {"ja": "/usr/share/man/ja/", "en": "/usr/share/man/"}
# A later --path-include wins over path-exclude rules read from /etc/dpkg/dpkg.cfg.d/
# (minimized images drop /usr/share/man/* at unpack time otherwise).
DPKG_KEEP_MAN = "Dpkg::Options::=--path-include=/usr/share/man/*"
DEFAULT_OUT = Path(__file__).resolve().parent / "data" / "corpus"

JAPANESE_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
BOX_DRAWING = re.compile(r"[\u2500-\u257f]")
SPACES = re.compile(r"\s+")
ATX_HEADING = re.compile(r"#{1,6}(?: |$)")
PAGE_FILE = re.compile(r"^(?P<name>.+)\.(?P<section>[0-9][A-Za-z0-9]*)(?:\.gz)?$")
NAME_HEADINGS = {"NAME", "名前", "名称"}


@dataclass(frozen=True)
class PageFile:
    lang_tree: str  # "ja" or "en": which package tree the file came from
    section: str
    name: str
    path: Path
    package: str

    @property
    def doc_id(self) -> str:
        return f"{self.lang_tree}/{self.section}/{self.name}"


@dataclass
class RenderedPage:
    page: PageFile
    lang: str = ""
    sections: list[tuple[str, list[str]]] = field(default_factory=list)  # (heading, paragraphs)
    error: str = ""

    @property
    def description(self) -> str:
        for heading, paragraphs in self.sections:
            if heading in NAME_HEADINGS and paragraphs:
                return paragraphs[0]
        return ""


# --- packages ---------------------------------------------------------------------


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=False, text=True, capture_output=True, **kwargs)


def package_installed(package: str) -> bool:
    status = _run(["dpkg-query", "-W", "-f=${Status}", package]).stdout
    return status.strip() == "install ok installed"


def package_man_files(package: str) -> list[str]:
    listing = _run(["dpkg", "-L", package]).stdout.splitlines()
    return [p for p in listing if p.startswith("/usr/share/man/") and PAGE_FILE.match(p.rsplit("/", 1)[-1])]


def man_files_missing(package: str) -> bool:
    """True when dpkg lists man pages that are not on disk (dropped by a path-exclude)."""
    return any(not os.path.lexists(p) for p in package_man_files(package))


def ensure_packages(extra_tools: bool = True) -> list[str]:
    """Install (or reinstall, if their pages were excluded) the man page packages."""
    wanted = [pkg for pkgs in PACKAGES.values() for pkg in pkgs]
    if extra_tools:
        wanted += [pkg for tool, pkg in (("man", "man-db"), ("col", "bsdextrautils")) if not shutil.which(tool)]
    missing = [p for p in wanted if not package_installed(p)]
    stripped = [p for p in wanted if p not in missing and man_files_missing(p)]
    if not missing and not stripped:
        return []
    if os.geteuid() != 0:
        sys.exit(f"need root to install {' '.join(missing + stripped)} (or run as root once)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _apt(["update"], env)
    if missing:
        _apt(["install", "-y", "--no-install-recommends", "-o", DPKG_KEEP_MAN, *missing], env)
    if stripped:
        _apt(["install", "-y", "--reinstall", "--no-install-recommends", "-o", DPKG_KEEP_MAN, *stripped], env)
    still = [p for p in wanted if not package_installed(p) or man_files_missing(p)]
    if still:
        sys.exit(f"man pages still missing after apt-get for: {' '.join(still)}")
    return missing + stripped


def _apt(args: list[str], env: dict[str, str]) -> None:
    print("+ apt-get " + " ".join(args), file=sys.stderr)
    done = _run(["apt-get", *args], env=env)
    if done.returncode != 0:
        sys.exit(f"apt-get {args[0]} failed:\n{done.stderr[-2000:]}")


# --- page list --------------------------------------------------------------------


def is_alias_stub(path: Path) -> bool:
    """A page whose only request is ``.so other/page`` (an alias, not a page of its own)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        head = handle.read(4096)
    lines = [ln.strip() for ln in head.splitlines()]
    requests = [ln for ln in lines if ln and not ln.startswith(('.\\"', "'\\\"", '.\\\\"'))]
    return len(requests) <= 2 and any(ln.startswith(".so ") for ln in requests)


def list_pages() -> dict[str, list[PageFile]]:
    """Real page files of the four packages, per package tree, de-duplicated by id."""
    pages: dict[str, dict[str, PageFile]] = {"ja": {}, "en": {}}
    for tree, packages in PACKAGES.items():
        for package in packages:
            for raw in package_man_files(package):
                page = _page_file(tree, package, raw)
                if page and page.doc_id not in pages[tree]:
                    pages[tree][page.doc_id] = page
    return {tree: sorted(found.values(), key=lambda p: p.doc_id) for tree, found in pages.items()}


def _page_file(tree: str, package: str, raw: str) -> PageFile | None:
    if not raw.startswith(MAN_ROOTS[tree]):
        return None
    rest = raw[len(MAN_ROOTS[tree]):].split("/")
    if len(rest) != 2 or not rest[0].startswith("man"):
        return None  # e.g. /usr/share/man/fr/... in an English package
    path = Path(raw)
    match = PAGE_FILE.match(rest[1])
    if not match or path.is_symlink() or not path.is_file() or is_alias_stub(path):
        return None
    return PageFile(tree, match["section"], match["name"], path, package)


def select_pages(pages: dict[str, list[PageFile]], limit: int | None) -> dict[str, list[PageFile]]:
    """Take ``limit`` pages per tree: sorted, pages present in both trees first."""
    if limit is None:
        return pages
    keys = {tree: {(p.section, p.name) for p in found} for tree, found in pages.items()}
    both = keys["ja"] & keys["en"]
    return {
        tree: sorted(found, key=lambda p: ((p.section, p.name) not in both, p.doc_id))[:limit]
        for tree, found in pages.items()
    }


# --- rendering --------------------------------------------------------------------


def render_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "MAN"))}
    env.update(MANWIDTH="10000", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    return env


def render_page(page: PageFile, env: dict[str, str]) -> RenderedPage:
    """man | col -b -x, then Markdown-ready sections; errors are recorded, not raised."""
    man = subprocess.run(["man", "--nj", "--nh", "-l", str(page.path)], env=env, capture_output=True, check=False)
    if man.returncode != 0 or not man.stdout.strip():
        return RenderedPage(page, error=f"man exit {man.returncode}: {man.stderr.decode(errors='replace')[:200]}")
    col = subprocess.run(["col", "-b", "-x"], input=man.stdout, env=env, capture_output=True, check=False)
    if col.returncode != 0:
        return RenderedPage(page, error=f"col exit {col.returncode}")
    text = col.stdout.decode("utf-8", errors="replace")
    sections = page_sections(text)
    return RenderedPage(page, lang=detect_language(sections), sections=sections)


def detect_language(sections: list[tuple[str, list[str]]]) -> str:
    """``ja`` when body text has kana or kanji; headings and the NAME line do not count.

    Some pages (``ja/1/builtins``, ``ja/1/rbash``) translate only those and keep an
    English body, so the folder and the NAME line both mislead.

    >>> detect_language([("名前", ["rbash - 制限付きの bash"]), ("説明", ["If bash is started"])])
    'en'
    """
    body = [p for heading, paragraphs in sections if heading not in NAME_HEADINGS for p in paragraphs]
    if not body:  # nothing but a NAME section: judge by that
        body = [p for _, paragraphs in sections for p in paragraphs]
    return "ja" if any(JAPANESE_CHARS.search(p) for p in body) else "en"


def strip_running_lines(lines: list[str]) -> list[str]:
    """Drop the header (first non-empty line) and footer (last), both end in ``name(sect)``."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    drop = {i for i in filled[:1] + filled[-1:] if lines[i].rstrip().endswith(")")}
    return [line for i, line in enumerate(lines) if i not in drop]


def page_sections(text: str) -> list[tuple[str, list[str]]]:
    """Column-0 lines are ``.SH`` headings; every other non-empty line is a paragraph.

    >>> page_sections("LS(1)   x   LS(1)\\n\\nNAME\\n       ls - list\\n\\nfoot   LS(1)\\n")
    [('', []), ('NAME', ['ls - list'])]
    """
    sections: list[tuple[str, list[str]]] = [("", [])]
    for raw in strip_running_lines(text.splitlines()):
        line = SPACES.sub(" ", BOX_DRAWING.sub(" ", raw)).strip()
        if not line:
            continue
        if not raw[:1].isspace() and len(line) <= 80:
            sections.append((line, []))
        else:
            sections[-1][1].append(line)
    return sections


# --- Markdown output --------------------------------------------------------------


def markdown_escape(paragraph: str) -> str:
    """Keep ``# command`` lines from reading as Markdown headings; ``#include`` is no heading.

    >>> markdown_escape("# mount /dev/sda1"), markdown_escape("#include <stdio.h>")
    ('\\\\# mount /dev/sda1', '#include <stdio.h>')
    """
    return "\\" + paragraph if ATX_HEADING.match(paragraph) else paragraph


def to_markdown(rendered: RenderedPage, links: dict[str, str]) -> str:
    page = rendered.page
    front = [
        "---",
        f"title: {page.name}({page.section})",
        f"lang: {rendered.lang}",
        f"source: Debian {page.package}",
        *(f"{key}: {value}" for key, value in links.items()),
        "---",
        "",
    ]
    blocks = []
    for heading, paragraphs in rendered.sections:
        if heading:
            blocks.append(f"## {heading}")
        blocks.extend(markdown_escape(p) for p in paragraphs)
    return "\n".join(front) + "\n\n".join(blocks) + "\n"


def body_chars(rendered: RenderedPage) -> int:
    return sum(len(h) + sum(len(p) for p in ps) for h, ps in rendered.sections)


def pair_keys(rendered: list[RenderedPage]) -> set[tuple[str, str]]:
    """(section, name) rendered in both trees, the ja-tree page really Japanese, the en one English."""
    by_tree: dict[str, set[tuple[str, str]]] = {"ja": set(), "en": set()}
    for r in rendered:
        if r.lang == r.page.lang_tree:
            by_tree[r.page.lang_tree].add((r.page.section, r.page.name))
    return by_tree["ja"] & by_tree["en"]


def page_links(page: PageFile, pairs: set[tuple[str, str]]) -> dict[str, str]:
    if (page.section, page.name) not in pairs:
        return {}
    if page.lang_tree == "ja":
        return {"translations": f"en/{page.section}/{page.name}"}
    return {"translation_of": f"ja/{page.section}/{page.name}"}


def write_corpus(rendered: list[RenderedPage], out: Path) -> set[tuple[str, str]]:
    """Write one .md per page, remove stale .md files of earlier runs, return the pairs."""
    pairs = pair_keys(rendered)
    written = set()
    for r in rendered:
        target = out / f"{r.page.doc_id}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(to_markdown(r, page_links(r.page, pairs)), encoding="utf-8")
        written.add(target)
    for tree in PACKAGES:
        for stale in (out / tree).rglob("*.md"):
            if stale not in written:
                stale.unlink()
    return pairs


def write_pairs(rendered: list[RenderedPage], pairs: set[tuple[str, str]], path: Path) -> None:
    """pairs.tsv: page, ja doc id, en doc id, en NAME line, ja NAME line (header row first)."""
    described = {(r.page.lang_tree, r.page.section, r.page.name): r.description for r in rendered}
    rows = ["page\tja_id\ten_id\ten_description\tja_description"]
    for section, name in sorted(pairs):
        en = described[("en", section, name)].replace("\t", " ")
        ja = described[("ja", section, name)].replace("\t", " ")
        rows.append(f"{name}({section})\tja/{section}/{name}\ten/{section}/{name}\t{en}\t{ja}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


# --- command line -----------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="corpus folder (default: %(default)s)")
    parser.add_argument("--limit", type=int, help="pages per language (pairs first, sorted)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel renders")
    parser.add_argument("--skip-install", action="store_true", help="do not check or install packages")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.skip_install:
        installed = ensure_packages()
        if installed:
            print(f"installed or reinstalled: {' '.join(installed)}", file=sys.stderr)
    started = time.perf_counter()
    pages = select_pages(list_pages(), args.limit)
    todo = pages["ja"] + pages["en"]
    env = render_env()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda page: render_page(page, env), todo))
    failed = [r for r in results if r.error]
    for r in failed:
        print(f"skipped {r.page.path}: {r.error}", file=sys.stderr)
    rendered = [r for r in results if not r.error]
    out = args.out.resolve()
    pairs = write_corpus(rendered, out)
    write_pairs(rendered, pairs, out.parent / "pairs.tsv")
    seconds = time.perf_counter() - started
    print_summary(rendered, pairs, len(failed), seconds, out)
    return 0 if not failed else 1


def print_summary(rendered: list[RenderedPage], pairs: set, failed: int, seconds: float, out: Path) -> None:
    per_lang = {lang: sum(1 for r in rendered if r.lang == lang) for lang in ("ja", "en")}
    per_tree = {tree: sum(1 for r in rendered if r.page.lang_tree == tree) for tree in PACKAGES}
    odd = sorted(r.page.doc_id for r in rendered if r.lang != r.page.lang_tree)
    chars = sum(body_chars(r) for r in rendered)
    print(
        f"{len(rendered)} pages (lang ja {per_lang['ja']}, en {per_lang['en']}; "
        f"folders ja/ {per_tree['ja']}, en/ {per_tree['en']}), {len(pairs)} pairs, "
        f"{chars:,} characters, {failed} failed, {seconds:.1f} s -> {out}"
    )
    if odd:
        shown = ", ".join(odd[:10]) + (" ..." if len(odd) > 10 else "")
        print(f"language differs from folder ({len(odd)}): {shown}")


if __name__ == "__main__":
    sys.exit(main())
