"""Order events for the apps above commerce: a small, explicit registry of callbacks.

Commerce sits below sales in the layers (sales imports commerce, never the reverse), yet sales
must hear when an order that came from a quote is fulfilled or invoiced to move its deal along.
Signals are reserved for search indexing (DESIGN §3), and a sales-side poller would lag. So
commerce names its events here and calls whoever registered for them — sales registers in its
``AppConfig.ready`` — without knowing who they are.

Callbacks run after the commerce transaction commits (``transaction.on_commit``): a failing
listener can never undo a shipment or an invoice, and a rolled-back one is never announced.
Each callback receives ``event``, ``order_id`` and ``actor_id`` (ids, so it re-reads fresh rows).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

log = logging.getLogger(__name__)

ORDER_FULFILLED = "order.fulfilled"
ORDER_INVOICED = "order.invoiced"
EVENTS = (ORDER_FULFILLED, ORDER_INVOICED)

Callback = Callable[..., None]
_listeners: dict[str, list[Callback]] = {event: [] for event in EVENTS}


def order_event_listen(event: str, callback: Callback) -> None:
    """Call ``callback(event=..., order_id=..., actor_id=...)`` after each ``event`` commits. Idempotent."""
    if event not in _listeners:
        raise ValueError(f"Unknown order event {event!r}; known: {', '.join(EVENTS)}.")
    if callback not in _listeners[event]:
        _listeners[event].append(callback)


def order_event_emit(event: str, *, order_id: int, actor_id: int | None) -> None:
    """Announce ``event`` for the order once the current transaction commits."""
    for callback in list(_listeners[event]):
        transaction.on_commit(lambda cb=callback: _call(cb, event, order_id, actor_id))


def _call(callback: Callback, event: str, order_id: int, actor_id: int | None) -> None:
    try:
        callback(event=event, order_id=order_id, actor_id=actor_id)
    except Exception:  # a listener's failure is its own; the order is already written
        log.exception("order event listener %r failed for %s on order %s", callback, event, order_id)
