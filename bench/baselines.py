"""Baselines for the benchmark: what tokenization and a plain FTS index cost on the corpus.

Stages, in the order the command runs them:

    read_corpus     CORPUS_DIR/**/*.md -> Doc(id, lang, body) (front matter skipped)
    fugashi_floor   fugashi + unidic-lite, one call per line, reading surface, lemma,
                    kana and pos1 of every node: the floor any Japanese analyzer pays
    wakati_floor    the same with ``-Owakati`` (segmentation only)
    make_queries    a deterministic query set, four classes (single, compound, phrase,
                    english), written to CORPUS_DIR/../queries.tsv
    fts5_baseline   SQLite FTS5 over the space-joined, lower-cased fugashi surfaces:
                    build time, then query latency p50/p95/p99

Usage::

    python bench/baselines.py bench/data/corpus
    python bench/baselines.py bench/data/small/corpus --runs 5000

fugashi is imported lazily so that this module imports without it.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

QUERY_CLASSES = ("single", "compound", "phrase", "english")
DEFAULT_SEED = 20240601
JA_WORD = re.compile(r"^[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\u3005]+$")
EN_WORD = re.compile(r"[a-z]{3,}")
EN_BIGRAM = re.compile(r"(?=\b([a-z]{3,}) ([a-z]{3,})\b)")
EN_STOPWORDS = frozenset(
    "the and for are but not you all any can had her was one our out has have his how its may "
    "new now old see two way who did get let put say she too use that with this from they will "
    "been have into more only other some such than them then there these this those when which "
    "while would also each were what your does used using uses should must shall per via".split()
)
CONTENT_POS = ("名詞", "動詞", "形容詞")


@dataclass(frozen=True)
class Doc:
    id: str
    lang: str
    body: str


@dataclass(frozen=True)
class Token:
    surface: str
    pos1: str
    pos2: str
    base: str  # orthBase: the dictionary form as written (None for unknown words -> "")
    glued: bool  # no white space before it in the text


# --- corpus -----------------------------------------------------------------------


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Front matter keys and the body after it.

    >>> split_front_matter("---\\ntitle: ls(1)\\nlang: en\\n---\\n## NAME\\n")
    ({'title': 'ls(1)', 'lang': 'en'}, '## NAME\\n')
    """
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 3)
    if end < 0:
        return {}, text
    meta = {}
    for line in text[4:end].splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip()] = value.strip()
    return meta, text[end + 5:]


def read_corpus(corpus_dir: Path | str) -> list[Doc]:
    """Every .md document, sorted by id; ``lang`` from the front matter."""
    root = Path(corpus_dir)
    docs = []
    for path in sorted(root.rglob("*.md")):
        meta, body = split_front_matter(path.read_text(encoding="utf-8"))
        doc_id = path.relative_to(root).with_suffix("").as_posix()
        docs.append(Doc(doc_id, meta.get("lang", ""), body))
    return docs


def lines_of(texts: Iterable[str]) -> Iterator[str]:
    for text in texts:
        for line in text.splitlines():
            if line.strip():
                yield line


# --- tokenization floors ------------------------------------------------------------


def _tagger(options: str = ""):
    import fugashi  # lazy: the module must import without the dictionary installed

    return fugashi.Tagger(options)


def fugashi_floor(texts: Iterable[str]) -> dict[str, float]:
    """One ``Tagger`` call per line, reading surface, lemma, kana and pos1 of each node."""
    tagger = _tagger()
    lines = list(lines_of(texts))
    tokens = 0
    started = time.perf_counter()
    for line in lines:
        for node in tagger(line):
            feature = node.feature
            _ = (node.surface, feature.lemma, feature.kana, feature.pos1)
            tokens += 1
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "tokens": tokens, "lines": len(lines), "chars": sum(map(len, lines))}


def wakati_floor(texts: Iterable[str]) -> dict[str, float]:
    """Segmentation only (``-Owakati``), one call per line."""
    tagger = _tagger("-Owakati")
    lines = list(lines_of(texts))
    tokens = 0
    started = time.perf_counter()
    for line in lines:
        tokens += len(tagger.parse(line).split())
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "tokens": tokens, "lines": len(lines), "chars": sum(map(len, lines))}


def tokenize_lines(text: str, tagger) -> list[list[Token]]:
    """Per non-empty line, the tokens with the few features the query builder needs."""
    result = []
    for line in text.splitlines():
        if not line.strip():
            continue
        tokens = []
        for node in tagger(line):
            feature = node.feature
            base = feature.orthBase or ""
            tokens.append(Token(node.surface, feature.pos1 or "", feature.pos2 or "", base, not node.white_space))
        result.append(tokens)
    return result


# --- queries ------------------------------------------------------------------------


def make_queries(corpus_dir: Path | str, n_per_class: int = 100, seed: int = DEFAULT_SEED) -> list[tuple[str, str]]:
    """A deterministic query set: ``n_per_class`` queries of each class.

    single    one Japanese noun or verb in dictionary form, corpus frequency 3..1000
    compound  two adjacent Japanese nouns written together (a maximal two-noun run)
    phrase    a quoted run of 2-4 Japanese tokens, content word ... particle ... content word
    english   one or two English words from the English pages (half each)
    """
    docs = read_corpus(corpus_dir)
    tagger = _tagger()
    singles, compounds, phrases = Counter(), Counter(), Counter()
    for doc in docs:
        if doc.lang != "ja":
            continue
        for tokens in tokenize_lines(doc.body, tagger):
            singles.update(_single_words(tokens))
            compounds.update(_noun_compounds(tokens))
            phrases.update(_phrases(tokens))
    english_docs = [d.body.lower() for d in docs if d.lang == "en"]
    rng = random.Random(seed)
    picked = {
        "single": _sample(singles, 3, 1000, n_per_class, rng),
        "compound": _sample(compounds, 3, 1000, n_per_class, rng),
        "phrase": [f'"{p}"' for p in _sample(phrases, 2, 1000, n_per_class, rng)],
        "english": _english_queries(english_docs, n_per_class, rng),
    }
    for cls, queries in picked.items():
        if len(queries) < n_per_class:
            print(f"warning: only {len(queries)} {cls} queries (wanted {n_per_class})", file=sys.stderr)
    return [(cls, q) for cls in QUERY_CLASSES for q in picked[cls]]


def _sample(counts: Counter, low: int, high: int, n: int, rng: random.Random) -> list[str]:
    candidates = sorted(term for term, count in counts.items() if low <= count <= high)
    return rng.sample(candidates, min(n, len(candidates)))


def _is_japanese(token: Token) -> bool:
    return bool(JA_WORD.match(token.surface))


def _single_words(tokens: list[Token]) -> Iterator[str]:
    for t in tokens:
        if (
            t.pos1 in ("名詞", "動詞")
            and t.pos2 not in ("数詞", "非自立可能")
            and t.surface == t.base
            and len(t.surface) >= 2
            and _is_japanese(t)
        ):
            yield t.surface


def _is_compound_noun(token: Token) -> bool:
    return token.pos1 == "名詞" and token.pos2 in ("普通名詞", "固有名詞") and _is_japanese(token)


def _noun_compounds(tokens: list[Token]) -> Iterator[str]:
    """Exactly two nouns glued together, not part of a longer noun run (天然ガス, 環境変数)."""
    for i in range(len(tokens) - 1):
        first, second = tokens[i], tokens[i + 1]
        if not (_is_compound_noun(first) and _is_compound_noun(second) and second.glued):
            continue
        before = tokens[i - 1] if i > 0 else None
        after = tokens[i + 2] if i + 2 < len(tokens) else None
        if before and before.pos1 == "名詞" and first.glued:
            continue
        if after and after.pos1 == "名詞" and after.glued:
            continue
        yield first.surface + second.surface


def _is_phrase_edge(token: Token, last: bool) -> bool:
    """Phrases start with a noun and end with a noun or a verb/adjective in dictionary form."""
    if not _is_japanese(token) or token.pos2 in ("非自立可能", "数詞"):
        return False
    if token.pos1 == "名詞":
        return True
    return last and token.pos1 in CONTENT_POS and token.surface == token.base


def _phrases(tokens: list[Token]) -> Iterator[str]:
    """2-4 glued Japanese tokens with a particle inside, not cutting a glued noun run.

    >>> words = [("ファイル", "名詞", "普通名詞", "ファイル"), ("を", "助詞", "格助詞", "を"),
    ...          ("開く", "動詞", "一般", "開く")]
    >>> list(_phrases([Token(s, p1, p2, b, True) for s, p1, p2, b in words]))
    ['ファイルを開く']
    """
    for start in range(len(tokens)):
        if not _is_phrase_edge(tokens[start], last=False) or _glued_noun(tokens, start - 1, start):
            continue
        for end in range(start + 2, min(start + 4, len(tokens)) + 1):
            run = tokens[start:end]
            if not _is_japanese(run[-1]) or not run[-1].glued:
                break
            if (
                _is_phrase_edge(run[-1], last=True)
                and any(t.pos1 == "助詞" for t in run[1:-1])
                and not _glued_noun(tokens, end, end - 1)
            ):
                yield "".join(t.surface for t in run)


def _glued_noun(tokens: list[Token], neighbour: int, inner: int) -> bool:
    """True when tokens[neighbour] is a noun written together with tokens[inner]."""
    if not 0 <= neighbour < len(tokens):
        return False
    glued = tokens[max(neighbour, inner)].glued
    return glued and tokens[neighbour].pos1 == "名詞" and tokens[inner].pos1 == "名詞"


def _english_queries(texts: list[str], n: int, rng: random.Random) -> list[str]:
    words, bigrams = Counter(), Counter()
    for text in texts:
        for line in text.splitlines():
            words.update(w for w in EN_WORD.findall(line) if w not in EN_STOPWORDS)
            bigrams.update(
                f"{a} {b}" for a, b in EN_BIGRAM.findall(line) if a not in EN_STOPWORDS and b not in EN_STOPWORDS
            )
    n_bigrams = n // 2
    return _sample(words, 3, 1000, n - n_bigrams, rng) + _sample(bigrams, 3, 1000, n_bigrams, rng)


def write_queries(path: Path | str, queries: list[tuple[str, str]]) -> None:
    lines = ["class\tquery"] + [f"{cls}\t{query}" for cls, query in queries]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_queries(path: Path | str) -> list[tuple[str, str]]:
    rows = Path(path).read_text(encoding="utf-8").splitlines()[1:]
    return [tuple(row.split("\t", 1)) for row in rows if row]


# --- SQLite FTS5 --------------------------------------------------------------------


def query_words(query: str) -> list[str]:
    """A quoted run is one word; otherwise words are split on spaces.

    >>> query_words('"ファイルを開く" open')
    ['ファイルを開く', 'open']
    """
    return [quoted or bare for quoted, bare in re.findall(r'"([^"]*)"|(\S+)', query) if quoted or bare]


def fts5_match(query: str, tagger) -> str:
    """One FTS5 phrase per query word (its fugashi tokens, lower-cased), ANDed."""
    phrases = []
    for word in query_words(query):
        tokens = [t.lower() for t in tagger.parse(word).split() if any(c.isalnum() for c in t)]
        if tokens:
            phrases.append('"' + " ".join(tokens).replace('"', '""') + '"')
    return " AND ".join(phrases)


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def fts5_baseline(texts: list[str], queries: list[tuple[str, str]] | list[str], runs: int = 2000) -> dict:
    """Build an FTS5 table over fugashi tokens (one row per text), then time the queries.

    Query text is tokenized before timing: the latencies are SQLite's alone
    (MATCH, ``ORDER BY rank``, first 10 rows fetched).
    """
    tagger = _tagger("-Owakati")
    started = time.perf_counter()
    rows = ["\n".join(tagger.parse(line).lower() for line in text.splitlines() if line.strip()) for text in texts]
    tokenize_seconds = time.perf_counter() - started
    labelled = [q if isinstance(q, tuple) else ("", q) for q in queries]
    matches = [(cls, fts5_match(q, tagger)) for cls, q in labelled]
    matches = [(cls, m) for cls, m in matches if m]
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "fts5.db")
        try:
            build_seconds = _build_fts5(db, rows)
            result = _time_queries(db, matches, runs)
        finally:
            db.close()
    result.update(tokenize_seconds=tokenize_seconds, build_seconds=build_seconds, rows=len(rows))
    return result


def _build_fts5(db: sqlite3.Connection, rows: list[str]) -> float:
    started = time.perf_counter()
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(body, tokenize='unicode61 remove_diacritics 0')")
    with db:
        db.executemany("INSERT INTO docs(body) VALUES (?)", ((row,) for row in rows))
    db.execute("INSERT INTO docs(docs) VALUES ('optimize')")
    db.commit()
    return time.perf_counter() - started


def _time_queries(db: sqlite3.Connection, matches: list[tuple[str, str]], runs: int) -> dict:
    sql = "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT 10"
    hits = {m: len(db.execute(sql, (m,)).fetchall()) for _, m in matches}  # also warms the cache
    per_class: dict[str, list[float]] = {}
    for i in range(max(runs, len(matches))):
        cls, match = matches[i % len(matches)]
        started = time.perf_counter_ns()
        db.execute(sql, (match,)).fetchall()
        per_class.setdefault(cls, []).append((time.perf_counter_ns() - started) / 1e6)
    everything = sorted(ms for values in per_class.values() for ms in values)
    return {
        "queries": len(matches),
        "runs": len(everything),
        "with_hits": sum(1 for _, m in matches if hits[m]),
        "ms": {p: percentile(everything, p) for p in (50, 95, 99)},
        "ms_per_class": {cls: {p: percentile(sorted(v), p) for p in (50, 99)} for cls, v in per_class.items()},
    }


# --- command line -------------------------------------------------------------------


def report(corpus: str, docs: list[Doc], floor: dict, wakati: dict, fts: dict) -> str:
    langs = Counter(d.lang for d in docs)
    lines = [
        f"Corpus `{corpus}`: {len(docs)} documents (ja {langs['ja']}, en {langs['en']}), "
        f"{floor['chars']:,} characters in {floor['lines']:,} lines",
        "",
        "| measure | value |",
        "|---|---|",
        f"| fugashi floor (surface, lemma, kana, pos1) | {floor['seconds']:.2f} s, {floor['tokens']:,} tokens |",
        f"| wakati floor (`-Owakati`) | {wakati['seconds']:.2f} s, {wakati['tokens']:,} tokens |",
        f"| FTS5 tokenize (wakati, lower-cased) | {fts['tokenize_seconds']:.2f} s |",
        f"| FTS5 build ({fts['rows']} rows, optimize) | {fts['build_seconds']:.2f} s |",
        f"| FTS5 queries | {fts['queries']} queries, {fts['with_hits']} with hits, {fts['runs']} timed runs |",
        "| FTS5 query p50 / p95 / p99 | " + " / ".join(f"{fts['ms'][p]:.3f}" for p in (50, 95, 99)) + " ms |",
    ]
    for cls, ms in sorted(fts["ms_per_class"].items()):
        lines.append(f"| FTS5 `{cls}` p50 / p99 | {ms[50]:.3f} / {ms[99]:.3f} ms |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Tokenization floors and an SQLite FTS5 baseline.")
    parser.add_argument("corpus", type=Path, help="corpus folder written by make_corpus.py")
    parser.add_argument("--queries", type=Path, help="query file to write (default: CORPUS/../queries.tsv)")
    parser.add_argument("--n-per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--runs", type=int, default=2000, help="timed FTS5 queries (at least 2,000)")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"no corpus at {args.corpus}; run: python bench/make_corpus.py --out {args.corpus}")
    docs = read_corpus(args.corpus)
    texts = [d.body for d in docs]
    floor = fugashi_floor(texts)
    wakati = wakati_floor(texts)
    queries = make_queries(args.corpus, args.n_per_class, args.seed)
    queries_path = args.queries or args.corpus.resolve().parent / "queries.tsv"
    write_queries(queries_path, queries)
    fts = fts5_baseline(texts, queries, max(2000, args.runs))
    print(report(str(args.corpus), docs, floor, wakati, fts))
    print(f"\nqueries: {queries_path} ({len(queries)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
