"""Recording visits (拜访) and patrols (巡视), and completing the follow-ups they raise.

Every function is atomic and writes one audit record per change. Rules:

* **Time**: not in the future (one minute of clock skew allowed) and, for a customer manager, not more
  than :data:`BACKFILL_DAYS` days back; a director (``Cap.SUPERVISE``) may backfill older records, up to
  :data:`SUPERVISOR_BACKFILL_DAYS` back.
* **Scope**: a manager records visits to clients of their own book; a director records for any client of
  the branch, and may record a visit in the name of one of the branch's managers (``data["manager"]``).
* **Plans**: a visit to a client on the manager's plan of that day marks the item done and links it; any
  other visit is *unplanned* (``Visit.plan_item`` is empty) and counted separately. A patrol of a room on
  the manager's patrol plan of that day marks the first open round for that room done.
* **Clients present** at a patrol may be any client of the branch (clients move between the hall and the
  rooms, and a client without a seat still sits somewhere); the form offers the clients seated in the
  room first.
* **Follow-ups** raised by a visit or a patrol problem get an owner (a member of the branch's staff;
  default the recorder) and a due date (not before the day of the record; default the next trading day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.clients.models import Client, Security
from branchcare.clients.services import clients_touch, holdings_replace
from branchcare.core.audit import audit_log
from branchcare.core.errors import DomainError
from branchcare.core.sla import CalendarRangeError
from branchcare.org.calendar import next_trading_day
from branchcare.org.capabilities import Cap
from branchcare.org.models import Room, User

from .models import FollowUp, Patrol, PatrolPlanItem, Visit, VisitPlanItem
from .selectors_visits import serveable_clients
from .services_consultations import order_create

BACKFILL_DAYS = 7
# A director may backfill older records, but not beyond a year: older "records" are typing errors (and a
# time before 1901 would even carry Shanghai's local-mean-time offset +08:05:43, which is no valid
# RFC 3339 time in the API's answer).
SUPERVISOR_BACKFILL_DAYS = 366
CLOCK_SKEW = dt.timedelta(minutes=1)
TEXT_LIMIT = 4000


def _check_time(actor: User, at: dt.datetime | None, *, what: str) -> dt.datetime:
    if at is None:
        raise DomainError(_("请填写%(w)s时间。") % {"w": what}, field="at")
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    now = timezone.now()
    if at > now + CLOCK_SKEW:
        raise DomainError(_("%(w)s时间不能晚于当前时间。") % {"w": what}, field="at")
    if at < now - dt.timedelta(days=BACKFILL_DAYS) and not actor.has_cap(Cap.SUPERVISE):
        raise DomainError(
            _("只能补录 %(n)d 天内的%(w)s记录；更早的记录请营业部经理补录。")
            % {"n": BACKFILL_DAYS, "w": what},
            field="at",
        )
    if at < now - dt.timedelta(days=SUPERVISOR_BACKFILL_DAYS):
        raise DomainError(
            _("只能补录一年内的%(w)s记录。") % {"w": what},
            field="at",
        )
    return at


def _default_due(day: dt.date) -> dt.date:
    try:
        return next_trading_day(day)
    except CalendarRangeError:
        return day + dt.timedelta(days=1)


def _staff_of_branch(user: User | None, branch_id: int, *, field: str) -> None:
    if user is None or user.branch_id != branch_id or not user.is_active:
        raise DomainError(_("负责人须为本营业部的在职员工。"), field=field)


def _text(value: Any, *, field: str, label: str, required: bool = False, limit: int = TEXT_LIMIT) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_("请填写%(l)s。") % {"l": label}, field=field)
    if len(text) > limit:
        raise DomainError(_("%(l)s不能超过 %(n)d 个字。") % {"l": label, "n": limit}, field=field)
    return text


def _followups(
    *,
    actor: User,
    branch_id: int,
    day: dt.date,
    items: Iterable[dict[str, Any]],
    default_owner: User,
    field: str,
    **links: Any,
) -> list[FollowUp]:
    rows: list[FollowUp] = []
    for item in items:
        description = _text(item.get("description"), field=field, label=_("问题描述"))
        if not description:
            continue
        kind = item.get("kind") or FollowUp.Kind.OTHER
        if kind not in FollowUp.Kind.values:
            raise DomainError(_("跟进事项类别无效。"), field=field)
        owner = item.get("owner") or default_owner
        _staff_of_branch(owner, branch_id, field=field)
        due_on = item.get("due_on") or _default_due(day)
        if due_on < day:
            raise DomainError(_("完成期限不能早于记录当天（%(d)s）。") % {"d": day}, field=field)
        rows.append(
            FollowUp(
                branch_id=branch_id,
                kind=kind,
                description=description,
                owner=owner,
                due_on=due_on,
                created_by=actor,
                client=item.get("client") or links.get("client"),
                patrol=links.get("patrol"),
                visit=links.get("visit"),
            )
        )
    return FollowUp.objects.bulk_create(rows)


# --- visits ---------------------------------------------------------------------------------------------


@transaction.atomic
def visit_record(
    *,
    actor: User,
    client: Client,
    data: dict[str, Any],
    holdings: list[tuple[Security, int, Decimal]] | None = None,
) -> Visit:
    """Record a visit to ``client``.

    ``data``: ``at`` (aware datetime), ``place`` (``Visit.Place``), ``room`` (a ``Room`` when the place is
    a room), ``topic``, ``concerns``, ``holdings_confirmed``, ``satisfaction`` (1–5 or None),
    ``follow_up`` (text), ``followups`` (``[{"kind", "description", "due_on", "owner"}]``), for a
    director, ``manager`` (the member of staff who made the visit; default the actor) and
    ``consultation_question``: when not blank, a consultation order (draft, with the client's holdings
    snapshot taken after any update below) is raised for the question and linked to the visit — in the
    same transaction, so a refused order records no visit either. It is ``visit.orders.first()``.
    ``holdings``: when given, the client's holdings are replaced through ``holdings_replace`` (audited).
    """
    if not serveable_clients(viewer=actor).filter(pk=client.pk).exists():
        raise DomainError(_("该客户不在您的服务范围内。"), field="client", code="out_of_scope")
    at = _check_time(actor, data.get("at"), what=_("拜访"))
    day = timezone.localtime(at).date()
    manager: User = data.get("manager") or actor
    if manager.pk != actor.pk:
        if not actor.has_cap(Cap.SUPERVISE):
            raise DomainError(_("只能记录本人的拜访。"), field="manager")
        _staff_of_branch(manager, client.branch_id, field="manager")
    place = data.get("place") or Visit.Place.HALL
    if place not in Visit.Place.values:
        raise DomainError(_("拜访地点无效。"), field="place")
    room: Room | None = data.get("room")
    if place == Visit.Place.ROOM:
        if room is None:
            raise DomainError(_("地点为大户室时请选择房间。"), field="room")
        if room.branch_id != client.branch_id:
            raise DomainError(_("请选择本营业部的房间。"), field="room")
    else:
        room = None
    satisfaction = data.get("satisfaction")
    if satisfaction in ("", None):
        satisfaction = None
    elif not (isinstance(satisfaction, int) and 1 <= satisfaction <= 5):
        raise DomainError(_("满意度须为 1 到 5 分。"), field="satisfaction")
    topic = _text(data.get("topic"), field="topic", label=_("拜访主题"), required=True, limit=200)
    concerns = _text(data.get("concerns"), field="concerns", label=_("客户关注与需求"))
    follow_up = _text(data.get("follow_up"), field="follow_up", label=_("后续跟进"))

    item = (
        VisitPlanItem.objects.select_for_update()
        .filter(
            plan__manager=manager,
            plan__date=day,
            client=client,
            status=VisitPlanItem.Status.PLANNED,
        )
        .first()
    )
    visit = Visit.objects.create(
        branch_id=client.branch_id,
        manager=manager,
        client=client,
        at=at,
        place=place,
        room=room,
        topic=topic,
        concerns=concerns,
        holdings_confirmed=bool(data.get("holdings_confirmed")) or holdings is not None,
        satisfaction=satisfaction,
        follow_up=follow_up,
        plan_item=item,
    )
    if item is not None:
        item.status = VisitPlanItem.Status.DONE
        item.save(update_fields=["status"])
    clients_touch(client_ids=[client.pk], at=at)  # the plan ranks by the stored last contact
    followups = _followups(
        actor=actor,
        branch_id=client.branch_id,
        day=day,
        items=data.get("followups") or [],
        default_owner=manager,
        field="followups",
        client=client,
        visit=visit,
    )
    if holdings is not None:
        holdings_replace(actor=actor, client=client, positions=holdings, as_of=day, source="visit")
    question = str(data.get("consultation_question") or "").strip()
    order = None
    if question:
        try:
            order = order_create(actor=actor, client=client, question=question, visit=visit)
        except DomainError as exc:
            if exc.field == "question":
                exc.field = "consultation_question"
            raise
    audit_log(
        actor=actor,
        action="visit.record",
        obj=visit,
        changes={
            "client": [None, client.pk],
            "manager": [None, manager.pk],
            "at": [None, str(at)],
            "planned": [None, item is not None],
            "plan_item": [None, item.pk if item else None],
            "followups": [None, [f.pk for f in followups]],
            "holdings_updated": [None, holdings is not None],
            "consultation_order": [None, order.pk if order else None],
        },
    )
    return visit


# --- patrols --------------------------------------------------------------------------------------------


@transaction.atomic
def patrol_record(
    *,
    actor: User,
    room: Room,
    data: dict[str, Any],
    clients_present: Iterable[Client] = (),
    problems: Iterable[dict[str, Any]] = (),
) -> Patrol:
    """Record a round of ``room``: ``data`` holds ``at`` and ``observations``; ``clients_present`` are
    clients of the branch; each of ``problems`` (``{"kind", "description", "owner", "due_on",
    "client"}``) becomes a ``FollowUp``. Links the first open round for the room on the actor's plan."""
    if not (actor.has_cap(Cap.ONSITE_SERVE) or actor.has_cap(Cap.SUPERVISE)):
        raise DomainError(_("您没有记录巡视的权限。"), code="forbidden")
    if room.branch_id != actor.branch_id:
        raise DomainError(_("只能巡视本营业部的房间。"), field="room", code="out_of_scope")
    at = _check_time(actor, data.get("at"), what=_("巡视"))
    day = timezone.localtime(at).date()
    observations = _text(data.get("observations"), field="observations", label=_("巡视情况"))
    present = list({c.pk: c for c in clients_present}.values())
    if any(c.branch_id != room.branch_id for c in present):
        raise DomainError(_("在场客户须为本营业部的客户。"), field="clients_present")
    problems = list(problems)
    for problem in problems:
        client = problem.get("client")
        if client is not None and client.branch_id != room.branch_id:
            raise DomainError(_("问题涉及的客户须为本营业部的客户。"), field="problems")

    item = (
        PatrolPlanItem.objects.select_for_update()
        .filter(plan__manager=actor, plan__date=day, room=room, status=PatrolPlanItem.Status.PLANNED)
        .order_by("round_no")
        .first()
    )
    patrol = Patrol.objects.create(
        branch_id=room.branch_id, manager=actor, room=room, at=at, observations=observations, plan_item=item
    )
    if present:
        patrol.clients_present.set(present)
    if item is not None:
        item.status = PatrolPlanItem.Status.DONE
        item.save(update_fields=["status"])
    followups = _followups(
        actor=actor,
        branch_id=room.branch_id,
        day=day,
        items=problems,
        default_owner=actor,
        field="problems",
        patrol=patrol,
    )
    audit_log(
        actor=actor,
        action="patrol.record",
        obj=patrol,
        changes={
            "room": [None, room.pk],
            "at": [None, str(at)],
            "planned": [None, item is not None],
            "clients_present": [None, [c.pk for c in present]],
            "followups": [None, [f.pk for f in followups]],
        },
    )
    return patrol


# --- follow-ups -----------------------------------------------------------------------------------------


@transaction.atomic
def followup_complete(*, actor: User, followup: FollowUp, resolution: str) -> FollowUp:
    """Close a follow-up with its resolution: its owner, or a supervisor of its branch."""
    followup = FollowUp.objects.select_for_update().get(pk=followup.pk)
    allowed = followup.owner_id == actor.pk or (
        actor.has_cap(Cap.SUPERVISE) and actor.branch_id == followup.branch_id
    )
    if not allowed:
        raise DomainError(_("只有负责人或营业部经理可以完成该跟进事项。"), code="forbidden")
    if followup.state != FollowUp.State.OPEN:
        raise DomainError(_("该跟进事项已完成。"))
    text = _text(resolution, field="resolution", label=_("处理结果"), required=True)
    followup.state = FollowUp.State.DONE
    followup.resolution = text
    followup.done_at = timezone.now()
    followup.save(update_fields=["state", "resolution", "done_at"])
    audit_log(
        actor=actor,
        action="followup.complete",
        obj=followup,
        changes={"state": [FollowUp.State.OPEN, FollowUp.State.DONE], "resolution": [None, text]},
    )
    return followup
