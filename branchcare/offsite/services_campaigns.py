"""Call campaigns (外呼活动): a list of clients built from a filter, spread round-robin across the chosen
agents, with an outcome per target and a progress view."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.clients.models import Client, Holding
from branchcare.clients.selectors import ClientFilters, client_list
from branchcare.core.audit import audit_log
from branchcare.core.errors import DomainError
from branchcare.org.capabilities import Cap
from branchcare.org.models import User
from branchcare.org.scope import scope_q

from .models import Campaign, CampaignTarget
from .services_inquiries import staff_with_cap

T = CampaignTarget.Outcome
MAX_TARGETS = 5000


@dataclass
class CampaignCriteria:
    """The filter a campaign's list is built from (all optional, combined with AND)."""

    assessment_older_than_years: int | None = None  # risk assessment older than N years (or missing)
    dormant: bool = False
    security_code: str = ""  # holders of this security
    tier: str = ""

    def describe(self) -> str:
        parts = []
        if self.assessment_older_than_years:
            parts.append(_("风险测评超过 %(n)s 年") % {"n": self.assessment_older_than_years})
        if self.dormant:
            parts.append(_("休眠客户"))
        if self.security_code:
            parts.append(_("持有 %(c)s") % {"c": self.security_code})
        if self.tier:
            parts.append(str(dict(Client.Tier.choices).get(self.tier, self.tier)))
        return "；".join(parts) or _("全部客户")


def campaign_clients(
    *, viewer: Any, criteria: CampaignCriteria, today: dt.date | None = None
) -> QuerySet[Client]:
    """The clients the viewer may see that match ``criteria`` (through the clients selectors)."""
    today = today or timezone.localdate()
    qs = client_list(
        viewer=viewer,
        filters=ClientFilters(
            tier=criteria.tier if criteria.tier in Client.Tier.values else "",
            status=Client.Status.DORMANT if criteria.dormant else "",
        ),
    )
    if not criteria.dormant:
        qs = qs.exclude(status=Client.Status.CLOSED)
    if criteria.assessment_older_than_years:
        cutoff = today - dt.timedelta(days=round(365.25 * criteria.assessment_older_than_years))
        qs = qs.filter(Q(risk_assessed_on__lt=cutoff) | Q(risk_assessed_on__isnull=True))
    if criteria.security_code.strip():
        qs = qs.filter(
            pk__in=Holding.objects.filter(
                security__code=criteria.security_code.strip(), quantity__gt=0
            ).values("client_id")
        )
    return qs


def campaign_agents(branch_id: int) -> QuerySet[User]:
    return staff_with_cap(branch_id, Cap.OFFSITE_HANDLE)


@transaction.atomic
def campaign_create(
    *, actor: User, name: str, purpose: str, criteria: CampaignCriteria, agents: list[User]
) -> Campaign:
    """Build the list from ``criteria`` and deal it round-robin across ``agents``."""
    if not (actor.has_cap(Cap.OFFSITE_HANDLE) or actor.has_cap(Cap.SUPERVISE)) or actor.branch_id is None:
        raise DomainError(_("您没有创建外呼活动的权限。"), code="forbidden")
    if not name.strip():
        raise DomainError(_("请填写活动名称。"), field="name")
    allowed = {u.pk for u in campaign_agents(actor.branch_id)}
    agents = sorted({a.pk: a for a in agents}.values(), key=lambda u: u.pk)
    if not agents:
        raise DomainError(_("请至少选择一名坐席。"), field="agents")
    if any(a.pk not in allowed for a in agents):
        raise DomainError(_("坐席须为本营业部的客服专员。"), field="agents")
    ids = list(
        campaign_clients(viewer=actor, criteria=criteria)
        .filter(branch_id=actor.branch_id)
        .order_by("client_no")
        .values_list("pk", flat=True)[: MAX_TARGETS + 1]
    )
    if not ids:
        raise DomainError(_("没有符合筛选条件的客户，请调整条件。"), field="criteria")
    if len(ids) > MAX_TARGETS:
        raise DomainError(
            _("符合条件的客户超过 %(n)s 位，请缩小范围。") % {"n": MAX_TARGETS}, field="criteria"
        )
    campaign = Campaign.objects.create(
        branch_id=actor.branch_id,
        name=name.strip()[:100],
        purpose=purpose.strip(),
        criteria=asdict(criteria),
        created_by=actor,
    )
    campaign.agents.set(agents)
    CampaignTarget.objects.bulk_create(
        [
            CampaignTarget(campaign=campaign, client_id=cid, agent=agents[i % len(agents)])
            for i, cid in enumerate(ids)
        ],
        batch_size=1000,
    )
    audit_log(
        actor=actor,
        action="offsite.campaign.create",
        obj=campaign,
        changes={"targets": [None, len(ids)], "agents": [None, [a.username for a in agents]]},
    )
    return campaign


def campaign_scope_q(viewer: Any) -> Q | None:
    parts = [
        q
        for cap in (Cap.OFFSITE_HANDLE, Cap.SUPERVISE)
        if (q := scope_q(viewer, cap, owner_field=None)) is not None
    ]
    if not parts:
        return None
    out = parts[0]
    for q in parts[1:]:
        out |= q
    return out


def campaign_list(*, viewer: Any) -> QuerySet[Campaign]:
    q = campaign_scope_q(viewer)
    if q is None:
        return Campaign.objects.none()
    return (
        Campaign.objects.filter(q)
        .select_related("created_by")
        .annotate(
            total=Count("targets"),
            finished=Count("targets", filter=~Q(targets__outcome=T.PENDING)),
        )
        .order_by("-created_at", "-id")
    )


def campaign_get_for(*, viewer: Any, pk: Any) -> Campaign:
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    obj = campaign_list(viewer=viewer).filter(pk=pk_int).first()
    if obj is None:
        raise Http404
    return obj


def campaign_progress(campaign: Campaign) -> dict[str, Any]:
    """Outcome counts overall and per agent (one query)."""
    rows = (
        CampaignTarget.objects.filter(campaign=campaign)
        .values("agent_id", "agent__name", "agent__username", "outcome")
        .annotate(n=Count("pk"))
        .order_by("agent__username")
    )
    overall = dict.fromkeys(T.values, 0)
    agents: dict[int, dict[str, Any]] = {}
    for r in rows:
        overall[r["outcome"]] += r["n"]
        a = agents.setdefault(
            r["agent_id"], {"name": r["agent__name"] or r["agent__username"], **dict.fromkeys(T.values, 0)}
        )
        a[r["outcome"]] += r["n"]
    total = sum(overall.values())
    done = total - overall[T.PENDING]
    return {
        "overall": overall,
        "agents": list(agents.values()),
        "total": total,
        "finished": done,
        "pct": round(100 * done / total, 2) if total else 0.0,
    }


def campaign_targets(*, campaign: Campaign, viewer: Any, mine: bool = False) -> QuerySet[CampaignTarget]:
    qs = CampaignTarget.objects.filter(campaign=campaign).select_related("client", "agent")
    if mine:
        qs = qs.filter(agent=viewer)
    return qs.order_by("outcome", "client__client_no")


@transaction.atomic
def target_record(*, actor: User, target: CampaignTarget, outcome: str, note: str = "") -> CampaignTarget:
    """Record the outcome of a call to one target (its agent, or the director)."""
    if outcome not in T.values or outcome == T.PENDING:
        raise DomainError(_("请选择外呼结果。"), field="outcome")
    locked = (
        CampaignTarget.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=target.pk)
    )
    if locked.agent_id != actor.pk and not (
        actor.has_cap(Cap.SUPERVISE) and actor.branch_id == locked.campaign.branch_id
    ):
        raise DomainError(_("只有分配到该客户的坐席可以登记结果。"), code="forbidden")
    if locked.campaign.state != Campaign.State.ACTIVE:
        raise DomainError(_("外呼活动已结束。"), code="invalid_state")
    before = locked.outcome
    locked.outcome, locked.note = outcome, note.strip()[:500]
    locked.attempts += 1
    locked.contacted_at = timezone.now()
    locked.save(update_fields=["outcome", "note", "attempts", "contacted_at"])
    audit_log(actor=actor, action="offsite.campaign.target", obj=locked, branch_id=locked.campaign.branch_id,
              changes={"outcome": [before, outcome]})  # fmt: skip
    return locked


def assessment_valid_years() -> int:
    return max(1, round(settings.BRANCHCARE["RISK_ASSESSMENT_VALID_DAYS"] / 365))
