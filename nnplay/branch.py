"""Branches: a new run that goes on from a past step of another (its keyframe) with some
settings changed. Which settings a branch may change, the spec it trains with, and how its
exported script replays the parent up to that step. No torch import."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nnplay.spec import CHANGEABLE, ExperimentSpec, SettingChange, SpecError

# What a branch may change: the optimiser and its settings, regularisation, dropout's p (every
# Dropout layer's), batch size and length; the layers and data stay (the weights fit them).
BRANCHABLE = (
    "optimizer.name", "optimizer.lr", "optimizer.momentum", "optimizer.nesterov",
    "optimizer.beta1", "optimizer.beta2", "optimizer.weight_decay", "train.l1", "train.l2",
    "dropout", "train.batch_size", "train.epochs", "train.max_steps", "train.patience",
)  # fmt: skip
FIXED = ("A branch goes on with its parent's weights, so its layers and data stay as they were "
         "(change {what} in a new run instead).")


class BranchError(SpecError):
    """A branch that cannot be made; the message is one sentence for the page."""


def spec_at(spec: ExperimentSpec, changes: Sequence[Mapping | SettingChange]) -> ExperimentSpec:
    """The spec a run trained with after changes were made: a keyframe's "changes", those it
    made itself since it started (a branch's spec already holds those its parent made)."""
    values = {}
    for c in changes:
        c = c if isinstance(c, SettingChange) else SettingChange.model_validate(c)
        values[c.setting] = c.value
    return spec.with_changes(values) if values else spec


def dropout_p(spec: ExperimentSpec) -> float | None:
    """The p of the spec's first Dropout layer (None: it has none)."""
    return next((layer.p for layer in spec.model.layers if layer.type == "dropout"), None)


def edits_between(start: ExperimentSpec, wanted: ExperimentSpec) -> dict[str, object]:
    """The settings of wanted that differ from start, as branch edits (dotted names); a
    difference a branch cannot make raises BranchError naming it."""
    a, b = start.model_dump(), wanted.model_dump()
    edits: dict[str, object] = {}
    for section in ("optimizer", "train"):
        for key, value in b[section].items():
            if a[section][key] != value and key not in ("device", "eval_every"):
                edits[f"{section}.{key}"] = value
    strip = [{k: v for k, v in layer.items() if k != "p"} for layer in b["model"]["layers"]]
    if strip != [{k: v for k, v in layer.items() if k != "p"} for layer in a["model"]["layers"]] \
            or {k: v for k, v in a["model"].items() if k != "layers"} != \
            {k: v for k, v in b["model"].items() if k != "layers"}:  # fmt: skip
        raise BranchError(FIXED.format(what="the layers"))
    if a["data"] != b["data"] or a["loss"] != b["loss"] or a["seed"] != b["seed"]:
        what = "the data" if a["data"] != b["data"] else \
            "the loss" if a["loss"] != b["loss"] else "the seed"  # fmt: skip
        raise BranchError(FIXED.format(what=what))
    if dropout_p(wanted) != dropout_p(start):
        edits["dropout"] = dropout_p(wanted)
    return edits


def branch_spec(start: ExperimentSpec, edits: Mapping[str, object]) -> ExperimentSpec:
    """start (the parent's spec at the branch's step) with edits made; BranchError (a
    sentence) for a setting a branch cannot change or a value it cannot take."""
    for name in edits:
        if name not in BRANCHABLE:
            what = "the data" if name.startswith("data") else "the layers" if \
                name.startswith("model") else f"'{name}'"  # fmt: skip
            raise BranchError(FIXED.format(what=what))
    values = {k: v for k, v in edits.items() if k != "dropout"}
    try:
        spec = start.with_changes(values) if values else start
        if "dropout" in edits:
            if dropout_p(spec) is None:
                raise BranchError("This network has no Dropout layer, so a branch cannot "
                                  "change dropout's p.")
            tree = spec.model_dump()
            for layer in tree["model"]["layers"]:
                if layer["type"] == "dropout":
                    layer["p"] = edits["dropout"]
            spec = ExperimentSpec.model_validate(tree)
    except (SpecError, ValueError) as e:
        if isinstance(e, BranchError):
            raise
        raise BranchError(f"The branch cannot take these settings: {e}") from None
    return spec


def origin(parent_id: str, step: int, parent_spec: ExperimentSpec,
           changes: Sequence[Mapping], curve: Mapping[str, Sequence[float]]) -> dict:
    """What a branch keeps of its parent (so it outlives it): id, step, spec, the changes made
    up to the step, and the parent's step losses up to it (the loss chart draws them)."""
    return {"parent": parent_id, "step": int(step), "spec": parent_spec.to_json(),
            "changes": [dict(c) for c in changes],
            "curve": {"step": [int(s) for s in curve["step"]],
                      "loss": [float(v) for v in curve["loss"]]}}  # fmt: skip


Switch = tuple[int, ExperimentSpec]  # (step, the spec a run goes on with after that step)


def exported(spec: ExperimentSpec, changes: Sequence[SettingChange], origin: Mapping | None
             ) -> tuple[ExperimentSpec, list[SettingChange], list[Switch]]:
    """(spec, changes, switches) an exported script of a run is written from: a branch replays
    its parent up to its step, then makes its own settings (codegen.script's switches). When
    the branch changed only settings a script can change between two steps, it replays with
    changes alone (replay) and has no switch."""
    if not origin:
        return spec, list(changes), []
    try:
        base, before = replay(spec, origin)
        return base, before + list(changes), []
    except BranchError:
        base, before, switches = stages(spec, origin)
        return base, before + list(changes), switches


def made(origin: Mapping) -> list[SettingChange]:
    """The settings the parent itself changed while it trained, up to the branch's step (an
    origin recorded before a branch's own changes were told apart also lists its parent's)."""
    since = int(origin["origin"]["step"]) if origin.get("origin") else -1
    return [c for c in map(SettingChange.model_validate, origin["changes"]) if c.step > since]


def stages(spec: ExperimentSpec, origin: Mapping
           ) -> tuple[ExperimentSpec, list[SettingChange], list[Switch]]:
    """(first spec, changes, switches) that reproduce a branch from the first run of its line:
    its spec, the settings changed while each run of the line trained (up to where the next
    branched off), and at each branch's step the spec that branch went on with."""
    parent = ExperimentSpec.from_json(origin["spec"])
    step = int(origin["step"])
    before = made(origin)
    if origin.get("origin"):  # the parent is a branch too: its own line first
        base, script, switches = stages(parent, origin["origin"])
        script += before
    else:
        base, script, switches = parent, before, []
    return base, script, switches + [(step, spec)]


def replay(spec: ExperimentSpec, origin: Mapping) -> tuple[ExperimentSpec, list[SettingChange]]:
    """(spec, changes) for an exported script that reproduces a branch by replaying its parent
    up to the branch's step and then changing settings; BranchError when a changed setting is
    one a script cannot change between two steps (the optimiser itself, batch size, dropout,
    patience, betas): exported then writes the branch's switch (stages)."""
    parent = ExperimentSpec.from_json(origin["spec"])
    step = int(origin["step"])
    before = made(origin)
    edits = edits_between(spec_at(parent, before), spec)
    later = {k: v for k, v in edits.items() if k not in ("train.epochs", "train.max_steps")}
    odd = [k for k in later if k not in CHANGEABLE]
    if odd:
        raise BranchError(f"The exported script replays the parent run and changes settings "
                          f"between two steps; it cannot change {', '.join(odd)} there, so it "
                          f"reproduces only branches that change the learning rate, momentum, "
                          f"weight decay, L1/L2 or the length.")
    script = before
    if origin.get("origin"):  # the parent is a branch too: replay its parent first
        parent, script = replay(parent, origin["origin"])
        script += before
    length = {k: spec.train.model_dump()[k.split(".")[1]] for k in ("train.epochs",
                                                                     "train.max_steps")}
    return parent.with_changes(length), script + [
        SettingChange(step=step + 1, setting=k, value=float(v)) for k, v in later.items()]
