"""Screenshots of the page for the README: ``make screenshots`` (or run this file).

Serves the repository's corpus from a temporary index with a real ``casearch serve`` and
saves desktop (1280 px) and phone (390 px) views as PNG files in docs/screenshots/.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_server import REPO, browser_unavailable, chromium, serve  # noqa: E402

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
SHOTS = [
    # file name, viewport, path, full page
    ("search-desktop.png", DESKTOP, "/search?q=パイプライン OR 鉄道&ui=ja", False),
    ("search-phone.png", PHONE, "/search?q=鉄道&ui=ja", False),
    ("empty-desktop.png", DESKTOP, "/search?q=pipline&lang=ja&ui=en", False),
    ("document-phone.png", PHONE, "/doc/summit-2025/ja?q=パイプライン&ui=ja", False),
]


def main(target: Path) -> None:
    reason = browser_unavailable()
    if reason:
        raise SystemExit(reason)
    target.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="casearch-shots-"))
    try:
        with serve(REPO / "corpus", work / "index") as base, chromium() as browser:
            for name, viewport, path, full_page in SHOTS:
                page = browser.new_page(viewport=viewport, device_scale_factor=1, locale="ja-JP")
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(target / name), full_page=full_page)
                page.close()
                print(target / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "screenshots")
