"""A prepared classroom machine: prefetch finds MNIST in Keras' cache offline, trains the network for drawings
and stores it; a freshly started server's Draw page draws with it at once, nothing to press or wait for."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from kerasways.data import load_mnist
from support.app_server import ROOT
from tests.support import ARTIFACTS, served_app

pytestmark = pytest.mark.browser


def cached_mnist(keras_home):
    """Keras' cache as `python -m kerasways.data --prefetch` leaves it (the offline digits stand in for the 60,000:
    no download is possible here)."""
    digits = load_mnist("bundled")
    path = keras_home / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, x_train=digits.x_train, y_train=digits.y_train, x_test=digits.x_test, y_test=digits.y_test)


def test_prefetch_stores_the_network_for_drawings_and_a_fresh_server_offers_it_at_once(tmp_path, browser):
    env = {"KERAS_HOME": str(tmp_path / "keras"), "KERASWAYS_DATA_DIR": str(tmp_path / "data"),
           "KERASWAYS_OFFLINE": "1"}
    cached_mnist(tmp_path / "keras")
    prefetch = subprocess.run([sys.executable, "-m", "kerasways.data", "--prefetch"], cwd=ROOT, capture_output=True,
                              text=True, timeout=900, env={**os.environ, **env})
    assert prefetch.returncode == 0, prefetch.stderr[-2000:]
    assert "Full MNIST" in prefetch.stdout and "stored in" in prefetch.stdout  # the cache, not a download
    assert "epoch 30/30 100%" in prefetch.stderr  # its progress bar reached the end
    assert list((tmp_path / "data" / "networks").glob("drawing-network-*.keras"))

    again = subprocess.run([sys.executable, "-m", "kerasways.data", "--prefetch"], cwd=ROOT, capture_output=True,
                           text=True, timeout=300, env={**os.environ, **env})
    assert again.returncode == 0 and "already stored" in again.stdout  # a second prefetch trains nothing

    with served_app(env) as url:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(url + "/draw")
        page.locator("canvas.upper-canvas").first.wait_for(timeout=60_000)
        assert page.get_by_role("button", name=re.compile("Train the network for drawings now")).count() == 0
        page.get_by_text("Draw a digit on the black square").first.wait_for(timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "draw_page_stored_network.png"), full_page=True)
        page.context.close()


def test_without_a_stored_network_the_draw_page_says_how_long_training_takes_here(tmp_path, browser):
    with served_app({"KERASWAYS_DATA_DIR": str(tmp_path / "data")}) as url:
        page = browser.new_context().new_page()
        page.goto(url + "/draw")
        offer = page.get_by_text(re.compile(r"It takes about \d+ seconds here"))
        offer.wait_for(timeout=60_000)
        seconds = int(re.search(r"about (\d+) seconds", offer.inner_text()).group(1))
        assert seconds != 30  # from this server's data and the training budget, not the old constant
        page.context.close()
