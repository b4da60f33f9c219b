"""研发平台: research sources, research items (reports, market commentary, stock recommendations),
their attachments, pushes to an audience of clients and the per-client deliveries.

Rules (证券投资顾问业务暂行规定):
- Art. 17: research from a source without a valid licence / contract must not reach clients — see
  :meth:`ResearchSource.is_valid_on`, enforced by ``services.delivery_record``.
- Art. 18: advice citing research names the publisher and the publish date — ``ResearchItem.publisher``
  is filled from the source, ``published_on`` on publication.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branchcare.clients.models import RiskRating

STAFF = settings.AUTH_USER_MODEL


class ResearchSource(models.Model):
    """Where research comes from: the branch's own analysts, the head-office institute or an external
    partner (外脑) with a licence number and a contract period."""

    class Kind(models.TextChoices):
        OWN = "own", _("本营业部研究员")
        HEAD_OFFICE = "head_office", _("总部研究所")
        EXTERNAL = "external", _("外脑")

    branch = models.ForeignKey(
        "org.Branch",
        verbose_name=_("营业部"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("为空表示全公司可用"),
    )
    kind = models.CharField(_("来源类别"), max_length=12, choices=Kind.choices, default=Kind.OWN)
    name = models.CharField(_("名称"), max_length=100)
    licence_no = models.CharField(_("资格证书/许可证编号"), max_length=60, blank=True)
    contract_start = models.DateField(_("合同开始日期"), null=True, blank=True)
    contract_end = models.DateField(_("合同结束日期"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("研究来源")
        verbose_name_plural = _("研究来源")
        ordering = ["kind", "name"]
        indexes = [models.Index(fields=["branch", "kind", "name"], name="research_source_branch_idx")]

    def __str__(self) -> str:
        return self.name

    def is_valid_on(self, date: dt.date | None = None) -> bool:
        """True when research from this source may be delivered to clients on ``date`` (Art. 17):
        own / head-office sources while active; external partners also need a licence number and
        ``date`` within the contract period (open ends count as unbounded)."""
        date = date or timezone.localdate()
        if not self.active:
            return False
        if self.kind != self.Kind.EXTERNAL:
            return True
        if not self.licence_no.strip():
            return False
        if self.contract_start and date < self.contract_start:
            return False
        if self.contract_end and date > self.contract_end:
            return False
        return bool(self.contract_start or self.contract_end)

    def invalid_reason(self, date: dt.date | None = None) -> str:
        """A Chinese explanation why the source is not valid on ``date`` ("" when valid)."""
        from django.utils.translation import gettext

        date = date or timezone.localdate()
        if not self.active:
            return gettext("研究来源“%(n)s”已停用") % {"n": self.name}
        if self.kind != self.Kind.EXTERNAL:
            return ""
        if not self.licence_no.strip():
            return gettext("外部研究来源“%(n)s”无有效资格/许可证编号") % {"n": self.name}
        if not (self.contract_start or self.contract_end):
            return gettext("外部研究来源“%(n)s”未登记合同期限") % {"n": self.name}
        if self.contract_start and date < self.contract_start:
            return gettext("外部研究来源“%(n)s”的合同尚未生效") % {"n": self.name}
        if self.contract_end and date > self.contract_end:
            return gettext("外部研究来源“%(n)s”的合同已于 %(d)s 到期") % {
                "n": self.name,
                "d": self.contract_end,
            }
        return ""


class ResearchItem(models.Model):
    """One piece of research: a report, a market commentary (解盘) or a stock recommendation."""

    class Kind(models.TextChoices):
        REPORT = "report", _("研究报告")
        COMMENTARY = "commentary", _("解盘")
        RECOMMENDATION = "recommendation", _("个股推荐")

    class Direction(models.TextChoices):
        BUY = "buy", _("买入")
        ADD = "add", _("增持")
        HOLD = "hold", _("持有")
        REDUCE = "reduce", _("减持")
        SELL = "sell", _("卖出")

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        REVIEW = "review", _("合规审核中")
        PUBLISHED = "published", _("已发布")
        WITHDRAWN = "withdrawn", _("已撤回")
        EXPIRED = "expired", _("已过期")

    source = models.ForeignKey(
        ResearchSource, verbose_name=_("研究来源"), on_delete=models.PROTECT, related_name="items"
    )
    branch = models.ForeignKey(
        "org.Branch",
        verbose_name=_("营业部"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("与来源一致；为空表示全公司可见"),
    )
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices, default=Kind.REPORT)
    title = models.CharField(_("标题"), max_length=200)
    summary = models.CharField(_("摘要"), max_length=500, blank=True)
    body = models.TextField(_("正文"), blank=True)
    author = models.ForeignKey(
        STAFF, verbose_name=_("作者"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    publisher = models.CharField(_("发布机构"), max_length=100, blank=True)
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    risk_rating = models.CharField(
        _("风险等级"), max_length=2, choices=RiskRating.choices, default=RiskRating.R3
    )
    industries = models.JSONField(_("行业"), default=list, blank=True)
    # "|银行|半导体|": the industries as text, for portable matching against a client's holdings
    industry_tags = models.CharField(_("行业标签"), max_length=500, blank=True, editable=False)
    securities = models.ManyToManyField(
        "clients.Security", verbose_name=_("相关证券"), blank=True, related_name="research_items"
    )
    # Stock recommendation
    security = models.ForeignKey(
        "clients.Security",
        verbose_name=_("推荐证券"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recommendations",
    )
    direction = models.CharField(_("方向"), max_length=8, choices=Direction.choices, blank=True)
    target_price = models.DecimalField(_("目标价"), max_digits=14, decimal_places=4, null=True, blank=True)
    stop_loss = models.DecimalField(_("止损价"), max_digits=14, decimal_places=4, null=True, blank=True)
    horizon_days = models.PositiveIntegerField(_("持有期（天）"), null=True, blank=True)
    reason = models.TextField(_("推荐理由"), blank=True)
    # Workflow
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.DRAFT)
    state_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    expires_on = models.DateField(_("有效期至"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        STAFF, verbose_name=_("审核人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_decision = models.CharField(_("审核结论"), max_length=10, blank=True)
    review_comment = models.TextField(_("审核意见"), blank=True)
    withdrawn_reason = models.TextField(_("撤回原因"), blank=True)
    # Full-text search: lower-cased words and CJK bigrams, space separated (see search.py)
    search_text = models.TextField(_("检索词"), blank=True, editable=False)
    created_by = models.ForeignKey(
        STAFF, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("研究成果")
        verbose_name_plural = _("研究成果")
        ordering = ["-published_at", "-created_at"]
        indexes = [
            models.Index(fields=["state", "-published_at"], name="research_item_state_idx"),
            models.Index(fields=["branch", "state", "-published_at"], name="research_item_branch_idx"),
            models.Index(fields=["source", "state"], name="research_item_source_idx"),
            models.Index(fields=["security", "state"], name="research_item_security_idx"),
            models.Index(fields=["author", "state"], name="research_item_author_idx"),
            models.Index(fields=["state", "expires_on"], name="research_item_expiry_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Fill the derived fields on every full save (also for items created directly through the ORM):
        publisher and branch from the source, the industry tags and the search tokens."""
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            from .search import index_tokens

            if self.source_id and (not self.publisher or self.branch_id is None):
                source = self.source
                self.publisher = self.publisher or source.name[:100]
                if self.branch_id is None:
                    self.branch_id = source.branch_id
            industries = [str(i).replace("|", "") for i in (self.industries or []) if str(i).strip()]
            self.industry_tags = ("|" + "|".join(industries) + "|")[:500] if industries else ""
            security = (
                f"{self.security.code} {self.security.name}" if self.security_id and self.security else ""
            )
            self.search_text = index_tokens(
                self.title, self.summary, self.body, self.reason, security, " ".join(industries),
                getattr(self, "_extra_search", ""),
            )  # fmt: skip
        super().save(*args, **kwargs)

    @property
    def is_recommendation(self) -> bool:
        return self.kind == self.Kind.RECOMMENDATION

    @property
    def risk_rank(self) -> int:
        return int(self.risk_rating[1:]) if self.risk_rating else 5


def attachment_path(instance: ResearchAttachment, filename: str) -> str:
    today = timezone.localdate()
    return f"research/{today:%Y/%m}/{instance.item_id}/{filename}"


class ResearchAttachment(models.Model):
    """A PDF or Office file attached to a research item (type checked by magic bytes, size limited)."""

    item = models.ForeignKey(ResearchItem, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=200)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("文件类型"), max_length=100)
    uploaded_by = models.ForeignKey(STAFF, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("研究附件")
        verbose_name_plural = _("研究附件")
        ordering = ["item", "uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class ResearchPush(models.Model):
    """One push of a published item to an audience of clients through one or more channels."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("推送中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    item = models.ForeignKey(
        ResearchItem, verbose_name=_("研究成果"), on_delete=models.CASCADE, related_name="pushes"
    )
    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        STAFF, verbose_name=_("推送人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    audience = models.JSONField(_("推送对象"), default=dict)
    channels = models.JSONField(_("渠道"), default=list)
    note = models.TextField(_("附言"), blank=True)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("目标客户数"), default=0)
    included_count = models.PositiveIntegerField(_("适当客户数"), default=0)
    excluded_count = models.PositiveIntegerField(_("排除客户数"), default=0)
    processed = models.PositiveIntegerField(_("已处理"), default=0)
    sent_count = models.PositiveIntegerField(_("已发送"), default=0)
    failed_count = models.PositiveIntegerField(_("失败"), default=0)
    task_count = models.PositiveIntegerField(_("当面交付任务"), default=0)
    excluded = models.JSONField(_("排除明细"), default=list, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("研究推送")
        verbose_name_plural = _("研究推送")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["branch", "-created_at"], name="research_push_branch_idx")]

    def __str__(self) -> str:
        return f"{self.item_id} @ {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def channel_labels(self) -> str:
        labels = dict(ResearchDelivery.Channel.choices)
        return "、".join(str(labels.get(c, c)) for c in self.channels)


class ResearchDelivery(models.Model):
    """Research delivered (or to be delivered) to one client through one channel, with the
    suitability result stored at the time of delivery."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("电子邮件")
        WECOM = "wecom", _("企业微信")
        SMS = "sms", _("短信")
        IN_PERSON = "in_person", _("当面交付")
        CONSULTATION = "consultation", _("咨询引用")
        BRIEFING = "briefing", _("高端晨报讲解")

    class Status(models.TextChoices):
        PENDING = "pending", _("待交付")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        DONE = "done", _("已交付")

    item = models.ForeignKey(
        ResearchItem, verbose_name=_("研究成果"), on_delete=models.CASCADE, related_name="deliveries"
    )
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("客户"), on_delete=models.CASCADE, related_name="research_deliveries"
    )
    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(_("渠道"), max_length=14, choices=Channel.choices)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.PENDING)
    owner = models.ForeignKey(
        STAFF, verbose_name=_("负责人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    push = models.ForeignKey(
        ResearchPush,
        verbose_name=_("推送"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    delivered_at = models.DateTimeField(_("交付时间"), null=True, blank=True)
    delivered_by = models.ForeignKey(
        STAFF, verbose_name=_("交付人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("备注"), blank=True)
    failure_reason = models.CharField(_("失败原因"), max_length=500, blank=True)
    notification_id = models.PositiveBigIntegerField(_("通知编号"), null=True, blank=True)
    suitability = models.JSONField(_("适当性检查结果"), default=dict, blank=True)
    created_by = models.ForeignKey(STAFF, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("研究交付")
        verbose_name_plural = _("研究交付")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["push", "item", "client", "channel"],
                name="research_delivery_unique_per_push",
            )
        ]
        indexes = [
            models.Index(fields=["client", "-created_at"], name="research_delivery_client_idx"),
            models.Index(fields=["owner", "status"], name="research_delivery_owner_idx"),
            models.Index(fields=["item", "client"], name="research_delivery_item_idx"),
            models.Index(fields=["push", "status"], name="research_delivery_push_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} → {self.client_id} ({self.channel})"
