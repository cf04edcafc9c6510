"""A plan as a Mermaid flowchart (for reports, terminals and docs); with step statuses,
each node is coloured by its status."""

from __future__ import annotations

from collections.abc import Mapping

from .model import ExecutionPlan

STATUS_STYLES = {
    "completed": "fill:#d4edda,stroke:#28a745",
    "running": "fill:#fff3cd,stroke:#ffc107",
    "failed": "fill:#f8d7da,stroke:#dc3545",
    "skipped": "fill:#e2e3e5,stroke:#6c757d",
    "cancelled": "fill:#e2e3e5,stroke:#343a40",
    "pending": "fill:#ffffff,stroke:#6c757d",
}


def _label(text: str) -> str:
    """Mermaid-safe label text (quotes, angle brackets and the like as entities)."""
    for char, entity in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"),
                         ("[", "#91;"), ("]", "#93;"), ("\n", " ")):
        text = text.replace(char, entity)
    return text[:80]


def to_mermaid(plan: ExecutionPlan, statuses: Mapping[str, str] | None = None) -> str:
    """`flowchart TD` with one node per step (id, kind and target) and one edge per
    dependency; node ids are positional, so any step id renders."""
    index = {step.id: i for i, step in enumerate(plan.steps)}
    lines = ["flowchart TD"]
    for i, step in enumerate(plan.steps):
        label = f"{_label(step.id)}<br/>{step.kind}: {_label(step.target)}"
        if step.requires_approval:
            label += "<br/>(approval)"
        lines.append(f'    s{i}["{label}"]')
    for i, step in enumerate(plan.steps):
        for dep in step.depends_on:
            if dep in index:
                lines.append(f"    s{index[dep]} --> s{i}")
    if statuses:
        shown = {statuses[s.id] for s in plan.steps if s.id in statuses}
        used = sorted(shown & set(STATUS_STYLES))
        for status in used:
            lines.append(f"    classDef {status} {STATUS_STYLES[status]}")
        for i, step in enumerate(plan.steps):
            if statuses.get(step.id) in STATUS_STYLES:
                lines.append(f"    class s{i} {statuses[step.id]}")
    return "\n".join(lines)
