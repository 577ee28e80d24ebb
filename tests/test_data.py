"""load_mnist(): the offline fallback is real, stratified, honest and immediate."""

import sys
import time
import zipfile

import numpy as np
import pytest

from kerasways import data as data_module
from kerasways.data import load_mnist


def test_offline_gives_the_bundled_digits_stratified_with_an_honest_description():
    data = load_mnist()
    assert data.source == "bundled"
    assert data.x_train.dtype == np.uint8 and data.x_train.shape[1:] == (28, 28)
    assert len(data.x_train) + len(data.x_test) == 5000
    assert set(np.unique(data.y_train)) == set(range(10)) == set(np.unique(data.y_test))
    assert np.bincount(data.y_test).min() == np.bincount(data.y_test).max()  # 100 of each digit
    assert "5,000 real MNIST digits" in str(data.description) and "prefetch" in str(data.description)
    assert not np.array_equal(data.y_train[:50], np.sort(data.y_train[:50]))  # shuffled, not sorted by label
    assert data.x_train.min() == 0 and data.x_train.max() == 255  # raw 0–255 pixels, like Keras' MNIST


def test_a_failed_download_falls_back_at_once(monkeypatch, tmp_path):
    """An offline class waits for one bounded download attempt, not for retries, pauses or TensorFlow."""
    monkeypatch.delenv("KERASWAYS_OFFLINE", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    attempts = []

    def refuse(url, timeout=None):
        attempts.append((url, timeout))
        raise OSError("network unreachable")

    def no_pause(seconds):
        raise AssertionError(f"the fallback paused for {seconds} s")

    monkeypatch.setattr(data_module.urllib.request, "urlopen", refuse)
    monkeypatch.setattr(time, "sleep", no_pause)
    for heavy in ("tensorflow", "keras"):  # importing either takes seconds; the fallback needs neither
        monkeypatch.setitem(sys.modules, heavy, None)
    data = load_mnist()
    assert attempts == [(data_module.MNIST_URL, data_module.DOWNLOAD_TIMEOUT_SECONDS)]  # once, with a time limit
    assert data_module.DOWNLOAD_TIMEOUT_SECONDS <= 10  # a class without internet is not kept waiting
    assert data.source == "bundled"
    assert "download failed" in str(data.description) and "network unreachable" in str(data.description)
    assert not (tmp_path / "datasets" / "mnist.npz").exists()


def test_the_keras_cache_is_used_when_present(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    bundled = load_mnist("bundled")
    (tmp_path / "datasets").mkdir()
    np.savez(tmp_path / "datasets" / "mnist.npz", x_train=bundled.x_train, y_train=bundled.y_train,
             x_test=bundled.x_test, y_test=bundled.y_test)
    data = load_mnist()
    assert data.source == "keras" and "Full MNIST" in str(data.description)
    assert np.array_equal(data.x_test, bundled.x_test)


def test_a_damaged_cache_file_falls_back_with_a_clear_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "mnist.npz").write_bytes(b"PK\x03\x04 half a download")
    data = load_mnist()
    assert data.source == "bundled"
    assert "damaged" in str(data.description)
    with pytest.raises((OSError, ValueError, zipfile.BadZipFile)):
        load_mnist("keras")


def test_how_many_training_digits_there_are_is_known_before_they_are_loaded(monkeypatch, tmp_path):
    """The training budget needs it before a worker has loaded the digits: when unsure, the larger."""
    assert data_module.expected_train_digits("bundled") == len(load_mnist("bundled").x_train) == 4000
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert data_module.expected_train_digits() == data_module.BUNDLED_TRAIN_DIGITS  # offline, nothing cached
    monkeypatch.delenv("KERASWAYS_OFFLINE")
    assert data_module.expected_train_digits() == data_module.MNIST_TRAIN_DIGITS  # a download will be tried
    monkeypatch.setenv("KERASWAYS_OFFLINE", "1")
    data_module.keras_cache_path().parent.mkdir(parents=True)
    data_module.keras_cache_path().write_bytes(b"cached")
    assert data_module.expected_train_digits() == data_module.MNIST_TRAIN_DIGITS  # the full set is cached


def cache_the_bundled_digits(folder):
    bundled = load_mnist("bundled")
    (folder / "datasets").mkdir()
    np.savez(folder / "datasets" / "mnist.npz", x_train=bundled.x_train, y_train=bundled.y_train,
             x_test=bundled.x_test, y_test=bundled.y_test)


def test_prefetch_uses_keras_cache_without_trying_a_download(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def no_network(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(data_module, "download_keras_file", no_network)
    with pytest.raises(OSError):
        data_module.prefetch()  # nothing cached, no network: it says so
    cache_the_bundled_digits(tmp_path)
    assert data_module.prefetch().source == "keras"  # an offline classroom machine with the cache works


def test_the_data_fingerprint_follows_the_file_the_digits_come_from(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    offline = data_module.data_fingerprint()
    assert offline.startswith("bundled:4000:") and offline == data_module.data_fingerprint("bundled")
    cache_the_bundled_digits(tmp_path)
    cached = data_module.data_fingerprint()
    assert cached.startswith("keras:60000:") and cached != offline
    with np.load(tmp_path / "datasets" / "mnist.npz") as archive:
        arrays = dict(archive)
    arrays["y_train"] = (arrays["y_train"] + 1) % 10
    np.savez(tmp_path / "datasets" / "mnist.npz", **arrays)
    assert data_module.data_fingerprint() != cached  # other digits, another network
