"""How well a trained model does on the test digits: accuracy, per digit, confusions, mistakes."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

PREDICT_CHUNK = 1000
MAX_MISTAKES = 24


@dataclass
class Evaluation:
    """Test-set results, as plain numpy values that pickle and chart easily."""

    accuracy: float
    loss: float
    per_class_accuracy: np.ndarray  # 10 values, NaN for a digit absent from the test set
    confusion: np.ndarray  # 10×10 counts: rows are true digits, columns predictions
    mistake_images: np.ndarray  # up to MAX_MISTAKES uint8 28×28 images
    mistake_true: np.ndarray
    mistake_predicted: np.ndarray
    mistake_confidence: np.ndarray  # probability the model gave its (wrong) answer
    count: int  # number of test digits


def _model_input(images: np.ndarray) -> np.ndarray:
    # uint8 digits are scaled to [0, 1] as in training; float ones are taken as already scaled.
    return images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else images.astype(np.float32)


def predict_probabilities(model, images: np.ndarray) -> np.ndarray:
    """Class probabilities for uint8 or [0, 1] images, through the model's compiled predict step.

    `predict_on_batch` runs a traced graph, in chunks; `model.predict` would add its fixed set-up
    cost to every call. For a single drawing on a busy server, `predict_one` is faster.

    Args:
        model: a keras.Model taking N×28×28 float32 in [0, 1].
        images: N×28×28 uint8 (scaled here) or float32 already in [0, 1].

    Returns:
        N×10 float32 probabilities.
    """
    scaled = _model_input(images)
    parts = [np.asarray(model.predict_on_batch(scaled[start:start + PREDICT_CHUNK]))
             for start in range(0, len(scaled), PREDICT_CHUNK)]
    return np.concatenate(parts) if parts else np.zeros((0, 10), np.float32)


# architecture → its XLA-compiled single-image step, which takes the weights as arguments (the
# first model of the architecture stays as the step's template). Every training of the same
# network reuses one step: XLA keeps what it compiles for the life of the process, so a step per
# trained model would grow the server with every training.
_SINGLE_STEPS: dict = {}
_SINGLE_STEPS_LOCK = threading.Lock()


def predict_one(model, image: np.ndarray, architecture) -> np.ndarray:
    """Class probabilities for one image, in one XLA-compiled call on the calling thread.

    This is the path for a drawing on the app server, where a class's sessions, trainings and
    (in the benchmark) browsers keep both cores busy. `predict_on_batch` runs a graph whose ops
    TensorFlow hands to its thread pool, and under that load each hand-off waits for a pool
    thread to be scheduled; XLA runs the whole small network on the thread that asks (the
    figures: docs/architecture.md, bench/predict_latency.py --busy 12 --model-only). The first
    drawing of an architecture compiles its step; for a whole test set, `predict_probabilities`
    is faster.

    Args:
        model: a keras.Model taking N×28×28 float32 in [0, 1].
        image: one 28×28 image, uint8 (scaled here) or float32 already in [0, 1].
        architecture: a hashable key naming the code `model` was built from, e.g.
            `(spec, style)`: models with the same key share one compiled step.

    Returns:
        10 float32 probabilities.
    """
    with _SINGLE_STEPS_LOCK:
        if architecture not in _SINGLE_STEPS:
            import tensorflow as tf

            template = model

            def step(trainable, non_trainable, batch):
                return template.stateless_call(trainable, non_trainable, batch, training=False)[0]

            _SINGLE_STEPS[architecture] = tf.function(step, jit_compile=True)
        step = _SINGLE_STEPS[architecture]
    probabilities = step([variable.value for variable in model.trainable_variables],
                         [variable.value for variable in model.non_trainable_variables], _model_input(image)[None])
    return np.asarray(probabilities)[0]


def summarise(probabilities: np.ndarray, labels: np.ndarray, images: np.ndarray) -> Evaluation:
    """Accuracy, loss, per-digit accuracy, confusion matrix and the most confident mistakes.

    Args:
        probabilities: N×10 predicted probabilities.
        labels: N true digits.
        images: the N uint8 images (only mistakes are kept).

    Returns:
        An Evaluation.
    """
    labels = np.asarray(labels, dtype=np.int64)
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(totals > 0, np.diag(confusion) / np.maximum(totals, 1), np.nan)
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1.0)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    worst = wrong[np.argsort(-confidence)][:MAX_MISTAKES]
    return Evaluation(
        accuracy=float((predicted == labels).mean()) if len(labels) else float("nan"),
        loss=float(-np.log(picked).mean()) if len(labels) else float("nan"),
        per_class_accuracy=per_class,
        confusion=confusion,
        mistake_images=images[worst].astype(np.uint8),
        mistake_true=labels[worst],
        mistake_predicted=predicted[worst],
        mistake_confidence=probabilities[worst, predicted[worst]].astype(np.float32),
        count=len(labels),
    )


def evaluate(model, data) -> Evaluation:
    """Evaluate `model` on `data.x_test`, `data.y_test`.

    Args:
        model: the trained keras.Model.
        data: anything with `x_test` (uint8 N×28×28) and `y_test`.

    Returns:
        An Evaluation.
    """
    return summarise(predict_probabilities(model, data.x_test), data.y_test, data.x_test)
