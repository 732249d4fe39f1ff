"""The doctor's remedy as a branch: when the fix is a setting a branch may change (the learning
rate, a penalty, early stopping), the run goes on with it from its last keyframe before the
trouble began, rather than starting again. Which keyframe, which change, and starting it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nnplay import branch
from nnplay.doctor import Diagnosis

if TYPE_CHECKING:  # the page imports this module, and runs loads torch
    from nnplay.runs import Run, RunManager


@dataclass(frozen=True)
class Offer:
    """A remedy offered as a branch: from which keyframe, with which edits, and its button."""

    step: int  # the keyframe the branch goes on from
    edits: dict[str, object]  # branch edits (branch.BRANCHABLE names)
    label: str  # "Branch from step 40 with the learning rate at 1"


def offer(found: Diagnosis, frames: Sequence[int]) -> Offer | None:
    """The branch that applies found's remedy from the last of frames (keyframe steps) at or
    before the trouble began; None when the remedy changes what a branch cannot (the layers),
    the trouble has no known start, or no keyframe precedes it."""
    edits = dict(found.remedy.changes)
    if found.since is None or not edits or not found.remedy.fix or \
            any(name not in branch.BRANCHABLE for name in edits):
        return None
    before = [int(s) for s in frames if s <= found.since]
    if not before:
        return None
    step = max(before)
    return Offer(step, edits, f"Branch from step {step:,} with {found.remedy.fix}")


def start(manager: RunManager, run_id: str, step: int, edits: Mapping[str, object],
          owner: str) -> Run:
    """Start the branch of run_id from its keyframe at step with edits made to the settings it
    trained with there, owned by owner; BranchError or LimitExceeded (a sentence) when it
    cannot start."""
    parent = manager.get(run_id)
    frame = parent.frame(step) if parent is not None else None
    if frame is None:
        raise branch.BranchError(f"The run keeps no state at step {step:,} any more; the "
                                 f"remedy can start as a fresh run instead.")
    spec = branch.branch_spec(branch.spec_at(parent.spec, frame["changes"]), edits)
    return manager.branch(run_id, step, owner, spec)
