"""Writes to clients and holdings. Each function is atomic and records an audit entry per change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from branchcare.core import events
from branchcare.core.audit import audit_log, diff, snapshot
from branchcare.core.errors import DomainError
from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch, Seat, User
from branchcare.org.scope import scoped

from .models import Client, Holding, Security
from .pinyin import name_pinyin
from .tiers import tier_for

# Fields a user may set on a client through the forms and the API.
EDITABLE_FIELDS = [
    "client_no",
    "name",
    "phone",
    "id_number",
    "gender",
    "birthday",
    "opened_on",
    "status",
    "risk_level",
    "risk_assessed_on",
    "total_assets",
    "is_premium",
    "commission_rate",
    "manager",
    "seat",
    "tags",
    "notes",
]
AUDITED_FIELDS = [*EDITABLE_FIELDS, "tier"]


def _check_manager(manager: User | None, branch: Branch) -> None:
    if manager is not None and (manager.branch_id != branch.pk or not manager.is_active):
        raise DomainError(_("客户经理必须是本营业部在职员工。"), field="manager")


def _check_seat(seat: Seat | None, branch: Branch, client: Client | None) -> None:
    if seat is None:
        return
    if seat.room.branch_id != branch.pk:
        raise DomainError(_("座位不属于本营业部。"), field="seat")
    others = Client.objects.filter(seat=seat)
    if client is not None:
        others = others.exclude(pk=client.pk)
    taken = others.first()
    if taken:
        raise DomainError(
            _("座位 %(seat)s 已分配给客户 %(client)s。") % {"seat": seat, "client": taken}, field="seat"
        )


def _derive(client: Client) -> None:
    client.name_pinyin, client.name_initials = name_pinyin(client.name)
    client.phone = "".join(ch for ch in (client.phone or "") if ch not in " -\t")
    digits = "".join(ch for ch in client.phone if ch.isdigit())
    client.phone_tail = digits[-4:] if len(digits) >= 4 else ""
    client.tier = tier_for(
        client.total_assets or Decimal(0),
        large=client.branch.large_threshold,
        medium=client.branch.medium_threshold,
    )


@transaction.atomic
@transaction.atomic
def client_create(*, actor: User, branch: Branch, data: dict[str, Any]) -> Client:
    """Create a client in ``branch`` from validated ``data`` (keys of ``EDITABLE_FIELDS``)."""
    if Client.objects.filter(branch=branch, client_no=data["client_no"]).exists():
        raise DomainError(
            _("客户号 %(no)s 在本营业部已存在。") % {"no": data["client_no"]}, field="client_no"
        )
    _check_manager(data.get("manager"), branch)
    _check_seat(data.get("seat"), branch, None)
    client = Client(branch=branch, **{k: v for k, v in data.items() if k in EDITABLE_FIELDS})
    _derive(client)
    client.full_clean(exclude=["manager", "seat", "branch"])
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError:  # the same client_no created concurrently
        raise DomainError(
            _("客户号 %(no)s 在本营业部已存在。") % {"no": client.client_no}, field="client_no"
        ) from None
    audit_log(
        actor=actor, action="client.create", obj=client, changes=diff({}, snapshot(client, AUDITED_FIELDS))
    )
    events.publish("clients.created", client_ids=[client.pk], branch_id=branch.pk, actor=actor, source="form")
    return client


@transaction.atomic
def client_update(
    *, actor: User, client: Client, data: dict[str, Any], expected_version: int | None = None
) -> Client:
    """Update a client. With ``expected_version`` the edit is refused if someone saved in between
    (optimistic locking), so concurrent edits never silently overwrite each other."""
    locked = Client.objects.select_for_update().select_related("branch").get(pk=client.pk)
    if expected_version is not None and locked.version != expected_version:
        raise DomainError(_("该客户资料已被他人修改，请刷新页面后重新编辑。"), code="conflict")
    new_no = data.get("client_no", locked.client_no)
    if (
        new_no != locked.client_no
        and Client.objects.filter(branch_id=locked.branch_id, client_no=new_no).exists()
    ):
        raise DomainError(
            _("客户号 %(no)s 在本营业部已存在。") % {"no": data["client_no"]}, field="client_no"
        )
    if "manager" in data and data["manager"] != locked.manager:
        # Changing the owner is a reassignment: it needs its own right.
        if not actor.has_cap(Cap.CLIENTS_REASSIGN):
            raise DomainError(_("更换客户经理需要“客户划转”权限。"), field="manager")
        _check_manager(data["manager"], locked.branch)
    if "seat" in data:
        _check_seat(data["seat"], locked.branch, locked)
    before = snapshot(locked, AUDITED_FIELDS)
    for key, value in data.items():
        if key in EDITABLE_FIELDS:
            setattr(locked, key, value)
    _derive(locked)
    locked.full_clean(exclude=["manager", "seat", "branch"], validate_unique=False)
    changes = diff(before, snapshot(locked, AUDITED_FIELDS))
    if changes:
        locked.version = F("version") + 1
        locked.save()
        locked.refresh_from_db(fields=["version"])
        audit_log(actor=actor, action="client.update", obj=locked, changes=changes)
        if "risk_level" in changes:
            old, new = changes["risk_level"]
            events.publish("clients.risk_level_changed", changes=[(locked.pk, old, new)], actor=actor)
    return locked


@transaction.atomic
def clients_reassign(*, actor: User, client_ids: Iterable[int], manager: User) -> int:
    """Move the given clients (those the actor may reassign) to ``manager``; returns how many moved."""
    ids = list(client_ids)
    clients = list(
        scoped(Client.objects.select_for_update(of=("self",)), actor, Cap.CLIENTS_REASSIGN)
        .filter(pk__in=ids)
        .select_related("manager")
    )
    if len(clients) != len(set(ids)):
        raise DomainError(_("部分客户不存在或不在您的管理范围内。"))
    for client in clients:
        _check_manager(manager, client.branch)
    moved = 0
    for client in clients:
        if client.manager_id == manager.pk:
            continue
        old = client.manager_id
        Client.objects.filter(pk=client.pk).update(manager=manager, version=F("version") + 1)
        audit_log(actor=actor, action="client.reassign", obj=client, changes={"manager": [old, manager.pk]})
        moved += 1
    return moved


@transaction.atomic
def branch_tier_thresholds_update(*, actor: User, branch: Branch, large: Decimal, medium: Decimal) -> int:
    """Set the branch's tier thresholds and recompute every client's tier; returns clients changed."""
    if medium <= 0 or large <= medium:
        raise DomainError(_("大户门槛必须大于中户门槛，且均大于 0。"), field="large_threshold")
    branch = Branch.objects.select_for_update().get(pk=branch.pk)
    before = snapshot(branch, ["large_threshold", "medium_threshold"])
    branch.large_threshold, branch.medium_threshold = large, medium
    branch.save(update_fields=["large_threshold", "medium_threshold"])
    audit_log(
        actor=actor,
        action="branch.tier_thresholds",
        obj=branch,
        changes=diff(before, snapshot(branch, ["large_threshold", "medium_threshold"])),
    )
    return recompute_tiers(branch=branch)


def recompute_tiers(*, branch: Branch) -> int:
    """Recompute the tier of every client in ``branch`` (one UPDATE per tier); returns rows changed."""
    qs = Client.objects.filter(branch=branch)
    changed = 0
    for tier, cond in (
        (Client.Tier.LARGE, {"total_assets__gte": branch.large_threshold}),
        (
            Client.Tier.MEDIUM,
            {"total_assets__gte": branch.medium_threshold, "total_assets__lt": branch.large_threshold},
        ),
        (Client.Tier.SMALL, {"total_assets__lt": branch.medium_threshold}),
    ):
        changed += qs.filter(**cond).exclude(tier=tier).update(tier=tier)
    return changed


@transaction.atomic
def holdings_replace(
    *,
    actor: User,
    client: Client,
    positions: list[tuple[Security, int, Decimal]],
    as_of: dt.date,
    source: str = "manual",
) -> list[Holding]:
    """Replace the client's positions with ``positions`` (security, quantity, cost price) as of ``as_of``.
    Used by visits ("holdings confirmed or updated") and by the holdings import."""
    Client.objects.select_for_update().filter(pk=client.pk).first()
    before = {
        h.security.code: [h.quantity, str(h.cost_price)]
        for h in Holding.objects.filter(client=client).select_related("security")
    }
    seen: set[int] = set()
    for security, quantity, _cost in positions:
        if security.pk in seen:
            raise DomainError(_("证券 %(code)s 重复出现。") % {"code": security.code}, field="holdings")
        if quantity < 0:
            raise DomainError(_("持仓数量不能为负数。"), field="quantity")
        seen.add(security.pk)
    Holding.objects.filter(client=client).delete()
    created = Holding.objects.bulk_create(
        [
            Holding(client=client, security=s, quantity=q, cost_price=c, as_of=as_of)
            for s, q, c in positions
            if q > 0
        ]
    )
    after = {h.security.code: [h.quantity, str(h.cost_price)] for h in created}
    audit_log(
        actor=actor,
        action="holdings.replace",
        obj=client,
        changes={"holdings": [before, after], "as_of": [None, str(as_of)], "source": [None, source]},
    )
    return created


def clients_touch(*, client_ids: Iterable[int], at: dt.datetime) -> int:
    """Record a contact with the given clients at ``at`` (a visit, a call, a meeting attended, …): moves
    their stored ``last_contact_at`` forward to ``at``, never back (an older contact entered late
    changes nothing). Called by the services that record contacts, inside their transaction; the contact
    itself is audited there, so this derived field gets no audit entry of its own. Returns how many
    clients moved."""
    from django.db.models import Q

    ids = sorted({int(i) for i in client_ids})
    if not ids:
        return 0
    return (
        Client.objects.filter(pk__in=ids)
        .filter(Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=at))
        .update(last_contact_at=at)
    )
