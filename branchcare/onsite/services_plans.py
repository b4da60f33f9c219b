"""Daily visit and patrol plans (拜访计划 / 巡视计划): generation, and swapping a planned client.

How a manager's N clients are chosen (N = ``visits_per_day`` of the branch's service standard)
--------------------------------------------------------------------------------------------------
Each active client of the manager's own book gets

* its **last contact**: the stored ``Client.last_contact_at`` (kept by ``visit_record`` and, for other
  apps' contacts, ``clients.services.clients_touch``; backfilled from the visits by the clients
  migration), else the account's ``opened_on`` (else ``created_at``);
* its **last attention**: the later of the last contact and the last plan it was on (an item that was
  planned or done; a swapped-out item does not count, so a client the manager swapped away comes back
  soon);
* its **signals**: reasons that raise its priority. The built-in ones are 高端客户, 风险测评已过期 and
  持仓浮亏超过 X% (a holding whose latest close is more than the standard's ``holding_drop_alert_pct``
  below its cost price). Other apps add their own through :data:`PRIORITY_SIGNALS` (the off-site app,
  for instance, will add 近期投诉 from its complaints there): a signal is
  ``signal(*, branch, date, standard, manager_ids) -> {client_id: reason}`` and must do a bounded number
  of queries for the whole branch, never one per client.

Clients are then ranked by

1. **overdue**: more days since the last attention than the tier's contact interval — ordered by
   signals, then by how far past the interval (measured from the last *contact*, which is what the
   reason says);
2. **signals, not planned this cycle**: clients with a signal who were not on a plan during the current
   cycle (the cycle is ``ceil(book / N)`` trading days: the time one full round of the book takes), so a
   flagged client is brought forward once per round rather than every day;
3. **everyone else**, longest since last attention first.

Ties are broken by a rotation of the client ids that moves with the date, so clients with equal standing
(a new book, say) are taken in turn. Because a client who was planned counts as attended, a client who is
planned but not visited does not hold the top of the list day after day and starve the others, and since
the oldest attention always comes next, nobody is starved either: with N per day, every client of a book
is planned within ``ceil(book / N)`` trading days (the plan tests simulate that).

The ranking runs in the database: one query computes these keys for every client of the branch's books
(the last plan as an aggregate over a join, the registered signals' clients passed as one array
parameter per signal count) and keeps the first N of each book with a window function; Python only
re-derives the keys of those few to write the reasons. Plans are made per branch with a fixed number of
queries (book sizes, each signal, the ranking), whatever the size of the books, and are never
regenerated: the unique ``(manager, date)`` of a plan makes a second run a no-op.

Patrol plans give each manager ``patrols_per_day`` rounds over the branch's rooms: managers start at
different rooms and each trading day moves every start on by the number of rounds, so the rooms are
covered in turn.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Greatest, Mod, RowNumber, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.clients.models import Client, Holding, Price
from branchcare.core.audit import audit_bulk_append, audit_log
from branchcare.core.errors import DomainError
from branchcare.core.sla import CalendarRangeError, ServiceCalendar
from branchcare.org.calendar import standard_for, trading_calendar
from branchcare.org.models import Branch, Room, ServiceStandard, User

from .models import PatrolPlanItem, VisitPlan, VisitPlanItem

logger = logging.getLogger(__name__)

MANAGER_ROLE = "manager"
PLAN_HISTORY_DAYS = 400  # how far back plan items count as "attention" (longer gaps are overdue anyway)
PATROL_EPOCH = dt.date(2024, 1, 1)  # trading days are counted from here to rotate the patrol rooms

TIER_LABELS = {"large": "大户", "medium": "中户", "small": "小户"}

Signal = Callable[..., dict[int, str]]
PRIORITY_SIGNALS: dict[str, Signal] = {}


def register_signal(name: str, signal: Signal) -> None:
    """Add (or replace) a priority signal: ``signal(*, branch, date, standard, manager_ids)`` returns
    ``{client_id: reason}`` for the clients it flags (bounded queries for the whole branch)."""
    PRIORITY_SIGNALS[name] = signal


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}"


def holding_drop_signal(
    *, branch: Branch, date: dt.date, standard: ServiceStandard, manager_ids: list[int]
) -> dict[int, str]:
    """Clients holding a security whose latest close is more than the alert % below its cost price."""
    pct = Decimal(standard.holding_drop_alert_pct or 0)
    if pct <= 0 or not manager_ids:
        return {}
    factor = (Decimal(100) - pct) / Decimal(100)
    holdings = Holding.objects.filter(
        client__branch=branch,
        client__manager_id__in=manager_ids,
        client__status=Client.Status.ACTIVE,
        quantity__gt=0,
    ).order_by()  # no default ordering: it would join clients and securities into the DISTINCT
    floor = ExpressionWrapper(F("cost_price") * factor, output_field=DecimalField())
    # Prices normally arrive for every security on the same day: holdings of securities priced on the
    # latest day are compared by a plain join; only those whose last close is older (suspended, say)
    # need the per-holding "latest close" subquery.
    prices = Price.objects.filter(date__lte=date)
    last_day = prices.aggregate(d=Max("date"))["d"]
    if last_day is None:
        return {}
    ids = set(
        holdings.filter(security__prices__date=last_day, security__prices__close__lt=floor)
        .values_list("client_id", flat=True)
        .distinct()
    )
    fresh = set(Price.objects.filter(date=last_day).values_list("security_id", flat=True))
    stale = set(prices.order_by().values_list("security_id", flat=True).distinct()) - fresh
    if stale:
        latest = prices.filter(security=OuterRef("security_id")).order_by("-date")
        ids |= set(
            holdings.filter(security_id__in=stale)
            .annotate(last_close=Subquery(latest.values("close")[:1]), floor=floor)
            .filter(last_close__lt=F("floor"))
            .values_list("client_id", flat=True)
            .distinct()
        )
    reason = _("持仓浮亏超过 %(p)s%%") % {"p": _pct(pct)}
    return dict.fromkeys(ids, reason)


register_signal("holding_drop", holding_drop_signal)


# --- facts ----------------------------------------------------------------------------------------------


@dataclass
class Candidate:
    pk: int
    manager_id: int
    tier: str
    last_contact: dt.date
    last_attention: dt.date
    last_planned: dt.date | None = None
    signals: list[str] = field(default_factory=list)
    key: tuple = ()
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Book:
    """What the ranking needs to know about one manager's book as a whole."""

    size: int
    modulus: int  # the rotation runs over the client ids modulo this (the branch's largest id + 1)
    shift: int  # where the rotation starts today
    cycle_start: dt.date  # plans on or after this day belong to the current cycle


def _calendar_check(date: dt.date, cal: ServiceCalendar) -> None:
    try:
        trading = cal.is_working_day(date)
    except CalendarRangeError as exc:
        raise DomainError(
            _(
                "交易日历只录入到 %(until)s，无法生成 %(d)s 的计划。"
                "请系统管理员在“交易日历”中录入新一年的节假日安排后再生成。"
            )
            % {"until": exc.known_until, "d": date},
            code="calendar_range",
        ) from exc
    if not trading:
        raise DomainError(_("非交易日不生成计划（%(d)s）。") % {"d": date}, code="not_trading_day")


def _previous_trading_days(date: dt.date, count: int, cal: ServiceCalendar) -> list[dt.date]:
    """Up to ``count`` trading days before ``date``, newest first (stops at the calendar's start)."""
    out: list[dt.date] = []
    day = date
    while len(out) < count:
        day -= dt.timedelta(days=1)
        try:
            if cal.is_working_day(day):
                out.append(day)
        except CalendarRangeError:
            break
    return out


def _trading_day_index(date: dt.date, cal: ServiceCalendar) -> int:
    """How many trading days lie between ``PATROL_EPOCH`` and ``date`` (for the room rotation)."""
    days = cal.days
    if days is None:
        return (date - PATROL_EPOCH).days
    lo, hi = sorted((PATROL_EPOCH, date))
    n = sum(1 for d in days if lo <= d < hi)
    return n if date >= PATROL_EPOCH else -n


def managers_of(branch: Branch) -> list[User]:
    """The branch's active customer managers (role ``manager``), in id order."""
    return list(
        User.objects.filter(branch=branch, is_active=True, roles__code=MANAGER_ROLE).distinct().order_by("pk")
    )


def _books(
    *, branch: Branch, date: dt.date, quota: int, manager_ids: list[int], cal: ServiceCalendar
) -> dict[int, Book]:
    """Size, rotation and cycle start of each manager's book of active clients (one query)."""
    if quota <= 0:
        return {}
    stats = list(
        Client.objects.filter(branch=branch, manager_id__in=manager_ids, status=Client.Status.ACTIVE)
        .order_by()
        .values("manager_id")
        .annotate(n=Count("pk"), top=Max("pk"))
        .values_list("manager_id", "n", "top")
    )
    longest = max((math.ceil(n / quota) for _m, n, _t in stats), default=1)
    previous_days = _previous_trading_days(date, max(longest - 1, 0), cal)
    # One rotation for the whole branch: the client ids modulo the largest + 1, moving with the date.
    modulus = max((top for _m, _n, top in stats), default=0) + 1
    shift = (date.toordinal() * quota) % modulus
    books: dict[int, Book] = {}
    for manager_id, n, _top in stats:
        cycle = math.ceil(n / quota)
        # Attention on or after this day belongs to the current cycle (today and the last cycle-1 trading days).
        if cycle <= 1 or not previous_days:
            cycle_start = date
        else:
            cycle_start = previous_days[min(cycle - 2, len(previous_days) - 1)]
        books[manager_id] = Book(size=n, modulus=modulus, shift=shift, cycle_start=cycle_start)
    return books


def _per_manager(books: dict[int, Book], attr: str, output: Any) -> Case:
    return Case(
        *[When(manager_id=m, then=Value(getattr(b, attr))) for m, b in books.items()],
        default=Value(None),
        output_field=output,
    )


def _facts(
    *,
    branch: Branch,
    date: dt.date,
    standard: ServiceStandard,
    manager_ids: list[int],
    books: dict[int, Book],
    extra: dict[int, list[int]] | None = None,
) -> QuerySet[Client]:
    """The managers' active clients annotated with the facts and the rank key of the plan, in SQL.

    ``contact`` is the local date of the stored ``last_contact_at`` (else the opening date, else the date
    the record was created), ``planned`` the last plan the client was on (planned or done),
    ``attention`` the later of the two, ``nsig`` the number of signals: the built-in ones computed here
    (高端客户, 风险测评已过期) plus those of the registered signals (``extra``: ``{count: [client ids]}``,
    each list passed as one parameter), ``klass`` the class of the module docstring (0 overdue, 1 signal not planned this cycle,
    2 the others), then the ordering keys ``k_over`` (class 0: days from the tier's due date to the last
    contact), ``k_att`` (classes 1 and 2: the last attention) and ``rotation``."""
    valid_days = settings.BRANCHCARE["RISK_ASSESSMENT_VALID_DAYS"]
    expired_before = date - dt.timedelta(days=valid_days)
    intervals = {t: standard.contact_interval_days(t) for t in TIER_LABELS}
    # The last plan each client was on, as an aggregate over a LEFT JOIN (a correlated subquery would be
    # repeated by every expression that refers to it).
    planned = Max(
        "visit_plan_items__plan__date",
        filter=Q(
            visit_plan_items__plan__manager_id__in=manager_ids,
            visit_plan_items__plan__date__lt=date,
            visit_plan_items__plan__date__gte=date - dt.timedelta(days=PLAN_HISTORY_DAYS),
            visit_plan_items__status__in=[VisitPlanItem.Status.PLANNED, VisitPlanItem.Status.DONE],
        ),
    )
    date_field: DateField[Any, Any] = DateField()
    one, zero = Value(1), Value(0)
    facts = (
        Client.objects.filter(branch=branch, manager_id__in=manager_ids, status=Client.Status.ACTIVE)
        .order_by()
        .annotate(
            contact=Coalesce(TruncDate("last_contact_at"), "opened_on", TruncDate("created_at")),
            planned=planned,
        )
        .annotate(
            attention=Greatest("contact", Coalesce("planned", "contact"), output_field=date_field),
            threshold=Case(
                *[When(tier=t, then=Value(date - dt.timedelta(days=d))) for t, d in intervals.items()],
                default=Value(date - dt.timedelta(days=standard.contact_interval_small_days)),
                output_field=date_field,
            ),
            nsig=Case(When(is_premium=True, then=one), default=zero)
            + Case(
                When(Q(risk_assessed_on__isnull=True) | Q(risk_assessed_on__lt=expired_before), then=one),
                default=zero,
            )
            + Case(
                *[When(pk__in=_id_set(ids), then=Value(n)) for n, ids in sorted((extra or {}).items())],
                default=zero,
            ),
            cycle_start=_per_manager(books, "cycle_start", date_field),
        )
    )
    # Written out as conditions rather than through a "class" column: an annotation that refers to
    # another is expanded in full in the SQL at each reference.
    overdue = Q(attention__lt=F("threshold"))
    fresh_signal = Q(nsig__gt=0) & (Q(planned__isnull=True) | Q(planned__lt=F("cycle_start")))
    rotate = Value(books_modulus(books) - books_shift(books))
    return facts.annotate(
        klass=Case(When(overdue, then=Value(0)), When(fresh_signal, then=Value(1)), default=Value(2)),
        k_sig=Case(When(overdue | fresh_signal, then=zero - F("nsig")), default=zero),
        k_over=Case(
            When(
                overdue, then=ExpressionWrapper(F("contact") - F("threshold"), output_field=DurationField())
            ),
            default=Value(None),
            output_field=DurationField(),
        ),
        k_att=Case(When(overdue, then=Value(None)), default=F("attention"), output_field=date_field),
        rotation=Mod(F("pk") + rotate, Value(books_modulus(books))),
    )


def books_modulus(books: dict[int, Book]) -> int:
    return next(iter(books.values())).modulus


def books_shift(books: dict[int, Book]) -> int:
    return next(iter(books.values())).shift


def _top(facts: QuerySet[Client], *, quota: int) -> QuerySet[Client]:
    """The first ``quota`` clients of each book in ``facts`` by the plan's key (a window function: the
    database sorts, not Python)."""
    order = [F(k).asc() for k in ("klass", "k_sig", "k_over", "k_att", "rotation")]
    return facts.annotate(row=Window(RowNumber(), partition_by=[F("manager_id")], order_by=order)).filter(
        row__lte=quota
    )


def _id_set(ids: list[int]) -> RawSQL:
    """``ids`` as one query parameter (an array on PostgreSQL, JSON on SQLite) for ``pk__in``: a list of
    tens of thousands of ids would otherwise become as many parameters."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (sorted(ids),))
    return RawSQL("SELECT value FROM json_each(%s)", (json.dumps(sorted(ids)),))


FACT_FIELDS = ("pk", "manager_id", "tier", "is_premium", "risk_assessed_on", "contact", "planned")


def _candidates(
    *,
    branch: Branch,
    date: dt.date,
    standard: ServiceStandard,
    quota: int,
    manager_ids: list[int],
    books: dict[int, Book],
) -> dict[int, list[Candidate]]:
    """The clients that can make each manager's plan, with their facts and signals.

    The registered signals (:data:`PRIORITY_SIGNALS`) are evaluated first; the database then ranks every
    book with all the signals counted and returns the first ``quota`` of each, which :func:`_choose`
    orders the same way in Python and explains. A fixed number of queries
    for all the managers together, whatever the size of the books."""
    if not books:
        return {}
    extra: dict[int, list[str]] = defaultdict(list)
    for signal in PRIORITY_SIGNALS.values():
        for cid, reason in signal(
            branch=branch, date=date, standard=standard, manager_ids=manager_ids
        ).items():
            extra[cid].append(reason)
    groups: dict[int, list[int]] = defaultdict(list)
    for cid, reasons in extra.items():
        groups[len(reasons)].append(cid)
    facts = _facts(
        branch=branch, date=date, standard=standard, manager_ids=manager_ids, books=books, extra=groups
    )
    rows = list(_top(facts, quota=quota).values_list(*FACT_FIELDS))

    valid_days = settings.BRANCHCARE["RISK_ASSESSMENT_VALID_DAYS"]
    expired_before = date - dt.timedelta(days=valid_days)
    premium_reason, risk_reason = _("高端客户"), _("风险测评已过期")
    out: dict[int, list[Candidate]] = defaultdict(list)
    for pk, manager_id, tier, premium, assessed, contact, planned_on in rows:
        signals = list(extra.get(pk, ()))
        if assessed is None or assessed < expired_before:
            signals.insert(0, risk_reason)
        if premium:
            signals.insert(0, premium_reason)
        out[manager_id].append(
            Candidate(
                pk=pk,
                manager_id=manager_id,
                tier=tier,
                last_contact=contact,
                last_attention=max(contact, planned_on) if planned_on else contact,
                last_planned=planned_on,
                signals=signals,
            )
        )
    return out


def _choose(
    candidates: list[Candidate],
    *,
    date: dt.date,
    standard: ServiceStandard,
    quota: int,
    book: Book | None,
) -> list[Candidate]:
    """The ``quota`` clients to visit on ``date`` among ``candidates``, best first, each with its reasons.
    The key is the one :func:`_facts` orders by, with every signal counted."""
    if not candidates or quota <= 0 or book is None:
        return []
    intervals = {t: standard.contact_interval_days(t) for t in TIER_LABELS}
    for c in candidates:
        interval = intervals.get(c.tier, standard.contact_interval_small_days)
        rotation = (c.pk - book.shift) % book.modulus
        if (date - c.last_attention).days > interval:
            over = (date - c.last_contact).days - interval
            c.key = (0, -len(c.signals), -over, rotation)
        elif c.signals and (c.last_planned is None or c.last_planned < book.cycle_start):
            c.key = (1, -len(c.signals), c.last_attention.toordinal(), rotation)
        else:
            c.key = (2, 0, c.last_attention.toordinal(), rotation)
    chosen = heapq.nsmallest(quota, candidates, key=lambda c: c.key)
    for c in chosen:
        interval = intervals.get(c.tier, standard.contact_interval_small_days)
        since = max((date - c.last_contact).days, 0)
        label = TIER_LABELS.get(c.tier, c.tier)
        if since > interval:
            head = _("已超过%(t)s联系间隔 %(n)d 天") % {"t": label, "n": since - interval}
        else:
            head = _("距上次联系 %(n)d 天") % {"n": since}
        c.reasons = [head, *c.signals]
    return chosen


def _patrol_rooms(
    rooms: list[Room], *, manager_index: int, day_index: int, rounds: int
) -> list[tuple[int, Room]]:
    if not rooms or rounds <= 0:
        return []
    start = (manager_index + day_index * rounds) % len(rooms)
    return [(r + 1, rooms[(start + r) % len(rooms)]) for r in range(rounds)]


# --- generation -----------------------------------------------------------------------------------------


def _generate(
    *, branch: Branch, date: dt.date, managers: list[User], all_managers: list[User], actor: Any
) -> list[VisitPlan]:
    cal = trading_calendar()
    _calendar_check(date, cal)
    existing = set(
        VisitPlan.objects.filter(manager__in=managers, date=date).values_list("manager_id", flat=True)
    )
    todo = [m for m in managers if m.pk not in existing]
    if not todo:
        return []
    standard = standard_for(branch, date)
    quota = int(standard.visits_per_day)
    rounds = int(standard.patrols_per_day)
    manager_ids = [m.pk for m in todo]
    books = _books(branch=branch, date=date, quota=quota, manager_ids=manager_ids, cal=cal)
    candidates = _candidates(
        branch=branch, date=date, standard=standard, quota=quota, manager_ids=manager_ids, books=books
    )
    rooms = list(Room.objects.filter(branch=branch).order_by("pk"))
    day_index = _trading_day_index(date, cal)
    order = {m.pk: i for i, m in enumerate(all_managers)}

    created: list[VisitPlan] = []
    for manager in todo:
        chosen = _choose(
            candidates.get(manager.pk, []),
            date=date,
            standard=standard,
            quota=quota,
            book=books.get(manager.pk),
        )
        patrols = _patrol_rooms(
            rooms, manager_index=order.get(manager.pk, 0), day_index=day_index, rounds=rounds
        )
        try:
            with transaction.atomic():
                plan = VisitPlan.objects.create(
                    branch=branch,
                    manager=manager,
                    date=date,
                    visits_quota=quota,
                    patrols_quota=len(patrols),
                )
                VisitPlanItem.objects.bulk_create(
                    [
                        VisitPlanItem(plan=plan, client_id=c.pk, rank=i + 1, reasons=c.reasons)
                        for i, c in enumerate(chosen)
                    ]
                )
                PatrolPlanItem.objects.bulk_create(
                    [PatrolPlanItem(plan=plan, room=room, round_no=no) for no, room in patrols]
                )
        except IntegrityError:  # another run made this manager's plan meanwhile: nothing to do
            continue
        created.append(plan)
    if created:
        with transaction.atomic():
            audit_bulk_append(
                {
                    "actor": actor,
                    "action": "visit_plan.generate",
                    "object_type": "onsite.visitplan",
                    "object_id": plan.pk,
                    "object_repr": f"{plan.manager} {plan.date}",
                    "branch_id": branch.pk,
                    "changes": {"visits": [None, plan.visits_quota], "patrols": [None, plan.patrols_quota]},
                }
                for plan in created
            )
    return created


def plan_generate(*, branch: Branch, date: dt.date, actor: Any = None) -> list[VisitPlan]:
    """Make the visit and patrol plan of ``date`` for every active customer manager of ``branch`` who
    has none yet; returns the plans made (empty on a second run). Refuses (``DomainError``) on a
    non-trading day and past the calendar's known range."""
    managers = managers_of(branch)
    return _generate(branch=branch, date=date, managers=managers, all_managers=managers, actor=actor)


def plan_generate_for_manager(*, manager: User, date: dt.date, actor: Any = None) -> VisitPlan | None:
    """The same for one manager (the 生成今日计划 button); the existing plan when there is one."""
    if manager.branch is None:
        raise DomainError(_("您未归属任何营业部，无法生成计划。"))
    all_managers = managers_of(manager.branch)
    if manager.pk not in {m.pk for m in all_managers}:
        raise DomainError(_("只有在职的客户经理才有拜访计划。"))
    _generate(branch=manager.branch, date=date, managers=[manager], all_managers=all_managers, actor=actor)
    return VisitPlan.objects.filter(manager=manager, date=date).first()


def plans_generate_all(*, date: dt.date, branches: Iterable[Branch] | None = None) -> int:
    """Every branch's plans for ``date`` (the daily task); returns how many plans were made."""
    total = 0
    for branch in branches if branches is not None else Branch.objects.order_by("pk"):
        total += len(plan_generate(branch=branch, date=date))
    return total


# --- swap -----------------------------------------------------------------------------------------------


@transaction.atomic
def plan_swap(*, actor: User, item: VisitPlanItem, new_client: Client, reason: str) -> VisitPlanItem:
    """Replace a planned client with ``new_client`` (from the same manager's book, not yet in the plan).
    The old item becomes 已调换 and points at the new one; audited, so the director sees every swap."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写调换原因。"), field="reason")
    item = VisitPlanItem.objects.select_for_update().select_related("plan").get(pk=item.pk)
    plan = item.plan
    if item.status != VisitPlanItem.Status.PLANNED:
        raise DomainError(_("只有待拜访的客户可以调换。"))
    if plan.date != timezone.localdate():
        raise DomainError(_("只能调换今日计划中的客户。"))
    if new_client.manager_id != plan.manager_id or new_client.branch_id != plan.branch_id:
        raise DomainError(_("只能换成该客户经理名下的客户。"), field="new_client")
    if new_client.status != Client.Status.ACTIVE:
        raise DomainError(_("该客户不是正常状态，不能列入计划。"), field="new_client")
    if VisitPlanItem.objects.filter(plan=plan, client=new_client).exists():
        raise DomainError(_("该客户已在今日计划中。"), field="new_client")
    rank = (plan.items.aggregate(m=Max("rank"))["m"] or 0) + 1
    new_item = VisitPlanItem.objects.create(
        plan=plan, client=new_client, rank=rank, reasons=[_("调换加入：%(r)s") % {"r": reason}]
    )
    item.status = VisitPlanItem.Status.SWAPPED
    item.swap_reason = reason[:200]
    item.replaced_by = new_item
    item.save(update_fields=["status", "swap_reason", "replaced_by"])
    audit_log(
        actor=actor,
        action="visit_plan.swap",
        obj=plan,
        changes={"client": [item.client_id, new_client.pk], "reason": [None, item.swap_reason]},
    )
    return new_item
