"""Markdown tables of a benchmark run: figures, ratios to the baselines, targets.

    engine_table   the engines side by side at scale 1: each figure per engine, its ratio
                   to the baseline measured in the same run (fugashi floor, FTS5), and
                   each engine against the first
    main_table     one row per figure of the scale-1 corpus: absolute value, ratio to the
                   baseline measured in the same run, the issue's target, pass/fail
    class_table    query latency per class, casearch next to FTS5
    variant_table  the cost of the optional query-side look-ups
    growth_table   the same figures at each corpus scale, then the fitted slopes and
                   the projected corpus size where p99 reaches 100 ms or memory 1 GiB
"""

from __future__ import annotations

from typing import Any, Callable

MIB_LIMIT = 1024.0
P99_LIMIT_MS = 100.0


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**pass**" if ok else "**FAIL**")


def ratios(point: dict, baselines: dict) -> dict[str, float | None]:
    floor = baselines["floor"]["seconds"]
    wakati = baselines["wakati"]["seconds"]
    fts = baselines["fts"]
    q = point["query"]["ms"]
    return {
        "reindex/floor": _ratio(point["reindex_s"], floor),
        "reindex/wakati": _ratio(point["reindex_s"], wakati),
        "reindex/fts5 build": _ratio(point["reindex_s"], fts["tokenize_seconds"] + fts["build_seconds"]),
        "p50/fts5": _ratio(q.get(50), fts["ms"][50]),
        "p95/fts5": _ratio(q.get(95), fts["ms"][95]),
        "p99/fts5": _ratio(q.get(99), fts["ms"][99]),
    }


def targets(point: dict, baselines: dict, variants: dict | None, growth: dict | None) -> dict[str, bool | None]:
    r = ratios(point, baselines)
    q = point["query"]["ms"]
    http = point.get("http") or {}
    extras = variant_costs(variants) if variants else {}
    worst_extra = max((c for c in extras.values() if c is not None), default=None)
    slopes = {k: v.get("slope") for k, v in (growth or {}).items()}
    return {
        "reindex": r["reindex/floor"] <= 1.5 if r["reindex/floor"] else None,
        "memory": point["reindex_tree_rss_mb"] < MIB_LIMIT,
        "incremental": point["incr1_s"] < 0.5,
        "p50": q.get(50, 1e9) < 3.0,
        "p99": q.get(99, 1e9) < 20.0,
        "p50/fts5": r["p50/fts5"] <= 10 if r["p50/fts5"] else None,
        "rps": http["rps"] >= 300 if http else None,
        "http p99": float(http["ms"]["99"]) < 50 if http else None,
        "extras": worst_extra <= 1.5 if worst_extra else None,
        "growth reindex": slopes["reindex_s"] <= 1.1 if slopes.get("reindex_s") is not None else None,
        "growth size": slopes["index_mb"] <= 1.1 if slopes.get("index_mb") is not None else None,
        "growth p50": slopes["p50_ms"] < 1.0 if slopes.get("p50_ms") is not None else None,
    }


def variant_costs(variants: dict) -> dict[str, float | None]:
    """p50 with everything on / p50 without each extra (a ratio > 1 is what it costs)."""
    full = variants.get("all on")
    costs = {}
    for name, result in variants.items():
        if name == "all on" or isinstance(result, str) or full is None:
            continue
        costs[name] = _ratio(full["ms"].get(50), result["ms"].get(50))
    return costs


def _http(point: dict, key: str = "http") -> dict:
    return point.get(key) or {}


def _percentile_ms(table: dict | None, p: int) -> float | None:
    """A percentile from a figure dict whose keys are ints (fresh) or strings (from JSON)."""
    if not table:
        return None
    value = table.get(p, table.get(str(p)))
    return float(value) if value is not None else None


# (figure, its unit, the value at a point, the baselines it is compared with)
EngineRow = tuple[str, str, Callable[[dict], Any], Callable[[dict, dict], str]]


def _reindex_vs(point: dict, base: dict) -> str:
    r = ratios(point, base)
    return f"{_fmt(r['reindex/floor'], 1)}× floor, {_fmt(r['reindex/fts5 build'], 1)}× FTS5"


def _query_vs(p: int) -> Callable[[dict, dict], str]:
    def compare(point: dict, base: dict) -> str:
        return f"{_fmt(_ratio(_percentile_ms(point['query']['ms'], p), base['fts']['ms'][p]), 0)}× FTS5"

    return compare


def _none(point: dict, base: dict) -> str:
    return ""


ENGINE_ROWS: list[EngineRow] = [
    ("Full reindex (wall)", "s", lambda p: p["reindex_s"], _reindex_vs),
    ("Full reindex peak memory (process tree)", "MiB", lambda p: p["reindex_tree_rss_mb"], _none),
    ("Index size on disk", "MB", lambda p: p["index_mb"],
     lambda p, b: f"{_fmt(_ratio(p['index_mb'], p['corpus_mb']), 1)}× corpus"),
    ("Reindex, nothing changed", "s", lambda p: p["noop_s"], _none),
    ("Incremental reindex, 1 file changed", "s", lambda p: p["incr1_s"], _none),
    ("Incremental reindex, 1% of files changed", "s", lambda p: p["incr_pct_s"], _none),
    ("Query p50 (search + snippets)", "ms", lambda p: _percentile_ms(p["query"]["ms"], 50), _query_vs(50)),
    ("Query p99", "ms", lambda p: _percentile_ms(p["query"]["ms"], 99), _query_vs(99)),
    ("took_ms p50 (as the results report it)", "ms", lambda p: _percentile_ms(p["query"].get("took_ms"), 50), _none),
    ("took_ms p99", "ms", lambda p: _percentile_ms(p["query"].get("took_ms"), 99), _none),
    ("`/api/search` throughput, `serve --workers {workers}`", "req/s", lambda p: _http(p).get("rps"), _none),
    ("`/api/search` p99 under load", "ms", lambda p: _percentile_ms(_http(p).get("ms"), 99), _none),
    ("`/api/search`, one worker process", "req/s", lambda p: _http(p, "http_single").get("rps"), _none),
    ("Server memory (PSS of all its processes)", "MiB", lambda p: _http(p).get("server_pss_mb"), _none),
]


def _baseline_cells(base: dict) -> dict[str, str]:
    fts, floor = base["fts"], base["floor"]
    return {
        "Full reindex (wall)": f"fugashi floor {floor['seconds']:.2f} s; FTS5 tokenize + build "
                               f"{fts['tokenize_seconds'] + fts['build_seconds']:.2f} s",
        "Query p50 (search + snippets)": f"FTS5 {fts['ms'][50]:.3f} ms",
        "Query p99": f"FTS5 {fts['ms'][99]:.3f} ms",
    }


def _engine_cell(value: Any, unit: str, versus: str) -> str:
    if value is None:
        return "n/a"
    digits = 0 if unit in ("MiB", "req/s") else (1 if unit == "MB" else 2)
    text = f"{_fmt(float(value), digits)} {unit}"
    return f"{text} ({versus})" if versus else text


def engine_table(points: dict[str, dict], base: dict) -> str:
    """The engines' scale-1 points side by side, with the baselines of the same run; the
    last columns divide each further engine's figure by the first engine's."""
    names = list(points)
    first = names[0]
    head = ["figure", "baseline (same run)", *names, *(f"{n} ÷ {first}" for n in names[1:])]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    baseline = _baseline_cells(base)
    workers = _http(points[first]).get("workers", 1)
    for label, unit, value, versus in ENGINE_ROWS:
        label = label.format(workers=workers)
        values = {n: value(points[n]) for n in names}
        cells = [_engine_cell(values[n], unit, versus(points[n], base)) for n in names]
        ratios_ = [_fmt(_ratio(values[n], values[first])) + "×" if values[n] is not None and values[first] else "n/a"
                   for n in names[1:]]
        lines.append("| " + " | ".join([label, baseline.get(label, ""), *cells, *ratios_]) + " |")
    met = {n: targets(points[n], base, None, None) for n in names}
    cells = [f"{sum(1 for ok in met[n].values() if ok)} of {sum(1 for ok in met[n].values() if ok is not None)}"
             for n in names]
    lines.append("| " + " | ".join(["Targets met (scale-1 figures)", "", *cells, *([""] * (len(names) - 1))]) + " |")
    return "\n".join(lines)


def main_table(point: dict, baselines: dict, variants: dict | None = None, growth: dict | None = None) -> str:
    r = ratios(point, baselines)
    t = targets(point, baselines, variants, growth)
    q, http, floor, fts = point["query"], point.get("http") or {}, baselines["floor"], baselines["fts"]
    rows = [
        ("Baseline (a): fugashi floor (surface, lemma, reading, pos; 1 core)", f"{floor['seconds']:.2f} s",
         "1.00", "", ""),
        ("Baseline (a'): fugashi `-Owakati`", f"{baselines['wakati']['seconds']:.2f} s", "", "", ""),
        ("Baseline (b): FTS5 tokenize + build", f"{fts['tokenize_seconds']:.2f} + {fts['build_seconds']:.2f} s",
         "", "", ""),
        ("Baseline (b): FTS5 query p50 / p95 / p99",
         " / ".join(f"{fts['ms'][p]:.3f}" for p in (50, 95, 99)) + " ms", "1.00", "", ""),
        ("Full reindex (wall, `casearch reindex --full`)", f"{point['reindex_s']:.1f} s",
         f"{_fmt(r['reindex/floor'])}× floor, {_fmt(r['reindex/fts5 build'])}× FTS5", "≤ 1.5× floor",
         _verdict(t["reindex"])),
        ("Full reindex peak memory (process tree / largest process)",
         f"{point['reindex_tree_rss_mb']:.0f} / {point['reindex_rss_mb']:.0f} MiB", "", "< 1 GiB",
         _verdict(t["memory"])),
        ("Index size on disk", f"{point['index_mb']:.1f} MB",
         f"{_fmt(_ratio(point['index_mb'], point['corpus_mb']))}× corpus", "", ""),
        ("Incremental reindex, 1 file changed (whole process)", f"{point['incr1_s']:.2f} s", "", "< 0.5 s",
         _verdict(t["incremental"])),
        (f"Incremental reindex, 1% = {point['incr_pct_files']} files changed", f"{point['incr_pct_s']:.2f} s",
         "", "", ""),
        (f"Query p50 (search + snippets, {q['runs']:,} runs of {q['queries']} queries)",
         f"{q['ms'].get(50, 0):.2f} ms", f"{_fmt(r['p50/fts5'], 1)}× FTS5", "< 3 ms; ≤ 10× FTS5",
         f"{_verdict(t['p50'])} / {_verdict(t['p50/fts5'])}"),
        ("Query p95", f"{q['ms'].get(95, 0):.2f} ms", f"{_fmt(r['p95/fts5'], 1)}× FTS5", "", ""),
        ("Query p99", f"{q['ms'].get(99, 0):.2f} ms", f"{_fmt(r['p99/fts5'], 1)}× FTS5", "< 20 ms",
         _verdict(t["p99"])),
    ]
    if http:
        rows += [
            (f"`/api/search` throughput, `serve --workers {http.get('workers', 1)}` ({http['tool']}, "
             f"{http['connections']} connections, {http['seconds']:.0f} s, {http['requests']:,} requests, "
             f"{http.get('non_2xx', 0)} non-2xx)",
             f"{http['rps']:.0f} req/s", "", "≥ 300 req/s", _verdict(t["rps"])),
            ("`/api/search` latency p50 / p95 / p99 under load",
             " / ".join(f"{float(http['ms'][str(p)]):.1f}" for p in (50, 95, 99)) + " ms", "", "p99 < 50 ms",
             _verdict(t["http p99"])),
            ("Server memory: peak RSS of the largest process / PSS of all its processes",
             f"{_fmt(http.get('server_peak_rss_mb'), 0)} / {_fmt(http.get('server_pss_mb'), 0)} MiB", "", "", ""),
        ]
    single = point.get("http_single")
    if single:
        rows.append(("`/api/search` with `serve --workers 1` (same load): req/s; p50 / p99",
                     f"{single['rps']:.0f} req/s; " + " / ".join(f"{float(single['ms'][str(p)]):.1f}" for p in (50, 99))
                     + " ms", f"{_fmt(_ratio(http['rps'], single['rps']))}× with {http.get('workers', 1)} workers",
                     "", ""))
    lines = ["| figure | value | ratio | target | result |", "|---|---:|---:|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
    return "\n".join(lines)


def class_table(point: dict, baselines: dict) -> str:
    fts = baselines["fts"]["ms_per_class"]
    lines = ["| class | casearch p50 | p95 | p99 | FTS5 p50 | FTS5 p99 | p50 ratio |", "|---|---:|---:|---:|---:|---:|---:|"]
    for cls, ms in sorted(point["query"]["per_class"].items()):
        f = fts.get(cls, {})
        lines.append(
            f"| {cls} | {ms[50]:.2f} | {ms[95]:.2f} | {ms[99]:.2f} | {_fmt(f.get(50), 3)} | {_fmt(f.get(99), 3)} "
            f"| {_fmt(_ratio(ms[50], f.get(50)), 1)}× |"
        )
    return "\n".join(lines)


def variant_table(variants: dict, lean: dict | str | None, point: dict) -> str:
    costs = variant_costs(variants)
    lines = ["| configuration | query p50 | p99 | all-on p50 ÷ this p50 | target |", "|---|---:|---:|---:|---|"]
    for name, result in variants.items():
        if isinstance(result, str):
            lines.append(f"| {name} | {result} | | | |")
            continue
        cost = costs.get(name, 1.0 if name == "all on" else None)
        lines.append(f"| {name} | {result['ms'][50]:.2f} ms | {result['ms'][99]:.2f} ms | {_fmt(cost)}× "
                     f"| {'≤ 1.5×: ' + _verdict(cost <= 1.5) if cost and name != 'all on' else ''} |")
    if isinstance(lean, dict):
        lines += [
            "",
            "| index without body_surface, body_reading, body_ngram | value | full index ÷ lean |",
            "|---|---:|---:|",
            f"| full reindex | {lean['seconds']:.1f} s | {_fmt(_ratio(point['reindex_s'], lean['seconds']))}× |",
            f"| index size | {lean['index_mb']:.1f} MB | {_fmt(_ratio(point['index_mb'], lean['index_mb']))}× |",
            f"| peak memory (tree) | {lean['tree_rss_mb']:.0f} MiB "
            f"| {_fmt(_ratio(point['reindex_tree_rss_mb'], lean['tree_rss_mb']))}× |",
        ]
    elif lean:
        lines += ["", f"Lean index: {lean}"]
    return "\n".join(lines)


GROWTH_FIGURES = {
    "reindex_s": "full reindex (s)", "reindex_tree_rss_mb": "reindex peak memory (MiB)",
    "index_mb": "index size (MB)", "incr1_s": "incremental, 1 file (s)", "incr_pct_s": "incremental, 1% (s)",
    "p50_ms": "query p50 (ms)", "p99_ms": "query p99 (ms)", "rps": "HTTP req/s", "http_p99_ms": "HTTP p99 (ms)",
}
GROWTH_THRESHOLDS = {"p99_ms": P99_LIMIT_MS, "http_p99_ms": P99_LIMIT_MS, "reindex_tree_rss_mb": MIB_LIMIT}


def growth_table(points: list[dict], summary: dict) -> str:
    present = [k for k in GROWTH_FIGURES if any(p.get(k) is not None for p in points)]
    head = "| scale | documents | passages | characters | " + " | ".join(GROWTH_FIGURES[k] for k in present) + " |"
    lines = [head, "|" + "---|" * (4 + len(present))]
    for p in points:
        cells = [_fmt(p.get(k)) for k in present]
        lines.append(f"| {p['scale_label']} | {p['documents']:,} | {_fmt(p.get('passages'))} | {p['chars']:,} | "
                     + " | ".join(cells) + " |")
    lines += ["", "| figure | slope k (y ∝ size^k) | projection |", "|---|---:|---|"]
    for key in present:
        entry = summary.get(key, {})
        projection = ""
        if "threshold" in entry:
            unit = "MiB" if key.endswith("rss_mb") else "ms"
            if entry.get("first_measured_over"):
                projection = f"already ≥ {entry['threshold']:.0f} {unit} at scale {entry['first_measured_over']}; "
            if entry.get("crossing_scale") and entry["crossing_scale"] > 1000:
                projection += "fit stays below it up to 1000× the corpus"
            elif entry.get("crossing_scale"):
                projection += (f"fit reaches {entry['threshold']:.0f} {unit} at ≈ {entry['crossing_scale']:.1f}× the "
                               f"corpus (≈ {entry['crossing_documents']:,.0f} documents, "
                               f"{entry['crossing_chars'] / 1e6:,.0f} M characters)")
            else:
                projection += "fit never reaches it (flat or falling)"
        lines.append(f"| {entry.get('label', key)} | {_fmt(entry.get('slope'))} | {projection} |")
    return "\n".join(lines)
