"""Exports: the notebook runs top to bottom; a .keras file loads in a plain Python session."""

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

LOAD_AND_PREDICT = """
import sys
import numpy as np
import keras

model_file, source_file, images_file, out_file = sys.argv[1:]
if source_file != "-":
    exec(open(source_file).read())  # a subclassed model's class must exist before loading
model = keras.models.load_model(model_file)
np.save(out_file, np.asarray(model(np.load(images_file), training=False)))
"""


def test_notebook_has_one_cell_per_step_and_executes_top_to_bottom(tmp_path):
    from nbclient import NotebookClient

    notebook = nbformat.reads(notebook_json(ModelSpec(), "functional", TrainConfig(epochs=1, train_size=500)),
                              as_version=4)
    nbformat.validate(notebook)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code_cells) == 7 and code_cells[2].source.startswith("def build_model")
    os.environ.setdefault("KERAS_HOME", str(tmp_path))
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    last_output = "".join(output.get("text", "") for output in code_cells[-1].outputs)
    assert last_output.startswith("Test accuracy: 0.")


@pytest.mark.parametrize("style", STYLES)
def test_a_saved_model_loads_in_a_plain_python_session_and_predicts_the_same(tmp_path, style):
    spec = ModelSpec(seed=5)
    model = build_model(spec, style)
    model_path = tmp_path / f"mnist_{style}.keras"
    model_path.write_bytes(model_file_bytes(model))
    source_path = "-"
    if style == "subclassing":
        source_path = tmp_path / "model.py"
        source_path.write_text(model_source(spec, style))
    images = np.random.default_rng(0).random((8, 28, 28)).astype("float32")
    np.save(tmp_path / "images.npy", images)
    completed = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(model_path), str(source_path), str(tmp_path / "images.npy"),
         str(tmp_path / "out.npy")], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), np.asarray(model(images, training=False)), rtol=1e-6)
