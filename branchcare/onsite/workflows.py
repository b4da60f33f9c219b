"""The consultation pipeline (咨询单, "the restaurant") declared as data.

States and transitions live here; the rules that go with a step (deadlines, advice versions,
suitability, joint delivery, ratings) are in ``services_consultations``, which performs every step
through :func:`branchcare.core.workflow.transition`.

Who may act is decided by one guard: manager steps belong to the order's customer manager (the
branch director may stand in for some of them), consultant steps to the assigned consultant, and
the joint delivery to both of them, each confirming once.
"""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchcare.core.errors import DomainError
from branchcare.core.workflow import SlaEffect, Transition, Workflow
from branchcare.org.capabilities import Cap

from .models import ConsultationOrder

S = ConsultationOrder.State

OPEN_STATES = frozenset({S.DRAFT, S.SUBMITTED, S.IN_ANALYSIS, S.ADVICE_READY, S.ACCEPTED})
# The SLA clock runs from submit until the advice is delivered to the client (the deadline covers the
# consultant's analysis, the manager's review and the joint delivery); in these states the order can
# become late.
CLOCK_STATES = frozenset({S.SUBMITTED, S.IN_ANALYSIS, S.ADVICE_READY, S.ACCEPTED})
CONSULTANT_HOLDS = frozenset({S.SUBMITTED, S.IN_ANALYSIS})
MANAGER_HOLDS = frozenset({S.ADVICE_READY, S.ACCEPTED, S.DELIVERED})

MANAGER_STEPS = frozenset({"submit", "return_for_rework", "accept", "close", "cancel"})
CONSULTANT_STEPS = frozenset({"start_analysis", "submit_advice"})
JOINT_STEPS = frozenset({"deliver"})
# Steps the branch director may take in the manager's place (delivery and the rating stay personal).
DIRECTOR_MAY = frozenset({"submit", "return_for_rework", "accept", "cancel"})

CONSULTATION = Workflow(
    name="consultation",
    states=dict(S.choices),
    initial=S.DRAFT,
    transitions=[
        Transition(
            "submit", {S.DRAFT}, S.SUBMITTED, label=cast(str, gettext_lazy("提交投顾")), sla=SlaEffect.START
        ),
        Transition(
            "start_analysis",
            {S.SUBMITTED},
            S.IN_ANALYSIS,
            capability=Cap.ADVICE_WRITE,
            label=cast(str, gettext_lazy("开始分析")),
        ),
        Transition(
            "submit_advice",
            {S.IN_ANALYSIS},
            S.ADVICE_READY,
            capability=Cap.ADVICE_WRITE,
            label=cast(str, gettext_lazy("提交意见")),
        ),
        Transition(
            "return_for_rework",
            {S.ADVICE_READY},
            S.IN_ANALYSIS,
            label=cast(str, gettext_lazy("退回修改")),
            requires_note=True,
        ),
        Transition("accept", {S.ADVICE_READY}, S.ACCEPTED, label=cast(str, gettext_lazy("通过复核"))),
        Transition(
            "deliver",
            {S.ACCEPTED},
            S.DELIVERED,
            label=cast(str, gettext_lazy("确认交付")),
            sla=SlaEffect.STOP,
        ),
        Transition("close", {S.DELIVERED}, S.CLOSED, label=cast(str, gettext_lazy("关闭"))),
        Transition(
            "cancel",
            {S.DRAFT, S.SUBMITTED, S.IN_ANALYSIS, S.ADVICE_READY, S.ACCEPTED},
            S.CANCELLED,
            label=cast(str, gettext_lazy("取消咨询单")),
            requires_note=True,
            sla=SlaEffect.STOP,
        ),
    ],
)


def _is_director_of(actor: Any, order: ConsultationOrder) -> bool:
    return actor.has_cap(Cap.SUPERVISE) and actor.branch_id == order.branch_id


def consultation_guard(order: ConsultationOrder, actor: Any, t: Transition) -> None:
    """Only the order's manager (or, for some steps, the director) takes manager steps; only the
    assigned consultant takes consultant steps; each of the two confirms delivery once."""
    if t.name in MANAGER_STEPS:
        if actor.pk == order.manager_id and actor.has_cap(Cap.ONSITE_SERVE):
            return
        if t.name in DIRECTOR_MAY and _is_director_of(actor, order):
            return
        raise DomainError(_("只有本咨询单的客户经理可以执行“%(a)s”。") % {"a": t.label}, code="forbidden")
    if t.name in CONSULTANT_STEPS:
        if order.consultant_id and actor.pk == order.consultant_id:
            return
        raise DomainError(_("只有被指派的投资顾问可以执行“%(a)s”。") % {"a": t.label}, code="forbidden")
    if t.name in JOINT_STEPS:
        if actor.pk == order.manager_id:
            if order.manager_confirmed:
                raise DomainError(_("您已确认交付，请等待投资顾问确认。"), code="invalid_state")
            return
        if order.consultant_id and actor.pk == order.consultant_id:
            if order.consultant_confirmed:
                raise DomainError(_("您已确认交付，请等待客户经理确认。"), code="invalid_state")
            return
        raise DomainError(_("只有本咨询单的客户经理和投资顾问可以确认交付。"), code="forbidden")


def submit_advice_guard(order: ConsultationOrder, actor: Any, t: Transition) -> None:
    """Advice can be submitted only when a version written since the last return exists and its
    suitability check passed (or was acknowledged as the client's own request)."""
    if t.name != "submit_advice":
        return
    latest = order.advices.order_by("-version").only("suitability", "submitted_at", "delivered_at").first()
    if latest is None or latest.submitted_at is not None:
        raise DomainError(_("请先撰写投顾意见（退回后需保存新版本）再提交。"), code="invalid_state")
    if not (latest.suitability or {}).get("passed"):
        raise DomainError(_("投顾意见未通过适当性检查，不能提交。"), code="invalid_state")


CONSULTATION.guards.extend([consultation_guard, submit_advice_guard])


def holder_for_state(order: ConsultationOrder) -> Any:
    """Who holds the work in the order's current state (for lateness attribution). While the advice
    awaits delivery the manager holds it, unless the manager has confirmed and the consultant not yet."""
    if order.state in CONSULTANT_HOLDS:
        return order.consultant
    if order.state == S.ACCEPTED and order.manager_confirmed and not order.consultant_confirmed:
        return order.consultant
    if order.state in MANAGER_HOLDS:
        return order.manager
    return None
