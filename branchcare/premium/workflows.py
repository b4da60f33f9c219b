"""The premium request workflow declared as data.

new → in_progress (受理, the first response) → awaiting_research (a question to the research
platform) → answered (a researcher answered) → resolved (办结; the answer relayed) → closed (with the
client's satisfaction). The SLA clock (24×7) runs from receipt until resolution.

Who may act is one guard: broker steps belong to the request's dedicated broker, its backup broker
(once the request has escalated to them) or the branch director; the "answered" step belongs to a
researcher of the branch (the assigned one when the question names one).
"""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchcare.core.errors import DomainError
from branchcare.core.workflow import SlaEffect, Transition, Workflow
from branchcare.org.capabilities import Cap

from .models import PremiumRequest

S = PremiumRequest.State

OPEN_STATES = frozenset({S.NEW, S.IN_PROGRESS, S.AWAITING_RESEARCH, S.ANSWERED})
DONE_STATES = frozenset({S.RESOLVED, S.CLOSED})
RESEARCHER_STEPS = frozenset({"research_answered"})

PREMIUM_REQUEST = Workflow(
    name="premium_request",
    states=dict(S.choices),
    initial=S.NEW,
    transitions=[
        Transition("start", {S.NEW}, S.IN_PROGRESS, label=cast(str, gettext_lazy("受理"))),
        Transition(
            "ask_research",
            {S.IN_PROGRESS, S.ANSWERED},
            S.AWAITING_RESEARCH,
            label=cast(str, gettext_lazy("提问研究员")),
        ),
        Transition(
            "research_answered",
            {S.AWAITING_RESEARCH},
            S.ANSWERED,
            capability=Cap.RESEARCH_WRITE,
            label=cast(str, gettext_lazy("研究员答复")),
        ),
        Transition(
            "resolve",
            {S.IN_PROGRESS, S.ANSWERED},
            S.RESOLVED,
            label=cast(str, gettext_lazy("办结")),
            sla=SlaEffect.STOP,
            requires_note=True,
        ),
        Transition(
            "reopen", {S.RESOLVED}, S.IN_PROGRESS, label=cast(str, gettext_lazy("重新打开")), sla=SlaEffect.START,
            requires_note=True,
        ),
        Transition("close", {S.RESOLVED}, S.CLOSED, label=cast(str, gettext_lazy("关闭并记录满意度"))),
    ],
)  # fmt: skip


def can_act_as_broker(req: PremiumRequest, actor: Any) -> bool:
    """The dedicated broker; the backup broker once escalated to; the director of the branch."""
    if actor.has_cap(Cap.SUPERVISE) and actor.branch_id == req.branch_id:
        return True
    if not actor.has_cap(Cap.PREMIUM_SERVE):
        return False
    if actor.pk == req.broker_id:
        return True
    return actor.pk == req.backup_broker_id and req.escalation_level >= 1


def request_guard(req: PremiumRequest, actor: Any, t: Transition) -> None:
    if t.name in RESEARCHER_STEPS:
        if actor.has_cap(Cap.RESEARCH_WRITE) and actor.branch_id == req.branch_id:
            return
        raise DomainError(_("只有本营业部的研究员可以答复研究问题。"), code="forbidden")
    if not can_act_as_broker(req, actor):
        raise DomainError(
            _("只有该客户的专属经纪人（升级后含备岗经纪人）或营业部经理可以执行“%(a)s”。") % {"a": t.label},
            code="forbidden",
        )


def resolve_guard(req: PremiumRequest, actor: Any, t: Transition) -> None:
    """A request cannot be resolved while a researcher's answer has not been relayed to the client."""
    if t.name != "resolve":
        return
    if req.questions.filter(answered_at__isnull=False, relayed_at__isnull=True).exists():
        raise DomainError(_("研究员的答复尚未转达客户，请先转达再办结。"), code="invalid_state")


PREMIUM_REQUEST.guards.extend([request_guard, resolve_guard])
