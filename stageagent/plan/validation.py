"""Validation before anything runs: every problem of a plan, each naming step and field.

`validate_plan(plan, catalog)` returns a list of `PlanIssue` (empty: the plan may run);
`parse_plan(data, catalog)` also turns pydantic's errors on raw JSON into issues, so an
LLM's broken plan gets one list of precise messages to repair. Checks: step limit,
duplicate ids, known tools/stages, params against the target's JSON schema (a whole-string
reference stands in for any type), `depends_on` ids exist, no cycles (the issue names the
cycle), references only to (transitive) dependencies, retries only on idempotent steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..exceptions import PlanValidationError
from .catalog import Catalog
from .model import ExecutionPlan, Step
from .references import REFERENCE, find_references, malformed_references

#: the absolute step limit (a plan's own `options.max_steps` may be lower)
MAX_STEPS = 10_000


@dataclass(frozen=True, slots=True)
class PlanIssue:
    step_id: str | None  # None: the plan as a whole
    field: str
    message: str

    def __str__(self) -> str:
        where = f"step {self.step_id!r}" if self.step_id is not None else "plan"
        return f"{where}, field {self.field!r}: {self.message}"


def validate_plan(plan: ExecutionPlan, catalog: Catalog | None = None) -> list[PlanIssue]:
    """Every problem of `plan` (no catalog: targets and params are not checked)."""
    issues: list[PlanIssue] = []
    limit = min(plan.options.max_steps, MAX_STEPS)
    if len(plan.steps) > limit:
        issues.append(PlanIssue(None, "steps", f"{len(plan.steps)} steps exceed the limit "
                                               f"of {limit} (options.max_steps)"))
    seen: set[str] = set()
    for index, step in enumerate(plan.steps):
        if step.id in seen:
            issues.append(PlanIssue(step.id, "id", f"duplicate step id (steps[{index}])"))
        seen.add(step.id)
    for step in plan.steps:
        issues.extend(_check_step(step, seen, catalog))
    issues.extend(_check_cycles(plan.steps))
    if not any(i.field == "depends_on" and "cycle" in i.message for i in issues):
        keys = catalog.stage_output_keys if catalog is not None else None
        issues.extend(_check_references(plan.steps, keys))
    return issues


def ensure_valid(plan: ExecutionPlan, catalog: Catalog | None = None) -> ExecutionPlan:
    """`plan`, or `PlanValidationError` listing every issue."""
    issues = validate_plan(plan, catalog)
    if issues:
        raise PlanValidationError(issues, plan_id=plan.id)
    return plan


def parse_plan(data: str | bytes | dict[str, Any],
               catalog: Catalog | None = None) -> tuple[ExecutionPlan | None, list[PlanIssue]]:
    """Parse and validate raw plan JSON (or a dict): `(plan, [])` or `(None|plan, issues)`."""
    try:
        if isinstance(data, (str, bytes)):
            plan = ExecutionPlan.model_validate_json(data)
        else:
            plan = ExecutionPlan.model_validate(data)
    except ValidationError as exc:
        raw = data if isinstance(data, dict) else _loads(data)
        return None, [_issue_from_pydantic(err, raw) for err in exc.errors()]
    return plan, validate_plan(plan, catalog)


def _loads(data: str | bytes) -> Any:
    import json

    try:
        return json.loads(data)
    except ValueError:
        return None


def _issue_from_pydantic(err: Any, raw: Any) -> PlanIssue:
    loc = list(err.get("loc", ()))
    step_id = None
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        step = raw.get("steps", [])[loc[1]] if isinstance(raw, dict) else None
        sid = step.get("id") if isinstance(step, dict) else None
        step_id = sid if isinstance(sid, str) else f"steps[{loc[1]}]"
        loc = loc[2:]
    field = ".".join(str(p) for p in loc) or "(plan)"
    return PlanIssue(step_id, field, err.get("msg", "invalid"))


def _check_step(step: Step, ids: set[str], catalog: Catalog | None) -> Iterable[PlanIssue]:
    for index, dep in enumerate(step.depends_on):
        if dep == step.id:
            yield PlanIssue(step.id, f"depends_on[{index}]", "a step cannot depend on itself")
        elif dep not in ids:
            yield PlanIssue(step.id, f"depends_on[{index}]", f"unknown step id {dep!r}")
    if step.retries and not step.idempotent:
        yield PlanIssue(step.id, "retries", f"{step.retries} retries on a step that is not "
                                            "idempotent (set idempotent=true or retries=0)")
    for field, text in malformed_references(step.params):
        yield PlanIssue(step.id, field, f"malformed reference {text!r} (expected "
                                        "${steps.<id>.output.<path>})")
    if catalog is not None:
        yield from _check_target(step, catalog)


def _check_target(step: Step, catalog: Catalog) -> Iterable[PlanIssue]:
    validator = catalog.validator(step.kind, step.target)
    if validator is None:
        names = sorted(catalog.tools if step.kind == "tool" else catalog.stages)
        yield PlanIssue(step.id, "target", f"unknown {step.kind} {step.target!r} "
                                           f"(known: {', '.join(names) or 'none'})")
        return
    for error in validator.iter_errors(step.params):
        if isinstance(error.instance, str) and REFERENCE.fullmatch(error.instance):
            continue  # a whole-string reference: its type is known only at execution time
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        yield PlanIssue(step.id, f"params{path}", error.message)


def _check_cycles(steps: list[Step]) -> list[PlanIssue]:
    """One issue per cycle found, naming it (`a -> b -> a`)."""
    deps = {s.id: [d for d in s.depends_on] for s in steps}
    color: dict[str, int] = {}  # 1: on the stack, 2: done
    issues: list[PlanIssue] = []
    for root in deps:
        if color.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        color[root] = 1
        while stack:
            node, index = stack[-1]
            children = deps.get(node, [])
            if index == len(children):
                stack.pop()
                path.pop()
                color[node] = 2
                continue
            stack[-1] = (node, index + 1)
            child = children[index]
            if child not in deps:
                continue
            if color.get(child) == 1:
                cycle = path[path.index(child):] + [child]
                issues.append(PlanIssue(node, "depends_on", "dependency cycle: "
                                        + " -> ".join(reversed(cycle))))
            elif not color.get(child):
                color[child] = 1
                stack.append((child, 0))
                path.append(child)
    return issues


def _check_references(steps: list[Step],
                      stage_keys: tuple[str, ...] | None) -> Iterable[PlanIssue]:
    refs = [(step, ref) for step in steps for ref in find_references(step.params)]
    if not refs:
        return
    index = {s.id: i for i, s in enumerate(steps)}
    masks = _ancestor_masks(steps, index)
    for step, ref in refs:
        if ref.step_id not in index:
            yield PlanIssue(step.id, ref.field, f"references unknown step {ref.step_id!r}")
        elif not masks[step.id] >> index[ref.step_id] & 1:
            yield PlanIssue(step.id, ref.field, f"references step {ref.step_id!r}, which "
                            "is not a (transitive) dependency: add it to depends_on")
        elif stage_keys and steps[index[ref.step_id]].kind == "stage" and ref.path \
                and ref.path[0] not in stage_keys:
            yield PlanIssue(step.id, ref.field, f"stage step {ref.step_id!r} has no output "
                            f"{ref.path[0]!r} (a stage's output has: {', '.join(stage_keys)})")


def _ancestor_masks(steps: list[Step], index: dict[str, int]) -> dict[str, int]:
    """Each step's (transitive) dependencies as a bit set over step positions, built in
    topological order (Kahn): linear in the edges, times a word per 64 steps."""
    children: dict[str, list[str]] = {s.id: [] for s in steps}
    waiting = {}
    for step in steps:
        deps = [d for d in step.depends_on if d in index]
        waiting[step.id] = len(deps)
        for dep in deps:
            children[dep].append(step.id)
    masks = dict.fromkeys(index, 0)
    ready = [sid for sid, n in waiting.items() if n == 0]
    while ready:
        sid = ready.pop()
        mine = masks[sid] | 1 << index[sid]
        for child in children[sid]:
            masks[child] |= mine
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return masks
