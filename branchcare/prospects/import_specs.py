"""Import of a prospect list (an event's guest list, a partner's referrals) on the core import framework.

All or nothing, with a dry-run preview. Every row is checked like a prospect entered by hand: the phone
is normalised and must be new to the company's prospects and clients (and unique in the file), a
referral code must name an active partner of the branch, a referral must name a premium client. The
prospects go to the importing broker / manager; the director's imports go to the owner named in the
"负责人" column, or to the pool.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchcare.clients.import_specs import parse_commission_rate, parse_id_number, parse_phone
from branchcare.clients.models import Client
from branchcare.core import imports
from branchcare.core.audit import audit_bulk_append
from branchcare.core.imports import Column, Counts, ImportSpec, Row, parse_choice, parse_date, parse_text
from branchcare.core.masking import mask_phone
from branchcare.org.capabilities import Cap

from .models import Partner, Prospect
from .selectors import staff_owners
from .services import mask_name
from .workflows import is_owner_role

SOURCE_WORDS = {
    **{str(label): value for value, label in Prospect.Source.choices},
    **{value: value for value in Prospect.Source.values},
    "合作伙伴": "partner", "伙伴推荐": "partner", "转介绍": "referral", "客户推荐": "referral",
    "交流会": "meeting", "到访": "walk_in", "自然到访": "walk_in", "活动": "event",
}  # fmt: skip
SEGMENT_WORDS = {
    **{str(label): value for value, label in Prospect.Segment.choices},
    **{value: value for value in Prospect.Segment.values},
    "价格敏感": "price", "低佣金": "price", "咨询服务": "advice", "咨询型": "advice",
}  # fmt: skip


@dataclass
class Ctx:
    branch: Any
    actor: Any
    owner: Any  # default owner (the importing broker/manager) or None (pool)
    may_name_owner: bool
    owners: dict[str, Any] = field(default_factory=dict)
    now: Any = None


class ProspectImportSpec(ImportSpec):
    kind = "prospects"
    label = gettext_lazy("潜在客户名单")
    audit_action = "prospects.import"
    # Via the data-import page only the director imports lists (into the pool or to named owners);
    # brokers and managers import from the prospects page, where the list becomes theirs.
    capability = Cap.SUPERVISE
    count_labels = {
        "created": gettext_lazy("新增"),
        "updated": gettext_lazy("更新"),
        "unchanged": gettext_lazy("未变"),
    }
    unique_together = ("phone",)
    columns = (
        Column("name", gettext_lazy("姓名"), english="name", required=True, allow_blank=False,
               parse=parse_text(max_length=50), example="张三"),
        Column("phone", gettext_lazy("手机"), english="phone", aliases=("手机号", "手机号码", "电话"), required=True,
               allow_blank=False, parse=parse_phone, example="13812345678", text_format=True,
               help=gettext_lazy("与已登记的潜在客户和本公司客户查重")),
        Column("id_number", gettext_lazy("证件号码"), english="id_number", aliases=("身份证号",),
               parse=parse_id_number, text_format=True),
        Column("source", gettext_lazy("来源"), english="source", default="walk_in",
               parse=parse_choice(SOURCE_WORDS, hint=gettext_lazy("来源应为 合作伙伴推荐/高端客户转介绍/交流会嘉宾/自然到访/营销活动")),
               example="营销活动"),
        Column("referral_code", gettext_lazy("推荐码"), english="referral_code",
               parse=parse_text(max_length=20, upper=True), help=gettext_lazy("合作伙伴推荐时必填")),
        Column("referrer_no", gettext_lazy("推荐客户号"), english="referrer_client_no",
               parse=parse_text(max_length=20, upper=True), help=gettext_lazy("高端客户转介绍时必填")),
        Column("segment", gettext_lazy("客户类型"), english="segment", default="price",
               parse=parse_choice(SEGMENT_WORDS, hint=gettext_lazy("客户类型应为 价格敏感型 或 咨询服务型")),
               example="价格敏感型"),
        Column("offered_rate", gettext_lazy("承诺佣金率"), english="offered_rate", aliases=("佣金率",),
               parse=parse_commission_rate, help=gettext_lazy("以 ‰ 计；合作伙伴推荐时默认取协议佣金率")),
        Column("next_follow_up_due", gettext_lazy("下次跟进日期"), english="next_follow_up_due", parse=parse_date),
        Column("owner", gettext_lazy("负责人"), english="owner", parse=parse_text(max_length=150),
               help=gettext_lazy("员工用户名或姓名；仅营业部经理导入时使用，留空进入公海")),
        Column("notes", gettext_lazy("备注"), english="notes", parse=parse_text(max_length=2000)),
    )  # fmt: skip

    def prepare(self, *, branch: Any, actor: Any, present: frozenset[str]) -> Ctx:
        owner_role = is_owner_role(actor)
        ctx = Ctx(
            branch=branch,
            actor=actor,
            owner=actor if owner_role else None,
            may_name_owner=actor.has_cap(Cap.SUPERVISE),
            now=timezone.now(),
        )
        if ctx.may_name_owner and "owner" in present:
            for u in staff_owners(branch.pk):
                ctx.owners[u.username] = u
                if u.name:
                    ctx.owners.setdefault(u.name, u)
        return ctx

    def check_batch(self, rows: list[Row], ctx: Ctx) -> None:
        company_id = ctx.branch.company_id
        phones = [r.values["phone"] for r in rows]
        ids = [r.values["id_number"] for r in rows if r.values.get("id_number")]
        taken_p = {
            p["phone"]: p
            for p in Prospect.objects.filter(branch__company_id=company_id, phone__in=phones).values("pk", "phone", "name")
        }  # fmt: skip
        taken_c = {
            c["phone"]: c
            for c in Client.objects.filter(
                branch__company_id=company_id, phone_tail__in={p[-4:] for p in phones}, phone__in=phones
            ).values("client_no", "phone", "name")
        }
        taken_ids = set(
            Prospect.objects.filter(branch__company_id=company_id, id_number__in=ids).values_list(
                "id_number", flat=True
            )
        ) | set(
            Client.objects.filter(branch__company_id=company_id, id_number__in=ids).values_list(
                "id_number", flat=True
            )
        )
        codes = {r.values["referral_code"] for r in rows if r.values.get("referral_code")}
        today = timezone.localdate()
        partners = {
            p.referral_code: p for p in Partner.objects.filter(branch=ctx.branch, referral_code__in=codes)
        }
        referrer_nos = {r.values["referrer_no"] for r in rows if r.values.get("referrer_no")}
        referrers = {
            c.client_no: c
            for c in Client.objects.filter(branch=ctx.branch, client_no__in=referrer_nos).only(
                "pk", "client_no", "is_premium"
            )
        }
        for row in rows:
            v = row.values
            phone = v["phone"]
            if phone in taken_p:
                p = taken_p[phone]
                row.error("phone", _("已登记为潜在客户 #%(pk)s %(name)s（%(phone)s）")
                          % {"pk": p["pk"], "name": mask_name(p["name"]), "phone": mask_phone(phone)})  # fmt: skip
            elif phone in taken_c:
                c = taken_c[phone]
                row.error("phone", _("已是本公司客户：客户号 %(no)s %(name)s")
                          % {"no": c["client_no"], "name": mask_name(c["name"])})  # fmt: skip
            if v.get("id_number") and v["id_number"] in taken_ids:
                row.error("id_number", _("证件号码已登记为潜在客户或已是本公司客户"))
            source = v.get("source") or "walk_in"
            v["source"] = source
            v["segment"] = v.get("segment") or "price"
            v["partner_id"] = None
            v["referrer_id"] = None
            if source == "partner":
                partner = partners.get(v.get("referral_code") or "")
                if partner is None:
                    row.error("referral_code", _("合作伙伴推荐须填写本营业部有效的推荐码"))
                elif (
                    not partner.active
                    or (partner.agreement_end and partner.agreement_end < today)
                    or (partner.agreement_start and partner.agreement_start > today)
                ):
                    row.error(
                        "referral_code",
                        _("合作伙伴 %(p)s 已停止合作或协议不在有效期内") % {"p": partner.name},
                    )
                else:
                    v["partner_id"] = partner.pk
                    if v.get("offered_rate") is None:
                        v["offered_rate"] = partner.offered_rate
            if source == "referral":
                ref = referrers.get(v.get("referrer_no") or "")
                if ref is None or not ref.is_premium:
                    row.error("referrer_no", _("高端客户转介绍须填写本营业部高端客户的客户号"))
                else:
                    v["referrer_id"] = ref.pk
            v["owner_id"] = ctx.owner.pk if ctx.owner else None
            if v.get("owner"):
                if not ctx.may_name_owner:
                    row.error("owner", _("只有营业部经理导入时可以指定负责人"))
                elif v["owner"] not in ctx.owners:
                    row.error("owner", _("负责人须为本营业部的经纪人或客户经理"))
                else:
                    v["owner_id"] = ctx.owners[v["owner"]].pk

    def preview_counts(self, batches: Iterable[list[dict[str, Any]]], ctx: Ctx) -> Counts:
        return Counts(created=sum(len(b) for b in batches))

    def commit(self, batches: Iterable[list[dict[str, Any]]], ctx: Ctx) -> Counts:
        created = 0
        for batch in batches:
            objs = [
                Prospect(
                    branch=ctx.branch, name=v["name"], phone=v["phone"], id_number=v.get("id_number") or "",
                    source=v["source"], partner_id=v.get("partner_id"), referrer_id=v.get("referrer_id"),
                    segment=v["segment"], owner_id=v.get("owner_id"), offered_rate=v.get("offered_rate"),
                    next_follow_up_due=v.get("next_follow_up_due"), notes=v.get("notes") or "",
                    created_by=ctx.actor, last_touched_at=ctx.now, state_changed_at=ctx.now,
                )
                for v in batch
            ]  # fmt: skip
            Prospect.objects.bulk_create(objs)
            phones = [o.phone for o in objs]
            saved = Prospect.objects.filter(branch=ctx.branch, phone__in=phones).values_list(
                "pk", "name", "phone"
            )
            audit_bulk_append(
                {
                    "actor": ctx.actor, "action": "prospects.create", "object_type": "prospects.prospect",
                    "object_id": pk, "object_repr": f"{name} #{pk}", "branch_id": ctx.branch.pk,
                    "changes": {"phone": [None, mask_phone(phone)], "source": "import"},
                }
                for pk, name, phone in saved
            )  # fmt: skip
            created += len(objs)
        return Counts(created=created)


imports.register(ProspectImportSpec())
