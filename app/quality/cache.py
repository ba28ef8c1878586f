"""Quality reports walk every labelled item of a project (seconds at 100k items), so a result is kept
per process until the project's labels, adjudications or gold items change.

The fingerprint is two aggregate queries: label count and latest change, adjudication count and
latest change, gold item count. Any submit, edit, adjudication or gold change moves it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annotation.models import Item, Label
from app.quality.models import Adjudication

T = TypeVar("T")
MAX_ENTRIES = 64

_entries: OrderedDict[Hashable, Any] = OrderedDict()
_lock = threading.Lock()


def fingerprint(session: Session, project_id: int) -> tuple[Any, ...]:
    labels = session.execute(
        select(func.count(), func.max(Label.updated_at)).where(Label.project_id == project_id)
    ).one()
    adjudications = session.execute(
        select(func.count(), func.max(Adjudication.updated_at)).where(Adjudication.project_id == project_id)
    ).one()
    gold = session.scalar(select(func.count()).select_from(Item).where(Item.project_id == project_id, Item.is_gold))
    return (project_id, *labels, *adjudications, gold)


def cached(session: Session, project_id: int, name: str, extra: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or the value computed for the same project state and arguments before."""
    key = (name, extra, fingerprint(session, project_id))
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            return _entries[key]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        _entries[key] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value
