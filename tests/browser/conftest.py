"""Browser-test fixtures: a live `streamlit run` server and Debian's Chromium driven by Playwright.

Fixtures for tests in this folder (all of them get the `browser` marker):
  app_url         URL of the app ($NNPLAY_APP, default app.py), one server per session
  launch_app      callable(script) -> URL; starts (once per script) a server for any script
  nnplay_dirs     the temporary NNPLAY_HOME / NNPLAY_DATA_DIR the servers run with
  browser         one Chromium for the session
  page            a fresh 1400x1000 context and page per test
  wait_connected  callable(page): wait until the app is connected and its script has finished
  screenshot      callable(page, name) -> Path under $NNPLAY_SCREENSHOTS (or a tmp dir)

Without `chromium` on PATH the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
HEALTH_TIMEOUT_S = 60.0
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
CONNECTED = '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
SCRIPT_IDLE = (
    '[data-testid="stApp"]:is([data-test-script-state="notRunning"],'
    '[data-test-script-state="compilationError"])'
)
RUNNING_ICON = '[data-testid="stStatusWidgetRunningIcon"]'
# A link's settings for a run that is still training whenever a test presses Pause or Stop:
# 900,000 steps, which even a small network's fused step takes minutes over.
LONG_RUN = "data.n_samples=2000&data.train_fraction=0.9&train.epochs=500&train.batch_size=1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test collected from this folder as `browser`."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    """On a failed browser test, keep a screenshot and attach the server's log tail."""
    report = yield
    if report.when == "call" and report.failed and HERE in Path(item.path).resolve().parents:
        page = getattr(item, "funcargs", {}).get("page")
        if page is not None:
            try:
                shot = _save_screenshot(page, f"FAILED-{item.name}")
                report.sections.append(("screenshot", str(shot)))
            except Exception as exc:  # the page may be gone; the failure itself matters more
                report.sections.append(("screenshot", f"could not save: {exc}"))
        for server in _SERVERS.values():
            report.sections.append((f"streamlit log ({server.script.name})", server.log_tail()))
    return report


# --------------------------------------------------------------------------- chromium


def _chromium_or_skip() -> str:
    path = shutil.which("chromium")
    if path:
        return path
    msg = "Chromium not found on PATH (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of Debian's chromium; skips (fails under CI=true) when it is missing."""
    return _chromium_or_skip()


@pytest.fixture(scope="session", autouse=True)
def _require_chromium(chromium_path: str) -> None:
    """Check for Chromium before any server is started for a test in this folder."""


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        pw.stop()


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(90_000)  # a loaded machine: the tests wait on what pages show
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


# --------------------------------------------------------------------------- helpers


def wait_connected(page, timeout: float = 120_000) -> None:
    """Wait until the app's websocket is connected and no script run is in progress."""
    page.wait_for_selector(CONNECTED, timeout=timeout)
    page.wait_for_selector(SCRIPT_IDLE, timeout=timeout)
    page.locator(RUNNING_ICON).wait_for(state="hidden", timeout=timeout)


def _screenshot_dir() -> Path:
    configured = os.environ.get("NNPLAY_SCREENSHOTS")
    path = Path(configured) if configured else Path(tempfile.gettempdir()) / "nnplay-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _save_screenshot(page, name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "screenshot"
    path = _screenshot_dir() / f"{safe}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_line_changed(page, selector: str, before: str, timeout: float = 90_000) -> None:
    """Wait until the SVG path at selector differs from `before`: a live line is downsampled to
    at most 2,000 points, so new points change it rather than only lengthen it."""
    page.wait_for_function(
        "([sel, first]) => (document.querySelector(sel)?.getAttribute('d') || first) !== first",
        arg=[selector, before], timeout=timeout,
    )


def wait_step_past(page, step: int, timeout: float = 90_000) -> None:
    """Wait until the progress line ("step N / total") shows a step beyond `step`; a refresh's
    chart can reach the DOM a moment before its progress text."""
    page.wait_for_function(
        "([before]) => [...document.body.innerText.matchAll(/^step ([\\d,]+) \\/ /gm)]"
        ".some(m => Number(m[1].replace(/,/g, '')) > before)",
        arg=[step], timeout=timeout,
    )


@pytest.fixture
def live_waits() -> tuple[Callable[..., None], Callable[..., None]]:
    """(wait_line_changed, wait_step_past) for tests that watch a run train."""
    return wait_line_changed, wait_step_past


@pytest.fixture(name="wait_connected")
def wait_connected_fixture() -> Callable[..., None]:
    return wait_connected


@pytest.fixture
def screenshot() -> Callable[[object, str], Path]:
    """callable(page, name) -> path of a full-page PNG in $NNPLAY_SCREENSHOTS or a tmp dir."""
    return _save_screenshot


# --------------------------------------------------------------------------- server


class _Server:
    """One `streamlit run` process in its own process group, logging to a file."""

    def __init__(self, script: Path, env: dict[str, str], log_dir: Path) -> None:
        self.script = script
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"streamlit-{self.port}.log"
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(script),
            "--server.headless", "true",
            "--server.address", "127.0.0.1",
            "--server.port", str(self.port),
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
        ]  # fmt: skip
        self._log = open(self.log_path, "wb")  # closed in stop()
        self.proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"streamlit exited early with code {self.proc.returncode} for "
                    f"{self.script}:\n{self.log_tail()}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.read().strip() == b"ok":
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        pytest.fail(
            f"streamlit did not answer /_stcore/health within {timeout:.0f} s for "
            f"{self.script}:\n{self.log_tail()}",
            pytrace=False,
        )

    def stop(self, report: bool = True) -> None:
        """Terminate the process group; print the log tail if the server had died by itself."""
        if self.proc.poll() is not None:
            if report and self.proc.returncode != 0:
                print(
                    f"\nstreamlit for {self.script} had died (code {self.proc.returncode}):\n"
                    f"{self.log_tail()}",
                    file=sys.stderr,
                )
        else:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._log.close()


_SERVERS: dict[Path, _Server] = {}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def nnplay_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Temporary NNPLAY_HOME and NNPLAY_DATA_DIR shared by every server of the session."""
    root = tmp_path_factory.mktemp("nnplay")
    dirs = {"NNPLAY_HOME": root / "home", "NNPLAY_DATA_DIR": root / "data"}
    for path in dirs.values():
        path.mkdir()
    return dirs


@pytest.fixture(scope="session")
def launch_app(
    nnplay_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str | Path], str]]:
    """callable(script) -> base URL of a healthy `streamlit run script` (started once each)."""
    env = dict(os.environ)
    env.update({name: str(path) for name, path in nnplay_dirs.items()})
    env.update(
        PYTHONUNBUFFERED="1",
        STREAMLIT_SERVER_HEADLESS="true",
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
        NNPLAY_MAX_STEPS="1000000",  # runs that last long enough to press Stop on a fast machine
        NNPLAY_MAX_RUN_SECONDS="1000000",  # and that the compute budget lets start
    )
    log_dir = tmp_path_factory.mktemp("streamlit-logs")

    def launch(script: str | Path) -> str:
        path = (REPO / script).resolve()
        if not path.is_file():
            pytest.fail(f"Streamlit script not found: {path}", pytrace=False)
        if path not in _SERVERS:
            server = _Server(path, env, log_dir)
            try:
                server.wait_healthy()
            except BaseException:
                server.stop(report=False)  # the failure message already holds the log
                raise
            _SERVERS[path] = server
        return _SERVERS[path].url

    try:
        yield launch
    finally:
        while _SERVERS:
            _, server = _SERVERS.popitem()
            server.stop()


@pytest.fixture(scope="session")
def app_url(launch_app: Callable[[str | Path], str]) -> str:
    """Base URL of the nnplay app ($NNPLAY_APP, default app.py) served for this session."""
    return launch_app(os.environ.get("NNPLAY_APP", "app.py"))
