"""Facts about the three ways, for the notes and the comparison table.

Sources: Keras' own guides ("The Functional API": "When to use the functional API";
"Making new layers and models via subclassing") and what the generated code here shows.
"Look at intermediate layers": the Sequential guide's "Feature extraction with a Sequential model"
and the Functional guide's "Feature extraction" (`keras.Model(inputs, [layer.output for layer in
model.layers])`, possible because the graph of layers is static and can be inspected); the
Functional guide's "Functional API strengths" notes a subclassed model has no such graph: its
forward pass is Python code in `call()`.
"""

from __future__ import annotations

from kerasways.i18n import N_

WHEN_TO_USE = {
    "sequential": N_(
        "**Use it for a plain stack of layers**, one input, one output, each layer feeding the next. "
        "It is the shortest to write and the easiest to read, which is why beginners start here. "
        "It cannot express branches, skip connections, shared layers or several inputs/outputs. "
        "Keras knows the whole graph, so `summary()` shows every shape before training, and "
        "`model.save()` / `keras.models.load_model()` work with no extra code."
    ),
    "functional": N_(
        "**Use it for most real models.** You call layers on tensors, so the model is a graph: "
        "branches, skip connections, shared layers and several inputs or outputs are all possible. "
        "Keras checks that shapes fit while you build, can `summary()` and `plot_model()` the graph "
        "before it sees data, and saves and loads it with no extra code. Keras' own guide calls it the "
        "right default for most professional work."
    ),
    "subclassing": N_(
        "**Use it when the forward pass is ordinary Python**: loops, conditions, or research ideas "
        "the graph APIs cannot express. You create layers in `__init__` and write `call()` yourself. "
        "The price: Keras cannot see the graph until the model runs, so `summary()` shows `?` for some "
        "shapes, shape errors appear when `call()` runs rather than while you build, and saving a "
        "`.keras` file needs the class registered (`@keras.saving.register_keras_serializable`) and "
        "defined again before loading, plus `get_config()` when `__init__` takes arguments."
    ),
}

# Rows of the side-by-side comparison: (question, sequential, functional, subclassing).
# Every text is marked N_: translate it where it is shown.
COMPARISON = (
    (N_("Code for the reference network"), N_("shortest: a list of layers"),
     N_("short: one line per layer call"), N_("longest: layers in `__init__`, their order in `call()`")),
    (N_("Several inputs or outputs"), N_("no"), N_("yes"), N_("yes")),
    (N_("Branches, skip connections, shared layers"), N_("no"), N_("yes"), N_("yes (written in `call()`)")),
    (N_("Summary and plot before seeing data"), N_("yes"), N_("yes"),
     N_("only after a first call; some shapes show `?`")),
    (N_("When shape errors show up"), N_("while building"), N_("while building"), N_("when `call()` first runs")),
    (N_("Save and load (.keras)"), N_("built in"), N_("built in"),
     N_("the class must be registered and defined before loading; `get_config()` for constructor arguments")),
    (N_("Look at intermediate layers"), N_("yes: one new Model reads every layer's output"),
     N_("yes: one new Model reads every layer's output"),
     N_("no graph to read: call the layers one by one, or return the values from `call()`")),
    (N_("Who typically uses it"), N_("beginners, quick experiments"), N_("most professional work"),
     N_("researchers, unusual forward passes")),
)
