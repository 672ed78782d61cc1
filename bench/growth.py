"""Growth: the corpus at other sizes, and how each figure grows with it.

    scaled_corpus   1/8, 1/4, 1/2 of the corpus: a deterministic subset that keeps a
                    Japanese page and its English counterpart together; 2x, 4x: the whole
                    corpus plus copies under ``rep1/``, ``rep2/``, ... (new ids, their
                    translation links rewritten to the copies)
    power_fit       y = c * x^k by least squares on the logarithms: k is the slope
                    (1 = linear, < 1 sub-linear)
    crossing        the corpus size where the fitted curve reaches a threshold (p99 =
                    100 ms, 1 GB of memory)
"""

from __future__ import annotations

import math
import re
import shutil
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from measure import corpus_files

LINK_LINE = re.compile(r"^(translations|translation_of):(.*)$", re.M)
DEFAULT_SCALES = ("1/8", "1/4", "1/2", "1", "2", "4")


def parse_scales(text: str) -> list[Fraction]:
    """``"1/8,1/2,1,2"`` -> fractions, sorted, 1 always included (the main point)."""
    scales = {Fraction(part.strip()) for part in text.split(",") if part.strip()}
    if any(s <= 0 for s in scales):
        raise ValueError("scales must be positive")
    return sorted(scales | {Fraction(1)})


def pair_key(relative: Path) -> str:
    """A page and its translation share a key: the path without the language folder."""
    parts = relative.with_suffix("").parts
    return "/".join(parts[1:]) if len(parts) > 1 else parts[0]


def _selected(relative: Path, fraction: Fraction) -> bool:
    bucket = zlib.crc32(pair_key(relative).encode("utf-8")) % 4096
    return bucket < fraction * 4096


def _rewrite_links(text: str, prefix: str) -> str:
    if not text.startswith("---"):
        return text
    end = text.find("\n---", 3)
    if end < 0:
        return text
    head = LINK_LINE.sub(
        lambda m: f"{m.group(1)}: " + ", ".join(prefix + v.strip() for v in m.group(2).split(",") if v.strip()),
        text[:end],
    )
    return head + text[end:]


def scaled_corpus(source: Path, scale: Fraction, out: Path) -> Path:
    """Write the corpus at ``scale`` into ``out`` (replaced if present)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    files = corpus_files(source)
    if scale < 1:
        chosen = [f for f in files if _selected(f.relative_to(source), scale)]
        for path in chosen or files[:1]:
            target = out / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        return out
    copies = math.ceil(scale)
    for path in files:
        relative = path.relative_to(source)
        text = path.read_text(encoding="utf-8")
        for k in range(copies):
            if k and k >= scale:
                break
            prefix = f"rep{k}/" if k else ""
            target = out / prefix / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_rewrite_links(text, prefix) if prefix else text, encoding="utf-8")
    return out


def corpus_stats(corpus: Path) -> dict[str, int]:
    files = corpus_files(corpus)
    chars = sum(len(p.read_text(encoding="utf-8")) for p in files)
    return {"documents": len(files), "chars": chars}


@dataclass
class Fit:
    slope: float  # k in y = c * x^k
    coefficient: float  # c
    points: int

    def at(self, x: float) -> float:
        return self.coefficient * x ** self.slope

    def crossing(self, threshold: float) -> float | None:
        """x where the curve reaches ``threshold``; None if it never rises to it."""
        if self.slope <= 0 or self.coefficient <= 0:
            return None
        try:
            return (threshold / self.coefficient) ** (1 / self.slope)
        except OverflowError:  # an almost flat curve: it reaches the threshold nowhere near
            return None


def power_fit(xs: list[float], ys: list[float]) -> Fit | None:
    """Least squares on (log x, log y); None with fewer than two usable points."""
    pairs = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x > 0 and y and y > 0]
    if len(pairs) < 2:
        return None
    mx = sum(p[0] for p in pairs) / len(pairs)
    my = sum(p[1] for p in pairs) / len(pairs)
    sxx = sum((p[0] - mx) ** 2 for p in pairs)
    if sxx == 0:
        return None
    slope = sum((p[0] - mx) * (p[1] - my) for p in pairs) / sxx
    return Fit(slope, math.exp(my - slope * mx), len(pairs))


def growth_summary(points: list[dict], figures: dict[str, str], thresholds: dict[str, float]) -> dict:
    """Per figure: slope over corpus characters and, for thresholded figures, the
    projected corpus size (characters and multiples of the scale-1 corpus)."""
    base = next((p for p in points if p["scale"] == 1), points[0])
    xs = [p["chars"] for p in points]
    summary = {}
    for key, label in figures.items():
        ys = [p.get(key) for p in points]
        fit = power_fit(xs, ys) if all(isinstance(y, (int, float)) for y in ys) else None
        entry: dict = {"label": label, "slope": fit.slope if fit else None}
        if key in thresholds and fit is not None:
            measured = [p for p in points if p[key] >= thresholds[key]]
            cross = fit.crossing(thresholds[key])
            entry.update(
                threshold=thresholds[key],
                crossing_chars=cross,
                crossing_scale=cross / base["chars"] if cross else None,
                crossing_documents=cross / base["chars"] * base["documents"] if cross else None,
                first_measured_over=measured[0]["scale_label"] if measured else None,
            )
        summary[key] = entry
    return summary
