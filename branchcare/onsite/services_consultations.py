"""Consultation pipeline (咨询单): reads scoped to the viewer, and every write.

Writes are keyword-only, atomic and audited; state changes go through
:func:`branchcare.core.workflow.transition` with the workflow in :mod:`.workflows`. Notifications of
hand-offs are the workflow hooks registered in :mod:`.register_consultations`.

Rules kept here:

* the order carries a snapshot of the client's holdings, editable while it is a draft;
* the deadline is the branch standard's ``consultation_deadline_hours`` of *service hours* from
  submission (``warn_at`` after 80 % of it) until the advice is *delivered* to the client (the manager's
  acceptance does not stop the clock); :func:`order_sla_status` says on time / warning / overdue, and
  ``late_holder`` records who held the order when the deadline passed;
* advice is versioned; every version is checked for suitability (适当性) and the result stored with it;
  delivered advice is never changed — a correction is a new version that ``replaces`` it;
* delivery is joint: the manager and the consultant each confirm; the second confirmation delivers;
* mutual supervision: the manager rates the advice, the consultant rates the order's completeness.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.clients.models import Client, Security
from branchcare.clients.selectors import holdings_for
from branchcare.core import workflow as wf
from branchcare.core.audit import audit_log
from branchcare.core.errors import DomainError
from branchcare.core.models import TransitionLog
from branchcare.core.sla import CalendarRangeError, deadline_marks, working_time_between
from branchcare.org.calendar import service_calendar_for, standard_for
from branchcare.org.capabilities import Cap
from branchcare.org.models import Role, User
from branchcare.org.scope import scope_q

from .models import Advice, AdviceCitation, AdviceLine, ConsultationOrder, OrderHolding, Visit
from .workflows import CLOCK_STATES, CONSULTATION, OPEN_STATES, holder_for_state

S = ConsultationOrder.State
ACTIVE_QUEUE_STATES = (S.SUBMITTED, S.IN_ANALYSIS)
RISK_WARNING_DEFAULT = (
    "本意见仅供参考，不构成对投资收益的保证。证券市场有风险，投资需谨慎。"
    "客户应根据自身的风险承受能力独立作出投资决策，并自行承担投资风险。"
    "过往业绩不代表未来表现。"
)
DELIVERY_METHODS = {
    "in_person": "当面交付",
    "phone": "电话沟通",
    "wechat": "企业微信",
    "email": "电子邮件",
}
BUYING_ACTIONS = {AdviceLine.Action.BUY, AdviceLine.Action.ADD}


# --- reads -------------------------------------------------------------------------------------------------


def order_scope_q(viewer: Any) -> Q | None:
    """Orders ``viewer`` may see: a manager their own; the director the branch's; the consultants and
    compliance the branch's submitted orders (drafts are the manager's own working copy)."""
    parts: list[Q] = []
    own = scope_q(viewer, Cap.ONSITE_SERVE, owner_field="manager")
    if own is not None:
        parts.append(own)
    sup = scope_q(viewer, Cap.SUPERVISE, owner_field="manager")
    if sup is not None:
        parts.append(sup)
    for cap in (Cap.ADVICE_WRITE, Cap.COMPLIANCE_REVIEW):
        q = scope_q(viewer, cap, owner_field=None)
        if q is not None:
            parts.append(q & ~Q(state=S.DRAFT))
    if not parts:
        return None
    out = parts[0]
    for q in parts[1:]:
        out |= q
    return out


def can_view_orders(viewer: Any) -> bool:
    return any(
        viewer.has_cap(c) for c in (Cap.ONSITE_SERVE, Cap.ADVICE_WRITE, Cap.SUPERVISE, Cap.COMPLIANCE_REVIEW)
    )


def order_base_qs(*, viewer: Any) -> QuerySet[ConsultationOrder]:
    q = order_scope_q(viewer)
    if q is None:
        return ConsultationOrder.objects.none()
    return ConsultationOrder.objects.filter(q)


@dataclass
class OrderFilters:
    state: str = ""
    overdue: bool = False
    mine: bool = False  # consultant: only the orders assigned to me (the queue)
    open_only: bool = False

    @classmethod
    def from_params(cls, params: Any) -> OrderFilters:
        state = params.get("state") or ""

        def flag(name: str) -> bool:
            return (params.get(name) or "").lower() in {"1", "true", "yes", "on"}

        return cls(
            state=state if state in S.values else "",
            overdue=flag("overdue"),
            mine=flag("mine"),
            open_only=flag("open"),
        )


def order_list(*, viewer: Any, filters: OrderFilters | None = None, now: dt.datetime | None = None):
    """The orders ``viewer`` may see, filtered; sorted by deadline (no deadline last), newest first."""
    f = filters or OrderFilters()
    now = now or timezone.now()
    qs = order_base_qs(viewer=viewer).select_related("client", "manager", "consultant", "late_holder")
    if f.state:
        qs = qs.filter(state=f.state)
    if f.open_only:
        qs = qs.filter(state__in=OPEN_STATES)
    if f.mine:
        qs = qs.filter(consultant_id=viewer.pk)
    if f.overdue:
        qs = qs.filter(Q(state__in=CLOCK_STATES, due_at__lte=now) | Q(late_holder__isnull=False))
    return qs.order_by(F("due_at").asc(nulls_last=True), "-created_at", "-id")


def order_get_for(*, viewer: Any, pk: Any) -> ConsultationOrder:
    """One order ``viewer`` may see; ``Http404`` otherwise (as if it did not exist)."""
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    order = (
        order_base_qs(viewer=viewer)
        .select_related("client", "branch", "manager", "consultant", "late_holder")
        .filter(pk=pk_int)
        .first()
    )
    if order is None:
        raise Http404
    return order


def order_advices(order: ConsultationOrder) -> list[Advice]:
    """All advice versions, newest first, with lines, citations and consultants (four queries)."""
    return list(
        order.advices.select_related("consultant")
        .prefetch_related("lines__security", "citations")
        .order_by("-version")
    )


# --- SLA ---------------------------------------------------------------------------------------------------


class SlaStatus(enum.Enum):
    NONE = "none"
    ON_TIME = "on_time"
    WARNING = "warning"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {
            "none": _("未计时"),
            "on_time": _("按时"),
            "warning": _("即将到期"),
            "overdue": _("逾期"),
        }[self.value]

    @property
    def icon(self) -> str:
        return {
            "none": "bi-dash-circle",
            "on_time": "bi-check-circle",
            "warning": "bi-hourglass-split",
            "overdue": "bi-exclamation-octagon",
        }[self.value]

    @property
    def tone(self) -> str:
        return {"none": "secondary", "on_time": "success", "warning": "warning", "overdue": "danger"}[
            self.value
        ]


def order_sla_status(order: ConsultationOrder, now: dt.datetime | None = None) -> SlaStatus:
    """On time / warning / overdue. While the clock runs (submitted → accepted, until delivery) it
    compares ``now`` with ``warn_at`` and ``due_at``; once stopped (delivered and later) the order stays
    overdue if it was ever late (``late_holder`` set) and is on time otherwise."""
    now = now or timezone.now()
    if order.due_at is None or order.state in (S.DRAFT, S.CANCELLED):
        return SlaStatus.NONE
    if order.state in CLOCK_STATES:
        if now >= order.due_at:
            return SlaStatus.OVERDUE
        if order.warn_at and now >= order.warn_at:
            return SlaStatus.WARNING
        return SlaStatus.ON_TIME
    return SlaStatus.OVERDUE if order.late_holder_id else SlaStatus.ON_TIME


def order_deadline(branch: Any, start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """``(warn_at, due_at)`` for an order submitted at ``start`` in ``branch`` (service hours)."""
    local_day = timezone.localtime(start).date()
    hours = standard_for(branch, local_day).consultation_deadline_hours
    try:
        cal = service_calendar_for(branch, local_day)
        return deadline_marks(cal, start, dt.timedelta(minutes=int(Decimal(hours) * 60)))
    except CalendarRangeError as exc:
        raise DomainError(str(exc), code="calendar") from exc


def _holder_at(order: ConsultationOrder, when: dt.datetime) -> User | None:
    """Who held the order at ``when``: the holder of the last transition up to then — except that an
    accepted order the manager has already confirmed as delivered waits on the consultant's confirmation
    (the periodic check runs every few minutes, so "now" stands for the deadline)."""
    entry = (
        TransitionLog.objects.filter(
            object_type=order._meta.label_lower, object_id=str(order.pk), at__lte=when
        )
        .select_related("holder")
        .order_by("-at", "-id")
        .first()
    )
    if entry is not None and entry.to_state == S.ACCEPTED and order.state == S.ACCEPTED:
        return holder_for_state(order)
    if entry is not None and entry.holder is not None:
        return entry.holder
    return holder_for_state(order)


def orders_mark_overdue(*, now: dt.datetime | None = None) -> int:
    """Mark every running order past its deadline: record who held it when it became late, and tell
    them and the branch director — once (an order already marked is skipped). Idempotent."""
    from branchcare.core.notify import notify

    now = now or timezone.now()
    ids = list(
        ConsultationOrder.objects.filter(
            state__in=CLOCK_STATES, due_at__lte=now, late_holder__isnull=True
        ).values_list("pk", flat=True)[:5000]
    )
    marked = 0
    for pk in ids:
        with transaction.atomic():
            order = (
                ConsultationOrder.objects.select_for_update(of=("self",))
                .select_related("manager", "consultant")
                .filter(pk=pk, state__in=CLOCK_STATES, late_holder__isnull=True)
                .first()
            )
            if order is None or order.due_at is None:
                continue
            holder = _holder_at(order, order.due_at) or holder_for_state(order)
            if holder is None:
                continue
            order.late_holder = holder
            order.save(update_fields=["late_holder"])
            audit_log(
                actor=None,
                action="consultation.overdue",
                obj=order,
                changes={"late_holder": [None, holder.pk]},
            )
            directors = _directors_of(order.branch_id)
            notify(
                recipients=[holder, *directors],
                title=_("咨询单 #%(pk)s 已逾期（经办人：%(h)s）") % {"pk": order.pk, "h": holder},
                body=_("客户：%(c)s；办理期限 %(d)s。")
                % {"c": order.client.name, "d": timezone.localtime(order.due_at).strftime("%Y-%m-%d %H:%M")},
                url=_order_url(order),
                kind="warning",
            )
            marked += 1
    return marked


def _directors_of(branch_id: int) -> list[User]:
    role_ids = [r.pk for r in Role.objects.all() if Cap.SUPERVISE in (r.capabilities or [])]
    return list(User.objects.filter(branch_id=branch_id, is_active=True, roles__in=role_ids).distinct())


def _order_url(order: ConsultationOrder) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("onsite:consultation_detail", args=[order.pk])
    except NoReverseMatch:
        return ""


# --- consultants -------------------------------------------------------------------------------------------


def consultants_for(branch_id: int) -> QuerySet[User]:
    """The branch's active consultants (holding ``Cap.ADVICE_WRITE``), with their open-order load."""
    role_ids = [r.pk for r in Role.objects.all() if Cap.ADVICE_WRITE in (r.capabilities or [])]
    return (
        User.objects.filter(branch_id=branch_id, is_active=True, roles__in=role_ids)
        .distinct()
        .annotate(
            load=Count(
                "orders_assigned",
                filter=Q(orders_assigned__state__in=[S.SUBMITTED, S.IN_ANALYSIS, S.ADVICE_READY]),
                distinct=True,
            )
        )
        .order_by("load", "pk")
    )


def consultant_pick(*, branch_id: int, chosen: Any = None) -> User:
    """The chosen consultant when given (must be one of the branch's), else the least loaded."""
    candidates = consultants_for(branch_id)
    if chosen is not None:
        chosen_pk = getattr(chosen, "pk", chosen)
        found = candidates.filter(pk=chosen_pk).first()
        if found is None:
            raise DomainError(_("所选人员不是本营业部在岗的投资顾问。"), field="consultant")
        return found
    found = candidates.first()
    if found is None:
        raise DomainError(_("本营业部没有在岗的投资顾问，无法提交咨询单。"), field="consultant")
    return found


# --- orders ------------------------------------------------------------------------------------------------


def _transition(**kwargs: Any) -> ConsultationOrder:
    """:func:`branchcare.core.workflow.transition` for an order (typed: it answers the order)."""
    return cast(ConsultationOrder, wf.transition(**kwargs))


def _require_manager(actor: Any, order: ConsultationOrder) -> None:
    if actor.pk != order.manager_id or not actor.has_cap(Cap.ONSITE_SERVE):
        raise DomainError(_("只有本咨询单的客户经理可以修改咨询单。"), code="forbidden")


@transaction.atomic
def order_create(
    *, actor: Any, client: Client, question: str, visit: Visit | None = None
) -> ConsultationOrder:
    """A draft order for a client in the manager's own book, with a snapshot of the client's holdings."""
    if not actor.has_cap(Cap.ONSITE_SERVE):
        raise DomainError(_("只有客户经理可以填写咨询单。"), code="forbidden")
    if client.manager_id != actor.pk or client.branch_id != actor.branch_id:
        raise DomainError(_("只能为本人名下的客户填写咨询单。"), field="client")
    question = (question or "").strip()
    if not question:
        raise DomainError(_("请填写客户的问题或需求。"), field="question")
    order = ConsultationOrder.objects.create(
        branch_id=client.branch_id, client=client, manager=actor, question=question, visit=visit
    )
    OrderHolding.objects.bulk_create(
        [
            OrderHolding(
                order=order,
                security_id=row.holding.security_id,
                quantity=row.holding.quantity,
                cost_price=row.holding.cost_price,
            )
            for row in holdings_for(client=client)
        ]
    )
    audit_log(actor=actor, action="consultation.create", obj=order, changes={"client": [None, client.pk]})
    return order


@dataclass(frozen=True)
class HoldingInput:
    security_id: int
    quantity: int
    cost_price: Decimal


@transaction.atomic
def order_holdings_update(
    *,
    actor: Any,
    order: ConsultationOrder,
    holdings: Iterable[HoldingInput],
    question: str | None = None,
) -> ConsultationOrder:
    """Replace the order's holdings snapshot (and question) while it is a draft."""
    order = ConsultationOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
    _require_manager(actor, order)
    if order.state != S.DRAFT:
        raise DomainError(_("咨询单已提交，持仓与问题不能再修改。"), code="invalid_state")
    rows = list(holdings)
    seen: set[int] = set()
    for h in rows:
        if h.security_id in seen:
            raise DomainError(_("同一证券只能填写一行。"), field="holdings")
        seen.add(h.security_id)
        if h.quantity <= 0:
            raise DomainError(_("持仓数量必须大于 0。"), field="holdings")
        if h.cost_price < 0:
            raise DomainError(_("成本价不能为负数。"), field="holdings")
    changes: dict[str, Any] = {}
    if question is not None:
        question = question.strip()
        if not question:
            raise DomainError(_("请填写客户的问题或需求。"), field="question")
        if question != order.question:
            changes["question"] = [order.question, question]
            order.question = question
            order.save(update_fields=["question"])
    before = sorted(order.holdings.values_list("security_id", "quantity", "cost_price"))
    order.holdings.all().delete()
    OrderHolding.objects.bulk_create(
        [
            OrderHolding(order=order, security_id=h.security_id, quantity=h.quantity, cost_price=h.cost_price)
            for h in rows
        ]
    )
    after = sorted((h.security_id, h.quantity, h.cost_price) for h in rows)
    if before != after:
        changes["holdings"] = [len(before), len(after)]
    audit_log(actor=actor, action="consultation.holdings_update", obj=order, changes=changes)
    return order


def order_submit(
    *,
    actor: Any,
    order: ConsultationOrder,
    consultant: Any = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> ConsultationOrder:
    """Hand the order to a consultant (chosen, or the least loaded) and start the SLA clock."""
    now = now or timezone.now()
    with transaction.atomic():
        if not order.holdings.exists() and not order.question.strip():
            raise DomainError(_("咨询单没有持仓也没有问题，不能提交。"))
        assignee = consultant_pick(branch_id=order.branch_id, chosen=consultant)
        warn_at, due_at = order_deadline(order.branch, now)
        return _transition(
            workflow=CONSULTATION,
            obj=order,
            name="submit",
            actor=actor,
            note=note,
            holder=assignee,
            now=now,
            changes={"consultant": assignee, "submitted_at": now, "warn_at": warn_at, "due_at": due_at},
        )


def order_start_analysis(*, actor: Any, order: ConsultationOrder, now: dt.datetime | None = None):
    return _transition(
        workflow=CONSULTATION, obj=order, name="start_analysis", actor=actor, holder=actor, now=now
    )


def order_submit_advice(
    *, actor: Any, order: ConsultationOrder, note: str = "", now: dt.datetime | None = None
):
    """Send the latest advice version to the manager for review."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _transition(
            workflow=CONSULTATION,
            obj=order,
            name="submit_advice",
            actor=actor,
            note=note,
            holder=order.manager,
            now=now,
            changes={"advice_ready_at": now},
        )
        latest = locked.advices.order_by("-version").first()
        if latest is not None:  # the workflow guard made sure there is one
            Advice.objects.filter(pk=latest.pk).update(submitted_at=now)
        return locked


def order_return_for_rework(
    *, actor: Any, order: ConsultationOrder, note: str, now: dt.datetime | None = None
):
    """Send the advice back to the consultant with a reason; counts one rework."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _transition(
            workflow=CONSULTATION,
            obj=order,
            name="return_for_rework",
            actor=actor,
            note=note,
            holder=order.consultant,
            now=now,
            changes={"rework_count": F("rework_count") + 1},
        )
        latest = locked.advices.filter(submitted_at__isnull=False).order_by("-version").first()
        if latest is not None:
            Advice.objects.filter(pk=latest.pk).update(returned_reason=note.strip())
        locked.refresh_from_db()
        return locked


def order_accept(*, actor: Any, order: ConsultationOrder, note: str = "", now: dt.datetime | None = None):
    """The manager accepts the advice; the SLA clock keeps running until delivery. Accepted after the
    deadline, the order records who held it when it became late (if the periodic check has not already)."""
    now = now or timezone.now()
    changes: dict[str, Any] = {}
    if order.due_at and now > order.due_at and order.late_holder_id is None:
        late = _holder_at(order, order.due_at)
        if late is not None:
            changes["late_holder"] = late
    return _transition(
        workflow=CONSULTATION,
        obj=order,
        name="accept",
        actor=actor,
        note=note,
        holder=order.manager,
        now=now,
        changes=changes,
    )


def order_confirm_delivery(
    *,
    actor: Any,
    order: ConsultationOrder,
    delivery_method: str = "",
    client_response: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> ConsultationOrder:
    """One side confirms delivering the advice to the client. The manager gives the delivery method
    and the client's response. The second confirmation delivers the order and freezes the advice."""
    from branchcare.core.notify import notify

    now = now or timezone.now()
    with transaction.atomic():
        locked = ConsultationOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
        if locked.state != S.ACCEPTED:
            raise DomainError(
                _("当前状态为“%(s)s”，不能确认交付。") % {"s": locked.get_state_display()},
                code="invalid_state",
            )
        t = CONSULTATION.get("deliver")
        for guard in CONSULTATION.guards:
            guard(locked, actor, t)
        is_manager = actor.pk == locked.manager_id
        changes: dict[str, Any] = {}
        if is_manager:
            if delivery_method not in DELIVERY_METHODS:
                raise DomainError(_("请选择交付方式。"), field="delivery_method")
            if not client_response.strip():
                raise DomainError(_("请填写客户对意见的反馈。"), field="client_response")
            changes.update(
                manager_confirmed=True,
                delivery_method=delivery_method,
                client_response=client_response.strip(),
            )
        else:
            changes["consultant_confirmed"] = True
        both = (locked.manager_confirmed or is_manager) and (locked.consultant_confirmed or not is_manager)
        if both:
            changes["delivered_at"] = now
            # the clock stops here: delivered late, record who held it at the deadline (unless the
            # periodic check already did)
            if locked.due_at and now > locked.due_at and locked.late_holder_id is None:
                late = _holder_at(locked, locked.due_at)
                if late is not None:
                    changes["late_holder"] = late
            delivered = _transition(
                workflow=CONSULTATION,
                obj=locked,
                name="deliver",
                actor=actor,
                note=note,
                holder=locked.manager,
                now=now,
                changes=changes,
            )
            latest = delivered.advices.filter(submitted_at__isnull=False).order_by("-version").first()
            if latest is not None:
                Advice.objects.filter(pk=latest.pk).update(delivered_at=now)
            return delivered
        for key, value in changes.items():
            setattr(locked, key, value)
        locked.save(update_fields=list(changes))
        audit_log(actor=actor, action="consultation.confirm_delivery", obj=locked, changes={
            k: [None, v] for k, v in changes.items()
        })  # fmt: skip
        other = locked.consultant if is_manager else locked.manager
        notify(
            recipients=[other],
            title=_("咨询单 #%(pk)s：%(who)s 已确认交付，请您确认") % {"pk": locked.pk, "who": actor},
            url=_order_url(locked),
        )
        return locked


def _rating(value: Any, field: str) -> int:
    try:
        rating = int(value)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise DomainError(_("评分须为 1–5 分。"), field=field)
    return rating


def order_close(
    *,
    actor: Any,
    order: ConsultationOrder,
    manager_rating: Any,
    note: str = "",
    now: dt.datetime | None = None,
) -> ConsultationOrder:
    """The manager closes the delivered order and rates the advice quality (1–5)."""
    rating = _rating(manager_rating, "manager_rating")
    return _transition(
        workflow=CONSULTATION,
        obj=order,
        name="close",
        actor=actor,
        note=note,
        now=now,
        changes={"manager_rating": rating},
    )


@transaction.atomic
def order_rate_completeness(*, actor: Any, order: ConsultationOrder, rating: Any) -> ConsultationOrder:
    """The consultant rates how complete the manager's order was (1–5), once it is delivered."""
    value = _rating(rating, "consultant_rating")
    locked = ConsultationOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
    if locked.consultant_id != actor.pk:
        raise DomainError(_("只有被指派的投资顾问可以评价咨询单完整度。"), code="forbidden")
    if locked.state not in (S.DELIVERED, S.CLOSED):
        raise DomainError(_("咨询单交付后才能评分。"), code="invalid_state")
    if locked.consultant_rating is not None:
        raise DomainError(_("您已评过分，不能重复评分。"), code="invalid_state")
    locked.consultant_rating = value
    locked.save(update_fields=["consultant_rating"])
    audit_log(
        actor=actor, action="consultation.rate", obj=locked, changes={"consultant_rating": [None, value]}
    )
    return locked


def order_cancel(*, actor: Any, order: ConsultationOrder, note: str, now: dt.datetime | None = None):
    return _transition(workflow=CONSULTATION, obj=order, name="cancel", actor=actor, note=note, now=now)


def order_transition(*, actor: Any, order: ConsultationOrder, name: str, data: Any) -> ConsultationOrder:
    """One entry point for the UI and the API: perform step ``name`` with the posted ``data``."""
    note = (data.get("note") or "").strip()
    if name == "submit":
        consultant = data.get("consultant") or None
        return order_submit(actor=actor, order=order, consultant=consultant, note=note)
    if name == "start_analysis":
        return order_start_analysis(actor=actor, order=order)
    if name == "submit_advice":
        return order_submit_advice(actor=actor, order=order, note=note)
    if name == "return_for_rework":
        return order_return_for_rework(actor=actor, order=order, note=note)
    if name == "accept":
        return order_accept(actor=actor, order=order, note=note)
    if name == "deliver":
        return order_confirm_delivery(
            actor=actor,
            order=order,
            delivery_method=data.get("delivery_method") or "",
            client_response=data.get("client_response") or "",
            note=note,
        )
    if name == "close":
        return order_close(actor=actor, order=order, manager_rating=data.get("manager_rating"), note=note)
    if name == "rate":
        return order_rate_completeness(actor=actor, order=order, rating=data.get("consultant_rating"))
    if name == "cancel":
        return order_cancel(actor=actor, order=order, note=note)
    raise DomainError(_("未知的操作：%(n)s") % {"n": name})


def order_actions(order: ConsultationOrder, actor: Any) -> list[str]:
    """The step names ``actor`` may take now (workflow transitions plus the consultant's rating)."""
    names = [t.name for t in CONSULTATION.available(order, actor)]
    if (
        order.state in (S.DELIVERED, S.CLOSED)
        and order.consultant_id == actor.pk
        and order.consultant_rating is None
    ):
        names.append("rate")
    return names


# --- advice ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    security_id: int
    action: str
    rationale: str


def _level(value: str) -> int | None:
    """``"C3"`` / ``"R3"`` → 3; None when missing or malformed."""
    if value and len(value) == 2 and value[1].isdigit():
        return int(value[1])
    return None


def suitability_check(
    *, client: Client, lines: list[tuple[Security, str]], client_request_ack: bool
) -> dict[str, Any]:
    """适当性检查: every buy/add line on a security rated above the client's risk level is blocked,
    unless the client asked for it and acknowledged the special risk warning. Returns the stored
    result; ``passed`` is False when anything stays blocked."""
    client_level = _level(client.risk_level)
    out_lines = []
    blocked = []
    for security, action in lines:
        rating = _level(security.risk_rating)
        if action not in BUYING_ACTIONS:
            result = "not_applicable"
        elif client_level is not None and rating is not None and rating <= client_level:
            result = "pass"
        else:
            result = "acknowledged" if client_request_ack else "blocked"
            if not client_request_ack:
                blocked.append(security)
        out_lines.append(
            {
                "security_id": security.pk,
                "security": f"{security.code} {security.name}",
                "action": action,
                "rating": security.risk_rating,
                "client_level": client.risk_level,
                "result": result,
            }
        )
    return {
        "client_level": client.risk_level,
        "client_request_ack": client_request_ack,
        "passed": not blocked,
        "acknowledged": any(line["result"] == "acknowledged" for line in out_lines),
        "lines": out_lines,
        "checked_at": timezone.now().isoformat(),
    }


def _blocked_message(client: Client, result: dict[str, Any]) -> str:
    names = "、".join(
        f"{line['security']}（{line['rating'] or _('未评级')}）"
        for line in result["lines"]
        if line["result"] == "blocked"
    )
    if not client.risk_level:
        return _(
            "适当性检查未通过：客户尚未进行风险测评，不能建议买入或加仓 %(s)s。"
            "如系客户主动要求，请勾选“客户主动要求并已确认特别风险提示”。"
        ) % {"s": names}
    return _(
        "适当性检查未通过：%(s)s 的风险等级高于客户的风险承受等级 %(c)s，不能建议买入或加仓。"
        "如系客户主动要求，请勾选“客户主动要求并已确认特别风险提示”。"
    ) % {"s": names, "c": client.risk_level}


def _validated_lines(
    order: ConsultationOrder, lines: Iterable[LineInput]
) -> list[tuple[Security, LineInput]]:
    rows = [line for line in lines if line.action]
    ids = {line.security_id for line in rows}
    securities = Security.objects.in_bulk(ids)
    seen: set[int] = set()
    out = []
    for line in rows:
        security = securities.get(line.security_id)
        if security is None:
            raise DomainError(_("证券不存在。"), field="lines")
        if line.security_id in seen:
            raise DomainError(_("%(s)s 重复填写了建议。") % {"s": security}, field="lines")
        seen.add(line.security_id)
        if line.action not in AdviceLine.Action.values:
            raise DomainError(_("%(s)s 的建议类型无效。") % {"s": security}, field="lines")
        if not line.rationale.strip():
            raise DomainError(_("请填写 %(s)s 的建议理由。") % {"s": security}, field="lines")
        out.append((security, line))
    missing = set(order.holdings.values_list("security_id", flat=True)) - seen
    if missing:
        names = "、".join(str(s) for s in Security.objects.filter(pk__in=missing).order_by("code"))
        raise DomainError(_("请对每只持仓给出建议，缺少：%(s)s。") % {"s": names}, field="lines")
    return out


def _new_version(
    *,
    actor: Any,
    order: ConsultationOrder,
    overall: str,
    risk_warning: str,
    lines: Iterable[LineInput],
    client_request_ack: bool,
    replaces: Advice | None,
    now: dt.datetime,
    citations: Iterable[Any] | None = None,
) -> Advice:
    if not actor.practice_no:
        raise DomainError(_("您尚未登记执业编号，不能出具投顾意见。请联系管理员在员工资料中登记。"))
    if not (overall or "").strip():
        raise DomainError(_("请填写总体建议。"), field="overall")
    if not (risk_warning or "").strip():
        raise DomainError(_("风险提示不能为空。"), field="risk_warning")
    checked = _validated_lines(order, lines)
    cited = _citable(actor, citations or [], today=timezone.localdate(now))
    result = suitability_check(
        client=order.client,
        lines=[(security, line.action) for security, line in checked],
        client_request_ack=client_request_ack,
    )
    if not result["passed"]:
        raise DomainError(_blocked_message(order.client, result), field="lines", code="suitability")
    last = order.advices.order_by("-version").values_list("version", flat=True).first() or 0
    advice = Advice.objects.create(
        order=order,
        version=last + 1,
        consultant=actor,
        practice_no=actor.practice_no,
        overall=overall.strip(),
        risk_warning=risk_warning.strip(),
        suitability=result,
        client_request_ack=client_request_ack,
        replaces=replaces,
    )
    AdviceLine.objects.bulk_create(
        [
            AdviceLine(advice=advice, security=security, action=line.action, rationale=line.rationale.strip())
            for security, line in checked
        ]
    )
    AdviceCitation.objects.bulk_create(
        [
            AdviceCitation(
                advice=advice,
                rank=rank,
                research_item_id=item.pk,
                title=item.title,
                publisher=item.publisher or item.source.name,
                published_on=item.published_on
                or (timezone.localdate(item.published_at) if item.published_at else None),
                source_name=item.source.name,
            )
            for rank, item in enumerate(cited, start=1)
        ]
    )
    return advice


MAX_CITATIONS = 10


def _citable(actor: Any, ids: Iterable[Any], *, today: dt.date) -> list[Any]:
    """The research items ``ids`` (in that order, duplicates dropped) if the consultant may cite every
    one of them in advice: visible to them, published and not expired, from a source valid ``today``
    (Art. 17: research from a partner without a valid licence or contract may not reach clients)."""
    from branchcare.research.models import ResearchItem
    from branchcare.research.selectors import item_base_qs

    wanted: list[int] = []
    for raw in ids:
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            raise DomainError(_("引用的研究资料编号无效。"), field="citations") from None
        if pk not in wanted:
            wanted.append(pk)
    if not wanted:
        return []
    if len(wanted) > MAX_CITATIONS:
        raise DomainError(_("最多引用 %(n)d 篇研究资料。") % {"n": MAX_CITATIONS}, field="citations")
    found = {i.pk: i for i in item_base_qs(viewer=actor).filter(pk__in=wanted).select_related("source")}
    out = []
    for pk in wanted:
        item = found.get(pk)
        if item is None:
            raise DomainError(_("引用的研究资料不存在或您无权查看。"), field="citations")
        if item.state != ResearchItem.State.PUBLISHED or (item.expires_on and item.expires_on < today):
            raise DomainError(_("《%(t)s》未发布或已过期，不能引用。") % {"t": item.title}, field="citations")
        reason = item.source.invalid_reason(today)
        if reason:
            raise DomainError(
                _("《%(t)s》不能引用：%(r)s。") % {"t": item.title, "r": reason}, field="citations"
            )
        out.append(item)
    return out


def citable_items_for(*, actor: Any, ids: Iterable[Any]) -> list[Any]:
    """The research items ``ids`` if ``actor`` may cite them today (raises ``DomainError`` otherwise)."""
    found = _citable(actor, ids, today=timezone.localdate())
    if not found:
        raise DomainError(_("请选择要引用的研究资料。"), field="citations")
    return found


def advice_save(
    *,
    actor: Any,
    order: ConsultationOrder,
    overall: str,
    risk_warning: str,
    lines: Iterable[LineInput],
    client_request_ack: bool = False,
    submit: bool = False,
    now: dt.datetime | None = None,
    citations: Iterable[Any] | None = None,
) -> Advice:
    """Save a new advice version (the consultant's, while the order is being analysed). An order still
    waiting in the queue is taken into analysis first. With ``submit`` the version goes to the manager.
    ``citations``: ids of published research items the advice cites; their title, publisher and publish
    date are copied onto the version (refused when an item's source is not valid today)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            ConsultationOrder.objects.select_for_update(of=("self",))
            .select_related("client")
            .get(pk=order.pk)
        )
        if locked.consultant_id != actor.pk or not actor.has_cap(Cap.ADVICE_WRITE):
            raise DomainError(_("只有被指派的投资顾问可以撰写投顾意见。"), code="forbidden")
        if locked.state in (S.DELIVERED, S.CLOSED):
            raise DomainError(
                _("已交付的投顾意见不可修改；如需更正，请使用“更正意见”生成新版本。"), code="immutable"
            )
        if locked.state == S.SUBMITTED:
            locked = order_start_analysis(actor=actor, order=locked, now=now)
            locked = ConsultationOrder.objects.select_related("client").get(pk=locked.pk)
        if locked.state != S.IN_ANALYSIS:
            raise DomainError(
                _("当前状态为“%(s)s”，不能撰写投顾意见。") % {"s": locked.get_state_display()},
                code="invalid_state",
            )
        advice = _new_version(
            actor=actor,
            order=locked,
            overall=overall,
            risk_warning=risk_warning,
            lines=lines,
            client_request_ack=client_request_ack,
            replaces=None,
            now=now,
            citations=citations,
        )
        audit_log(
            actor=actor,
            action="advice.save",
            obj=advice,
            branch_id=locked.branch_id,
            changes={
                "version": [None, advice.version],
                "suitability": [None, advice.suitability["passed"]],
                "citations": [None, list(advice.citations.values_list("research_item_id", flat=True))],
            },
        )
        if submit:
            order_submit_advice(actor=actor, order=locked, now=now)
            advice.submitted_at = now
        return advice


def advice_correct(
    *,
    actor: Any,
    order: ConsultationOrder,
    overall: str,
    risk_warning: str,
    lines: Iterable[LineInput],
    reason: str,
    client_request_ack: bool = False,
    now: dt.datetime | None = None,
    citations: Iterable[Any] | None = None,
) -> Advice:
    """Correct delivered advice: a NEW version that ``replaces`` the delivered one (which is never
    changed). The manager is told, to pass the correction on to the client."""
    from branchcare.core.notify import notify

    now = now or timezone.now()
    if not (reason or "").strip():
        raise DomainError(_("请填写更正原因。"), field="reason")
    with transaction.atomic():
        locked = (
            ConsultationOrder.objects.select_for_update(of=("self",))
            .select_related("client")
            .get(pk=order.pk)
        )
        if locked.consultant_id != actor.pk or not actor.has_cap(Cap.ADVICE_WRITE):
            raise DomainError(_("只有被指派的投资顾问可以更正投顾意见。"), code="forbidden")
        delivered = locked.advices.filter(delivered_at__isnull=False).order_by("-version").first()
        if locked.state not in (S.DELIVERED, S.CLOSED) or delivered is None:
            raise DomainError(_("只有已交付的投顾意见需要更正；未交付时请直接修改。"), code="invalid_state")
        advice = _new_version(
            actor=actor,
            order=locked,
            overall=overall,
            risk_warning=risk_warning,
            lines=lines,
            client_request_ack=client_request_ack,
            replaces=delivered,
            now=now,
            citations=citations,
        )
        Advice.objects.filter(pk=advice.pk).update(submitted_at=now, returned_reason="")
        advice.submitted_at = now
        audit_log(
            actor=actor,
            action="advice.correct",
            obj=advice,
            branch_id=locked.branch_id,
            changes={"replaces": [None, delivered.pk], "reason": [None, reason.strip()]},
        )
        notify(
            recipients=[locked.manager],
            title=_("咨询单 #%(pk)s 的投顾意见已更正（第 %(v)s 版），请告知客户")
            % {"pk": locked.pk, "v": advice.version},
            body=reason.strip(),
            url=_order_url(locked),
            kind="warning",
        )
        return advice


def advice_update(*, actor: Any, advice: Advice, **fields: Any) -> Advice:
    """Advice versions are never edited in place: a delivered one is frozen (use
    :func:`advice_correct`), any other one is superseded by saving a new version."""
    if advice.delivered_at is not None:
        raise DomainError(
            _("已交付的投顾意见不可修改；如需更正，请使用“更正意见”生成新版本。"), code="immutable"
        )
    raise DomainError(_("投顾意见不能直接修改，请保存新版本。"), code="immutable")


# --- transition history ------------------------------------------------------------------------------------


@dataclass
class HistoryRow:
    entry: TransitionLog
    label: str
    held: dt.timedelta | None  # wall-clock time until the next step (or now)
    held_working: dt.timedelta | None  # the part of it in service hours


def order_history(order: ConsultationOrder, now: dt.datetime | None = None) -> list[HistoryRow]:
    """The transition log with who held the order after each step and for how long."""
    now = now or timezone.now()
    entries = list(wf.history(order))
    try:
        cal = service_calendar_for(order.branch, timezone.localdate())
    except CalendarRangeError:
        cal = None
    rows = []
    for i, entry in enumerate(entries):
        end = entries[i + 1].at if i + 1 < len(entries) else (now if order.state in OPEN_STATES else None)
        held = (end - entry.at) if end and entry.holder_id else None
        working = None
        if held is not None and cal is not None and end is not None:
            try:
                working = working_time_between(cal, entry.at, end)
            except CalendarRangeError:
                working = None
        t = CONSULTATION._by_name.get(entry.transition)
        rows.append(HistoryRow(entry, str(t.label) if t else entry.transition, held, working))
    return rows


def format_duration(value: dt.timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s天%(h)s小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s小时%(m)s分") % {"h": hours, "m": mins}
    return _("%(m)s分钟") % {"m": mins}
