"""The prospect funnel declared as data: lead → contacted → visited branch → account opened → funded →
active, or lost (and reopened).

The owner (or, standing in, the branch director) takes the manual steps; "account opened" is reached
only by linking the prospect to a client (:func:`.services.prospect_link_client` or the conversion of a
client import), and "funded" / "active" only from the client's own data (:func:`.services.stages_sync`).
"""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchcare.core.errors import DomainError
from branchcare.core.workflow import Transition, Workflow
from branchcare.org.capabilities import Cap

from .models import Prospect

St = Prospect.Stage

#: Stages in funnel order; ``Prospect.reached`` stores the index of the furthest one.
FUNNEL = [St.LEAD, St.CONTACTED, St.VISITED, St.OPENED, St.FUNDED, St.ACTIVE]
RANK: dict[str, int] = {str(s): i for i, s in enumerate(FUNNEL)}
OPEN_STAGES = frozenset({St.LEAD, St.CONTACTED, St.VISITED})
CONVERTED_STAGES = frozenset({St.OPENED, St.FUNDED, St.ACTIVE})
#: Steps a person takes by hand (buttons, the API); the others are performed by the services.
MANUAL_STEPS = ("contact", "visit", "lose", "reopen")
SYSTEM_STEPS = frozenset({"open_account", "fund", "activate"})

PROSPECT = Workflow(
    name="prospect",
    states=dict(St.choices),
    initial=St.LEAD,
    state_field="stage",
    transitions=[
        Transition("contact", {St.LEAD}, St.CONTACTED, label=cast(str, gettext_lazy("已联系"))),
        Transition(
            "visit", {St.LEAD, St.CONTACTED}, St.VISITED, label=cast(str, gettext_lazy("已到访营业部"))
        ),
        Transition("open_account", set(OPEN_STAGES), St.OPENED, label=cast(str, gettext_lazy("已开户"))),
        Transition("fund", {St.OPENED}, St.FUNDED, label=cast(str, gettext_lazy("已入金"))),
        Transition("activate", {St.FUNDED}, St.ACTIVE, label=cast(str, gettext_lazy("已活跃"))),
        Transition(
            "lose", set(OPEN_STAGES), St.LOST, label=cast(str, gettext_lazy("标记流失")), requires_note=True
        ),
        Transition("reopen", {St.LOST}, St.LEAD, label=cast(str, gettext_lazy("重新跟进"))),
    ],
)


def is_owner_role(user: Any) -> bool:
    """Brokers and customer managers own prospects."""
    return user.has_cap(Cap.PROSPECTS_DEVELOP) or user.has_cap(Cap.ONSITE_SERVE)


def is_director_of(user: Any, prospect: Prospect) -> bool:
    return user.has_cap(Cap.SUPERVISE) and user.branch_id == prospect.branch_id


def prospect_guard(prospect: Prospect, actor: Any, t: Transition) -> None:
    """Manual steps belong to the prospect's owner or the branch director; a pool prospect must be
    claimed first. System steps are guarded by the services that perform them."""
    if t.name in SYSTEM_STEPS:
        return
    if prospect.owner_id and prospect.owner_id == actor.pk and is_owner_role(actor):
        return
    if is_director_of(actor, prospect):
        return
    if prospect.owner_id is None:
        raise DomainError(_("该潜在客户在公海中，请先认领。"), code="forbidden")
    raise DomainError(_("只有负责人或营业部经理可以执行“%(a)s”。") % {"a": t.label}, code="forbidden")


PROSPECT.guards.append(prospect_guard)


def step_changes(target: str) -> dict[str, Any]:
    """Extra fields a step sets: the furthest stage reached."""
    return {"reached": RANK[target]} if target in RANK else {}
