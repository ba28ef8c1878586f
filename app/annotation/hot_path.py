"""The annotator's two requests per label (next, submit) on PostgreSQL, in one or two statements each.

Every label costs a ``next`` and a ``submit``, so these two decide the service's throughput. The general
code (``queue``, ``labeling``: ORM objects, a statement per step, BEGIN/COMMIT round trips) spends most
of a request building statements and objects. Here the common case is prebuilt statements on a pooled
async psycopg connection (``hot_connections``) in autocommit mode, each one atomic on its own:

- ``next``: ONE statement that reads the caller (API token), the project, their membership and their
  live leases, checks them, picks the item (the general pick: ``FOR UPDATE SKIP LOCKED`` on
  ``ix_items_pick``), takes its slot, inserts the lease and returns the prompt and candidates in display
  order. Projects with gold items take two: the read, then the gold or open pick (the draw needs the
  ratio first).
- ``submit``: (1) read the caller, their assignment, its item and the project's rubric; validate the
  answer; (2) ONE statement that marks the lease submitted *only if it is still leased*, advances the
  item's ``labels_done`` and inserts the label. Locks are taken assignment first, then item, as the
  general code and the lease reclaimer take them.

Anything else returns ``DELEGATE`` and the request goes to the FastAPI route (the general code, whose
rules and error messages are the only ones): no API token, a token to mark as used, not a member,
paused, archived, two leases held already, nothing left to pick while a lease
is still open, a retried or edited submit, an expired or skipped lease, an invalid answer, any database
error. A delegated request has written nothing. The invariants are the queue's (``app.annotation.queue``).
The PostgreSQL test pass sends every annotation test through here first; the SQLite pass never does.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Final, NamedTuple

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from app.annotation import queue
from app.annotation.labeling import normalise
from app.annotation.schemas import AssignmentRead, CandidateView, ItemView, LabelRead, LabelSubmit, PromptView
from app.annotation.states import AssignmentState
from app.deps import TOKEN_TOUCH_INTERVAL  # a token not marked used for this long: the general code marks it
from app.errors import AppError


class Outcome(Enum):
    DELEGATE = "delegate"
    """Not the common case: let the general code answer (nothing was written)."""


DELEGATE: Final = Outcome.DELEGATE


# The caller as ``app.deps`` resolves an API token, with everything ``next`` checks before picking.
_CALLER_AND_PROJECT = """
    SELECT users.id AS user_id, users.role AS global_role, api_tokens.last_used_at > %(touched_after)s AS fresh,
           projects.archived, projects.gold_ratio, projects.lease_seconds,
           project_members.role AS member_role, coalesce(project_members.paused, false) AS paused,
           (SELECT count(*) FROM assignments
             WHERE assignments.user_id = users.id AND assignments.project_id = projects.id
               AND assignments.state = 'leased' AND assignments.expires_at > %(now)s) AS live
      FROM api_tokens
      JOIN users ON users.id = api_tokens.user_id
      JOIN projects ON projects.id = %(project_id)s
      LEFT JOIN project_members ON project_members.project_id = projects.id AND project_members.user_id = users.id
     WHERE api_tokens.token_hash = %(token_hash)s AND api_tokens.revoked_at IS NULL AND users.is_active
"""

# The pick is the general code's ``repository.pick_statement`` (same predicate, order and index); the
# slot is taken (not for gold items, which have none) and the lease inserted in the same statement.
# Its commit does not wait for the WAL flush (``synchronous_commit`` off for this transaction only): a
# lease is a reservation, not data. If the server crashes within the ~0.6 s the flush can lag, the lease
# and its slot vanish together (the item is simply leased again); and a label's commit, which does wait,
# flushes every lease before it. Labels are never committed this way.
_PICK_AND_LEASE = """
    WITH pick AS (
        SELECT items.id FROM items
         WHERE items.project_id = %(project_id)s AND {where}
           AND (SELECT 1 FROM assignments
                 WHERE assignments.item_id = items.id AND assignments.user_id = %(user_id)s LIMIT 1) IS NULL
         ORDER BY {order}
         LIMIT 1
           FOR UPDATE SKIP LOCKED
    ), took AS (
        {take}
    ), lease AS (
        INSERT INTO assignments (project_id, item_id, user_id, is_gold, state, leased_at, expires_at)
        SELECT took.project_id, took.id, %(user_id)s, took.is_gold, 'leased', %(now)s, %(expires)s FROM took
        RETURNING assignments.id, assignments.item_id
    )
    SELECT lease.id, took.id, prompts.id, prompts.text, prompts.messages, candidates.id, candidates.text,
           set_config('synchronous_commit', 'off', true)
      FROM lease
      JOIN took ON took.id = lease.item_id
      JOIN prompts ON prompts.id = took.prompt_id
     CROSS JOIN LATERAL jsonb_array_elements_text(took.candidate_ids) WITH ORDINALITY AS shown(candidate_id, position)
      JOIN candidates ON candidates.id = shown.candidate_id::integer
     ORDER BY shown.position
"""
_PICK_OPEN = _PICK_AND_LEASE.format(
    where="items.open_slots > 0 AND NOT items.is_gold",
    order="items.priority DESC, items.id",
    take="UPDATE items SET open_slots = items.open_slots - 1 FROM pick WHERE items.id = pick.id "
    "RETURNING items.id, items.project_id, items.prompt_id, items.candidate_ids, items.is_gold",
)
_PICK_GOLD = _PICK_AND_LEASE.format(
    where="items.is_gold",
    order="items.id",
    take="SELECT items.id, items.project_id, items.prompt_id, items.candidate_ids, items.is_gold "
    "FROM items JOIN pick ON pick.id = items.id",
)

# ``next`` in ONE statement, for projects without gold items (most): the caller read above, the same checks
# as ``next_assignment`` makes in Python (a failed check picks nothing), then the open pick. The caller's
# row always comes back, so Python can tell why nothing was leased.
_AFTER_CALLER = """), allowed AS (
        SELECT caller.user_id, caller.lease_seconds FROM caller
         WHERE caller.fresh AND (caller.member_role IS NOT NULL OR caller.global_role = 'admin')
           AND NOT caller.paused AND NOT caller.archived AND caller.gold_ratio <= 0
           AND caller.live < %(max_open_leases)s
    ), pick AS (
        SELECT items.id FROM items
         WHERE items.project_id = %(project_id)s AND items.open_slots > 0 AND NOT items.is_gold
           AND EXISTS (SELECT 1 FROM allowed)
           AND (SELECT 1 FROM assignments
                 WHERE assignments.item_id = items.id AND assignments.user_id = (SELECT user_id FROM allowed)
                 LIMIT 1) IS NULL
         ORDER BY items.priority DESC, items.id
         LIMIT 1
           FOR UPDATE SKIP LOCKED
    ), took AS (
        UPDATE items SET open_slots = items.open_slots - 1 FROM pick WHERE items.id = pick.id
        RETURNING items.id, items.project_id, items.prompt_id, items.candidate_ids, items.is_gold
    ), lease AS (
        INSERT INTO assignments (project_id, item_id, user_id, is_gold, state, leased_at, expires_at)
        SELECT took.project_id, took.id, allowed.user_id, took.is_gold, 'leased', %(now)s,
               %(now)s + make_interval(secs => allowed.lease_seconds)
          FROM took, allowed
        RETURNING assignments.id, assignments.item_id
    )
    SELECT caller.user_id, caller.global_role, caller.fresh, caller.archived, caller.gold_ratio,
           caller.lease_seconds, caller.member_role, caller.paused, caller.live,
           leased.assignment_id, leased.item_id, leased.prompt_id, leased.prompt_text, leased.messages,
           leased.candidate_id, leased.candidate_text, set_config('synchronous_commit', 'off', true)
      FROM caller
      LEFT JOIN (
        SELECT lease.id AS assignment_id, took.id AS item_id, prompts.id AS prompt_id, prompts.text AS prompt_text,
               prompts.messages, candidates.id AS candidate_id, candidates.text AS candidate_text, shown.position
          FROM lease
          JOIN took ON took.id = lease.item_id
          JOIN prompts ON prompts.id = took.prompt_id
         CROSS JOIN LATERAL jsonb_array_elements_text(took.candidate_ids)
               WITH ORDINALITY AS shown(candidate_id, position)
          JOIN candidates ON candidates.id = shown.candidate_id::integer
      ) AS leased ON true
     ORDER BY leased.position
"""
_NEXT_IN_ONE = "WITH caller AS (" + _CALLER_AND_PROJECT + _AFTER_CALLER

_gold_ratios: dict[int, float] = {}
"""Each project's gold ratio as last read by this process: projects with gold take the two-step ``next``
(the gold draw needs the ratio before the pick). Refreshed by every ``next``, so a change costs at most
one request per process its old way."""

_CALLER_AND_ASSIGNMENT = """
    SELECT users.id, users.role, api_tokens.last_used_at > %(touched_after)s,
           assignments.state, assignments.item_id, assignments.project_id, project_members.role,
           items.candidate_ids, projects.task_kind, projects.criteria
      FROM api_tokens
      JOIN users ON users.id = api_tokens.user_id
      JOIN assignments ON assignments.id = %(assignment_id)s AND assignments.user_id = users.id
      JOIN items ON items.id = assignments.item_id
      JOIN projects ON projects.id = assignments.project_id
      LEFT JOIN project_members
             ON project_members.project_id = assignments.project_id AND project_members.user_id = users.id
     WHERE api_tokens.token_hash = %(token_hash)s AND api_tokens.revoked_at IS NULL AND users.is_active
"""

# Only a lease that is still a lease becomes a label: if it expired or was skipped since the read, the
# UPDATE matches nothing, nothing else happens, and the general code decides.
_STORE_LABEL = """
    WITH finished AS (
        UPDATE assignments SET state = 'submitted', finished_at = %(now)s
         WHERE assignments.id = %(assignment_id)s AND assignments.state = 'leased'
        RETURNING assignments.id, assignments.item_id, assignments.project_id, assignments.user_id,
                  assignments.is_gold
    ), counted AS (
        UPDATE items SET labels_done = items.labels_done + 1 FROM finished WHERE items.id = finished.item_id
    )
    INSERT INTO labels (project_id, item_id, assignment_id, user_id, is_gold, answer, flags, rationale,
                        rewrite, time_spent_ms, created_at, updated_at)
    SELECT finished.project_id, finished.item_id, finished.id, finished.user_id, finished.is_gold,
           %(answer)s, %(flags)s, %(rationale)s, %(rewrite)s, %(time_spent_ms)s, %(now)s, %(now)s
      FROM finished
    RETURNING labels.id
"""


def _may_annotate(global_role: str, token_fresh: bool | None, member_role: str | None) -> bool:
    return bool(token_fresh) and (member_role is not None or global_role == "admin")


async def next_assignment(
    pg: AsyncConnection[Any],
    token_hash: str,
    project_id: int,
    now: datetime,
    rng: random.Random | None = None,
) -> bytes | Outcome | None:
    """My next lease as the response body, None when nothing is left for me (204), or DELEGATE."""
    params = {
        "token_hash": token_hash,
        "project_id": project_id,
        "now": now,
        "touched_after": now - TOKEN_TOUCH_INTERVAL,
        "max_open_leases": queue.MAX_OPEN_LEASES,
    }
    if queue.reclaim_due(project_id):
        await pg.execute(queue.RECLAIM_POSTGRES, queue.reclaim_params(project_id, now))
    if _gold_ratios.get(project_id, 0.0) > 0:
        return await _next_in_two_steps(pg, params, rng)
    rows = await (await pg.execute(_NEXT_IN_ONE, params)).fetchall()
    if not rows:
        return DELEGATE  # 401 or 404
    caller = _Caller(*rows[0][:9])
    _gold_ratios[project_id] = caller.gold_ratio
    if rows[0][9] is not None:
        return _assignment_body([row[9:] for row in rows], project_id, now, caller.lease_seconds)
    if not caller.may_pick():
        return DELEGATE
    if caller.gold_ratio > 0:
        return await _next_in_two_steps(pg, params, rng)
    return DELEGATE if caller.live else None  # a lease still open is handed back by the general code


class _Caller(NamedTuple):
    user_id: int
    global_role: str
    fresh: bool | None
    archived: bool
    gold_ratio: float
    lease_seconds: int
    member_role: str | None
    paused: bool
    live: int

    def may_pick(self) -> bool:
        """The checks the general code makes before picking; False: let it answer (401/403/404, or a lease)."""
        allowed = _may_annotate(self.global_role, self.fresh, self.member_role)
        return allowed and not self.paused and not self.archived and self.live < queue.MAX_OPEN_LEASES


async def _next_in_two_steps(
    pg: AsyncConnection[Any], params: dict[str, Any], rng: random.Random | None
) -> bytes | Outcome | None:
    row = await (await pg.execute(_CALLER_AND_PROJECT, params)).fetchone()
    if row is None:
        return DELEGATE  # 401 or 404
    caller = _Caller(*row)
    project_id, now = params["project_id"], params["now"]
    _gold_ratios[project_id] = caller.gold_ratio
    if not caller.may_pick():
        return DELEGATE
    pick_params = {
        "project_id": project_id,
        "user_id": caller.user_id,
        "now": now,
        "expires": now + timedelta(seconds=caller.lease_seconds),
    }
    for statement in _pick_order(caller.gold_ratio, rng):
        rows = await (await pg.execute(statement, pick_params)).fetchall()
        if rows:
            return _assignment_body(rows, project_id, now, caller.lease_seconds)
    return DELEGATE if caller.live else None


def _pick_order(gold_ratio: float, rng: random.Random | None) -> tuple[str, ...]:
    if gold_ratio <= 0:
        return (_PICK_OPEN,)
    if (rng or random).random() < gold_ratio:
        return (_PICK_GOLD, _PICK_OPEN)
    return (_PICK_OPEN, _PICK_GOLD)


def _assignment_body(rows: Sequence[Any], project_id: int, now: datetime, lease_seconds: int) -> bytes:
    """The lease as ``AssignmentRead``, from rows (assignment, item, prompt, messages, candidate id, text)."""
    assignment_id, item_id, prompt_id, prompt_text, messages = rows[0][:5]
    view = AssignmentRead(
        id=assignment_id,
        project_id=project_id,
        state=AssignmentState.leased,
        leased_at=now,
        expires_at=now + timedelta(seconds=lease_seconds),
        item=ItemView(
            id=item_id,
            prompt=PromptView(id=prompt_id, text=prompt_text, messages=messages),
            candidates=[CandidateView(id=row[5], text=row[6]) for row in rows],
        ),
    )
    return view.model_dump_json().encode()


async def submit_label(
    pg: AsyncConnection[Any], token_hash: str, assignment_id: int, data: LabelSubmit, now: datetime
) -> bytes | Outcome:
    """Store my first label for a lease and return it as the 201 response body, or DELEGATE."""
    params = {"token_hash": token_hash, "assignment_id": assignment_id, "touched_after": now - TOKEN_TOUCH_INTERVAL}
    row = await (await pg.execute(_CALLER_AND_ASSIGNMENT, params)).fetchone()
    if row is None:
        return DELEGATE  # 401 or 404
    _user_id, global_role, token_fresh, state, item_id, project_id, member_role = row[:7]
    candidate_ids, task_kind, criteria = row[7:]
    if state != AssignmentState.leased or not _may_annotate(global_role, token_fresh, member_role):
        return DELEGATE
    try:
        answer = normalise(task_kind, criteria, candidate_ids, data)
    except AppError:
        return DELEGATE  # the general code words the 422
    cursor = await pg.execute(
        _STORE_LABEL,
        {
            "assignment_id": assignment_id,
            # As the ORM stores these JSON columns: a missing answer is JSON null.
            "answer": Jsonb(answer),
            "flags": Jsonb(data.flags),
            "rationale": data.rationale,
            "rewrite": data.rewrite,
            "time_spent_ms": data.time_spent_ms,
            "now": now,
        },
    )
    stored = await cursor.fetchone()
    if stored is None:
        return DELEGATE  # the lease expired or was skipped since the read
    label = LabelRead(
        id=stored[0],
        item_id=item_id,
        assignment_id=assignment_id,
        project_id=project_id,
        answer=answer,
        flags=data.flags,
        rationale=data.rationale,
        rewrite=data.rewrite,
        time_spent_ms=data.time_spent_ms,
        created_at=now,
        updated_at=now,
    )
    return label.model_dump_json().encode()
