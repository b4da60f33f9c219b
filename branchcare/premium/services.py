"""高端客户服务: every write — rate table, desk settings, enrolments, the 24×7 desk's requests, research
questions and escalation. Keyword-only, atomic, audited; request state changes go through
:func:`branchcare.core.workflow.transition` with :data:`.workflows.PREMIUM_REQUEST`.

Decisions kept here:

* **Who enrols.** An enrolment changes the client's commission rate — a pricing decision — so only the
  branch director (``Cap.SUPERVISE``) enrols, downgrades and exits clients and edits the rate table.
  Brokers see their own enrolments and serve the clients; a broker who signs a client up asks the
  director to record it (the agreement number and signing date are entered then).
* **Effective dates.** An enrolment takes effect on ``effective_on`` (today or earlier, not before the
  signing date) at the rate in force for its tier on that date; the client's ``is_premium`` and
  ``commission_rate`` change at once (the client row is updated directly, ``version`` + 1, audited).
  Rates are versioned: a new version starts on a date not in the past and never changes the rate of
  enrolments already signed.
* **Downgrade** closes the enrolment (``downgraded``) and opens a new one at a lower tier; **exit**
  closes it (``exited``) and restores the rate the client had before premium service.
* Events: ``premium.enrolled`` (client_id, enrolment_id, actor) and ``premium.exited`` (client_id,
  enrolment_id, actor), published inside the transaction (``core.events``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.clients.models import Client
from branchcare.core import events
from branchcare.core import workflow as wf
from branchcare.core.audit import audit_log, diff, snapshot
from branchcare.core.errors import DomainError
from branchcare.core.notify import notify
from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch, Role, User

from . import desk_sla
from .models import (
    TIER_RANK,
    DeskSettings,
    Enrolment,
    PremiumRate,
    PremiumRequest,
    RequestMessage,
    ResearchQuestion,
    ServiceTier,
)
from .workflows import OPEN_STATES, PREMIUM_REQUEST, can_act_as_broker

S = PremiumRequest.State
E = Enrolment.State
K = RequestMessage.Kind


# --- people ------------------------------------------------------------------------------------------------


def _holders_of(branch_id: int, capability: str) -> list[User]:
    role_ids = [r.pk for r in Role.objects.all() if capability in (r.capabilities or [])]
    return list(
        User.objects.filter(branch_id=branch_id, is_active=True, roles__in=role_ids).distinct().order_by("pk")
    )


def directors_of(branch_id: int) -> list[User]:
    return _holders_of(branch_id, Cap.SUPERVISE)


def brokers_of(branch_id: int) -> list[User]:
    """The branch's active staff holding ``Cap.PREMIUM_SERVE``."""
    return _holders_of(branch_id, Cap.PREMIUM_SERVE)


def researchers_of(branch_id: int) -> list[User]:
    return _holders_of(branch_id, Cap.RESEARCH_WRITE)


def _require_director(actor: Any, branch_id: int) -> None:
    if not (actor.has_cap(Cap.SUPERVISE) and actor.branch_id == branch_id):
        raise DomainError(_("只有本营业部的营业部经理可以执行此操作。"), code="forbidden")


def _request_url(req: PremiumRequest) -> str:
    return reverse("premium:request_detail", args=[req.pk])


# --- rate table --------------------------------------------------------------------------------------------


def rate_in_force(*, branch_id: int, tier: str, on: dt.date) -> PremiumRate | None:
    """The version of ``tier``'s rate in force on ``on`` (latest ``effective_from`` on or before it)."""
    return (
        PremiumRate.objects.filter(branch_id=branch_id, tier=tier, effective_from__lte=on)
        .order_by("-effective_from", "-id")
        .first()
    )


def _rate_value(value: Any) -> Decimal:
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(_("佣金率须为数字（以‰计）。"), field="commission_rate") from None
    if not rate.is_finite() or rate <= 0 or rate > 3:
        raise DomainError(_("佣金率须大于 0 且不超过 3‰。"), field="commission_rate")
    if rate.as_tuple().exponent < -4:  # type: ignore[operator]
        raise DomainError(_("佣金率最多保留 4 位小数。"), field="commission_rate")
    return rate


@transaction.atomic
def rate_add(
    *,
    actor: Any,
    branch: Branch,
    tier: str,
    commission_rate: Any,
    effective_from: dt.date,
    note: str = "",
    today: dt.date | None = None,
) -> PremiumRate:
    """Add a version of ``tier``'s premium rate starting ``effective_from`` (not in the past: rates
    already in force are not rewritten; enrolments keep the rate they were signed at)."""
    _require_director(actor, branch.pk)
    today = today or timezone.localdate()
    if tier not in ServiceTier.values:
        raise DomainError(_("请选择服务等级。"), field="tier")
    rate = _rate_value(commission_rate)
    if effective_from < today:
        raise DomainError(_("生效日期不能早于今天：已生效的费率不能追溯修改。"), field="effective_from")
    if PremiumRate.objects.filter(branch=branch, tier=tier, effective_from=effective_from).exists():
        raise DomainError(
            _("该服务等级在 %(d)s 已有费率版本。") % {"d": effective_from}, field="effective_from"
        )
    row = PremiumRate.objects.create(
        branch=branch,
        tier=tier,
        commission_rate=rate,
        effective_from=effective_from,
        note=note.strip()[:200],
        created_by=actor,
    )
    audit_log(
        actor=actor,
        action="premium.rate_add",
        obj=row,
        changes={
            "tier": [None, tier],
            "commission_rate": [None, str(rate)],
            "effective_from": [None, str(effective_from)],
        },
    )
    return row


# --- desk settings -----------------------------------------------------------------------------------------


def desk_settings_for(branch_id: int) -> DeskSettings:
    """The branch's desk targets (the defaults, unsaved, until the director changes them)."""
    return DeskSettings.objects.filter(branch_id=branch_id).first() or DeskSettings(branch_id=branch_id)


def targets_for(branch_id: int) -> desk_sla.Targets:
    s = desk_settings_for(branch_id)
    return desk_sla.Targets(
        first_response=dt.timedelta(minutes=s.first_response_minutes),
        resolution=dt.timedelta(hours=s.resolution_hours),
        director_after=dt.timedelta(minutes=s.director_after_minutes),
    )


@transaction.atomic
def desk_settings_update(
    *,
    actor: Any,
    branch: Branch,
    first_response_minutes: int,
    resolution_hours: int,
    director_after_minutes: int,
) -> DeskSettings:
    """Change the branch's desk targets; requests already received keep their deadlines."""
    _require_director(actor, branch.pk)
    if not 1 <= first_response_minutes <= 24 * 60:
        raise DomainError(_("首次响应时限须在 1 到 1440 分钟之间。"), field="first_response_minutes")
    if not 1 <= resolution_hours <= 24 * 30:
        raise DomainError(_("办结时限须在 1 到 720 小时之间。"), field="resolution_hours")
    if first_response_minutes > resolution_hours * 60:
        raise DomainError(_("首次响应时限不能长于办结时限。"), field="first_response_minutes")
    if not 0 <= director_after_minutes <= 7 * 24 * 60:
        raise DomainError(
            _("升级至营业部经理的时长须在 0 到 10080 分钟之间。"), field="director_after_minutes"
        )
    fields = ["first_response_minutes", "resolution_hours", "director_after_minutes"]
    s, _created = DeskSettings.objects.select_for_update().get_or_create(branch=branch)
    before = snapshot(s, fields)
    s.first_response_minutes = first_response_minutes
    s.resolution_hours = resolution_hours
    s.director_after_minutes = director_after_minutes
    s.save()
    audit_log(
        actor=actor,
        action="premium.desk_settings",
        obj=s,
        branch_id=branch.pk,
        changes=diff(before, snapshot(s, fields)),
    )
    return s


# --- enrolment ---------------------------------------------------------------------------------------------


def _check_broker(user: Any, branch_id: int, field: str) -> None:
    if (
        user is None
        or not user.is_active
        or user.branch_id != branch_id
        or not user.has_cap(Cap.PREMIUM_SERVE)
    ):
        raise DomainError(_("所选人员不是本营业部在岗的经纪人。"), field=field)


def _set_client_premium(
    *, actor: Any, client_id: int, is_premium: bool, rate: Decimal | None, action: str, broker: Any = None
) -> None:
    """Update the client row directly (the clients app owns no premium logic): flag, rate, dedicated
    broker (who then reaches the client like its manager), version + 1."""
    client = Client.objects.select_for_update(of=("self",)).get(pk=client_id)
    before = {
        "is_premium": client.is_premium,
        "commission_rate": client.commission_rate,
        "broker": client.broker_id,
    }
    broker_id = broker.pk if broker is not None else None
    Client.objects.filter(pk=client_id).update(
        is_premium=is_premium,
        commission_rate=rate,
        broker_id=broker_id,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    audit_log(
        actor=actor,
        action=action,
        obj=client,
        changes=diff(before, {"is_premium": is_premium, "commission_rate": rate, "broker": broker_id}),
    )


@transaction.atomic
def enrol(
    *,
    actor: Any,
    client: Client,
    broker: Any,
    tier: str,
    agreement_no: str,
    signed_on: dt.date,
    effective_on: dt.date,
    backup_broker: Any = None,
    today: dt.date | None = None,
) -> Enrolment:
    """Sign ``client`` up for premium service (see the module docstring for the rules)."""
    today = today or timezone.localdate()
    _require_director(actor, client.branch_id)
    locked = Client.objects.select_for_update(of=("self",)).get(pk=client.pk)
    if locked.status != Client.Status.ACTIVE:
        raise DomainError(_("只有状态正常的客户可以签约高端服务。"), field="client")
    if Enrolment.objects.filter(client=locked, state=E.ACTIVE).exists():
        raise DomainError(_("该客户已签约高端服务；如需变更等级请使用“降级”，或先办理退出。"), field="client")
    if tier not in ServiceTier.values:
        raise DomainError(_("请选择服务等级。"), field="tier")
    _check_broker(broker, locked.branch_id, "broker")
    if backup_broker is not None:
        _check_broker(backup_broker, locked.branch_id, "backup_broker")
        if backup_broker.pk == broker.pk:
            raise DomainError(_("备岗经纪人不能与专属经纪人相同。"), field="backup_broker")
    agreement_no = (agreement_no or "").strip()
    if not agreement_no:
        raise DomainError(_("请填写协议编号。"), field="agreement_no")
    if signed_on > today:
        raise DomainError(_("签署日期不能晚于今天。"), field="signed_on")
    if effective_on > today:
        raise DomainError(_("生效日期不能晚于今天；请在生效当日办理签约。"), field="effective_on")
    if effective_on < signed_on:
        raise DomainError(_("生效日期不能早于签署日期。"), field="effective_on")
    rate = rate_in_force(branch_id=locked.branch_id, tier=tier, on=effective_on)
    if rate is None:
        raise DomainError(
            _("本营业部没有 %(d)s 生效的“%(t)s”费率，请先在费率表中设置。")
            % {"d": effective_on, "t": ServiceTier(tier).label},
            field="tier",
        )
    enrolment = Enrolment.objects.create(
        branch_id=locked.branch_id,
        client=locked,
        broker=broker,
        backup_broker=backup_broker,
        tier=tier,
        rate=rate,
        commission_rate=rate.commission_rate,
        previous_rate=locked.commission_rate,
        effective_on=effective_on,
        agreement_no=agreement_no[:40],
        signed_on=signed_on,
        created_by=actor,
    )
    audit_log(
        actor=actor,
        action="premium.enrol",
        obj=enrolment,
        changes={
            "client": [None, locked.pk],
            "broker": [None, broker.pk],
            "tier": [None, tier],
            "commission_rate": [
                str(locked.commission_rate) if locked.commission_rate is not None else None,
                str(rate.commission_rate),
            ],
            "effective_on": [None, str(effective_on)],
        },
    )
    _set_client_premium(
        actor=actor,
        client_id=locked.pk,
        is_premium=True,
        rate=rate.commission_rate,
        action="premium.client_enrolled",
        broker=broker,
    )
    events.publish("premium.enrolled", client_id=locked.pk, enrolment_id=enrolment.pk, actor=actor)
    recipients = [u for u in (broker, backup_broker) if u is not None and u.pk != actor.pk]
    if recipients:
        notify(
            recipients=recipients,
            title=_("新签约高端客户：%(c)s") % {"c": locked.name},
            body=_("服务等级 %(t)s，自 %(d)s 起由您提供专属服务。")
            % {"t": enrolment.get_tier_display(), "d": effective_on},
            url=reverse("premium:enrolments"),
        )
    return enrolment


def _close_checks(
    actor: Any, enrolment: Enrolment, ended_on: dt.date, reason: str, today: dt.date
) -> Enrolment:
    _require_director(actor, enrolment.branch_id)
    locked = Enrolment.objects.select_for_update(of=("self",)).get(pk=enrolment.pk)
    if locked.state != E.ACTIVE:
        raise DomainError(_("该签约已终止，不能再办理。"), code="invalid_state")
    if not reason.strip():
        raise DomainError(_("请填写原因。"), field="reason")
    if ended_on > today:
        raise DomainError(_("日期不能晚于今天。"), field="ended_on")
    if ended_on < locked.effective_on:
        raise DomainError(
            _("日期不能早于签约生效日期 %(d)s。") % {"d": locked.effective_on}, field="ended_on"
        )
    return locked


@transaction.atomic
def enrolment_downgrade(
    *,
    actor: Any,
    enrolment: Enrolment,
    tier: str,
    effective_on: dt.date,
    reason: str,
    agreement_no: str = "",
    today: dt.date | None = None,
) -> Enrolment:
    """Move the client to a lower tier from ``effective_on``: this enrolment ends (``downgraded``) and a new
    one at the lower tier's rate in force starts; the client keeps the broker."""
    today = today or timezone.localdate()
    locked = _close_checks(actor, enrolment, effective_on, reason, today)
    if tier not in ServiceTier.values or TIER_RANK[ServiceTier(tier)] >= TIER_RANK[ServiceTier(locked.tier)]:
        raise DomainError(
            _("降级只能选择低于当前等级（%(t)s）的服务等级。") % {"t": locked.get_tier_display()},
            field="tier",
        )
    rate = rate_in_force(branch_id=locked.branch_id, tier=tier, on=effective_on)
    if rate is None:
        raise DomainError(
            _("本营业部没有 %(d)s 生效的“%(t)s”费率，请先在费率表中设置。")
            % {"d": effective_on, "t": ServiceTier(tier).label},
            field="tier",
        )
    locked.state, locked.ended_on, locked.reason = E.DOWNGRADED, effective_on, reason.strip()[:500]
    locked.save(update_fields=["state", "ended_on", "reason"])
    audit_log(
        actor=actor,
        action="premium.downgrade",
        obj=locked,
        changes={
            "state": [E.ACTIVE, E.DOWNGRADED],
            "ended_on": [None, str(effective_on)],
            "reason": [None, locked.reason],
        },
    )
    new = Enrolment.objects.create(
        branch_id=locked.branch_id,
        client_id=locked.client_id,
        broker_id=locked.broker_id,
        backup_broker_id=locked.backup_broker_id,
        tier=tier,
        rate=rate,
        commission_rate=rate.commission_rate,
        previous_rate=locked.previous_rate,
        effective_on=effective_on,
        agreement_no=(agreement_no.strip() or locked.agreement_no)[:40],
        signed_on=locked.signed_on,
        previous=locked,
        created_by=actor,
    )
    audit_log(
        actor=actor,
        action="premium.enrol",
        obj=new,
        changes={
            "tier": [locked.tier, tier],
            "commission_rate": [str(locked.commission_rate), str(rate.commission_rate)],
        },
    )
    _set_client_premium(
        actor=actor,
        client_id=locked.client_id,
        is_premium=True,
        rate=rate.commission_rate,
        action="premium.client_downgraded",
        broker=new.broker,
    )
    return new


@transaction.atomic
def enrolment_exit(
    *, actor: Any, enrolment: Enrolment, ended_on: dt.date, reason: str, today: dt.date | None = None
) -> Enrolment:
    """End premium service: the enrolment is ``exited`` and the client's earlier commission rate restored."""
    today = today or timezone.localdate()
    locked = _close_checks(actor, enrolment, ended_on, reason, today)
    locked.state, locked.ended_on, locked.reason = E.EXITED, ended_on, reason.strip()[:500]
    locked.save(update_fields=["state", "ended_on", "reason"])
    audit_log(
        actor=actor,
        action="premium.exit",
        obj=locked,
        changes={
            "state": [E.ACTIVE, E.EXITED],
            "ended_on": [None, str(ended_on)],
            "reason": [None, locked.reason],
        },
    )
    _set_client_premium(
        actor=actor,
        client_id=locked.client_id,
        is_premium=False,
        rate=locked.previous_rate,
        action="premium.client_exited",
    )
    events.publish("premium.exited", client_id=locked.client_id, enrolment_id=locked.pk, actor=actor)
    return locked


def active_enrolment(client_id: int) -> Enrolment | None:
    return (
        Enrolment.objects.filter(client_id=client_id, state=E.ACTIVE)
        .select_related("broker", "backup_broker")
        .first()
    )


# --- requests ----------------------------------------------------------------------------------------------


def _message(
    req: PremiumRequest, *, author: Any, kind: str, text: str, to_client: bool = False, at: dt.datetime
) -> RequestMessage:
    return RequestMessage.objects.create(
        request=req,
        author=author if getattr(author, "pk", None) else None,
        kind=kind,
        text=text,
        to_client=to_client,
        at=at,
    )


@transaction.atomic
def request_create(
    *,
    actor: Any,
    client: Client,
    channel: str,
    subject: str,
    body: str,
    received_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> PremiumRequest:
    """Record a premium client's request; it enters the dedicated broker's queue with 24×7 deadlines
    counted from ``received_at`` (default now; not in the future)."""
    now = now or timezone.now()
    received_at = received_at or now
    enrolment = Enrolment.objects.filter(client=client, state=E.ACTIVE).first()
    if enrolment is None:
        raise DomainError(_("该客户未签约高端服务（或已退出），不能进入高端服务台。"), field="client")
    is_director = actor.has_cap(Cap.SUPERVISE) and actor.branch_id == enrolment.branch_id
    if not is_director and actor.pk not in (enrolment.broker_id, enrolment.backup_broker_id):
        raise DomainError(_("只有该客户的专属经纪人、备岗经纪人或营业部经理可以登记请求。"), code="forbidden")
    if channel not in PremiumRequest.Channel.values:
        raise DomainError(_("请选择渠道。"), field="channel")
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject:
        raise DomainError(_("请填写主题。"), field="subject")
    if not body:
        raise DomainError(_("请填写客户诉求。"), field="body")
    if received_at > now + dt.timedelta(minutes=1):
        raise DomainError(_("受理时间不能晚于现在。"), field="received_at")
    first_due, resolution_due = desk_sla.deadlines(received_at, targets_for(enrolment.branch_id))
    req = PremiumRequest.objects.create(
        branch_id=enrolment.branch_id,
        client=client,
        enrolment=enrolment,
        channel=channel,
        subject=subject[:200],
        body=body,
        broker_id=enrolment.broker_id,
        backup_broker_id=enrolment.backup_broker_id,
        received_at=received_at,
        first_response_due=first_due,
        resolution_due=resolution_due,
        state_changed_at=now,
        created_by=actor,
    )
    audit_log(
        actor=actor,
        action="premium_request.create",
        obj=req,
        changes={"client": [None, client.pk], "channel": [None, channel], "subject": [None, req.subject]},
    )
    if actor.pk != enrolment.broker_id:
        notify(
            recipients=[enrolment.broker],
            title=_("高端客户新请求 #%(pk)s：%(c)s") % {"pk": req.pk, "c": client.name},
            body=_("%(s)s；首次响应期限 %(d)s。")
            % {"s": req.subject, "d": timezone.localtime(first_due).strftime("%Y-%m-%d %H:%M")},
            url=_request_url(req),
            kind="warning",
        )
    return req


def _step(**kwargs: Any) -> PremiumRequest:
    """``core.workflow.transition`` on a premium request (typed)."""
    return cast(PremiumRequest, wf.transition(workflow=PREMIUM_REQUEST, **kwargs))


def _lock(req: PremiumRequest) -> PremiumRequest:
    return PremiumRequest.objects.select_for_update(of=("self",)).get(pk=req.pk)


@transaction.atomic
def request_start(
    *, actor: Any, req: PremiumRequest, text: str = "", now: dt.datetime | None = None
) -> PremiumRequest:
    """受理: the first response to the client (stamps ``responded_at``); ``text`` is what was said."""
    now = now or timezone.now()
    text = text.strip()
    req = _step(obj=req, name="start", actor=actor, note=text, holder=actor, now=now,
        changes={"responded_at": req.responded_at or now},
    )  # fmt: skip
    _message(req, author=actor, kind=K.REPLY, to_client=True, text=text or _("已受理，正在处理。"), at=now)
    return req


@transaction.atomic
def request_message_add(
    *, actor: Any, req: PremiumRequest, text: str, to_client: bool, now: dt.datetime | None = None
) -> RequestMessage:
    """Add to the thread: an internal note, or a reply to the client (a first reply to a new request
    accepts it, i.e. counts as the first response)."""
    now = now or timezone.now()
    locked = _lock(req)
    if not can_act_as_broker(locked, actor):
        raise DomainError(
            _("只有该客户的专属经纪人（升级后含备岗经纪人）或营业部经理可以记录。"), code="forbidden"
        )
    text = (text or "").strip()
    if not text:
        raise DomainError(_("请填写内容。"), field="text")
    if locked.state == S.CLOSED:
        raise DomainError(_("请求已关闭，不能再记录。"), code="invalid_state")
    if to_client and locked.state == S.NEW:
        request_start(actor=actor, req=locked, text=text, now=now)
        return locked.messages.order_by("-at", "-id").first()  # type: ignore[return-value]
    msg = _message(
        locked, author=actor, kind=K.REPLY if to_client else K.NOTE, to_client=to_client, text=text, at=now
    )
    audit_log(actor=actor, action="premium_request.message", obj=locked, changes={"kind": [None, msg.kind]})
    return msg


@transaction.atomic
def question_ask(
    *, actor: Any, req: PremiumRequest, question: str, researcher: Any = None, now: dt.datetime | None = None
) -> ResearchQuestion:
    """Ask the research platform: to a named researcher of the branch, or to the researchers' queue."""
    now = now or timezone.now()
    question = (question or "").strip()
    if not question:
        raise DomainError(_("请填写要请教研究员的问题。"), field="question")
    if researcher is not None and (
        researcher.branch_id != req.branch_id
        or not researcher.is_active
        or not researcher.has_cap(Cap.RESEARCH_WRITE)
    ):
        raise DomainError(_("所选人员不是本营业部在岗的研究员。"), field="researcher")
    if req.state == S.NEW:
        req = request_start(actor=actor, req=req, now=now)
    req = _step(
        obj=req,
        name="ask_research",
        actor=actor,
        note=question,
        holder=researcher,
        now=now,
    )
    q = ResearchQuestion.objects.create(
        branch_id=req.branch_id,
        request=req,
        asked_by=actor,
        asked_at=now,
        researcher=researcher,
        question=question,
    )
    _message(req, author=actor, kind=K.QUESTION, text=question, at=now)
    audit_log(
        actor=actor,
        action="premium.question_ask",
        obj=q,
        branch_id=req.branch_id,
        changes={"researcher": [None, getattr(researcher, "pk", None)]},
    )
    notify(
        recipients=[researcher] if researcher is not None else researchers_of(req.branch_id),
        title=_("经纪人 %(b)s 请教研究问题（请求 #%(pk)s）") % {"b": actor, "pk": req.pk},
        body=question[:300],
        url=reverse("premium:questions"),
        kind="warning",
    )
    return q


@transaction.atomic
def question_answer(
    *, actor: Any, question: ResearchQuestion, answer: str, now: dt.datetime | None = None
) -> ResearchQuestion:
    """A researcher answers (the assigned one, or any of the branch's researchers for a queued question);
    the request moves to ``answered`` once none of its questions is open."""
    now = now or timezone.now()
    q = ResearchQuestion.objects.select_for_update(of=("self",)).select_related("request").get(pk=question.pk)
    if not (actor.has_cap(Cap.RESEARCH_WRITE) and actor.branch_id == q.branch_id):
        raise DomainError(_("只有本营业部的研究员可以答复研究问题。"), code="forbidden")
    if q.researcher_id and q.researcher_id != actor.pk:
        raise DomainError(_("该问题已指定由 %(r)s 答复。") % {"r": q.researcher}, code="forbidden")
    if q.answered_at is not None:
        raise DomainError(_("该问题已答复。"), code="invalid_state")
    answer = (answer or "").strip()
    if not answer:
        raise DomainError(_("请填写答复。"), field="answer")
    q.answer, q.answered_by, q.answered_at = answer, actor, now
    q.save(update_fields=["answer", "answered_by", "answered_at"])
    req = q.request
    _message(req, author=actor, kind=K.ANSWER, text=answer, at=now)
    audit_log(
        actor=actor,
        action="premium.question_answer",
        obj=q,
        branch_id=q.branch_id,
        changes={"answered_at": [None, str(now)]},
    )
    still_open = ResearchQuestion.objects.filter(request=req, answered_at__isnull=True).exists()
    if req.state == S.AWAITING_RESEARCH and not still_open:
        _step(
            obj=req,
            name="research_answered",
            actor=actor,
            holder=req.broker,
            now=now,
        )
    notify(
        recipients=[req.broker],
        title=_("研究员已答复请求 #%(pk)s 的问题，请转达客户") % {"pk": req.pk},
        body=answer[:300],
        url=_request_url(req),
    )
    return q


@transaction.atomic
def question_relay(
    *, actor: Any, question: ResearchQuestion, text: str = "", now: dt.datetime | None = None
) -> ResearchQuestion:
    """The broker relays a researcher's answer to the client (``text`` is what was said; default the answer)."""
    now = now or timezone.now()
    q = ResearchQuestion.objects.select_for_update(of=("self",)).select_related("request").get(pk=question.pk)
    req = q.request
    if not can_act_as_broker(req, actor):
        raise DomainError(
            _("只有该客户的专属经纪人（升级后含备岗经纪人）或营业部经理可以转达。"), code="forbidden"
        )
    if q.answered_at is None:
        raise DomainError(_("研究员尚未答复，不能转达。"), code="invalid_state")
    if q.relayed_at is not None:
        raise DomainError(_("该答复已转达客户。"), code="invalid_state")
    q.relayed_at = now
    q.save(update_fields=["relayed_at"])
    _message(req, author=actor, kind=K.RELAY, to_client=True, text=(text or "").strip() or q.answer, at=now)
    audit_log(
        actor=actor,
        action="premium.question_relay",
        obj=q,
        branch_id=q.branch_id,
        changes={"relayed_at": [None, str(now)]},
    )
    return q


@transaction.atomic
def request_resolve(
    *, actor: Any, req: PremiumRequest, resolution: str, now: dt.datetime | None = None
) -> PremiumRequest:
    """办结: the SLA clock stops; ``resolution`` says how (required)."""
    now = now or timezone.now()
    req = _step(obj=req, name="resolve", actor=actor, note=resolution, holder=req.broker, now=now,
        changes={"resolved_at": now, "resolution": resolution.strip()},
    )  # fmt: skip
    _message(req, author=actor, kind=K.REPLY, to_client=True, text=resolution.strip(), at=now)
    return req


@transaction.atomic
def request_reopen(
    *, actor: Any, req: PremiumRequest, note: str, now: dt.datetime | None = None
) -> PremiumRequest:
    now = now or timezone.now()
    req = _step(obj=req, name="reopen", actor=actor, note=note, holder=req.broker, now=now,
        changes={"resolved_at": None},
    )  # fmt: skip
    _message(req, author=actor, kind=K.NOTE, text=note.strip(), at=now)
    return req


@transaction.atomic
def request_close(
    *, actor: Any, req: PremiumRequest, satisfaction: Any, note: str = "", now: dt.datetime | None = None
) -> PremiumRequest:
    """Close a resolved request with the client's satisfaction (1–5)."""
    now = now or timezone.now()
    try:
        score = int(satisfaction)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise DomainError(_("请填写客户满意度（1–5 分）。"), field="satisfaction")
    return _step(obj=req, name="close", actor=actor, note=note, now=now,
        changes={"closed_at": now, "satisfaction": score},
    )  # fmt: skip


def request_transition(
    *, actor: Any, req: PremiumRequest, name: str, data: dict[str, Any], now: dt.datetime | None = None
) -> PremiumRequest:
    """Dispatch one named step with its inputs (for the pages and the API)."""
    if name == "start":
        return request_start(actor=actor, req=req, text=data.get("note", "") or "", now=now)
    if name == "resolve":
        return request_resolve(actor=actor, req=req, resolution=data.get("note", "") or "", now=now)
    if name == "reopen":
        return request_reopen(actor=actor, req=req, note=data.get("note", "") or "", now=now)
    if name == "close":
        return request_close(
            actor=actor,
            req=req,
            satisfaction=data.get("satisfaction"),
            note=data.get("note", "") or "",
            now=now,
        )
    raise DomainError(_("未知的操作：%(n)s") % {"n": name})


def request_actions(req: PremiumRequest, actor: Any) -> list[str]:
    """The steps ``actor`` may take now (buttons and the API); questions are asked separately."""
    names = [
        t.name
        for t in PREMIUM_REQUEST.available(req, actor)
        if t.name not in ("ask_research", "research_answered")
    ]
    return names


# --- escalation --------------------------------------------------------------------------------------------


def requests_escalate(*, now: dt.datetime | None = None) -> int:
    """Raise the escalation level of every open request that missed a target: level 1 tells the backup
    broker (or the director when there is none), level 2 the director. Idempotent: each level is
    announced once. Returns how many requests escalated."""
    now = now or timezone.now()
    candidates = list(
        PremiumRequest.objects.filter(state__in=OPEN_STATES, escalation_level__lt=2)
        .filter(Q(responded_at__isnull=True, first_response_due__lte=now) | Q(resolution_due__lte=now))
        .values_list("pk", flat=True)[:5000]
    )
    done = 0
    settings_cache: dict[int, desk_sla.Targets] = {}
    for pk in candidates:
        with transaction.atomic():
            req = (
                PremiumRequest.objects.select_for_update(of=("self",))
                .select_related("client", "broker", "backup_broker")
                .filter(pk=pk, state__in=OPEN_STATES)
                .first()
            )
            if req is None:
                continue
            targets = settings_cache.setdefault(req.branch_id, targets_for(req.branch_id))
            level = desk_sla.escalation_level(
                now=now,
                first_response_due=req.first_response_due,
                responded_at=req.responded_at,
                resolution_due=req.resolution_due,
                resolved_at=req.resolved_at,
                director_after=targets.director_after,
            )
            if level <= req.escalation_level:
                continue
            old = req.escalation_level
            req.escalation_level, req.escalated_at = level, now
            req.save(update_fields=["escalation_level", "escalated_at"])
            directors = directors_of(req.branch_id)
            if level == 1 and req.backup_broker is not None:
                recipients, who = [req.broker, req.backup_broker], str(req.backup_broker)
            else:
                recipients, who = (
                    [req.broker, *([req.backup_broker] if req.backup_broker else []), *directors],
                    _("营业部经理"),
                )
            missed = (
                _("首次响应") if req.responded_at is None and now >= req.first_response_due else _("办结")
            )
            text = _("%(m)s超时，已升级至%(w)s。") % {"m": missed, "w": who}
            _message(req, author=None, kind=K.SYSTEM, text=text, at=now)
            audit_log(
                actor=None,
                action="premium_request.escalate",
                obj=req,
                changes={"escalation_level": [old, level]},
            )
            notify(
                recipients=recipients,
                title=_("高端客户请求 #%(pk)s %(t)s") % {"pk": req.pk, "t": text},
                body=_("客户：%(c)s；主题：%(s)s。") % {"c": req.client.name, "s": req.subject},
                url=_request_url(req),
                kind="danger",
            )
            done += 1
    return done
