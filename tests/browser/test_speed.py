"""How soon a person sees training: Train to the first point on the loss chart, and the size of
one live refresh. Recorded for `python -m nnplay bench` to print; no timing is asserted."""

from __future__ import annotations

import json
import statistics
import time

from playwright.sync_api import expect

from nnplay import bench
from tests.browser.conftest import LONG_RUN

PRESET = "spiral"
BURST_GAP_S = 0.3  # websocket frames closer than this belong to one refresh

# In the page: note when Train is pressed, then watch (every animation frame) for the loss
# chart's first drawn data (a line or a marker, as a person sees it).
WATCH = """() => {
  window.__trainAt = undefined; window.__firstPointAt = undefined;
  document.addEventListener('click', (e) => {
    const b = e.target.closest('button');
    if (b && b.innerText.trim() === 'Train' && window.__trainAt === undefined)
      window.__trainAt = performance.now();
  }, true);
  const look = () => {
    if (window.__trainAt !== undefined) {
      for (const gd of document.querySelectorAll('.js-plotly-plot')) {
        const title = ((gd.layout && gd.layout.title && gd.layout.title.text) || '')
          .replace(/<[^>]*>/g, '');  // Streamlit wraps chart titles in <b>
        const drawn = [...gd.querySelectorAll('.scatterlayer .js-line, .scatterlayer .point')]
          .some((el) => el.tagName !== 'path' || (el.getAttribute('d') || '').length > 1);
        if (title === 'loss' && drawn) {
          window.__firstPointAt = performance.now();
          return;
        }
      }
    }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}"""


def _bursts(frames: list[tuple[float, int]]) -> list[int]:
    """Bytes per burst of frames: a refresh arrives as frames close together in time."""
    sizes: list[int] = []
    last = None
    for at, size in frames:
        if last is None or at - last > BURST_GAP_S:
            sizes.append(0)
        sizes[-1] += size
        last = at
    return sizes


def _press_train(page, app_url: str, wait_connected) -> float:
    """Open the preset, press Train, and return the seconds until the loss chart draws data."""
    page.goto(f"{app_url}/?preset={PRESET}&{LONG_RUN}")  # still training after 5 s
    wait_connected(page)
    train = page.get_by_role("button", name="Train", exact=True)
    expect(train).to_be_enabled()
    page.evaluate(WATCH)
    train.click()
    page.wait_for_function("window.__firstPointAt !== undefined", timeout=120_000)
    return page.evaluate("(window.__firstPointAt - window.__trainAt) / 1000")


def _stop(page) -> None:
    """Press the page's Stop (not Streamlit's header one) if the run is still going."""
    main = page.get_by_test_id("stMainBlockContainer")
    stop = main.get_by_role("button", name="Stop", exact=True).and_(page.locator(":enabled"))
    if stop.count():
        stop.first.click()
        expect(main.get_by_role("button", name="Train", exact=True)).to_be_enabled(
            timeout=90_000)  # a loaded machine


def test_train_to_first_loss_point(page, app_url, wait_connected, screenshot) -> None:
    frames: list[tuple[float, int]] = []
    page.on("websocket", lambda ws: ws.on(
        "framereceived",
        lambda payload: frames.append((time.monotonic(), len(payload)))))  # fmt: skip
    first_s = _press_train(page, app_url, wait_connected)  # may be the server's first run
    seen = len(frames)
    page.wait_for_timeout(4_000)  # about four live refreshes
    refreshes = _bursts(frames[seen:])
    screenshot(page, "speed-first-point")
    _stop(page)
    again_s = _press_train(page, app_url, wait_connected)  # the same server, warm
    _stop(page)

    assert first_s > 0 and again_s > 0 and refreshes
    record = {
        "when": time.strftime("%Y-%m-%d %H:%M"), "preset": PRESET, "device": "cpu",
        "first_point_s": round(first_s, 3), "first_point_again_s": round(again_s, 3),
        "refresh_bytes": int(statistics.median(refreshes)), "refreshes_seen": len(refreshes),
    }  # fmt: skip
    path = bench.browser_record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))
    print(f"\nspeed: {record}")
