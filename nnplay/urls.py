"""Shareable links: an ExperimentSpec as flat URL query parameters, and back.

One generic loop over the spec's fields names every setting by its dotted path
(`data.name=spiral`, `optimizer.lr=0.03`); the model's fields drop the `model.` prefix, and the
layer stack is one compact value (`layers=linear:16,tanh,dropout:0.2`). A link names only what
differs from its base: the defaults, or the preset in `preset=NAME`. Values from a URL are
untrusted: parse() reports each bad one in one line, keeps the base's value, and never raises.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, TypeAdapter, ValidationError

from nnplay import drawn, presets
from nnplay.spec import (
    ACTIVATIONS,
    DATASETS,
    ExperimentSpec,
    Layer,
    SpecError,
    explain,
    flatten,
    parse_inputs,
    put,
)

EXTRAS = ("preset", "hide", "run")  # not settings: passed back to the page as they came
MAX_LAYERS_TEXT = 4000
SHOWN = 40  # characters of a bad value quoted in a warning


@dataclass(frozen=True)
class Setting:
    """One URL parameter: its name, where it lives in the spec tree, and how it reads and writes."""

    key: str
    path: tuple[str, ...]
    decode: Callable[[str], object]  # raises ValueError or ValidationError on a bad value
    encode: Callable[[object], str]
    optional: tuple[str, ...] = ()  # path of the optional sub-model this setting lives in


# --- values -------------------------------------------------------------------------------------


def _encode(value: object) -> str:
    """A scalar as URL text: true/false, 0.03, 16, spiral."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def _leaf(field) -> Callable[[str], object]:
    """A validator for one field's text: its type and bounds; Literal names in any case."""
    kind = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
    adapter = TypeAdapter(kind)
    options = typing.get_args(field.annotation) if typing.get_origin(field.annotation) is \
        Literal else ()  # fmt: skip
    by_lower = {str(o).lower(): o for o in options}

    numeric = field.annotation in (int, float)

    def decode(text: str) -> object:
        if numeric and "_" in text:  # Python reads 0_1 as 1: a typo must not become a value
            raise ValueError("write the number without underscores")
        return adapter.validate_python(by_lower.get(text.strip().lower(), text))

    return decode


# --- the layer stack as one value ---------------------------------------------------------------

_LAYER_CLASSES = typing.get_args(typing.get_args(Layer)[0])  # Linear, Activation, Dropout
_LAYER_TYPES: dict[str, str] = {  # layer type -> the name of its one setting
    cls.model_fields["type"].default: next(n for n in cls.model_fields if n != "type")
    for cls in _LAYER_CLASSES
}
_ACTIVATION_NAMES: dict[str, str] = {name.lower(): name for name in ACTIVATIONS}
_LAYER = TypeAdapter(Layer)


def encode_layers(layers: tuple) -> str:
    """linear:16,tanh,dropout:0.2 (an activation by its name alone); 'none' for no layers."""
    items = []
    for layer in layers:
        value = getattr(layer, _LAYER_TYPES[layer.type])
        items.append(value.lower() if layer.type == "activation" else
                     f"{layer.type}:{_encode(value)}")  # fmt: skip
    return ",".join(items) or "none"


def decode_layers(text: str) -> tuple:
    """The inverse of encode_layers; ValueError naming the first item that is not a layer."""
    text = text.strip()
    if text.lower() in ("", "none"):
        return ()
    if len(text) > MAX_LAYERS_TEXT:
        raise ValueError("the layer list is too long")
    items = text.split(",")
    if len(items) > 64:
        raise ValueError(f"at most 64 layers, not {len(items)}")
    layers = []
    for i, item in enumerate(items, start=1):
        kind, sep, value = (s.strip() for s in item.partition(":"))
        kind = kind.lower()
        if not sep and kind in _ACTIVATION_NAMES:
            kind, value = "activation", kind
        if kind not in _LAYER_TYPES:
            raise ValueError(f"layer {i} '{_show(item)}' is not linear:N, dropout:P or an "
                             "activation name")  # fmt: skip
        raw: dict[str, object] = {"type": kind}
        if value:
            raw[_LAYER_TYPES[kind]] = _ACTIVATION_NAMES.get(value.lower(), value) \
                if kind == "activation" else value  # fmt: skip
        try:
            layers.append(_LAYER.validate_python(raw))
        except ValidationError as e:
            raise ValueError(f"layer {i} '{_show(item)}': {_reason(e)}") from None
    return tuple(layers)


# --- the settings table, from the spec's fields -------------------------------------------------


def _optional_model(annotation) -> type[BaseModel] | None:
    """M for an annotation `M | None` where M is a pydantic model, else None."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return None
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return args[0]
    return None


def _walk(model: type[BaseModel], path: tuple[str, ...], prefix: str,
          optional: tuple[str, ...] = ()) -> Iterator[Setting]:  # fmt: skip
    for name, field in model.model_fields.items():
        here, key = (*path, name), f"{prefix}{name}"
        sub = _optional_model(field.annotation)
        if here == ("model", "layers"):
            yield Setting("layers", here, decode_layers, encode_layers, optional)
        elif here == ("data", "inputs"):  # one comma-separated value: x1,x2,x1^2
            yield Setting(key, here, parse_inputs, ",".join, optional)
        elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            inner = "" if here == ("model",) else f"{key}."
            yield from _walk(field.annotation, here, inner, optional)
        elif sub is not None:
            yield Setting(key, here, _absent, lambda v: "none", optional)
            yield from _walk(sub, here, f"{key}.", here)
        else:
            yield Setting(key, here, _leaf(field), _encode, optional)


def _absent(text: str) -> None:
    """The value that removes an optional part (e.g. recurrent=none)."""
    if text.strip().lower() != "none":
        raise ValueError("must be 'none' (or set its parts, e.g. recurrent.cell=LSTM)")
    return None


SETTINGS: dict[str, Setting] = {s.key: s for s in _walk(ExperimentSpec, (), "")}


# --- spec -> params ------------------------------------------------------------------------------


def _flat(spec: ExperimentSpec) -> dict[str, str]:
    """Every setting of spec as URL text (the parts of an absent optional model left out)."""
    values = flatten(spec.model_dump())  # a present optional model is said by its parts
    out = {}
    for key, s in SETTINGS.items():
        path = ".".join(s.path)
        if path in values:
            value = spec.model.layers if key == "layers" else values[path]
            out[key] = "none" if s.decode is _absent else s.encode(value)
    return out


def to_params(spec: ExperimentSpec, preset: str | None = None) -> dict[str, str]:
    """The URL parameters for spec: what differs from the preset's spec (or the defaults)."""
    base = presets.load(preset).spec if preset else ExperimentSpec()
    mine, theirs = _flat(spec), _flat(base)
    params = {"preset": preset} if preset else {}
    params |= {k: v for k, v in mine.items() if theirs.get(k) != v}
    return params


def query(spec: ExperimentSpec, preset: str | None = None,
          extras: Mapping[str, str] | None = None) -> str:  # fmt: skip
    """spec as a query string (without '?'), readable: layers=linear:16,tanh."""
    params = to_params(spec, preset) | {k: v for k, v in (extras or {}).items() if v}
    return urlencode(params, safe=":,")


# --- params -> spec -------------------------------------------------------------------------------


def _show(text: str) -> str:
    """A value as quoted in a one-line warning: whitespace collapsed, long values cut."""
    text = " ".join(str(text).split())
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _reason(error: Exception) -> str:
    """Why a value was refused, as a short phrase."""
    if isinstance(error, ValidationError):
        msg = error.errors()[0]["msg"].removeprefix("Value error, ")
        return msg.replace("Input should be", "must be")
    return str(error)


def _apply(base: dict, changes: dict[str, object]) -> dict:
    """A copy of the base tree with changes (setting key -> decoded value) written in; a part of
    an absent optional model makes it, its other parts taking their defaults."""
    tree = copy.deepcopy(base)
    for key, value in changes.items():
        put(tree, ".".join(SETTINGS[key].path),
            [x.model_dump() for x in value] if key == "layers" else value)
    return tree


def _first_error(tree: dict) -> dict | None:
    try:
        ExperimentSpec.model_validate(tree)
        return None
    except ValidationError as e:
        return e.errors()[0]


def _loc(error: dict) -> tuple[str, ...]:
    """The error's location up to its first list index: ("data",), ("optimizer",), ()."""
    out = []
    for part in error["loc"]:
        if not isinstance(part, str):
            break
        out.append(part)
    return tuple(out)


def _shown_value(base: ExperimentSpec, key: str) -> str:
    return _show(_flat(base).get(key, "none"))


def parse(params: Mapping[str, object]) -> tuple[ExperimentSpec, list[str], dict[str, object]]:
    """(spec, warnings, extras) from URL parameters; never raises.

    Every unknown name or bad value is reported in one line and replaced by the base's value
    (the preset's, or the default). extras holds preset (when valid), hide (a tuple of names)
    and run (as given).
    """
    warnings: list[str] = []
    extras: dict[str, object] = {}
    values: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else ""
        values[str(key)] = str(value)

    base = ExperimentSpec()
    name = values.get("preset", "").strip()
    if name:
        try:
            base = presets.load(name).spec
            extras["preset"] = name
        except SpecError as e:
            warnings.append(f"Link: {_show_sentence(str(e))}")
    if "hide" in values:
        extras["hide"] = tuple(h.strip() for h in values["hide"].split(",")[:100] if h.strip())
    if "run" in values:
        extras["run"] = values["run"]

    unknown = [k for k in values if k not in SETTINGS and k not in EXTRAS]
    if unknown:
        shown = ", ".join(_show(k) for k in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        warnings.append(f"Link: ignored unknown setting{'s' * (len(unknown) > 1)} "
                        f"{shown}{more}.")  # fmt: skip

    drawing = _drawing(values, base)
    if drawing is not None:
        warnings.append(drawing)

    changes: dict[str, object] = {}
    for key in SETTINGS:
        if key not in values:
            continue
        try:
            changes[key] = SETTINGS[key].decode(values[key])
        except (ValueError, ValidationError) as e:
            warnings.append(f"Link: {key}={_show(values[key])} is not valid ({_reason(e)}); "
                            f"using {_shown_value(base, key)}.")  # fmt: skip

    tree = base.model_dump()
    for _ in range(len(changes) + 1):
        error = _first_error(_apply(tree, changes))
        if error is None:
            break
        culprit = _culprit(tree, changes, error)
        warnings.append(f"Link: {culprit}={_show(values[culprit])} does not fit "
                        f"({_reason_of(error)}); using {_shown_value(base, culprit)}.")  # fmt: skip
        del changes[culprit]
    try:
        spec = ExperimentSpec.model_validate(_apply(tree, changes))
    except ValidationError as e:  # cannot happen: the loop above leaves a valid tree
        warnings.append(f"Link: ignored ({explain(e)}).")
        spec = base
    return spec, warnings, extras


def _drawing(values: dict[str, str], base: ExperimentSpec) -> str | None:
    """Why the link's drawing cannot be used, in one sentence (None when it can, or when there
    is none). A bad drawing is taken out of values with the dataset that chose it, so the page
    shows the base's data. Its length is checked before any of it is read."""
    text = values.get("data.points")
    chosen = values.get("data.name", "").strip().lower() == "draw"
    if text is None and not chosen:
        return None
    if not text:
        reason = "has no points (data.points is empty)" if chosen else None
    elif drawn.oversize(text):
        reason = f"is too large: {drawn.oversize(text)}"
    else:
        try:
            drawn.decode(text)
        except ValueError:
            reason = "is not readable (two letters or digits a point)"
        else:
            problem = drawn.problem(text, _link_classes(values)) if chosen else None
            reason = problem and f"cannot train: {problem}"
    if reason is None:
        return None
    values.pop("data.points", None)
    if not chosen:
        return f"Link: the drawing in this link {reason}; it is left out."
    values.pop("data.name")
    label = DATASETS[base.data.name].label
    return f"Link: the drawing in this link {reason}; the page shows {label} instead."


def _link_classes(values: Mapping[str, str]) -> int:
    """The classes a link asks of a drawing (its own default when none or not a number)."""
    try:
        return int(values.get("data.classes", "0")) or DATASETS["draw"].classes
    except ValueError:
        return DATASETS["draw"].classes


def _show_sentence(text: str) -> str:
    """A sentence cut to one short line."""
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:199] + "…"


def _reason_of(error: dict) -> str:
    msg = error["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    return _show_sentence(msg)


def _culprit(tree: dict, changes: dict[str, object], error: dict) -> str:
    """The changed setting to give up so that `error` goes away: the last one (in the table's
    order) under the error's location whose removal clears the error there."""
    loc = _loc(error)
    under = [k for k in changes if SETTINGS[k].path[: len(loc)] == loc] or list(changes)
    for key in reversed(under):
        after = _first_error(_apply(tree, {k: v for k, v in changes.items() if k != key}))
        if after is None or after["loc"] != error["loc"]:
            return key
    return under[-1]
