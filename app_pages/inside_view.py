"""The Draw page's "Inside the network": each layer's output for the drawing, where the model looks, the code."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import session, views
from kerasways import charts
from kerasways.codegen import inside_source
from kerasways.inside import look_inside

MAX_CHANNELS = 16  # feature maps shown per layer; the rest are counted
MAX_UNITS = 64  # unit activations shown per Dense layer
TOP_UNITS = 10
OTHER_DIGIT = "w_inside_digit"
FAINTEST = 0.1  # share of a saliency map's largest value below which it is not drawn
INK_SHARE = 0.55  # how much of a full-ink pixel is the drawing's grey rather than the map's colour


def _grey(values: np.ndarray) -> np.ndarray:
    """A feature map as uint8, its own maximum white (ReLU outputs are never negative)."""
    top = float(values.max())
    return (np.clip(values / top, 0, 1) * 255).astype(np.uint8) if top > 0 else np.zeros(values.shape, np.uint8)


def _with_ink(colour: np.ndarray, image: np.ndarray) -> np.ndarray:
    """A map's colours with the drawing's strokes on top in light grey, so the drawing stays in sight
    however strong the map is; as uint8 RGB."""
    ink = image.astype(np.float32) / (255.0 if image.dtype == np.uint8 else 1.0)
    ink = ink[..., None] * INK_SHARE
    return (np.clip(colour * (1 - ink) + ink * 0.9, 0, 1) * 255).astype(np.uint8)


def _red_blue(values: np.ndarray, faintest: float = 0.0) -> np.ndarray:
    """Signed values as float RGB in [0, 1]: red positive, blue negative, black zero, scaled to the largest;
    values below `faintest` of the largest are left black."""
    signed = values / (float(np.abs(values).max()) or 1.0)
    signed = np.where(np.abs(signed) < faintest, 0.0, signed)
    colour = np.zeros((*values.shape, 3), np.float32)
    colour[..., 0], colour[..., 2] = np.clip(signed, 0, 1), np.clip(-signed, 0, 1)
    return colour


def _overlay(image: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """A signed map over the drawing: red where more ink raises the digit, blue where it lowers it."""
    # The faintest tenth is left out: in an MLP's map it is speckle.
    return _with_ink(_red_blue(heat, FAINTEST), image)


def _heat(image: np.ndarray, cam: np.ndarray) -> np.ndarray:
    """A Grad-CAM map (0–1) in orange over the drawing."""
    colour = np.zeros((*cam.shape, 3), np.float32)
    colour[..., 0], colour[..., 1] = cam, cam * 0.6
    return _with_ink(colour, image)


def _layer(layer, last: bool, _) -> None:
    shape = "×".join(str(size) for size in layer.output.shape)
    st.markdown(f"**`{layer.name}`** · `{layer.kind}` · {shape}")  # the name is the code's, in any language
    if layer.inactive_when_predicting:
        st.caption(_("Inactive when predicting: it passes its input on unchanged (it acts only while training)."))
    elif layer.kind == "Reshape":
        st.caption(_("Adds a channel axis: the same 28×28 pixels, now 28×28×1."))
    elif layer.kind == "Flatten":
        st.caption(_("The same {count} values in one row: nothing is computed.").format(count=f"{layer.output.size:,}"))
    elif layer.kind == "Concatenate":
        st.caption(_("Skip connection's join: the hidden features and the flattened pixels side by side, "
                     "{count} values.").format(count=f"{layer.output.size:,}"))
    elif layer.output.ndim == 3:
        channels = layer.output.shape[-1]
        shown = min(channels, MAX_CHANNELS)
        views.show_image_row([(_("channel {number} of {count}").format(number=index + 1, count=channels),
                               _grey(layer.output[..., index])) for index in range(shown)], size=56)
        if channels > shown:
            st.caption(_("{count} more channels hidden.").format(count=channels - shown))
    elif last:  # the softmax output
        views.show_chart(charts.probability_bars(layer.output, session.lang()))
    else:
        units = layer.output
        shown = min(len(units), MAX_UNITS)
        top = np.argsort(-units)[:TOP_UNITS]
        strip = np.repeat(_grey(units[:shown])[None], 8, axis=0)
        views.show_image_row([(_("units 1–{shown} of {count}").format(shown=shown, count=len(units)), strip)],
                             size=min(8 * shown, 640))
        st.caption(_("Most active: {units}.").format(units=", ".join(
            _("unit {number} ({value})").format(number=index + 1, value=f"{units[index]:.2f}") for index in top)))
        if len(units) > shown:
            st.caption(_("{count} more units hidden from the strip.").format(count=len(units) - shown))


def show_blank() -> None:
    """The blank canvas: nothing to look inside, and why."""
    _ = session.gettext()
    st.subheader(_("Inside the network"))
    st.caption(_("Nothing to show yet: each layer's output appears here once there is a digit to read."))


def show(model, run, image: np.ndarray, answer: int) -> None:
    """Everything inside the network for the drawing `image` the model reads as `answer`.

    Args:
        model: the run's trained keras.Model.
        run: the run (its network, way and predict key).
        image: the 28×28 drawing as `to_mnist` made it (float32 in [0, 1]).
        answer: the digit the model read.
    """
    _ = session.gettext()
    st.subheader(_("Inside the network"))
    other = st.selectbox(_("What would make this another digit?"), list(range(10)),
                         index=(answer + 1) % 10, key=OTHER_DIGIT)
    seen = look_inside(model, image, (answer, int(other)), architecture=run.predict_key)

    st.markdown("#### " + _("Where the model looks"))
    pictures = [(_("Saliency for {digit} (the answer)").format(digit=answer), _overlay(image, seen.saliency[answer])),
                (_("Saliency for {digit}").format(digit=other), _overlay(image, seen.saliency[other]))]
    if seen.grad_cam:
        pictures += [(_("Grad-CAM for {digit}").format(digit=answer), _heat(image, seen.grad_cam[answer])),
                     (_("Grad-CAM for {digit}").format(digit=other), _heat(image, seen.grad_cam[other]))]
    views.show_image_row(pictures, size=140)
    st.caption(_("Red: pixels where more ink would raise that digit's probability; blue: where it would lower it "
                 "(SmoothGrad, the gradient averaged over a few noisy copies). Grad-CAM: the regions of the last "
                 "convolution that weigh most for that digit. Neither says why the network decided, nor what a "
                 "filter means; they show where a small change matters."))

    st.markdown("#### " + _("Every layer, on your drawing"))
    for index, layer in enumerate(seen.layers):
        _layer(layer, index == len(seen.layers) - 1, _)
    with st.expander(_("The code that looks inside ({way})").format(way=session.style_title(run.style))):
        st.code(inside_source(run.spec, run.style, session.lang()), language="python")
        st.caption(_("The app runs exactly this code to draw the pictures above."))


MAX_UNITS_LEARNED = 32
DIGITS_LEARNED = 3


def _signed(values: np.ndarray) -> np.ndarray:
    """Weights as a uint8 RGB image: red positive, blue negative, black zero, scaled to the largest."""
    return (_red_blue(values) * 255).astype(np.uint8)


def show_learned(model, images: np.ndarray) -> None:
    """The Train page's "What the network learned": the first layer's weights, as pictures.

    Args:
        model: the trained keras.Model.
        images: a few uint8 28×28 test digits (for a convolution network's feature maps).
    """
    from kerasways.inside import batch_layer_outputs

    _ = session.gettext()
    first = next((layer for layer in model.layers if hasattr(layer, "kernel")), None)
    kind = type(first).__name__
    kernel = np.asarray(first.kernel) if first is not None else None
    if kind == "Dense" and kernel.shape[0] == 28 * 28:
        st.subheader(_("What the network learned"))
        st.caption(_("Each first-layer unit's 784 weights as a 28×28 picture: red weights add a pixel's ink to "
                     "the unit, blue ones subtract it."))
        shown = min(kernel.shape[1], MAX_UNITS_LEARNED)
        views.show_image_row([(_("unit {number} of {count}").format(number=index + 1, count=kernel.shape[1]),
                               _signed(kernel[:, index].reshape(28, 28))) for index in range(shown)], size=64)
        if kernel.shape[1] > shown:
            st.caption(_("{count} more units hidden.").format(count=kernel.shape[1] - shown))
    elif kind == "Conv2D":
        st.subheader(_("What the network learned"))
        filters = kernel.shape[-1]
        shown = min(filters, MAX_CHANNELS)
        st.caption(_("The first convolution's filters (red positive, blue negative weights), then what each "
                     "makes of a few test digits."))
        views.show_image_row([(_("filter {number} of {count}").format(number=index + 1, count=filters),
                               _signed(kernel[:, :, 0, index])) for index in range(shown)], size=48)
        for image, layers in zip(images, batch_layer_outputs(model, images[:DIGITS_LEARNED])):
            maps = next(entry.output for entry in layers if entry.kind == "Conv2D")
            views.show_image_row([(_("test digit"), image)] + [
                (_("channel {number} of {count}").format(number=index + 1, count=filters), _grey(maps[..., index]))
                for index in range(shown)], size=48)
        if filters > shown:
            st.caption(_("{count} more channels hidden.").format(count=filters - shown))
