"""Non-interrupting boundary events (decision 0159): the branch a reminder timer starts runs beside the
step it hangs on, and both must end before the dossier does.

Such a side branch ends at an end event of its own ("reminded"), but that is not how the dossier ends:
its outcome is the end event the main path reached. SpiffWorkflow lists completed tasks in tree order,
where a boundary event's branch comes after the activity's, whatever the order they finished in; so
the end events reached through a non-interrupting boundary event are set aside when another end was
reached, and the outcome does not depend on whether the officer or the reminder finished last.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.task import Task


def on_side_branch(task: Task) -> bool:
    """Whether the task was reached through a non-interrupting boundary event (of its own workflow)."""
    up = task.parent
    while up is not None:
        spec = up.task_spec
        if isinstance(spec, BoundaryEvent) and not spec.cancel_activity:
            return True
        up = up.parent
    return False


def main_end(ends: list[Task]) -> Task | None:
    """The end event that gives the outcome, among the completed ones of the process (in tree order)."""
    main = [t for t in ends if not on_side_branch(t)]
    return (main or ends)[-1] if ends else None
