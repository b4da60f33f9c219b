"""Workflow engine: a service workflow declared as data, and the one function that moves work along it.

A workflow names its states and transitions; each transition says from which states it may run,
where it leads, which capability the actor needs, what it does to the SLA clock, and whether a
note (e.g. the reason for sending work back) is required::

    CONSULTATION = Workflow(
        name="consultation",
        states={"draft": _("草稿"), "submitted": _("待分析"), ...},
        initial="draft",
        transitions=[
            Transition("submit", {"draft"}, "submitted", capability=Cap.ONSITE_SERVE, sla=SlaEffect.START),
            Transition("return", {"advice_ready"}, "in_analysis", capability=..., requires_note=True),
            ...
        ],
    )

:func:`transition` performs one step: it locks the row, checks the source state, the capability and
any object-specific guard, stamps the new state, writes a :class:`TransitionLog` row (who, when,
from, to, who held the work until now) and an audit record, and queues registered hooks (such as
notifications) to run after commit. Nothing is written when a check fails. The transition log is
what assessment measures ("who held it when it became late").
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import audit_log
from .errors import DomainError
from .models import TransitionLog


class SlaEffect(enum.Enum):
    NONE = "none"
    START = "start"  # the clock starts (or restarts) running
    PAUSE = "pause"  # waiting on the client: time does not count
    RESUME = "resume"
    STOP = "stop"  # the work is done as far as the deadline is concerned


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str] | set[str]
    target: str
    capability: str | None = None
    label: str = ""
    sla: SlaEffect = SlaEffect.NONE
    requires_note: bool = False


Guard = Callable[[Any, Any, "Transition"], None]  # (obj, actor, transition) -> None or raise DomainError
Hook = Callable[[Any, Any, "Transition", str], None]  # (obj, actor, transition, from_state)


@dataclass
class Workflow:
    name: str
    states: dict[str, Any]
    initial: str
    transitions: Iterable[Transition]
    state_field: str = "state"
    guards: list[Guard] = field(default_factory=list)
    hooks: list[Hook] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_name = {t.name: t for t in self.transitions}
        for t in self._by_name.values():
            unknown = ({t.target} | set(t.sources)) - set(self.states)
            if unknown:
                raise ValueError(f"{self.name}.{t.name}: unknown states {unknown}")

    def get(self, name: str) -> Transition:
        try:
            return self._by_name[name]
        except KeyError:
            raise DomainError(_("未知的操作：%(n)s") % {"n": name}) from None

    def label(self, state: str) -> str:
        return str(self.states.get(state, state))

    def available(self, obj: Any, actor: Any) -> list[Transition]:
        """The transitions ``actor`` may perform on ``obj`` now (for buttons and the API)."""
        current = getattr(obj, self.state_field)
        out = []
        for t in self._by_name.values():
            if current not in t.sources or (t.capability and not actor.has_cap(t.capability)):
                continue
            try:
                for guard in self.guards:
                    guard(obj, actor, t)
            except DomainError:
                continue
            out.append(t)
        return out

    def on_transition(self, hook: Hook) -> Hook:
        """Register a hook run after commit of every transition (decorator)."""
        self.hooks.append(hook)
        return hook


def transition(
    *,
    workflow: Workflow,
    obj: models.Model,
    name: str,
    actor: Any,
    note: str = "",
    changes: dict[str, Any] | None = None,
    holder: Any = None,
    now: dt.datetime | None = None,
) -> models.Model:
    """Perform transition ``name`` on ``obj`` as ``actor``; returns the refreshed, updated object.

    ``holder`` is who holds the work after this step (e.g. the assigned consultant); it is recorded
    in the transition log so that lateness can be attributed. ``changes`` are extra field values set
    in the same save (e.g. ``{"consultant": user}``)."""
    t = workflow.get(name)
    if t.requires_note and not note.strip():
        raise DomainError(_("请填写“%(a)s”的原因。") % {"a": t.label or t.name}, field="note")
    if t.capability and not actor.has_cap(t.capability):
        raise DomainError(_("您没有执行“%(a)s”的权限。") % {"a": t.label or t.name}, code="forbidden")
    now = now or timezone.now()
    with transaction.atomic():
        model = type(obj)
        locked = model.objects.select_for_update(of=("self",)).get(pk=obj.pk)  # type: ignore[attr-defined]
        current = getattr(locked, workflow.state_field)
        if current not in t.sources:
            raise DomainError(
                _("当前状态为“%(s)s”，不能执行“%(a)s”。")
                % {"s": workflow.label(current), "a": t.label or t.name},
                code="invalid_state",
            )
        for guard in workflow.guards:
            guard(locked, actor, t)
        fields = [workflow.state_field]
        setattr(locked, workflow.state_field, t.target)
        if hasattr(locked, "state_changed_at"):
            locked.state_changed_at = now
            fields.append("state_changed_at")
        for key, value in (changes or {}).items():
            setattr(locked, key, value)
            fields.append(key)
        locked.save(update_fields=fields)
        TransitionLog.objects.create(
            workflow=workflow.name,
            object_type=locked._meta.label_lower,
            object_id=str(locked.pk),
            transition=t.name,
            from_state=current,
            to_state=t.target,
            actor=actor if getattr(actor, "pk", None) else None,
            holder=holder if getattr(holder, "pk", None) else None,
            at=now,
            note=note[:2000],
            sla=t.sla.value,
        )
        audit_log(
            actor=actor,
            action=f"{workflow.name}.{t.name}",
            obj=locked,
            changes={"state": [current, t.target], **({"note": [None, note]} if note else {})},
        )
        for hook in workflow.hooks:
            transaction.on_commit(functools.partial(hook, locked, actor, t, current))
    return locked


def history(obj: models.Model) -> models.QuerySet:
    """The transition log of one object, oldest first."""
    return (
        TransitionLog.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .select_related("actor", "holder")
        .order_by("at", "id")
    )
