"""The research item review workflow (draft → compliance review → published → withdrawn / expired),
declared as data. Rules that go with a step are in ``services``, which performs every step through
:func:`branchcare.core.workflow.transition`."""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchcare.core.errors import DomainError
from branchcare.core.workflow import Transition, Workflow
from branchcare.org.capabilities import Cap

from .models import ResearchItem

S = ResearchItem.State


RESEARCH = Workflow(
    name="research",
    states=dict(S.choices),
    initial=S.DRAFT,
    transitions=[
        Transition(
            "submit",
            {S.DRAFT},
            S.REVIEW,
            capability=Cap.RESEARCH_WRITE,
            label=cast(str, gettext_lazy("提交审核")),
        ),
        Transition(
            "approve",
            {S.REVIEW},
            S.PUBLISHED,
            capability=Cap.RESEARCH_REVIEW,
            label=cast(str, gettext_lazy("审核通过并发布")),
        ),
        Transition(
            "reject",
            {S.REVIEW},
            S.DRAFT,
            capability=Cap.RESEARCH_REVIEW,
            label=cast(str, gettext_lazy("退回修改")),
            requires_note=True,
        ),
        Transition(
            "withdraw", {S.PUBLISHED}, S.WITHDRAWN, label=cast(str, gettext_lazy("撤回")), requires_note=True
        ),
        Transition("expire", {S.PUBLISHED}, S.EXPIRED, label=cast(str, gettext_lazy("到期失效"))),
    ],
)


def research_guard(item: ResearchItem, actor: Any, t: Transition) -> None:
    """Four eyes: the author cannot approve their own item; withdrawing needs the writer or the
    reviewer capability; expiry is run by the system (or a writer / reviewer)."""
    is_system = getattr(actor, "pk", None) is None
    if t.name == "approve" and item.author_id and actor.pk == item.author_id:
        raise DomainError(_("不能审核本人撰写的研究成果。"), code="forbidden")
    may_manage = is_system or actor.has_cap(Cap.RESEARCH_WRITE) or actor.has_cap(Cap.RESEARCH_REVIEW)
    if t.name in ("withdraw", "expire") and not may_manage:
        raise DomainError(_("您没有执行“%(a)s”的权限。") % {"a": t.label}, code="forbidden")
    if t.name == "withdraw" and is_system:
        raise DomainError(_("撤回需由研究员或合规专员操作。"), code="forbidden")


RESEARCH.guards.append(research_guard)
