"""Date order lists what the counts count: a query made only of exclusions (``-サミット``,
``NOT サミット``) sorted by date reports a total, and walking its pages to the end gives
exactly that many passages, each once, newest first and undated last; the same set as
relevance order; through the JSON API and the CLI, on both engines (issue 16, item 1).

The corpus has more matching passages than a page holds, dated and undated documents in
both languages, and the excluded words in some of them."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from casearch.cli import main
from casearch.index import reindex
from casearch.web import create_app

from conftest import write

QUERIES = ["-サミット", "NOT サミット", "-summit -鉄道"]
PER_PAGE = 6


@pytest.fixture(scope="module")
def dated_index(tmp_path_factory: pytest.TempPathFactory, engine_name: str) -> Path:
    root = tmp_path_factory.mktemp("dated")
    rng = random.Random(16)
    ja_words = ["エネルギー", "鉄道", "天然ガス", "協力", "貿易", "サミット"]
    en_words = ["energy", "railway", "natural gas", "cooperation", "trade", "summit"]
    for n in range(18):
        date = "" if n % 4 == 0 else f"date: 2025-{n % 12 + 1:02}-{n + 1:02}\n"
        ja = "。".join(f"{rng.choice(ja_words)}について{rng.choice(ja_words)}の話" for _ in range(2))
        en = ". ".join(f"A note on {rng.choice(en_words)} and {rng.choice(en_words)}" for _ in range(2))
        write(root / "c" / f"ja{n:02}.md",
              f"---\nlang: ja\n{date}---\n# 文書{n}\n\n{ja}。\n\n## 続き\n\n{rng.choice(ja_words)}の件。\n")
        write(root / "c" / f"en{n:02}.md",
              f"---\nlang: en\ntranslation_of: ja{n:02}\n{date}---\n# Note {n}\n\n{en}.\n")
    report = reindex(root / "c", root / "i", engine=engine_name)
    assert not report.skipped
    return root / "i"


@pytest.fixture(scope="module")
def dated_client(dated_index: Path, engine_name: str):
    return create_app({"INDEX_DIR": str(dated_index), "ENGINE": engine_name, "TESTING": True}).test_client()


def walk_api(client, **params: str) -> tuple[int, list[dict]]:
    """(total of the first page, every hit of every page up to the first empty one)."""
    first = client.get("/api/search", query_string={**params, "per_page": str(PER_PAGE)}).get_json()
    hits, page = [], 1
    while True:
        data = client.get("/api/search", query_string={**params, "per_page": str(PER_PAGE), "page": str(page)}).get_json()
        assert data["total"] == first["total"], (params, page)
        if not data["hits"]:
            return first["total"], hits
        assert len(data["hits"]) == min(PER_PAGE, first["total"] - (page - 1) * PER_PAGE), (params, page)
        hits += data["hits"]
        page += 1


def passage(hit: dict) -> str:
    return hit["url"]


@pytest.mark.parametrize("q", QUERIES)
@pytest.mark.parametrize(("lang", "cross"), [("all", "1"), ("ja", "1"), ("en", "0")])
def test_date_order_of_exclusion_only_queries_pages_through_the_total(dated_client, q: str, lang: str, cross: str) -> None:
    total, hits = walk_api(dated_client, q=q, lang=lang, cross=cross, sort="date")
    assert total > PER_PAGE, (q, lang)  # more than a page: paging is exercised
    assert len(hits) == total
    assert len({passage(hit) for hit in hits}) == total  # each passage once
    dated = [hit["date"] for hit in hits if hit.get("date")]
    assert dated == sorted(dated, reverse=True)
    assert [bool(hit.get("date")) for hit in hits] == sorted((bool(hit.get("date")) for hit in hits), reverse=True)
    by_relevance = dated_client.get("/api/search", query_string={
        "q": q, "lang": lang, "cross": cross, "sort": "relevance", "per_page": "50"}).get_json()
    assert by_relevance["total"] == total <= 50
    assert {passage(hit) for hit in by_relevance["hits"]} == {passage(hit) for hit in hits}


@pytest.mark.parametrize("q", ["NOT サミット"])
def test_cli_date_order_of_exclusion_only_queries_pages_through_the_total(dated_index: Path, q: str) -> None:
    runner, seen, page, total = CliRunner(), [], 1, None
    while True:
        result = runner.invoke(main, ["search", q, "--sort", "date", "--json", "--limit", str(PER_PAGE),
                                      "--page", str(page), "--index", str(dated_index)])
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        total = data["total"] if total is None else total
        assert data["total"] == total
        if not data["hits"]:
            break
        seen += [passage(hit) for hit in data["hits"]]
        page += 1
    assert total > PER_PAGE and len(seen) == len(set(seen)) == total
    human = runner.invoke(main, ["search", q, "--sort", "date", "--limit", "50", "--no-color", "--index", str(dated_index)])
    assert human.exit_code == 0
    assert human.output.splitlines()[0].startswith(f"{total} passages")
    assert sum(1 for line in human.output.splitlines() if line[:1].isdigit() and ". " in line[:5]) == total
