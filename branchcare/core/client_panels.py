"""Client-panel registry: apps contribute cards to the client 360 page without editing its template.

A provider is ``provider(client, viewer) -> ClientPanel | None``; it returns ``None`` when it has
nothing to show or the viewer may not see it (it must check the viewer's capabilities itself).
The page renders each panel's ``template`` with ``panel`` (the ClientPanel) and ``c`` (the client)
in the context, in ``order``. Providers must be cheap: a fixed, small number of queries each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ClientPanel:
    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100
    column: str = "main"  # "main" (right, wide) or "side" (left, under the profile)


_providers: dict[str, Callable[[Any, Any], ClientPanel | None]] = {}


def register(name: str, provider: Callable[[Any, Any], ClientPanel | None]) -> None:
    """Register (or replace) the panel provider called ``name``."""
    _providers[name] = provider


def panels_for(client: Any, viewer: Any) -> list[ClientPanel]:
    """The panels every registered provider gives for ``client`` as seen by ``viewer``, in order."""
    panels = [p for provider in _providers.values() if (p := provider(client, viewer)) is not None]
    return sorted(panels, key=lambda p: p.order)
