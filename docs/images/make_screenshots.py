"""Regenerate the README's pictures from a real run: `python docs/images/make_screenshots.py`.

It syncs the fixture site (tests/fixture_site.py: the real INZ captures in pipeline/demo/captures/, on 127.0.0.1)
into a temporary folder, serves the output on 127.0.0.1, photographs the archive's front page and an
article page with headless Chromium, and the all-sources feed in newsboat running in tmux (the pane,
captured with its colours, is drawn as HTML and photographed the same way). Needs the `test` extra and the
Debian packages chromium, newsboat and tmux. Reads nothing outside the repository; writes the PNGs here."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))  # run as a script: `tests` is imported from this checkout

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from pipeline.publish.serve import make_server  # noqa: E402
from tests.fixture_site import ARTICLE_PATHS, FixtureSite  # noqa: E402
from tests.helpers import run_cli, serving, write_config  # noqa: E402

IMAGES = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
WIDTH, HEIGHT = 1000, 640
FRONT_PAGE_HEIGHT = 1000  # the front page: its alert and the first articles below it
ARTICLE_SLUG = ARTICLE_PATHS[1].rstrip("/").rsplit("/", 1)[-1]
COLUMNS, ROWS = 110, 12  # the terminal newsboat runs in
# xterm's 16 colours, for SGR 30-37/90-97 (and 40-47/100-107); 256-colour codes use the same first 16.
PALETTE = [
    "#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
    "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff",
]  # fmt: skip
FOREGROUND, BACKGROUND = "#e5e5e5", "#1e1e1e"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="panui-screenshots-") as folder, FixtureSite() as site:
        tmp = Path(folder)
        (tmp / "output").mkdir()
        server = make_server(tmp / "output", "127.0.0.1", 0)
        with serving(server, lifetime=300):
            config = write_config(site, tmp, site_url=server.url, contact="mailto:screenshots@example.org")
            result = run_cli("sync", "--config", str(config), timeout=120)
            if result.returncode != 0:
                sys.exit(f"the sync failed:\n{result.stdout}{result.stderr}")
            terminal = newsboat_screen(server.url + "feed.xml", tmp / "newsboat")
            (tmp / "reader.html").write_text(terminal_page(terminal), "utf-8")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": WIDTH, "height": FRONT_PAGE_HEIGHT})
                photograph(page, server.url, "archive.png", height=FRONT_PAGE_HEIGHT)
                photograph(page, f"{server.url}inz/articles/{ARTICLE_SLUG}/", "article.png")
                photograph(page, (tmp / "reader.html").as_uri(), "reader.png", element="pre")
                browser.close()


def photograph(page: Page, url: str, name: str, element: str | None = None, height: int = HEIGHT) -> None:
    page.goto(url, wait_until="load")
    if element is None:
        page.screenshot(path=IMAGES / name, clip={"x": 0, "y": 0, "width": WIDTH, "height": height})
    else:
        page.locator(element).screenshot(path=IMAGES / name)
    print(f"wrote {IMAGES / name} ({(IMAGES / name).stat().st_size:,} bytes)")


def newsboat_screen(feed_url: str, home: Path) -> str:
    """Newsboat in a detached tmux session (its own socket) with the feed opened; the pane, with colours."""
    home.mkdir()
    (home / "urls").write_text(feed_url + "\n", "utf-8")
    (home / "config").write_text("refresh-on-startup yes\nshow-read-feeds yes\nreload-threads 1\n", "utf-8")
    socket = str(home / "tmux.sock")
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config.d"),
        "XDG_DATA_HOME": str(home / "data.d"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "xterm-256color",
        "TZ": "Pacific/Auckland",  # dates as a reader in New Zealand sees them
    }
    tmux = ["tmux", "-S", socket, "-f", "/dev/null"]
    newsboat = f"newsboat -u {home / 'urls'} -c {home / 'cache.db'} -C {home / 'config'}"
    subprocess.run([*tmux, "new-session", "-d", "-x", str(COLUMNS), "-y", str(ROWS), newsboat], env=env, check=True)
    try:
        wait_for(tmux, "(4/4)", "the feed list")  # the feed loaded: 4 unread of 4
        subprocess.run([*tmux, "send-keys", "Enter"], check=True)
        wait_for(tmux, "Employer sentenced", "the feed's articles")
        return capture(tmux)
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)


def capture(tmux: list[str]) -> str:
    return subprocess.run([*tmux, "capture-pane", "-p", "-e"], capture_output=True, text=True, check=True).stdout


def wait_for(tmux: list[str], text: str, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while text not in re.sub(r"\x1b\[[0-9;]*m", "", capture(tmux)):
        if time.monotonic() > deadline:
            sys.exit(f"newsboat did not show {what} within {seconds:.0f} s:\n{capture(tmux)}")
        time.sleep(0.2)


def terminal_page(ansi: str) -> str:
    """A page showing the terminal text with its SGR colours and attributes (what the pane held)."""
    return (
        '<!doctype html><meta charset="utf-8"><style>body{margin:0;background:#fff}'
        f"pre{{display:inline-block;margin:0;padding:12px 14px;background:{BACKGROUND};color:{FOREGROUND};"
        "font:15px/1.35 'DejaVu Sans Mono',monospace}</style>"
        f"<pre>{ansi_to_html(ansi)}</pre>"
    )


def ansi_to_html(ansi: str) -> str:
    out: list[str] = []
    style: dict[str, str | bool] = {}
    for chunk in re.split(r"(\x1b\[[0-9;]*m)", ansi.rstrip("\n")):
        if chunk.startswith("\x1b["):
            style = apply_sgr(style, [int(code or 0) for code in chunk[2:-1].split(";")])
        elif chunk:
            out.append(f'<span style="{css(style)}">{html.escape(chunk)}</span>' if style else html.escape(chunk))
    return "".join(out)


def apply_sgr(style: dict[str, str | bool], codes: list[int]) -> dict[str, str | bool]:
    style = dict(style)
    while codes:
        code = codes.pop(0)
        if code == 0:
            style = {}
        elif code == 1:
            style["bold"] = True
        elif code == 4:
            style["underline"] = True
        elif code == 7:
            style["reverse"] = True
        elif code in (22, 24, 27):
            style.pop({22: "bold", 24: "underline", 27: "reverse"}[code], None)
        elif code in (38, 48) and codes[:1] == [5]:
            style["fg" if code == 38 else "bg"] = colour_256(codes[1])
            del codes[:2]
        elif code in (38, 48) and codes[:1] == [2]:
            style["fg" if code == 38 else "bg"] = "#{:02x}{:02x}{:02x}".format(*codes[1:4])
            del codes[:4]
        elif code in (39, 49):
            style.pop("fg" if code == 39 else "bg", None)
        elif 30 <= code <= 37 or 90 <= code <= 97:
            style["fg"] = PALETTE[code - 30 if code < 90 else code - 82]
        elif 40 <= code <= 47 or 100 <= code <= 107:
            style["bg"] = PALETTE[code - 40 if code < 100 else code - 92]
    return style


def colour_256(index: int) -> str:
    if index < 16:
        return PALETTE[index]
    if index >= 232:
        grey = 8 + 10 * (index - 232)
        return f"#{grey:02x}{grey:02x}{grey:02x}"
    index -= 16
    levels = [0, 95, 135, 175, 215, 255]
    return f"#{levels[index // 36]:02x}{levels[index // 6 % 6]:02x}{levels[index % 6]:02x}"


def css(style: dict[str, str | bool]) -> str:
    fg, bg = str(style.get("fg", FOREGROUND)), str(style.get("bg", BACKGROUND))
    if style.get("reverse"):
        fg, bg = bg, fg
    rules = [f"color:{fg}", f"background:{bg}"]
    rules += ["font-weight:bold"] if style.get("bold") else []
    rules += ["text-decoration:underline"] if style.get("underline") else []
    return ";".join(rules)


if __name__ == "__main__":
    main()
