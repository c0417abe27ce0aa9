"""The deployment files in deploy/ and the files CI installs from: each refers to real commands and files,
they agree with each other and with the docs, and nginx serves the output as documented."""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml

from pipeline.cli import build_parser
from tests.helpers import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
WAIT_SECONDS = 30.0  # a bound on nginx starting; no test waits this long when it passes


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


UNITS = ("panui.service", "panui-status.service", "panui-status.timer")


def panui_commands(text: str, executable: str) -> list[list[str]]:
    """The Pānui command lines (arguments after `executable`) in a unit or Dockerfile."""
    commands = []
    for match in re.finditer(rf"{re.escape(executable)}\s+([^\n\"\]]+)", text):
        commands.append(shlex.split(match[1]))
    return commands


@pytest.mark.e2e
def test_systemd_units_verify_and_run_real_commands(tmp_path: Path) -> None:
    panui = "/opt/panui/.venv/bin/panui"
    for name in UNITS[:2]:
        for arguments in panui_commands((DEPLOY / name).read_text("utf-8"), panui):
            build_parser().parse_args(arguments)  # exits (fails the test) on an unknown command or option
    assert "WatchdogSec=" in (DEPLOY / "panui.service").read_text("utf-8")
    assert "Unit=panui-status.service" in (DEPLOY / "panui-status.timer").read_text("utf-8")
    verify = shutil.which("systemd-analyze")
    if verify is None:
        pytest.skip("systemd-analyze is not installed")
    for name in UNITS:  # the venv does not exist here: point the units at an executable that does
        (tmp_path / name).write_text((DEPLOY / name).read_text("utf-8").replace(panui, sys.executable), "utf-8")
    result = subprocess.run(
        [verify, "verify", "--man=no", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_dockerfile_copies_files_that_exist_and_runs_real_commands() -> None:
    text = (DEPLOY / "Dockerfile").read_text("utf-8")
    instructions = [line.split(None, 1) for line in re.sub(r"\\\n", " ", text).splitlines() if line and line[0] != "#"]
    assert instructions[0][0] == "FROM"
    for keyword, arguments in instructions:
        if keyword == "COPY":
            *sources, _ = arguments.split()
            for source in sources:
                assert (REPO_ROOT / source).exists(), f"COPY {source}: not in the build context"
    for keyword in ("CMD", "HEALTHCHECK"):
        (arguments,) = [rest for word, rest in instructions if word == keyword]
        command = json.loads(arguments[arguments.index("[") :])
        assert command[0] == "panui"
        build_parser().parse_args(command[1:])
    assert any(word == "USER" for word, _ in instructions)  # not root


def test_compose_file_builds_the_image_and_serves_output_read_only() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))
    panui, web = compose["services"]["panui"], compose["services"]["web"]
    context = (DEPLOY / panui["build"]["context"]).resolve()
    assert context == REPO_ROOT and (context / panui["build"]["dockerfile"]).is_file()
    for service in (panui, web):
        for volume in service["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{volume}: no such file"
            else:
                assert source in compose["volumes"]
    output_volume = next(volume for volume in panui["volumes"] if volume.endswith(":/srv/panui/output"))
    assert f"{output_volume.split(':')[0]}:/usr/share/nginx/html:ro" in web["volumes"]
    assert web["image"].startswith("nginx:")


@pytest.mark.e2e
def test_nginx_serves_feeds_with_their_media_types(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    mime_types = Path("/etc/nginx/mime.types")
    if nginx is None or not mime_types.is_file():
        pytest.skip("nginx is not installed")
    root = tmp_path / "output"
    expected = {
        "feed.xml": "application/rss+xml; charset=utf-8",
        "inz/feed.xml": "application/rss+xml; charset=utf-8",
        "feed.atom": "application/atom+xml; charset=utf-8",
        "feed.json": "application/feed+json; charset=utf-8",
        "feeds.opml": "text/x-opml; charset=utf-8",
        "calendar.ics": "text/calendar; charset=utf-8",
        "upcoming.json": "application/feed+json; charset=utf-8",
        "health.json": "application/json; charset=utf-8",
        "sitemap.xml": "application/xml; charset=utf-8",
        "index.html": "text/html; charset=utf-8",
    }
    for name in [*expected, ".feed.xml.x1.tmp", "inz/index.html"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x", "utf-8")
    (tmp_path / "secret.txt").write_text("state", "utf-8")
    (root / "linked.html").symlink_to(tmp_path / "secret.txt")
    port = closed_port()
    site_conf = (DEPLOY / "nginx.conf").read_text("utf-8").replace("root /usr/share/nginx/html;", f"root {root};")
    site_conf = site_conf.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("listen [::]:80;", "")
    (tmp_path / "site.conf").write_text(site_conf, "utf-8")
    temporary = tmp_path / "nginx-temp"
    temporary.mkdir()
    paths = " ".join(f"{kind}_temp_path {temporary};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # so its workers may read pytest's private tmp_path
        + f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; events {{}}\n"
        f"http {{ include {mime_types}; access_log off; {paths} include {tmp_path}/site.conf; }}\n",
        "utf-8",
    )
    test = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert test.returncode == 0 and "[warn]" not in test.stderr, test.stderr
    server = subprocess.Popen(
        [nginx, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)], stderr=subprocess.DEVNULL
    )
    try:
        answers = {name: _head(port, "/" + name) for name in [*expected, ".feed.xml.x1.tmp", "linked.html", "inz"]}
    finally:
        server.terminate()
        server.wait(timeout=WAIT_SECONDS)
    kinds = {name: (answers[name][0], answers[name][1].get("content-type")) for name in expected}
    assert kinds == {name: (200, kind) for name, kind in expected.items()}
    assert answers[".feed.xml.x1.tmp"][0] == 404  # an atomic write in progress is never served
    assert answers["linked.html"][0] in (403, 404)  # a symlink in output_dir leads nowhere
    # Behind compose's 8000:80 an absolute redirect would drop the port: the folder redirect is relative.
    assert (answers["inz"][0], answers["inz"][1].get("location")) == (301, "/inz/")
    headers = answers["feed.xml"][1]
    assert headers.get("cache-control") == "no-cache" and headers.get("referrer-policy") == "no-referrer"
    assert headers.get("etag") and headers.get("last-modified")  # what makes readers' revalidation a 304


def _head(port: int, path: str) -> tuple[int, dict[str, str]]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("HEAD", path)
            response = connection.getresponse()
            return response.status, {name.lower(): value for name, value in response.getheaders()}
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # nginx is still starting
        finally:
            connection.close()


# -- the units' sandbox, the pins, the references ---------------------------------------------------------


SANDBOX_NETWORK = {"RestrictAddressFamilies", "PrivateNetwork", "IPAddressDeny"}


def _sandbox(unit: str) -> dict[str, list[str]]:
    """The hardening lines of a unit's [Service] section (from its NoNewPrivileges= on)."""
    service = (DEPLOY / unit).read_text("utf-8").split("[Service]", 1)[1].split("[Install]", 1)[0]
    lines: dict[str, list[str]] = {}
    for line in service[service.index("NoNewPrivileges=") :].splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            lines.setdefault(key, []).append(value)
    return lines


def test_the_health_check_unit_is_sandboxed_like_the_daemon_and_without_network() -> None:
    daemon, status = _sandbox("panui.service"), _sandbox("panui-status.service")
    shared = {key: values for key, values in daemon.items() if key not in SANDBOX_NETWORK}
    assert {key: values for key, values in status.items() if key not in SANDBOX_NETWORK} == shared
    assert status["RestrictAddressFamilies"] == ["AF_UNIX"] and status["PrivateNetwork"] == ["yes"]


@pytest.mark.e2e
@pytest.mark.parametrize("unit", ["panui.service", "panui-status.service"])
def test_systemd_rates_each_unit_well_sandboxed(unit: str, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    shutil.copy(DEPLOY / unit, tmp_path / unit)
    result = subprocess.run(
        [analyze, "security", "--offline=yes", "--no-pager", str(tmp_path / unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
    if level is None:
        pytest.skip(f"this systemd-analyze cannot rate a unit offline: {result.stderr.strip()[:200]}")
    assert float(level[1]) <= 2.0, result.stdout  # "OK" or better on systemd's scale of 0 to 10


def _requirement_names(requirements: list[str]) -> set[str]:
    return {
        re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-") for requirement in requirements
    }


def test_ci_and_the_image_install_the_pinned_versions_of_every_dependency() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    wanted = _requirement_names([*project["dependencies"], *project["optional-dependencies"]["test"]])
    pins = [line for line in (REPO_ROOT / "constraints.txt").read_text("utf-8").splitlines() if "==" in line]
    assert wanted <= _requirement_names(pins), "run .ci/lock: constraints.txt lacks a dependency"
    assert "pip install -c constraints.txt ." in (DEPLOY / "Dockerfile").read_text("utf-8")
    assert "pip install --quiet -c constraints.txt -e '.[test]'" in (REPO_ROOT / ".ci" / "run").read_text("utf-8")


def test_every_document_a_deployment_file_cites_exists() -> None:
    for path in DEPLOY.iterdir():
        for cited in re.findall(r"\b((?:docs/[\w./-]+|README[\w.-]*)\.md)\b", path.read_text("utf-8")):
            assert (REPO_ROOT / cited).is_file(), f"{path.name} cites {cited}, which does not exist"


def test_the_docs_show_the_nginx_config_as_it_is() -> None:
    shown = [
        block
        for page in [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
        for block in re.findall(r"```nginx\n(.*?)```", page.read_text("utf-8"), flags=re.DOTALL)
    ]
    assert shown == [(DEPLOY / "nginx.conf").read_text("utf-8")]


def test_an_installed_pipeline_carries_every_file_it_reads_beside_its_code() -> None:
    # A non-editable install (the Docker image, a virtualenv for systemd) holds only what package-data
    # names: the templates, and the pages `run.py demo` replays, must all be named.
    package = REPO_ROOT / "pipeline"
    patterns = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["package-data"]
    shipped = {path for pattern in patterns["pipeline"] for path in package.glob(pattern) if path.is_file()}
    data = {path for path in package.rglob("*") if path.is_file() and path.suffix not in {".py", ".pyc"}}

    assert data - shipped == set()
    assert any(path.parent.name == "captures" for path in shipped)
