"""Return visits (回访) by rules: generation, independent assignment, attempts and the coverage report.

Rules (one per kind and branch, configurable, created with defaults on first use):

* ``new_account`` — every new account is visited within ``due_days`` (30) of opening; reacts to the
  ``clients.created`` event (form, API or import; bulk id lists handled with one ``bulk_create``).
  A client whose window has already passed (an old account loaded by an import) gets no task;
* ``annual_sample`` — at least ``sample_pct`` % (10 %) of the branch's active clients each year, a
  random sample stratified by tier (each tier contributes its own share, rounded up); periodic and on
  demand, deterministic for a given seed, and topping up only what is still missing;
* ``complaint_closed`` / ``risk_change`` / ``premium_enrolled`` — react to the events
  ``offsite.complaint_closed``, ``clients.risk_level_changed`` and ``premium.enrolled``.

Independence: a visit is assigned to designated staff (``OffsiteSettings.return_visit_staff``, default
the branch's service agents), least loaded first, and NEVER to the client's own customer manager or to
staff recorded in :class:`IndependenceExclusion` (the premium broker who enrolled the client).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchcare.clients.models import Client
from branchcare.core import workflow as wf
from branchcare.core.audit import audit_bulk_append, audit_log
from branchcare.core.errors import DomainError
from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch, User
from branchcare.org.scope import scope_q

from .models import IndependenceExclusion, Inquiry, ReturnVisit, ReturnVisitAttempt, ReturnVisitRule
from .services_inquiries import InquiryInput, inquiry_create, settings_for, staff_with_cap
from .workflows import RETURN_VISIT

K = ReturnVisitRule.Kind
V = ReturnVisit.State

STANDARD_QUESTIONS = [
    gettext_lazy("是否本人开户并知晓账户用途？"),
    gettext_lazy("是否了解所购产品与服务的风险？"),
    gettext_lazy("工作人员是否有承诺收益或代客操作的行为？"),
    gettext_lazy("对营业部的服务是否满意？"),
]
DEFAULT_RULES: dict[str, tuple[Any, int, Any, list[Any]]] = {
    K.NEW_ACCOUNT: (
        gettext_lazy("新开户回访"),
        30,
        gettext_lazy("您好，我是营业部客服专员，您近期在我部开立了证券账户，占用您几分钟做一次开户回访。"),
        STANDARD_QUESTIONS,
    ),
    K.ANNUAL_SAMPLE: (
        gettext_lazy("存量客户年度抽样回访"),
        60,
        gettext_lazy("您好，我是营业部客服专员，按监管要求对客户进行年度回访，占用您几分钟。"),
        STANDARD_QUESTIONS,
    ),
    K.COMPLAINT_CLOSED: (
        gettext_lazy("投诉办结回访"),
        7,
        gettext_lazy("您好，您之前反映的问题已处理完毕，想了解您对处理结果是否满意。"),
        [gettext_lazy("问题是否已经解决？"), gettext_lazy("对处理过程是否满意？")],
    ),
    K.RISK_CHANGE: (
        gettext_lazy("风险等级变更回访"),
        15,
        gettext_lazy("您好，您的风险承受能力等级近期发生了变化，和您确认一下。"),
        [gettext_lazy("风险等级变更是否为本人真实意愿？"), gettext_lazy("是否了解新等级对应的产品范围？")],
    ),
    K.PREMIUM_ENROLLED: (
        gettext_lazy("高端服务签约回访"),
        15,
        gettext_lazy("您好，您近期签约了营业部的高端客户服务，和您确认签约情况。"),
        [gettext_lazy("是否本人自愿签约？"), gettext_lazy("是否清楚服务内容与佣金标准？")],
    ),
}


# --- rules -------------------------------------------------------------------------------------------------


def rules_for(branch_id: int) -> list[ReturnVisitRule]:
    """The branch's rules, one per kind (created with the defaults when missing)."""
    existing = {r.kind: r for r in ReturnVisitRule.objects.filter(branch_id=branch_id)}
    missing = [k for k in K.values if k not in existing]
    if missing:
        # The stored name, script and questions are data: always in the installation's language.
        with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
            for kind in missing:
                name, days, script, questions = DEFAULT_RULES[kind]
                existing[kind], _c = ReturnVisitRule.objects.get_or_create(
                    branch_id=branch_id,
                    kind=kind,
                    defaults={
                        "name": str(name),
                        "due_days": days,
                        "script": str(script),
                        "questions": [str(q) for q in questions],
                    },
                )
    return [existing[k] for k in K.values]


def _active_rule(branch_id: int, kind: str) -> ReturnVisitRule | None:
    rules = {r.kind: r for r in rules_for(branch_id)}
    rule = rules.get(kind)
    return rule if rule is not None and rule.active else None


@transaction.atomic
def rule_update(*, actor: User, rule: ReturnVisitRule, data: dict[str, Any]) -> ReturnVisitRule:
    """Change a rule's settings, script and questionnaire (audited)."""
    if not (actor.has_cap(Cap.ORG_CONFIGURE) or actor.has_cap(Cap.COMPLIANCE_REVIEW)):
        raise DomainError(_("您没有配置回访规则的权限。"), code="forbidden")
    before = {f: getattr(rule, f) for f in data}
    pct = Decimal(str(data.get("sample_pct", rule.sample_pct)))
    if not Decimal("0") < pct <= Decimal("100"):
        raise DomainError(_("抽样比例须大于 0 且不超过 100。"), field="sample_pct")
    if int(data.get("due_days", rule.due_days)) < 1:
        raise DomainError(_("完成期限至少 1 天。"), field="due_days")
    for key, value in data.items():
        setattr(rule, key, value)
    rule.save()
    audit_log(
        actor=actor,
        action="offsite.rule.update",
        obj=rule,
        changes={k: [str(before[k]), str(getattr(rule, k))] for k in data if before[k] != getattr(rule, k)},
    )
    return rule


# --- independence and assignment ---------------------------------------------------------------------------


def excluded_staff(client_ids: Iterable[int]) -> dict[int, set[int]]:
    """client id -> staff who may not return-visit the client (its manager, its broker...)."""
    ids = list(client_ids)
    out: dict[int, set[int]] = defaultdict(set)
    for cid, manager_id, broker_id in Client.objects.filter(pk__in=ids).values_list(
        "pk", "manager_id", "broker_id"
    ):
        out[cid].update(uid for uid in (manager_id, broker_id) if uid)
    for cid, uid in IndependenceExclusion.objects.filter(client_id__in=ids).values_list(
        "client_id", "user_id"
    ):
        out[cid].add(uid)
    return out


def check_independent(*, client: Client, assignee: User) -> None:
    """Refuse (Chinese message) when ``assignee`` is the client's manager or otherwise not independent."""
    if client.manager_id and assignee.pk == client.manager_id:
        raise DomainError(
            _("回访须由独立人员执行：%(u)s 是该客户的客户经理，不能承担其回访。") % {"u": assignee},
            field="assignee",
        )
    if client.broker_id and assignee.pk == client.broker_id:
        raise DomainError(
            _("回访须由独立人员执行：%(u)s 是该客户的专属经纪人，不能承担其回访。") % {"u": assignee},
            field="assignee",
        )
    reason = (
        IndependenceExclusion.objects.filter(client=client, user=assignee)
        .values_list("reason", flat=True)
        .first()
    )
    if reason is not None:
        raise DomainError(
            _("回访须由独立人员执行：%(u)s 是该客户的%(r)s，不能承担其回访。") % {"u": assignee, "r": reason},
            field="assignee",
        )


def visit_staff(branch_id: int) -> list[User]:
    """The designated return-visit staff of the branch (default: its service agents)."""
    designated = list(settings_for(branch_id).return_visit_staff.filter(is_active=True).order_by("username"))
    return designated or list(staff_with_cap(branch_id, Cap.OFFSITE_HANDLE))


def _loads(staff: list[User]) -> dict[int, int]:
    counts = dict(
        ReturnVisit.objects.filter(assignee__in=staff, state=V.OPEN)
        .values_list("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
    )
    return {u.pk: counts.get(u.pk, 0) for u in staff}


@dataclass
class PlannedVisit:
    client_id: int
    source_ref: str
    due_on: dt.date


def visits_generate(
    *, rule: ReturnVisitRule, planned: list[PlannedVisit], actor: Any = None
) -> list[ReturnVisit]:
    """Create the tasks not yet existing (idempotent), each assigned to the least-loaded independent
    staff member; one bulk insert and one bulk audit."""
    if not planned:
        return []
    existing = set(
        ReturnVisit.objects.filter(rule=rule, client_id__in={p.client_id for p in planned}).values_list(
            "client_id", "source_ref"
        )
    )
    todo = [p for p in planned if (p.client_id, p.source_ref) not in existing]
    if not todo:
        return []
    staff = visit_staff(rule.branch_id)
    loads = _loads(staff)
    excluded = excluded_staff(p.client_id for p in todo)
    rows = []
    for p in todo:
        choices = [u for u in staff if u.pk not in excluded.get(p.client_id, set())]
        assignee = min(choices, key=lambda u: (loads[u.pk], u.pk)) if choices else None
        if assignee is not None:
            loads[assignee.pk] += 1
        rows.append(
            ReturnVisit(
                branch_id=rule.branch_id,
                rule=rule,
                client_id=p.client_id,
                source_ref=p.source_ref,
                assignee=assignee,
                due_on=p.due_on,
                state_changed_at=timezone.now(),
            )
        )
    ReturnVisit.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    created = list(
        ReturnVisit.objects.filter(
            rule=rule, client_id__in=[p.client_id for p in todo], source_ref__in={p.source_ref for p in todo}
        ).select_related("rule")
    )
    audit_bulk_append(
        {
            "actor": actor,
            "action": "offsite.return_visit.generate",
            "object_type": "offsite.returnvisit",
            "object_id": v.pk,
            "object_repr": f"{rule.name} {v.client_id}",
            "branch_id": rule.branch_id,
            "changes": {"rule": [None, rule.kind], "assignee": [None, v.assignee_id]},
        }
        for v in created
    )
    return created


# --- event reactions ---------------------------------------------------------------------------------------


def on_clients_created(
    *, client_ids: list[int], branch_id: int | None = None, actor: Any = None, **_kw: Any
) -> None:
    """``clients.created``: a new-account return visit within ``due_days`` of opening, for every new
    client whose window is still open."""
    today = timezone.localdate()
    by_branch: dict[int, list[PlannedVisit]] = defaultdict(list)
    rows = Client.objects.filter(pk__in=list(client_ids)).values_list("pk", "branch_id", "opened_on")
    rules: dict[int, ReturnVisitRule | None] = {}
    for cid, bid, opened_on in rows:
        if bid not in rules:
            rules[bid] = _active_rule(bid, K.NEW_ACCOUNT)
        rule = rules[bid]
        if rule is None:
            continue
        due = (opened_on or today) + dt.timedelta(days=rule.due_days)
        if due < today:
            continue  # an old account loaded by an import: its window has passed
        by_branch[bid].append(PlannedVisit(cid, "new_account", due))
    for bid, planned in by_branch.items():
        rule = rules[bid]
        assert rule is not None
        visits_generate(rule=rule, planned=planned, actor=actor)


def _event_visits(kind: str, client_ids: list[int], source_ref: str, actor: Any) -> list[ReturnVisit]:
    today = timezone.localdate()
    out: list[ReturnVisit] = []
    by_branch: dict[int, list[int]] = defaultdict(list)
    for cid, bid in Client.objects.filter(pk__in=client_ids).values_list("pk", "branch_id"):
        by_branch[bid].append(cid)
    for bid, ids in by_branch.items():
        rule = _active_rule(bid, kind)
        if rule is None:
            continue
        due = today + dt.timedelta(days=rule.due_days)
        out += visits_generate(
            rule=rule, planned=[PlannedVisit(c, source_ref, due) for c in ids], actor=actor
        )
    return out


def on_risk_level_changed(*, changes: list[tuple[int, str, str]], actor: Any = None, **_kw: Any) -> None:
    """``clients.risk_level_changed``: a return visit per client whose level changed."""
    today = timezone.localdate().isoformat()
    for cid, old, new in changes:
        _event_visits(K.RISK_CHANGE, [cid], f"risk:{old or '-'}>{new or '-'}:{today}", actor)


def on_complaint_closed(
    *, inquiry_id: int, client_id: int | None = None, actor: Any = None, **_kw: Any
) -> None:
    """``offsite.complaint_closed``: a follow-up return visit to the complaining client."""
    if client_id:
        _event_visits(K.COMPLAINT_CLOSED, [client_id], f"complaint:{inquiry_id}", actor)


def on_premium_enrolled(*, client_id: int, actor: Any = None, **_kw: Any) -> None:
    """``premium.enrolled``: the broker who enrolled the client may never return-visit them; and the
    enrolment itself is return-visited."""
    if actor is not None and getattr(actor, "pk", None) and actor.has_cap(Cap.PREMIUM_SERVE):
        IndependenceExclusion.objects.get_or_create(
            client_id=client_id, user_id=actor.pk, defaults={"reason": str(_("高端服务经纪人"))}
        )
    _event_visits(K.PREMIUM_ENROLLED, [client_id], f"premium:{timezone.localdate().isoformat()}", actor)


# --- annual sample -----------------------------------------------------------------------------------------


def sample_required(counts_by_tier: dict[str, int], pct: Decimal) -> dict[str, int]:
    """How many clients of each tier the year's sample needs: each tier's share rounded up (pure)."""
    return {tier: math.ceil(n * pct / 100) for tier, n in counts_by_tier.items() if n}


def stratified_sample(
    ids_by_tier: dict[str, list[int]], need_by_tier: dict[str, int], *, seed: Any
) -> list[int]:
    """A random sample of ``need_by_tier[t]`` ids from each tier; deterministic for a given seed (pure)."""
    out: list[int] = []
    for tier in sorted(ids_by_tier):
        pool = sorted(ids_by_tier[tier])
        n = min(need_by_tier.get(tier, 0), len(pool))
        if n > 0:
            out += random.Random(f"{seed}:{tier}").sample(pool, n)
    return out


@transaction.atomic
def annual_sample(
    *,
    branch: Branch,
    year: int | None = None,
    seed: Any = None,
    actor: Any = None,
    today: dt.date | None = None,
) -> list[ReturnVisit]:
    """Top up the year's stratified sample of existing clients to ``sample_pct`` % of each tier."""
    today = today or timezone.localdate()
    year = year or today.year
    rule = _active_rule(branch.pk, K.ANNUAL_SAMPLE)
    if rule is None:
        return []
    source_ref = f"sample:{year}"
    clients = Client.objects.filter(branch=branch, status=Client.Status.ACTIVE)
    ids_by_tier: dict[str, list[int]] = defaultdict(list)
    for cid, tier in clients.values_list("pk", "tier"):
        ids_by_tier[tier].append(cid)
    required = sample_required({t: len(v) for t, v in ids_by_tier.items()}, rule.sample_pct)
    done: dict[str, int] = defaultdict(int)
    already = set()
    for cid, tier in ReturnVisit.objects.filter(rule=rule, source_ref=source_ref).values_list(
        "client_id", "client__tier"
    ):
        done[tier] += 1
        already.add(cid)
    need = {t: max(0, required[t] - done[t]) for t in required}
    pools = {t: [c for c in ids if c not in already] for t, ids in ids_by_tier.items()}
    chosen = stratified_sample(pools, need, seed=seed if seed is not None else f"{branch.pk}-{year}-{today}")
    due = min(today + dt.timedelta(days=rule.due_days), dt.date(year, 12, 31))
    due = max(due, today)
    return visits_generate(rule=rule, planned=[PlannedVisit(c, source_ref, due) for c in chosen], actor=actor)


# --- reads -------------------------------------------------------------------------------------------------


def visit_scope_q(viewer: Any) -> Q | None:
    parts = [
        q
        for cap in (Cap.OFFSITE_HANDLE, Cap.SUPERVISE, Cap.COMPLIANCE_REVIEW)
        if (q := scope_q(viewer, cap, owner_field=None)) is not None
    ]
    if not parts:
        return None
    out = parts[0]
    for q in parts[1:]:
        out |= q
    return out


def can_view_visits(viewer: Any) -> bool:
    return viewer.is_authenticated and visit_scope_q(viewer) is not None


@dataclass
class VisitFilters:
    state: str = ""
    rule: str = ""
    mine: bool = False
    overdue: bool = False

    @classmethod
    def from_params(cls, params: Any) -> VisitFilters:
        def flag(name: str) -> bool:
            return (params.get(name) or "").lower() in {"1", "true", "yes", "on"}

        state, rule = params.get("state") or "", params.get("rule") or ""
        return cls(
            state=state if state in V.values else "",
            rule=rule if rule in K.values else "",
            mine=flag("mine"),
            overdue=flag("overdue"),
        )


def visit_list(
    *, viewer: Any, filters: VisitFilters | None = None, today: dt.date | None = None
) -> QuerySet[ReturnVisit]:
    f = filters or VisitFilters()
    today = today or timezone.localdate()
    q = visit_scope_q(viewer)
    if q is None:
        return ReturnVisit.objects.none()
    qs = ReturnVisit.objects.filter(q).select_related("client", "assignee", "rule")
    if f.state:
        qs = qs.filter(state=f.state)
    if f.rule:
        qs = qs.filter(rule__kind=f.rule)
    if f.mine:
        qs = qs.filter(assignee_id=viewer.pk)
    if f.overdue:
        qs = qs.filter(state=V.OPEN, due_on__lt=today)
    return qs.order_by("due_on", "id")


def visit_get_for(*, viewer: Any, pk: Any) -> ReturnVisit:
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    visit = visit_list(viewer=viewer).select_related("client__manager", "branch").filter(pk=pk_int).first()
    if visit is None:
        raise Http404
    return visit


# --- writes on a visit -------------------------------------------------------------------------------------


@transaction.atomic
def visit_assign(*, actor: User, visit: ReturnVisit, assignee: User) -> ReturnVisit:
    """Reassign an open visit; refuses the client's own manager or broker (independence rule)."""
    if (
        not (actor.has_cap(Cap.OFFSITE_HANDLE) or actor.has_cap(Cap.SUPERVISE))
        or actor.branch_id != visit.branch_id
    ):
        raise DomainError(_("您没有指派回访的权限。"), code="forbidden")
    locked = ReturnVisit.objects.select_for_update(of=("self",)).select_related("client").get(pk=visit.pk)
    if locked.state != V.OPEN:
        raise DomainError(_("该回访已结束，不能再指派。"), code="invalid_state")
    if assignee.branch_id != locked.branch_id or not assignee.is_active:
        raise DomainError(_("回访人须为本营业部在职员工。"), field="assignee")
    check_independent(client=locked.client, assignee=assignee)
    before = locked.assignee_id
    locked.assignee = assignee
    locked.save(update_fields=["assignee"])
    audit_log(
        actor=actor,
        action="offsite.return_visit.assign",
        obj=locked,
        changes={"assignee": [before, assignee.pk]},
    )
    return locked


@dataclass
class Problem:
    kind: str
    subject: str
    description: str = ""


@transaction.atomic
def visit_attempt(
    *,
    actor: User,
    visit: ReturnVisit,
    outcome: str,
    note: str = "",
    answers: dict[str, str] | None = None,
    problem: Problem | None = None,
    now: dt.datetime | None = None,
) -> ReturnVisit:
    """Record one call attempt. Reached: the visit is done (answers kept). Not reached: counted; the
    third not-reached attempt ends the visit as unreachable. A problem found becomes an inquiry."""
    now = now or timezone.now()
    if outcome not in (ReturnVisit.Outcome.REACHED, ReturnVisit.Outcome.NOT_REACHED):
        raise DomainError(_("请选择回访结果。"), field="outcome")
    locked = (
        ReturnVisit.objects.select_for_update(of=("self",)).select_related("client", "rule").get(pk=visit.pk)
    )
    if locked.state != V.OPEN:
        raise DomainError(_("该回访已结束。"), code="invalid_state")
    if locked.assignee_id != actor.pk:
        raise DomainError(_("只有被指派的回访人员可以登记回访结果。"), code="forbidden")
    check_independent(client=locked.client, assignee=actor)
    if problem is not None and outcome != ReturnVisit.Outcome.REACHED:
        raise DomainError(_("未联系上客户时不能登记发现的问题。"), field="problem_subject")
    attempts = locked.attempts + 1
    ReturnVisitAttempt.objects.create(
        visit=locked, at=now, by=actor, outcome=outcome, note=note.strip()[:500]
    )
    notes = "\n".join(x for x in (locked.notes, note.strip()) if x)
    if outcome == ReturnVisit.Outcome.REACHED:
        clean = {str(k): str(v)[:500] for k, v in (answers or {}).items()}
        locked = wf.transition(  # type: ignore[assignment]
            workflow=RETURN_VISIT, obj=locked, name="complete", actor=actor, note=note, now=now,
            changes={"attempts": attempts, "outcome": outcome, "answers": clean, "notes": notes, "completed_at": now},
        )  # fmt: skip
    elif attempts >= ReturnVisit.MAX_ATTEMPTS:
        locked = wf.transition(  # type: ignore[assignment]
            workflow=RETURN_VISIT, obj=locked, name="give_up", actor=actor, note=note, now=now,
            changes={"attempts": attempts, "outcome": outcome, "notes": notes, "completed_at": now},
        )  # fmt: skip
    else:
        locked.attempts, locked.outcome, locked.notes = attempts, outcome, notes
        locked.save(update_fields=["attempts", "outcome", "notes"])
        audit_log(
            actor=actor,
            action="offsite.return_visit.attempt",
            obj=locked,
            changes={"attempts": [attempts - 1, attempts]},
        )
    if problem is not None:
        inquiry_create(
            actor=actor,
            branch=locked.branch,
            data=InquiryInput(
                kind=problem.kind if problem.kind in Inquiry.Kind.values else Inquiry.Kind.INQUIRY,
                channel=Inquiry.Channel.PHONE,
                subject=problem.subject,
                description=problem.description,
                client_id=locked.client_id,
            ),
            return_visit=locked,
            now=now,
        )
    return locked


# --- coverage ----------------------------------------------------------------------------------------------


@dataclass
class CoverageRow:
    rule: ReturnVisitRule
    required: int
    generated: int
    done: int
    unreachable: int
    open: int
    overdue: int

    @property
    def completed(self) -> int:
        return self.done + self.unreachable

    @property
    def rate(self) -> float:
        return round(100 * self.completed / self.required, 2) if self.required else 100.0

    @property
    def met(self) -> bool:
        return self.overdue == 0 and self.generated >= self.required


def coverage(*, branch_id: int, year: int, today: dt.date | None = None) -> list[CoverageRow]:
    """Per rule for ``year``: required vs generated vs done vs overdue (three queries). The sample rule
    requires ``sample_pct`` % of each tier's active clients; the event rules require every task they
    generated."""
    today = today or timezone.localdate()
    rules = rules_for(branch_id)
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    stats = {
        row["rule_id"]: row
        for row in ReturnVisit.objects.filter(branch_id=branch_id, due_on__range=(start, end))
        .values("rule_id")
        .annotate(
            generated=Count("pk", filter=~Q(state=V.CANCELLED)),
            done=Count("pk", filter=Q(state=V.DONE)),
            unreachable=Count("pk", filter=Q(state=V.UNREACHABLE)),
            open=Count("pk", filter=Q(state=V.OPEN)),
            overdue=Count("pk", filter=Q(state=V.OPEN, due_on__lt=today)),
        )
    }
    tiers = dict(
        Client.objects.filter(branch_id=branch_id, status=Client.Status.ACTIVE)
        .values_list("tier")
        .annotate(n=Count("pk"))
        .values_list("tier", "n")
    )
    out = []
    for rule in rules:
        s = stats.get(rule.pk, {})
        generated = s.get("generated", 0)
        required = (
            sum(sample_required(tiers, rule.sample_pct).values())
            if rule.kind == K.ANNUAL_SAMPLE
            else generated
        )
        out.append(
            CoverageRow(
                rule=rule,
                required=required,
                generated=generated,
                done=s.get("done", 0),
                unreachable=s.get("unreachable", 0),
                open=s.get("open", 0),
                overdue=s.get("overdue", 0),
            )
        )
    return out
