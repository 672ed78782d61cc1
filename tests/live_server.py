"""A real ``casearch serve`` process and a headless Chromium, for the browser test and
``make screenshots``.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``) driven by Playwright's Python
package; Playwright's own browser download is never used. ``make test`` installs the
Debian packages when they are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CHROMIUM = Path(os.environ.get("CASEARCH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]
REPO = Path(__file__).resolve().parents[1]


def browser_unavailable() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: install Debian's chromium (make test does: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright's Python package is missing: pip install -e '.[test]'"
    return None


@contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(corpus: Path, index: Path) -> Iterator[str]:
    """``casearch serve`` on a free loopback port; yields its base URL."""
    port = free_port()
    log = index.parent / f"serve-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "casearch.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--corpus", str(corpus), "--index", str(index)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONWARNINGS": "error"},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(base, process, log)
        yield base
    finally:
        stop(process)


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if the process has not ended within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def accept_all(sock: socket.socket) -> int:
    """Accept (and close) every connection waiting on a listening socket; how many."""
    sock.setblocking(False)
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def _wait_until_ready(base: str, process: subprocess.Popen, log: Path, attempts: int = 300) -> None:
    for _ in range(attempts):
        if process.poll() is not None:
            raise AssertionError(f"casearch serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                if json.loads(response.read())["status"] == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise AssertionError(f"casearch serve never answered on {base}:\n{log.read_text()}")


RAILWAY_TOPICS = [
    ("hokkaido", "北海道", "札幌と函館を結ぶ"), ("tohoku", "東北", "仙台から盛岡へ延びる"),
    ("kanto", "関東", "東京の通勤を支える"), ("chubu", "中部", "名古屋と静岡をつなぐ"),
    ("kinki", "近畿", "大阪と京都を往復する"), ("chugoku", "中国地方", "広島と岡山を走る"),
    ("shikoku", "四国", "高松と松山を結ぶ"), ("kyushu", "九州", "博多と鹿児島をつなぐ"),
    ("okinawa", "沖縄", "那覇の街を走る"), ("hokuriku", "北陸", "金沢と富山を結ぶ"),
    ("sanin", "山陰", "松江と鳥取をつなぐ"), ("koshinetsu", "甲信越", "長野と新潟を結ぶ"),
]


def write_sample_corpus(target: Path) -> Path:
    """The repository's corpus plus twelve dated railway notes (enough hits for paging)."""
    shutil.copytree(REPO / "corpus", target, dirs_exist_ok=True)
    for n, (slug, region, route) in enumerate(RAILWAY_TOPICS, start=1):
        text = (
            f"---\ntitle: {region}の鉄道ノート\nlang: ja\nsource: 鉄道資料室\ndate: 2024-{n:02d}-15\n---\n"
            f"{region}の鉄道は{route}路線が中心です。\n\n"
            f"## 駅と車両\n{region}の駅では新しい車両が走り、鉄道の利用者が増えています。\n\n"
            f"## 貨物\n貨物列車が{region}の港と工場を結び、物流を支えています。\n"
        )
        path = target / "notes" / f"{slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target
