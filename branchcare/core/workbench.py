"""Workbench registry: apps register card providers; each role's 工作台 shows the cards it gets.

A provider is ``provider(user) -> list[WorkbenchCard]`` and returns nothing for users it does not
concern. Like the timeline, no app edits the workbench template to add its cards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class WorkbenchCard:
    title: str
    value: Any = None
    unit: str = ""
    url: str = ""
    icon: str = "bi-card-checklist"
    tone: str = "primary"  # bootstrap contextual colour of the card's accent
    note: str = ""
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (label, value, url)
    order: int = 100


_providers: dict[str, Callable[[Any], list[WorkbenchCard]]] = {}


def register(name: str, provider: Callable[[Any], list[WorkbenchCard]]) -> None:
    _providers[name] = provider


def cards_for(user: Any) -> list[WorkbenchCard]:
    cards: list[WorkbenchCard] = []
    for provider in _providers.values():
        cards.extend(provider(user))
    return sorted(cards, key=lambda c: c.order)
