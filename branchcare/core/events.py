"""Domain events: one app announces that something happened, others react, without importing each other.

``publish(name, **payload)`` calls every handler subscribed to ``name`` synchronously, inside the
publisher's transaction: a handler that raises rolls the whole write back, so a reaction (a return
visit for a new account, a prospect's conversion) is never half-recorded. Handlers must be quick and
bulk-friendly (payloads carry id lists, not objects, where many records are concerned).

Events published today (payload keys):

- ``clients.created``: ``client_ids`` (list[int]), ``branch_id``, ``actor``, ``source`` ("form", "api",
  "import").
- ``clients.risk_level_changed``: ``changes`` (list of (client_id, old, new)), ``actor``.
- Service apps document their own events in their ``events`` sections (e.g. ``premium.enrolled``,
  ``offsite.complaint_closed``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

_handlers: dict[str, dict[str, Callable[..., None]]] = defaultdict(dict)


def subscribe(name: str, handler: Callable[..., None], *, key: str | None = None) -> None:
    """Subscribe ``handler(**payload)`` to event ``name``; ``key`` (default: the handler's qualified
    name) makes re-registration on reload replace rather than duplicate."""
    _handlers[name][key or f"{handler.__module__}.{handler.__qualname__}"] = handler


def publish(name: str, **payload: Any) -> None:
    """Call every handler of ``name`` with ``payload``, in subscription order, in the caller's transaction."""
    for handler in list(_handlers.get(name, {}).values()):
        handler(**payload)


def handlers_for(name: str) -> list[Callable[..., None]]:
    return list(_handlers.get(name, {}).values())
