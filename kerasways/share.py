"""Share links: the way, the network, the training settings and the seed as URL query parameters.

A link is read field by field: whatever is malformed or out of range falls back to the
default and is listed in plain words, so a hand-edited link still opens.

Example: ?way=functional&layers=dense-128-relu_dropout-0.2&opt=adam&lr=0.001&seed=42&epochs=5
"""

from __future__ import annotations

from collections.abc import Mapping

from kerasways.spec import STYLES, USED_FIELDS, LayerSpec, ModelSpec, TrainConfig

LAYER_SEPARATOR = "_"
FIELD_SEPARATOR = "-"
# "collection" (the class's drawings) is read by the pages (app_pages/session.py), not here.
KNOWN_KEYS = ("way", "layers", "skip", "opt", "lr", "seed", "epochs", "batch", "digits", "val", "collection")


def _layer_text(layer: LayerSpec) -> str:
    values = [f"{getattr(layer, name):g}" if name == "rate" else str(getattr(layer, name))
              for name in USED_FIELDS[layer.kind]]
    return FIELD_SEPARATOR.join([layer.kind, *values])


def _parse_layer(text: str, index: int) -> LayerSpec:
    kind, *values = text.split(FIELD_SEPARATOR)
    where = f"layers[{index}]"
    shapes = USED_FIELDS
    if kind not in shapes:
        raise ValueError(f"{where}.kind: expected one of {', '.join(shapes)}; received {kind!r}")
    names = shapes[kind]
    if len(values) != len(names):
        raise ValueError(f"{where}: expected {kind}{''.join('-' + n for n in names)}; received {text!r}")
    fields = {}
    for name, value in zip(names, values):
        try:
            fields[name] = value if name == "activation" else (float(value) if name == "rate" else int(value))
        except ValueError:
            raise ValueError(f"{where}.{name}: expected a number; received {value!r}") from None
    layer = LayerSpec(kind=kind, **fields)
    layer.validate(where)
    return layer


def to_query(spec: ModelSpec, style: str, config: TrainConfig) -> dict[str, str]:
    """Query parameters that reopen exactly this set-up.

    Args:
        spec, style, config: the current choices.

    Returns:
        A dict of short keys to strings, for `st.query_params`.
    """
    return {
        "way": style,
        "layers": LAYER_SEPARATOR.join(_layer_text(layer) for layer in spec.layers),
        "skip": "1" if spec.topology == "skip" else "0",
        "opt": spec.optimizer,
        "lr": repr(float(spec.learning_rate)),
        "seed": str(spec.seed),
        "epochs": str(config.epochs),
        "batch": str(config.batch_size),
        "digits": str(config.train_size),
        "val": f"{config.validation_split:g}",
    }


def from_query(params: Mapping[str, str]) -> tuple[ModelSpec, str, TrainConfig, list[str]]:
    """Read a share link; every bad field falls back to its default and is reported.

    Args:
        params: query parameters (missing keys keep the defaults silently).

    Returns:
        (spec, style, config, notes): notes are sentences naming what was ignored and why.
    """
    notes: list[str] = []
    spec, style, config = ModelSpec(), STYLES[0], TrainConfig()
    unknown = sorted(set(params) - set(KNOWN_KEYS))
    if unknown:
        notes.append(f"Unknown link parameters ignored: {', '.join(unknown)}.")

    if "way" in params:
        if params["way"] in STYLES:
            style = params["way"]
        else:
            notes.append(f"way: expected one of {', '.join(STYLES)}; received {params['way']!r}.")

    if "layers" in params:
        try:
            text = params["layers"]
            layers = tuple(_parse_layer(part, index) for index, part in enumerate(text.split(LAYER_SEPARATOR))
                           if part) if text else ()
            spec = spec.replace(layers=layers)
        except (ValueError, TypeError) as error:
            notes.append(f"Layers ignored ({error}); the reference network is used.")

    def apply(key: str, field: str, convert, target: str) -> None:
        nonlocal spec, config
        if key not in params:
            return
        try:
            value = convert(params[key])
            if target == "spec":
                spec = spec.replace(**{field: value})
            else:
                config = config.replace(**{field: value})
        except (ValueError, TypeError) as error:
            notes.append(f"{key} ignored: {error}.")

    apply("skip", "topology", lambda v: {"1": "skip", "0": "chain"}[v] if v in ("0", "1")
          else _bad("skip", "0 or 1", v), "spec")
    apply("opt", "optimizer", str, "spec")
    apply("lr", "learning_rate", float, "spec")
    apply("seed", "seed", int, "spec")
    apply("epochs", "epochs", int, "config")
    apply("batch", "batch_size", int, "config")
    apply("digits", "train_size", int, "config")
    apply("val", "validation_split", float, "config")
    if style == "sequential" and spec.topology == "skip":
        style = "functional"
        notes.append("way: Sequential cannot express a skip connection; the Functional API is shown.")
    return spec, style, config, notes


def _bad(field: str, expected: str, received: str):
    raise ValueError(f"{field}: expected {expected}; received {received!r}")
