"""Command line: ``casearch reindex | search | analyze | glossary | stats | serve | prepare``, a thin
layer on the library.

Library exceptions (``CasearchError``) become one-line messages with a fix-it hint and
the exit codes of the contract; nothing here prints a traceback for a user mistake.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from . import config
from .console import ReindexProgress, result_lines, stats_lines
from .engines import ENGINES
from .errors import (
    CasearchError, ConfigError, CorpusMissing, EngineUnavailable, IndexLocked, IndexMissing, IndexUnusable, QueryError,
)

EXIT_SKIPPED = 1
EXIT_USAGE = 2
EXIT_NOTHING_DONE = 3


def _fail(exc: CasearchError, code: int) -> "click.exceptions.Exit":
    hint = f"\n{exc.hint}" if exc.hint else ""
    click.echo(f"Error: {exc}{hint}", err=True)
    return click.exceptions.Exit(code)


corpus_option = click.option(
    "--corpus", type=click.Path(path_type=Path), default=None,
    help="Corpus folder (default ./corpus, or $CASEARCH_CORPUS).",
)
index_option = click.option(
    "--index", "index_dir", type=click.Path(path_type=Path), default=None,
    help="Index folder (default ./index, or $CASEARCH_INDEX).",
)

engine_option = click.option(
    "--engine", type=click.Choice(ENGINES), default=None,
    help="Search engine (default whoosh, or $CASEARCH_ENGINE); tantivy needs pip install 'casearch[tantivy]'.",
)


def _engine(chosen: str | None) -> str:
    """The engine asked for, checked to be installed (exit 1 with what to run if not)."""
    from . import engines

    try:
        name = chosen or config.engine()
    except ConfigError as exc:
        raise _fail(exc, EXIT_USAGE) from None
    if not engines.available(name):
        raise _fail(EngineUnavailable(f"The {name} engine is not installed"), 1)
    return name


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="casearch", prog_name="casearch")  # looked up only when asked (importlib.metadata: 30-70 ms per run)
def main() -> None:
    """casearch: search Japanese and English documents.

    Example: casearch reindex && casearch search パイプライン
    """


color_option = click.option(
    "--color/--no-color", default=None,
    help="Colour the output (default: only on a terminal, and never with NO_COLOR set).",
)


def _use_color(color: bool | None, stream) -> bool:
    if color is not None:
        return color
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@main.command()
@corpus_option
@index_option
@click.option("--full", is_flag=True, help="Rebuild everything instead of only changed files.")
@click.option("--quiet", "-q", is_flag=True, help="No progress: only skipped files and the summary line.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Processes for a full build with Whoosh (default: one per core from 200 files).")
@engine_option
def reindex(corpus: Path | None, index_dir: Path | None, full: bool, quiet: bool, jobs: int | None,
            engine: str | None) -> None:
    """Bring the index up to date with the corpus.

    Prints one summary line; progress and skipped files go to stderr (a progress bar on
    a terminal, plain lines otherwise). Exit 0 when every file was indexed, 1 when some
    were skipped, 3 when nothing could be done.

    Example: casearch reindex --corpus corpus --index index
    """
    from .index import reindex as run_reindex

    engine = _engine(engine)
    corpus = corpus or config.corpus_dir()
    index_dir = index_dir or config.index_dir()
    try:
        max_bytes, phase = config.max_file_bytes(), _phase_hook()
    except ConfigError as exc:
        raise _fail(exc, EXIT_USAGE) from None
    progress = ReindexProgress(sys.stderr, ReindexProgress.mode_for(sys.stderr, quiet))
    try:
        report = run_reindex(
            corpus, index_dir, full=full, max_file_bytes=max_bytes, progress=progress, phase=phase, engine=engine,
            jobs=jobs,
        )
    except (CorpusMissing, IndexLocked, IndexUnusable) as exc:
        progress.close()
        raise _fail(exc, EXIT_NOTHING_DONE) from None
    progress.close()
    for skipped in report.skipped:
        click.echo(f"skipped {skipped.path}: {skipped.reason}", err=True)
    click.echo(report.summary())
    if report.skipped:
        raise click.exceptions.Exit(EXIT_SKIPPED)


def _phase_hook():
    """With CASEARCH_PHASE_PAUSE set, announce each writer phase and wait (crash tests)."""
    pause = config.phase_pause()
    if pause is None:
        return None

    def announce(name: str) -> None:
        import time

        click.echo(f"phase: {name}", err=True)
        sys.stderr.flush()
        time.sleep(pause)

    return announce


@main.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--lang", type=click.Choice(["all", "ja", "en"]), default="all", show_default=True)
@click.option("--limit", type=click.IntRange(1, 50), default=10, show_default=True, help="Hits to show.")
@click.option("--page", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--no-cross", is_flag=True, help="Search only the words as typed, not their translations.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON document of /api/search.")
@color_option
@index_option
@engine_option
def search(query: tuple[str, ...], lang: str, limit: int, page: int, sort: str, no_cross: bool, as_json: bool,
           color: bool | None, index_dir: Path | None, engine: str | None) -> None:
    """Search the index; QUERY words are joined by spaces.

    On a terminal the matches are highlighted in colour; otherwise they are [bracketed].
    A "Did you mean" line offers a corrected query, as the web page does.

    Example: casearch search 天然ガス --lang ja
    """
    from .search import Engine, validate_request
    from .suggest import with_suggestion

    searcher = Engine(index_dir or config.index_dir(), _engine(engine))
    params = {"q": " ".join(query), "lang": lang, "page": str(page), "per_page": str(limit), "sort": sort,
              "cross": "0" if no_cross else "1"}
    try:
        search_request = validate_request(params)
        result = with_suggestion(searcher, search_request, searcher.search(search_request))
    except QueryError as exc:
        raise _fail(exc, EXIT_USAGE) from None
    except (IndexMissing, IndexUnusable) as exc:
        raise _fail(exc, 1) from None
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    use_color = _use_color(color, sys.stdout)
    for line in result_lines(result, use_color):
        click.echo(line, color=use_color)


@main.command()
@click.argument("term", required=False)
@click.option("--source", type=click.Choice(["gloss", "dictionary", "corpus", "glossary", "mined", "transliteration"]), default=None,
              help="Only pairs from this source.")
@click.option("--json", "as_json", is_flag=True, help="Print the pairs as JSON.")
@index_option
@engine_option
def glossary(term: str | None, source: str | None, as_json: bool, index_dir: Path | None, engine: str | None) -> None:
    """List the cross-lingual bridge: Japanese and English term pairs and their source.

    With TERM, only pairs whose Japanese or English side contains it. Sources: gloss
    (UniDic loanword glosses), dictionary (JMdict), corpus (terms glossed in brackets in
    the documents), glossary (corpus/_glossary.tsv), mined (co-occurrence across aligned
    documents), transliteration (katakana matched to English by sound).

    Example: casearch glossary パイプライン
    """
    from .search import Engine

    searcher = Engine(index_dir or config.index_dir(), _engine(engine))
    try:
        with searcher.reader() as reader:
            bridge = searcher.bridge(reader)
    except (IndexMissing, IndexUnusable) as exc:
        raise _fail(exc, 1) from None
    pairs = bridge.matching(term) if term else bridge.pairs
    pairs = sorted((p for p in pairs if source in (None, p.source)), key=lambda p: (p.ja, p.en.lower(), p.source))
    if as_json:
        rows = [{"ja": p.ja, "en": p.en, "source": p.source} for p in pairs]
        click.echo(json.dumps({"pairs": rows}, ensure_ascii=False, indent=2))
        return
    for pair in pairs:
        click.echo(f"{pair.ja}\t{pair.en}\t{pair.source}")
    click.echo(f"{len(pairs)} pair" + ("" if len(pairs) == 1 else "s"), err=True)


@main.command()
@index_option
@click.option("--top", type=click.IntRange(0, 200), default=20, show_default=True, help="Top words to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@color_option
def stats(index_dir: Path | None, top: int, as_json: bool, color: bool | None) -> None:
    """Show what the index holds: documents, passages, languages, size, top words.

    Example: casearch stats --top 10
    """
    from .stats import index_stats

    try:
        numbers = index_stats(index_dir or config.index_dir(), top=top)
    except (IndexMissing, IndexUnusable) as exc:
        raise _fail(exc, 1) from None
    if as_json:
        click.echo(json.dumps(numbers.to_json(), ensure_ascii=False, indent=2))
        return
    use_color = _use_color(color, sys.stdout)
    for line in stats_lines(numbers, use_color):
        click.echo(line, color=use_color)


@main.command()
@click.argument("text", nargs=-1, required=True)
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None,
              help="Accepted for compatibility: one analyzer handles both scripts.")
@click.option("--json", "as_json", is_flag=True, help='Print {"tokens": [...], "user_dictionary": ...}.')
@corpus_option
@index_option
def analyze(text: tuple[str, ...], lang: str | None, as_json: bool, corpus: Path | None, index_dir: Path | None) -> None:
    """Show how the index sees a text: tokens, offsets, base forms, readings.

    With the user dictionary the index sees: the corpus's _userdict.csv when there is
    one (what reindex builds with), else the index's; with --index, that index's.
    The JSON has the contract's tokens and the dictionary used (null: UniDic alone).

    Example: casearch analyze 天然ｶﾞｽﾊﾟｲﾌﾟﾗｲﾝが稼働しています
    """
    from .introspect import token_rows, user_dictionary

    joined = " ".join(text)
    try:
        with user_dictionary(corpus or config.corpus_dir(), index_dir or config.index_dir(),
                             explicit_index=index_dir is not None) as source:
            rows = token_rows(joined)
    except CasearchError as exc:
        raise _fail(exc, 1) from None
    if as_json:
        click.echo(json.dumps({"tokens": rows, "user_dictionary": source}, ensure_ascii=False, indent=2))
        return
    click.echo(f"user dictionary: {source or 'none (UniDic alone)'}", err=True)
    for row in rows:
        flag = "" if row["indexed"] else "  (dropped)"
        flag = flag or ("  (stop: phrases only)" if row["stop"] else "")
        click.echo(
            f"{row['start']:>4}-{row['end']:<4} {row['surface']}\tterm={row['term']}\tbase={row['base']}"
            f"\treading={row['reading'] or '-'}\tpos={row['pos']}{flag}"
        )


@main.command()
@index_option
def prepare(index_dir: Path | None) -> None:
    """Build the dictionary look-up index now, once, if it is missing.

    Cross-lingual search looks English words up in JMdict through an index derived from
    jamdict-data's database (about 24 s and 38 MB, kept in ~/.cache/casearch for every
    later reindex). A reindex that finds it missing builds it too; this does it ahead
    (make runs it during the install). Progress goes to stderr; one line on stdout says
    where the index is, its size and the build's time, or that it was already there.
    Without jamdict-data there is nothing to build: it says so and exits 0.

    Example: casearch prepare
    """
    import sqlite3

    from . import jmdict
    from .index import JMDICT_CACHE

    db = jmdict.database_path((index_dir or config.index_dir()) / JMDICT_CACHE)
    if db is None:
        click.echo("jamdict-data is not installed: nothing to prepare (pip install 'casearch[crosslingual]' for "
                   "dictionary pairs)")
        return
    try:
        prepared = jmdict.prepare_index(db, say=lambda message: click.echo(message, err=True))
    except (OSError, sqlite3.Error, RuntimeError, KeyError) as exc:  # RuntimeError, KeyError: no home folder
        raise click.ClickException(
            f"the dictionary look-up index cannot be built: {exc}\n"
            "Reindexing still works: English words are then looked up the slow way."
        ) from None
    click.echo(prepared.summary())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Worker threads; each keeps its own index reader (memory grows with them).")
@click.option("--workers", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Server processes sharing the port, each with --threads threads (one process uses one core).")
@click.option("--debug", is_flag=True, help="Flask's development server (reloads, tracebacks).")
@corpus_option
@index_option
@engine_option
def serve(host: str, port: int, threads: int, workers: int, debug: bool, corpus: Path | None,
          index_dir: Path | None, engine: str | None) -> None:
    """Serve the search page and the JSON API (waitress); builds the index if missing.

    With --workers N, one parent process binds the port and supervises N waitress
    processes (restarting any that die); SIGTERM or Ctrl-C stops them all.

    Example: casearch serve --port 8080 --workers 2
    """
    if debug and workers > 1:
        raise click.UsageError("--debug runs Flask's single-process development server; drop --workers.")
    from .web import create_app

    engine = _engine(engine)
    corpus = corpus or config.corpus_dir()
    index_dir = index_dir or config.index_dir()
    _build_index_if_missing(corpus, index_dir, engine)
    settings = {"INDEX_DIR": str(index_dir), "CORPUS_DIR": str(corpus), "ENGINE": engine}
    if workers > 1:
        _serve_workers(lambda: create_app(settings), host, port, workers, threads)
        return
    app = create_app(settings)
    click.echo(f"casearch serving on http://{host}:{port}/", err=True)
    if debug:
        app.run(host=host, port=port, debug=True)
        return
    import waitress

    waitress.serve(app, host=host, port=port, threads=threads, ident="casearch")


def _build_index_if_missing(corpus: Path, index_dir: Path, engine: str) -> None:
    """Builds the index when there is none; an index of the other engine is refused with
    what to run (exit 1) rather than replaced behind the user's back."""
    from .index import read_current_or_none, reindex as run_reindex, serving, INDEX_FORMAT

    current = read_current_or_none(index_dir)
    if current is not None and current.get("format") == INDEX_FORMAT:
        try:
            serving(index_dir, engine)
        except IndexUnusable as exc:
            raise _fail(exc, 1) from None
        return
    click.echo(f"Building the index at {index_dir} from {corpus} ...", err=True)
    progress = ReindexProgress(sys.stderr, ReindexProgress.mode_for(sys.stderr, quiet=False))
    try:
        report = run_reindex(corpus, index_dir, max_file_bytes=config.max_file_bytes(), progress=progress, engine=engine)
    except CasearchError as exc:
        progress.close()
        raise _fail(exc, EXIT_NOTHING_DONE) from None
    progress.close()
    for skipped in report.skipped:
        click.echo(f"skipped {skipped.path}: {skipped.reason}", err=True)
    click.echo(report.summary(), err=True)


def _serve_workers(make_app, host: str, port: int, workers: int, threads: int) -> None:
    """Pre-fork serving (``serving.py``): the apps are made in the workers, after the fork."""
    from .serving import WorkersKeepDying, bind_sockets, serve_workers, socket_url

    try:
        socks = bind_sockets(host, port, workers)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    click.echo(f"casearch serving on {socket_url(socks[0])} with {workers} workers", err=True)
    try:
        serve_workers(make_app, socks, workers=workers, threads=threads)
    except WorkersKeepDying as exc:
        raise _fail(exc, 1) from None
    finally:
        for sock in socks:
            sock.close()


if __name__ == "__main__":
    main()
