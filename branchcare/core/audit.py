"""Audit records. Every service function that writes calls :func:`audit_log` inside its transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models

from .masking import mask_id_number, mask_phone
from .middleware import current_ip
from .models import AuditLog

# Field names whose values are personal data: stored masked in the audit log, so that the log does
# not become a second, unprotected copy of the data.
PERSONAL_FIELDS = {"phone": mask_phone, "id_number": mask_id_number}


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Decimal | dt.date | dt.datetime):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The current values of ``fields`` on ``obj`` (foreign keys as their ids)."""
    out: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        out[name] = _jsonable(getattr(obj, attname))
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose value changed, personal data masked."""
    changes: dict[str, list[Any]] = {}
    for key in after:
        old, new = before.get(key), after[key]
        if old != new:
            masker = PERSONAL_FIELDS.get(key)
            if masker:
                old, new = masker(old), masker(new)
            changes[key] = [_jsonable(old), _jsonable(new)]
    return changes


def audit_log(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
    branch_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    """Record that ``actor`` performed ``action`` on ``obj``. Call inside the writing transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        if branch_id is None:
            branch_id = getattr(obj, "branch_id", None)
    actor_obj = actor if getattr(actor, "pk", None) else None
    return AuditLog.objects.create(
        actor=actor_obj,
        actor_username=getattr(actor, "username", "") or "system",
        action=action,
        object_type=object_type or "",
        object_id=object_id or "",
        object_repr=(object_repr or "")[:200],
        branch_id=branch_id,
        changes=changes or {},
        ip=current_ip(),
    )
