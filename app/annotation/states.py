"""The assignment (lease) state machine."""

from enum import StrEnum


class AssignmentState(StrEnum):
    """Where one item-for-one-annotator lease stands. Terminal: submitted, skipped."""

    leased = "leased"
    """Given to the annotator and holding one of the item's slots until ``expires_at``."""
    submitted = "submitted"
    """Terminal. The annotator's label is stored; the slot became a done label."""
    skipped = "skipped"
    """Terminal. The annotator passed; the slot went back to the pool and they will not get the item again."""
    expired = "expired"
    """The lease ran out and its slot went back to the pool. A late submit is still accepted while the
    item has room (the slot is taken again); otherwise it is refused."""


TERMINAL_STATES = frozenset({AssignmentState.submitted, AssignmentState.skipped})
