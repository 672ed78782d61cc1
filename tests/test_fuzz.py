"""Hostile queries: Hypothesis throws arbitrary input at /api/search and /search.

Arbitrary Unicode, operators, brackets, quotes, field prefixes, control characters,
invalid UTF-8, very long inputs and odd values for every other parameter. The app runs
with ``TESTING`` on, so any exception inside a view fails the test with its traceback
(in production it would be a 5xx). Every answer must be the contract's: 200 with a
well-formed result, or 400 with the error shape (JSON under /api/, the page elsewhere),
and the parameter checks must agree with the contract (``oracle``). Each route gets at
least ``EXAMPLES`` examples; the count is checked, not assumed.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from casearch.index import reindex
from casearch.web import create_app

from conftest import REPO, write
from test_security import HOSTILE, check_headers, check_page, check_snippet, check_url

pytestmark = pytest.mark.usefixtures("engine_name")  # run once per engine (conftest)

EXAMPLES = 120  # per engine: 240 generated requests per fuzz test in all
MAX_Q = 500
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory):
    """The repository's corpus, the hostile documents, and 400 words sharing a prefix (so
    that ``pre*`` is over the expansion cap) and a document long enough to page through."""
    base = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(REPO / "corpus", base / "corpus")
    for rel, text in HOSTILE.items():
        write(base / "corpus" / rel, text)
    letters = "bcdfghklmnprstvz"
    words = [f"pre{a}{b}{c}o" for a in letters[:8] for b in letters[:10] for c in letters[:5]]
    write(base / "corpus/prefix.md", "# Prefixes\n\n" + " ".join(words) + "\n")
    paragraphs = [f"Paragraph {n} about gas pipelines, railways and the summit." for n in range(300)]
    write(base / "corpus/long.md", "# Long\n\n" + "\n\n".join(paragraphs) + "\n")
    assert reindex(base / "corpus", base / "ix").skipped == []
    app = create_app({"INDEX_DIR": str(base / "ix"), "CORPUS_DIR": str(base / "corpus"), "TESTING": True})
    return app.test_client()


# --- what to throw ----------------------------------------------------------------------

WORDS = ["パイプライン", "天然ガス", "中国の鉄道", "鉄道", "の", "は", "ガス", "ｶﾞｽ", "てつどう", "tetsudou",
         "pipeline", "pipelines", "Kazakhstan", "gas", "the", "a", "summit", "xssprobe", "script", "paragraph",
         "2025", "1,500", "94.8", "サミット", "カシムジョマルト・トカエフ", "人々", "㍻", "髙", "ＡＢＣ", "pre"]
OPERATORS = ["OR", "AND", "NOT", "ＯＲ", "or", "-", "--", "+", "*", "**", "~", "^", "!", "&&", "||", "?", "\\",
             "/", "|", "&", "=", ":", "::", "-*", "*-", "NOT NOT", "OR OR", "AND OR NOT"]
BRACKETS = ["(", ")", "()", ")(", "((", "))", "[", "]", "{", "}", "（", "）", "「", "」", "『", "』", "<", ">"]
QUOTES = ['"', "'", "“", "”", "＂", "`", '""', '" "', '"OR"', "«", "»"]
FIELDS = ["title:", "section:", "body:", "x:", "lang:", "TITLE:", "title:title:", "body:-", "section:(", 'title:"',
          ":", "title:*", "doc_id:", "pid:", "body_ngram:", "http://", "javascript:"]
ODD = ["\x00", "\x01", "\x08", "\x1b[31m", "\x7f", "\x85", "\u2028", "\u2029", "\u200b", "\u200e", "\u202e",
       "\ufeff", "\ufffd", "\ufffe", "\U0010ffff", "\u0301", "\u3099", "𠮷", "🚄", "\t", "\n", "\r\n", "\xa0",
       "\u3000", "%00", "%", "&amp;", "<script>", "{{7*7}}", "' OR 1=1 --", "${jndi:x}", "\\u0000"]
SEPARATORS = [" ", "", "  ", "\u3000", "\t", "\n", "\xa0"]

atom = st.one_of(
    st.sampled_from(WORDS + OPERATORS + BRACKETS + QUOTES + FIELDS + ODD),
    st.builds(lambda f, w: f + w, st.sampled_from(FIELDS), st.sampled_from(WORDS + QUOTES)),
    st.builds(lambda w, s: w + s, st.sampled_from(WORDS), st.sampled_from(["*", "**", "*?", "-", ")", '"'])),
    st.builds(lambda s, w: s + w, st.sampled_from(["-", "NOT ", "(", '"', "+"]), st.sampled_from(WORDS)),
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
)
composed = st.builds(
    lambda parts, seps: "".join(p + seps[i % len(seps)] for i, p in enumerate(parts)),
    st.lists(atom, min_size=1, max_size=40), st.lists(st.sampled_from(SEPARATORS), min_size=1, max_size=4),
)
simple = st.builds(  # what people type: a few words, sometimes an operator
    lambda words, op: f" {op} ".join(words) if op else " ".join(words),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3), st.sampled_from(["", "", "OR", "-", "NOT"]),
)
repeated = st.builds(lambda unit, n: (unit * n)[:3000], st.one_of(atom, composed), st.integers(1, 600))
near_limit = st.builds(lambda w, n, pad: (w + " ") * n + pad, st.sampled_from(["a", "鉄", "gas", "の"]),
                       st.integers(100, 260), st.sampled_from(["", " ", "\u3000", "x", "  x  "]))
queries = st.one_of(simple, simple, composed, composed, composed, st.text(max_size=700), repeated, near_limit)

raw_bytes = st.binary(max_size=40)  # sent percent-encoded as is: often not UTF-8
VALUES = {
    "lang": ["all", "ja", "en", "", " ja", "JA", "de", "all ", "ja,en", "ｊａ", "\x00"],
    "page": ["1", "2", "3", "30", "1000", "1001", "0", "-1", "01", " 2", "2 ", "1e3", "1.0", "٣", "２", "",
             "99999999999999999999", "0x1", "+1", "1_0"],
    "per_page": ["1", "10", "50", "51", "0", "-5", "007", "", "10 ", "٥", "1e1", "50.0", "18446744073709551617"],
    "sort": ["relevance", "date", "", "DATE", "score", "relevance "],
    "cross": ["0", "1", "", "2", "yes", "-1"],
    "ui": ["ja", "en", "", "fr", "<script>"],
}


VALID = {"lang": ["all", "ja", "en"], "page": ["1", "2", "3"], "per_page": ["1", "5", "10", "50"],
         "sort": ["relevance", "date"], "cross": ["0", "1"], "ui": ["ja", "en"]}


def param_value(name: str, hostile: bool):
    if not hostile:  # absent or valid, so that the request reaches the search itself
        return st.one_of(st.none(), st.sampled_from(VALID[name]))
    return st.one_of(st.none(), st.sampled_from(VALUES[name]), st.text(max_size=8), raw_bytes)


@dataclass
class Request:
    pairs: list[tuple[str, str | bytes]]

    def url(self, path: str) -> str:
        encode = lambda v: quote_from_bytes(v, safe="") if isinstance(v, bytes) else quote(v, safe="")  # noqa: E731
        return path + "?" + "&".join(f"{quote(k, safe='')}={encode(v)}" for k, v in self.pairs)

    def first(self, name: str) -> str | None:
        """The value the server reads: the first one; bytes that are not UTF-8 stay
        percent-encoded (Werkzeug's reading)."""
        for key, value in self.pairs:
            if key == name:
                if isinstance(value, bytes):
                    text = value.decode("utf-8", "surrogateescape")
                    return re.sub("[\udc80-\udcff]", lambda m: f"%{ord(m.group()) - 0xDC00:02X}", text)
                return value
        return None


@st.composite
def requests(draw) -> Request:
    pairs: list[tuple[str, str | bytes]] = []
    q = draw(st.one_of(queries, queries, queries, queries, queries, queries, raw_bytes, st.none()))
    if q is not None:
        pairs.append(("q", q))
    hostile = draw(st.integers(0, 9)) < 3
    for name in VALUES:
        value = draw(param_value(name, hostile))
        if value is not None:
            pairs.append((name, value))
    if draw(st.integers(0, 9)) == 0:  # a repeated parameter: the first one counts
        pairs.append((draw(st.sampled_from(["q", "page", "lang"])), draw(st.sampled_from(["x", "2", "en"]))))
    if draw(st.integers(0, 9)) == 0:  # unknown parameters are ignored
        pairs.append((draw(st.text(min_size=1, max_size=6)), draw(st.text(max_size=6))))
    order = draw(st.permutations(range(len(pairs))))
    return Request([pairs[i] for i in order])


# --- the contract, as an oracle -----------------------------------------------------------

def _int_param(raw: str | None, high: int) -> str:
    """'ok', 'bad' or 'unclear' (forms the contract does not settle, like ' 2' or '01')."""
    if raw is None or raw == "":
        return "ok"
    if raw.isascii() and raw.isdigit() and raw[0] != "0":
        return "ok" if 1 <= int(raw) <= high else "bad"
    stripped = raw.strip()
    if stripped.isascii() and stripped.isdigit():
        return "unclear"  # leading zeros or surrounding spaces
    return "bad"


def _choice(raw: str | None, allowed: tuple[str, ...]) -> str:
    if raw is None or raw == "" or raw in allowed:
        return "ok"
    if raw.strip().lower() in allowed:
        return "unclear"  # a lenient server may accept " ja" or "DATE"
    return "bad"


def oracle(req: Request) -> dict[str, str]:
    """For each parameter the contract checks: 'ok', 'bad' or 'unclear'."""
    q = req.first("q")
    cross = req.first("cross")
    return {
        "q": "ok" if q is not None and 1 <= len(q.strip()) <= MAX_Q else "bad",
        "lang": _choice(req.first("lang"), ("all", "ja", "en")),
        "page": _int_param(req.first("page"), 1000),
        "per_page": _int_param(req.first("per_page"), 50),
        "sort": _choice(req.first("sort"), ("relevance", "date")),
        "cross": "ok" if cross in (None, "", "0", "1") else "unclear",  # rejected or ignored
    }


def expected_int(raw: str | None, default: int) -> int | None:
    if raw is None or raw == "":
        return default
    return int(raw) if raw.isascii() and raw.isdigit() else None




def check_error(error: dict, verdicts: dict[str, str]) -> None:
    assert set(error) >= {"code", "message"} and isinstance(error["message"], str) and error["message"]
    bad = {name for name, verdict in verdicts.items() if verdict == "bad"}
    unclear = {name for name, verdict in verdicts.items() if verdict == "unclear"}
    if error["code"] == "invalid_parameter":
        assert error.get("param") in bad | unclear, (error, verdicts)
    else:
        assert error["code"] == "query_too_complex" and not bad, (error, verdicts)


def check_api(response, req: Request) -> None:
    verdicts = oracle(req)
    check_headers(response)
    assert response.mimetype == "application/json"
    assert response.status_code in (200, 400), response.status_code
    data = response.get_json()
    if response.status_code == 400:
        check_error(data["error"], verdicts)
        return
    assert "bad" not in verdicts.values(), (verdicts, req)
    q = req.first("q").strip()
    assert data["query"] in (q, unicodedata.normalize("NFKC", q))
    if verdicts["lang"] == "ok":
        assert data["lang"] == (req.first("lang") or "all")
    page, per_page = expected_int(req.first("page"), 1), expected_int(req.first("per_page"), 10)
    if page is not None:
        assert data["page"] == page
    if per_page is not None:
        assert data["per_page"] == per_page
    page, per_page, total, hits = data["page"], data["per_page"], data["total"], data["hits"]
    assert isinstance(total, int) and total >= 0 and isinstance(data["took_ms"], (int, float))
    assert len(hits) == max(0, min(per_page, total - (page - 1) * per_page)), (len(hits), page, per_page, total)
    assert data.get("suggestion") is None or isinstance(data["suggestion"], str)
    assert data.get("hint") is None or isinstance(data["hint"], str)
    scores = [hit["score"] for hit in hits]
    if (req.first("sort") or "relevance") == "relevance":
        assert scores == sorted(scores, reverse=True)
    for hit in hits:
        assert {"doc_id", "title", "lang", "section", "url", "score", "snippet"} <= set(hit)
        assert hit["lang"] in ("ja", "en") and data["lang"] in ("all", hit["lang"])
        assert hit["url"].startswith("/doc/") and hit["url"].isascii()
        check_url(hit["url"], "hit url")
        check_snippet(hit["snippet"])


def check_html(response, req: Request) -> None:
    verdicts = oracle(req)
    check_headers(response)
    assert response.status_code in (200, 400), response.status_code
    assert response.mimetype == "text/html"
    page = check_page(response.get_data(as_text=True))
    if response.status_code == 200:
        assert "bad" not in verdicts.values(), (verdicts, req)
    q = req.first("q")
    values = [attrs.get("value") for tag, attrs in page.elements if tag == "input" and attrs.get("id") == "q"]
    if q is not None and verdicts["q"] == "ok":
        assert values and values[0] in (q, q.strip()), (values, q)


# --- the tests ------------------------------------------------------------------------------

def run_counted(route: str, client, check) -> Counter:
    """Run the fuzzer on one route; count the examples by outcome."""
    outcomes: Counter = Counter()

    @FUZZ
    @given(req=requests())
    def fuzz(req: Request) -> None:
        response = client.get(req.url(route))
        check(response, req)
        outcome = str(response.status_code)
        if response.status_code == 200 and route.startswith("/api/"):
            outcome += " with hits" if response.get_json()["hits"] else " no hits"
        elif response.status_code == 400 and route.startswith("/api/"):
            outcome += " " + response.get_json()["error"]["code"]
        outcomes[outcome] += 1

    fuzz()
    print(f"\n{route}: {sum(outcomes.values())} examples, {dict(outcomes)}")
    return outcomes


@pytest.mark.slow
def test_fuzz_api_search(fuzz_client) -> None:
    outcomes = run_counted("/api/search", fuzz_client, check_api)
    assert sum(outcomes.values()) >= EXAMPLES
    # most examples must reach the search itself, and some must find something
    assert outcomes["200 with hits"] + outcomes["200 no hits"] >= EXAMPLES // 3
    assert outcomes["200 with hits"] >= EXAMPLES // 20


@pytest.mark.slow
def test_fuzz_search_page(fuzz_client) -> None:
    outcomes = run_counted("/search", fuzz_client, check_html)
    assert sum(outcomes.values()) >= EXAMPLES and outcomes["200"] >= EXAMPLES // 3


def test_fuzz_doc_and_unknown_routes(fuzz_client) -> None:
    seen = {"n": 0}

    @settings(FUZZ, max_examples=200)
    @given(path=st.text(max_size=60), q=st.one_of(st.none(), queries), prefix=st.sampled_from(["/doc/", "/", "/api/"]))
    def fuzz(path: str, q: str | None, prefix: str) -> None:
        seen["n"] += 1
        url = prefix + quote(path, safe="/")
        try:
            response = fuzz_client.get(url + ("?q=" + quote(q, safe="") if q is not None else ""))
        except UnicodeError:  # werkzeug's test client cannot even build this URL (IDNA)
            reject()
        check_headers(response)
        assert response.status_code in (200, 308, 400, 404, 405), (url, response.status_code)
        if response.mimetype == "text/html":
            check_page(response.get_data(as_text=True))

    fuzz()
    assert seen["n"] >= 200


# Fast, deterministic companions: the shapes the fuzzers found worth pinning.

@pytest.mark.parametrize("q", [
    "(", ")", '"', "OR", "NOT", "-", "*", "title:", "title:\"", "((((鉄道", "鉄道 OR", "NOT NOT 鉄道", "a" * 500,
    "\x00", "\u3000" + "鉄道" + "\u3000", "ＯＲ", "“鉄道”", "x:y", '"" "" ""', "-鉄道", "鉄道*", "*鉄道",
    "title:body:section:", "(" * 250, '"' * 499, "OR " * 166, "鉄 " * 250,
])
def test_query_syntax_edge_cases_answer_200_or_a_contract_400(fuzz_client, q: str) -> None:
    req = Request([("q", q)])
    check_api(fuzz_client.get(req.url("/api/search")), req)
    check_html(fuzz_client.get(req.url("/search")), req)


def test_many_words_within_the_limit_are_never_refused(fuzz_client) -> None:
    for q in [" ".join(["gas"] * 125), " ".join(f"w{n}" for n in range(120)), "鉄道 " * 166,
              " ".join(["pipelines", "railways", "summit"] * 18), "中国の鉄道と天然ガスの" * 45]:
        assert len(q.strip()) <= MAX_Q
        response = fuzz_client.get("/api/search", query_string={"q": q})
        assert response.status_code == 200, (q[:40], response.get_json())


def test_an_expansion_over_its_cap_is_query_too_complex(fuzz_client) -> None:
    for route in ("/api/search", "/search"):
        response = fuzz_client.get(route, query_string={"q": "pre*"})
        assert response.status_code == 400
        if route.startswith("/api/"):
            assert response.get_json()["error"]["code"] == "query_too_complex"
        else:  # the page keeps the query in its form, so that it can be made more specific
            page = check_page(response.get_data(as_text=True))
            assert [a.get("value") for t, a in page.elements if t == "input" and a.get("id") == "q"] == ["pre*"]
    assert fuzz_client.get("/api/search", query_string={"q": "prebbbo*"}).status_code == 200


@pytest.mark.parametrize("q", ["NOT パイプライン", "-パイプライン", "x OR NOT パイプライン"])
def test_total_agrees_with_the_hits_of_negated_queries(fuzz_client, q: str) -> None:
    first = fuzz_client.get("/api/search", query_string={"q": q, "per_page": "50"}).get_json()
    assert len(first["hits"]) == min(50, first["total"]), (len(first["hits"]), first["total"])
    seen = 0
    for page in range(1, first["total"] // 10 + 3):
        data = fuzz_client.get("/api/search", query_string={"q": q, "per_page": "10", "page": str(page)}).get_json()
        seen += len(data["hits"])
    assert seen == first["total"]


def test_invalid_utf8_in_the_query_string(fuzz_client) -> None:
    for raw in [b"\xff", b"\xe3\x81", b"\xc0\xaf", b"\xed\xa0\x80", b"a\x00b"]:
        req = Request([("q", raw)])
        check_api(fuzz_client.get(req.url("/api/search")), req)
        check_html(fuzz_client.get(req.url("/search")), req)
