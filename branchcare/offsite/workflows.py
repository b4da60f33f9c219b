"""The inquiry/complaint workflow and the return-visit workflow, declared as data.

Inquiry: new → assigned → in progress → resolved (awaiting the client's confirmation) → closed; any open
state → cancelled. Escalation is a flag set by the periodic SLA check, not a state, so the work keeps
its place in the workflow while the director is told.

Who may act is one guard: service agents of the branch and the branch director act on every inquiry;
a customer manager only on the inquiries assigned to them.
"""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from branchcare.core.errors import DomainError
from branchcare.core.workflow import SlaEffect, Transition, Workflow
from branchcare.org.capabilities import Cap

from .models import Inquiry, ReturnVisit


def gettext_lazy(message: str) -> str:
    """A lazily translated label typed as ``str`` (``Transition.label`` is declared ``str``)."""
    return cast(str, _lazy(message))


S = Inquiry.State
OPEN_STATES = frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS})
ACTIVE_STATES = frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED})

INQUIRY = Workflow(
    name="offsite.inquiry",
    states=dict(S.choices),
    initial=S.NEW,
    transitions=[
        Transition("assign", {S.NEW, S.ASSIGNED, S.IN_PROGRESS}, S.ASSIGNED, label=gettext_lazy("分派")),
        Transition("start", {S.NEW, S.ASSIGNED}, S.IN_PROGRESS, label=gettext_lazy("开始处理")),
        Transition(
            "resolve",
            {S.ASSIGNED, S.IN_PROGRESS},
            S.RESOLVED,
            label=gettext_lazy("提交处理结果"),
            requires_note=True,
            sla=SlaEffect.STOP,
        ),
        Transition(
            "reopen",
            {S.RESOLVED},
            S.IN_PROGRESS,
            label=gettext_lazy("客户不认可，重新处理"),
            requires_note=True,
            sla=SlaEffect.RESUME,
        ),
        Transition("close", {S.RESOLVED}, S.CLOSED, label=gettext_lazy("客户确认并关闭")),
        Transition(
            "cancel",
            {S.NEW, S.ASSIGNED, S.IN_PROGRESS},
            S.CANCELLED,
            label=gettext_lazy("取消"),
            requires_note=True,
            sla=SlaEffect.STOP,
        ),
    ],
)

# Steps only an agent or the director may take (a manager works only what they were given).
DISPATCH_STEPS = frozenset({"assign", "cancel"})


def inquiry_guard(inquiry: Inquiry, actor: Any, t: Transition) -> None:
    """Agents and the director of the inquiry's branch take every step; the assignee (e.g. the owning
    customer manager) takes the working steps of the inquiries assigned to them."""
    same_branch = actor.branch_id == inquiry.branch_id
    if same_branch and (actor.has_cap(Cap.OFFSITE_HANDLE) or actor.has_cap(Cap.SUPERVISE)):
        return
    if t.name not in DISPATCH_STEPS and inquiry.assignee_id and actor.pk == inquiry.assignee_id:
        return
    raise DomainError(_("您不能对该咨询投诉执行“%(a)s”。") % {"a": t.label}, code="forbidden")


INQUIRY.guards.append(inquiry_guard)


V = ReturnVisit.State
RETURN_VISIT = Workflow(
    name="offsite.return_visit",
    states=dict(V.choices),
    initial=V.OPEN,
    transitions=[
        Transition("complete", {V.OPEN}, V.DONE, label=gettext_lazy("完成回访"), sla=SlaEffect.STOP),
        Transition(
            "give_up", {V.OPEN}, V.UNREACHABLE, label=gettext_lazy("三次未联系上"), sla=SlaEffect.STOP
        ),
        Transition(
            "cancel",
            {V.OPEN},
            V.CANCELLED,
            capability=Cap.SUPERVISE,
            label=gettext_lazy("取消回访"),
            requires_note=True,
        ),
    ],
)


def return_visit_guard(visit: ReturnVisit, actor: Any, t: Transition) -> None:
    """Only the assigned (independent) staff member records the visit's outcome."""
    if t.name == "cancel":
        if actor.branch_id == visit.branch_id:
            return
    elif visit.assignee_id and actor.pk == visit.assignee_id:
        return
    raise DomainError(_("只有被指派的回访人员可以执行“%(a)s”。") % {"a": t.label}, code="forbidden")


RETURN_VISIT.guards.append(return_visit_guard)
