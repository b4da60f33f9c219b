"""Configuration writes of the off-site service: branch settings and inquiry categories (audited)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from branchcare.core.audit import audit_log
from branchcare.core.errors import DomainError
from branchcare.org.capabilities import Cap
from branchcare.org.models import User

from .models import InquiryCategory, OffsiteSettings
from .services_inquiries import settings_for


def _check(actor: User) -> None:
    if not actor.has_cap(Cap.ORG_CONFIGURE):
        raise DomainError(_("您没有修改非现场服务设置的权限。"), code="forbidden")


@transaction.atomic
def settings_update(
    *,
    actor: User,
    branch_id: int,
    complaint_response_days: int,
    retention_years: int,
    return_visit_staff: Any = (),
) -> OffsiteSettings:
    """Change the regulatory answer deadline, the retention period and the designated visit staff."""
    _check(actor)
    if complaint_response_days < 1:
        raise DomainError(_("投诉监管答复期限至少 1 天。"), field="complaint_response_days")
    if retention_years < 1:
        raise DomainError(_("保存年限至少 1 年。"), field="retention_years")
    conf = settings_for(branch_id)
    before = {
        "complaint_response_days": conf.complaint_response_days,
        "retention_years": conf.retention_years,
        "return_visit_staff": sorted(conf.return_visit_staff.values_list("pk", flat=True)),
    }
    staff = [u for u in return_visit_staff if u.branch_id == branch_id]
    conf.complaint_response_days, conf.retention_years = complaint_response_days, retention_years
    conf.save(update_fields=["complaint_response_days", "retention_years"])
    conf.return_visit_staff.set(staff)
    after = {
        "complaint_response_days": complaint_response_days,
        "retention_years": retention_years,
        "return_visit_staff": sorted(u.pk for u in staff),
    }
    audit_log(
        actor=actor,
        action="offsite.settings.update",
        obj=conf,
        branch_id=branch_id,
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
    )
    return conf


@transaction.atomic
def category_save(
    *, actor: User, branch_id: int, instance: InquiryCategory | None, data: dict[str, Any]
) -> InquiryCategory:
    """Add or change an inquiry category with its SLA targets (service hours)."""
    _check(actor)
    if Decimal(data["first_response_hours"]) <= 0 or Decimal(data["resolution_hours"]) <= 0:
        raise DomainError(_("时限须大于 0 小时。"), field="resolution_hours")
    if Decimal(data["first_response_hours"]) > Decimal(data["resolution_hours"]):
        raise DomainError(_("首次响应时限不能长于办结时限。"), field="first_response_hours")
    code = data["code"].strip()
    clash = InquiryCategory.objects.filter(branch_id=branch_id, code=code)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        raise DomainError(_("类别代码 %(c)s 已存在。") % {"c": code}, field="code")
    obj = instance or InquiryCategory(branch_id=branch_id)
    before = {k: str(getattr(obj, k)) for k in data} if instance else {}
    for key, value in data.items():
        setattr(obj, key, value)
    obj.code = code
    obj.save()
    audit_log(
        actor=actor,
        action="offsite.category.save",
        obj=obj,
        changes={
            k: [before.get(k), str(getattr(obj, k))] for k in data if before.get(k) != str(getattr(obj, k))
        },
    )
    return obj
