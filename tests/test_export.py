"""Exports: the notebook runs top to bottom; a .keras file loads in a plain Python session."""

import json
import os
import subprocess
import sys

import nbformat
import numpy as np
import pytest

from kerasways.build import build_model
from kerasways.codegen import model_source, notebook_json
from kerasways.export import model_file_bytes
from kerasways.spec import STYLES, ModelSpec, TrainConfig

# Loads a .keras file the way a user would, in a fresh interpreter, and records everything the
# loading says: Python warnings, log records (Keras and absl log through `logging`) and whatever
# reaches the stderr file descriptor (TensorFlow's C++ logging). TensorFlow starts up first, so
# only what the file itself causes is recorded.
LOAD_AND_PREDICT = """
import json
import logging
import os
import sys
import tempfile
import warnings

import numpy as np
import keras

model_file, source_file, images_file, out_file = sys.argv[1:]
source = ""
if source_file != "-":
    with open(source_file) as file:
        source = file.read()
keras.ops.convert_to_numpy(keras.ops.ones((1,)) + 1)  # start TensorFlow before recording

records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(f"{record.name} {record.levelname}: {record.getMessage()}")
for name in ("", "absl", "keras", "tensorflow"):
    logging.getLogger(name).addHandler(Keep(logging.INFO))
logging.getLogger().setLevel(logging.INFO)

stderr_copy = tempfile.TemporaryFile()
saved_stderr = os.dup(2)
sys.stderr.flush()
os.dup2(stderr_copy.fileno(), 2)
try:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(source)  # a subclassed model's class must exist before loading
        model = keras.models.load_model(model_file)
        predictions = np.asarray(model(np.load(images_file), training=False))
finally:
    sys.stderr.flush()
    os.dup2(saved_stderr, 2)
stderr_copy.seek(0)
np.save(out_file + ".npy", predictions)
with open(out_file + ".json", "w") as report:
    json.dump({"warnings": [f"{w.category.__name__}: {w.message}" for w in caught], "log": records,
               "stderr": stderr_copy.read().decode(errors="replace")}, report)
"""


@pytest.mark.slow
def test_notebook_has_one_cell_per_step_and_executes_top_to_bottom(tmp_path):
    from nbclient import NotebookClient

    notebook = nbformat.reads(notebook_json(ModelSpec(), "functional", TrainConfig(epochs=1, train_size=500)),
                              as_version=4)
    nbformat.validate(notebook)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code_cells) == 9 and code_cells[2].source.startswith("def build_model")
    assert code_cells[-3].source.startswith("def feature_extractor")  # looking inside, the Functional way
    assert code_cells[-1].source.startswith("# Your class's digits")  # how to use an exported collection
    os.environ.setdefault("KERAS_HOME", str(tmp_path))
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    last_output = "".join(output.get("text", "") for output in code_cells[-2].outputs)
    assert last_output.startswith("Test accuracy: 0.")
    layer_shapes = "".join(output.get("text", "") for output in code_cells[-3].outputs).split()
    assert layer_shapes == ["(1,", "784)", "(1,", "128)", "(1,", "10)"]  # flatten, dense, classifier


def load_in_a_fresh_python(tmp_path, model, spec, style, images) -> tuple[np.ndarray, dict]:
    """Save `model` as the download button does, load it in a new interpreter; its predictions and what it said."""
    model_path = tmp_path / f"mnist_{style}.keras"
    model_path.write_bytes(model_file_bytes(model))
    source_path = "-"
    if style == "subclassing":
        source_path = tmp_path / "model.py"
        source_path.write_text(model_source(spec, style))
    np.save(tmp_path / "images.npy", images)
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}  # hear everything
    completed = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(model_path), str(source_path), str(tmp_path / "images.npy"),
         str(tmp_path / "out")], capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return np.load(tmp_path / "out.npy"), json.loads((tmp_path / "out.json").read_text())


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.slow
def test_a_trained_model_loads_silently_in_a_plain_python_session_and_predicts_the_same(tmp_path, style):
    spec = ModelSpec(seed=5)
    # As in the app: the model is rebuilt from its source and given the weights training produced.
    model = build_model(spec, style)
    rng = np.random.default_rng(1)
    model.set_weights([weight + rng.normal(0, 0.05, weight.shape).astype(weight.dtype)
                       for weight in model.get_weights()])
    images = rng.random((8, 28, 28)).astype("float32")
    predictions, said = load_in_a_fresh_python(tmp_path, model, spec, style, images)
    assert said == {"warnings": [], "log": [], "stderr": ""}
    np.testing.assert_allclose(predictions, np.asarray(model(images, training=False)), rtol=1e-6)


@pytest.mark.slow
def test_a_model_trained_in_this_process_also_loads_silently(tmp_path):
    spec = ModelSpec(seed=5, optimizer="rmsprop")
    model = build_model(spec, "functional")
    rng = np.random.default_rng(2)
    model.fit(rng.random((64, 28, 28)).astype("float32"), rng.integers(0, 10, 64), epochs=1, verbose=0)
    images = rng.random((8, 28, 28)).astype("float32")
    predictions, said = load_in_a_fresh_python(tmp_path, model, spec, "functional", images)
    assert said == {"warnings": [], "log": [], "stderr": ""}
    np.testing.assert_allclose(predictions, np.asarray(model(images, training=False)), rtol=1e-6)
