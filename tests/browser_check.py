"""The run report in a real browser (Debian's chromium, headless): a local check, not a CI test.

pytest collects ``test_*.py`` only, so CI (which has no browser) never runs this file; run it
by name where chromium is installed (``apt-get install chromium``):

    python -m pytest tests/browser_check.py

Without chromium it fails, saying so: it never skips. It trains a short run, writes its
report, has chromium load the page from file (network off) and screenshot it, and checks that
the page was drawn: the pictures are there (many colours, wide areas of them), not a blank or
an error page. The screenshot is kept as ``report-screenshot.png`` in pytest's tmp folder.
"""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from test_vectors import trained_run  # noqa: F401  (the fixture: a short real run)


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.fail("no chromium on PATH: install Debian's (apt-get install chromium) to run this "
                "check; CI does not run it (see the module docstring)")


def test_report_renders_in_headless_chromium(trained_run, tmp_path):  # noqa: F811
    from matplotlib.image import imread
    from cbow.analysis.report import write_report

    page = write_report(trained_run, tmp_path / "report.html")
    shot = tmp_path / "report-screenshot.png"
    result = subprocess.run(
        [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # no network
         f"--screenshot={shot}", "--window-size=1200,3000", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    assert shot.is_file(), f"chromium wrote no screenshot: {result.stderr[-2000:]}"
    pixels = imread(shot)[..., :3]  # (3000, 1200, 3) floats in [0, 1]
    assert pixels.shape[:2] == (3000, 1200)
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 200, "the page looks blank: too few colours for text and figures"
    # The loss figure's blue and orange lines are drawn (matplotlib's first two colours).
    blue = np.all(np.abs(pixels - np.array([0x1f, 0x77, 0xb4]) / 255) < 0.08, axis=-1)
    orange = np.all(np.abs(pixels - np.array([0xff, 0x7f, 0x0e]) / 255) < 0.08, axis=-1)
    assert blue.sum() > 500 and orange.sum() > 200, "the embedded pictures were not drawn"
