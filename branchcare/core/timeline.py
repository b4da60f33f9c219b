"""Timeline registry: the extension point through which every app adds events to the client 360 page.

An app registers a *provider* once, in its ``AppConfig.ready()``::

    from branchcare.core import timeline

    def visit_events(*, client, viewer, start, end):
        for v in Visit.objects.filter(client=client, at__range=(start, end)):
            yield timeline.TimelineEvent(at=v.at, kind="visit", title="拜访", detail=v.topic, url=...)

    timeline.register("onsite.visits", visit_events)

The client page calls :func:`events_for_client`, which asks every provider for the events of one
client in a time window and merges them newest first. Providers must do a bounded number of queries
(one or two), never one per event. No app edits the client page's template to add its events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TimelineEvent:
    at: dt.datetime
    kind: str  # short machine name, e.g. "audit", "visit", "advice"
    title: str  # what happened, in the user's language
    detail: str = ""
    actor: str = ""
    url: str = ""
    icon: str = "bi-dot"
    extra: dict[str, Any] = field(default_factory=dict)


Provider = Callable[..., Iterable[TimelineEvent]]
_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Register (or replace) the provider called ``name``."""
    _providers[name] = provider


def unregister(name: str) -> None:
    _providers.pop(name, None)


def providers() -> dict[str, Provider]:
    return dict(_providers)


def events_for_client(
    *, client: Any, viewer: Any, start: dt.datetime, end: dt.datetime, limit: int = 200
) -> list[TimelineEvent]:
    """Every registered provider's events for ``client`` between ``start`` and ``end``, newest first."""
    events: list[TimelineEvent] = []
    for provider in _providers.values():
        events.extend(provider(client=client, viewer=viewer, start=start, end=end))
    events.sort(key=lambda e: e.at, reverse=True)
    return events[:limit]
