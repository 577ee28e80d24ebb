"""What a network sees while training: digits sent through its own augmentation layers.

The layers come from the model built by running the generated code, so the pictures show
exactly what training does to a digit, not an imitation of it.
"""

from __future__ import annotations

import numpy as np

from kerasways.build import build_model, global_random_state_kept
from kerasways.spec import ModelSpec, resolve_layers


def augmented_examples(spec: ModelSpec, images: np.ndarray, copies: int, seed: int = 0) -> np.ndarray:
    """Each image as the network sees it in `copies` training steps (new random changes each time).

    Args:
        spec: the network; with `augment` off every copy is the image unchanged.
        images: N×28×28 digits, uint8 0-255 or float in [0, 1].
        copies: how many augmented versions of each image to make (at least 1).
        seed: fixes the random changes: the same seed gives the same pictures.

    Returns:
        float32 array N×copies×28×28 in [0, 1] (values outside [0, 1] from interpolation are clipped).

    Raises:
        ValueError: when `images` is not N×28×28 or `copies` is below 1.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"images: expected an N×28×28 array; received shape {images.shape}")
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
        raise ValueError(f"copies: expected a whole number of at least 1; received {copies!r}")
    scaled = images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else images.astype(np.float32)
    wanted = [layer for layer in resolve_layers(spec) if layer.role == "augment"]
    if not wanted:
        return np.repeat(scaled[:, None], copies, axis=1)
    # The subclassed model keeps each layer under the name every way uses; the layers are the
    # ones the generated code created, with their seeds drawn from `seed` as in training.
    results = []
    with global_random_state_kept():  # the page's pictures must not reset the server's generators
        model = build_model(spec.replace(seed=seed), "subclassing")
        augmentation = [getattr(model, layer.name) for layer in wanted]
        for _ in range(copies):
            batch = scaled[..., None]
            for layer in augmentation:
                batch = layer(batch, training=True)
            results.append(np.asarray(batch)[..., 0])
    return np.clip(np.stack(results, axis=1), 0.0, 1.0)
