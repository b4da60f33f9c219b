"""高端客户服务 models: the per-branch premium rate table and desk settings, enrolments, the 24×7 desk's
requests with their threads and research questions, and the broker's daily briefing."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class ServiceTier(models.TextChoices):
    """Tiers of premium service, lowest first (a downgrade moves to a lower one)."""

    SILVER = "silver", _("银卡")
    GOLD = "gold", _("金卡")
    DIAMOND = "diamond", _("钻石卡")


TIER_RANK = {ServiceTier.SILVER: 1, ServiceTier.GOLD: 2, ServiceTier.DIAMOND: 3}


class PremiumRate(models.Model):
    """One version of a branch's premium commission rate for a tier. The rate in force on a date is the
    row with the latest ``effective_from`` on or before it; rows are never edited, only added."""

    branch = models.ForeignKey("org.Branch", verbose_name=_("营业部"), on_delete=models.PROTECT)
    tier = models.CharField(_("服务等级"), max_length=10, choices=ServiceTier.choices)
    commission_rate = models.DecimalField(
        _("佣金率（‰）"),
        max_digits=6,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("3"))],
    )
    effective_from = models.DateField(_("生效日期"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        USER, verbose_name=_("录入人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("高端佣金费率")
        verbose_name_plural = _("高端佣金费率")
        ordering = ["branch", "tier", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "tier", "effective_from"], name="premium_rate_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_tier_display()} {self.commission_rate}‰ ({self.effective_from})"


class DeskSettings(models.Model):
    """The branch's 24×7 desk targets (every instant counts: the clock is ``core.sla.always_open``)."""

    branch = models.OneToOneField(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="premium_desk"
    )
    first_response_minutes = models.PositiveIntegerField(
        _("首次响应时限（分钟）"), default=30, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    resolution_hours = models.PositiveIntegerField(
        _("办结时限（小时）"), default=24, validators=[MinValueValidator(1), MaxValueValidator(24 * 30)]
    )
    director_after_minutes = models.PositiveIntegerField(
        _("升级至营业部经理（超时后分钟）"),
        default=60,
        help_text=_("超时后先通知备岗经纪人；超过此时长仍未处理，再通知营业部经理。"),
        validators=[MaxValueValidator(7 * 24 * 60)],
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("高端服务台设置")
        verbose_name_plural = _("高端服务台设置")

    def __str__(self) -> str:
        return f"{self.branch_id}: {self.first_response_minutes}min / {self.resolution_hours}h"


class Enrolment(models.Model):
    """A client's premium service agreement. At most one is active per client; a downgrade closes it
    (state ``downgraded``) and opens a new one at the lower tier; an exit closes it (``exited``)."""

    class State(models.TextChoices):
        ACTIVE = "active", _("生效中")
        DOWNGRADED = "downgraded", _("已降级")
        EXITED = "exited", _("已退出")

    branch = models.ForeignKey("org.Branch", verbose_name=_("营业部"), on_delete=models.PROTECT)
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("客户"), on_delete=models.PROTECT, related_name="premium_enrolments"
    )
    broker = models.ForeignKey(
        USER, verbose_name=_("专属经纪人"), on_delete=models.PROTECT, related_name="premium_enrolments"
    )
    backup_broker = models.ForeignKey(
        USER,
        verbose_name=_("备岗经纪人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="premium_backup_enrolments",
    )
    tier = models.CharField(_("服务等级"), max_length=10, choices=ServiceTier.choices)
    rate = models.ForeignKey(PremiumRate, verbose_name=_("费率版本"), on_delete=models.PROTECT)
    commission_rate = models.DecimalField(_("签约佣金率（‰）"), max_digits=6, decimal_places=4)
    previous_rate = models.DecimalField(
        _("签约前佣金率（‰）"), max_digits=6, decimal_places=4, null=True, blank=True
    )
    effective_on = models.DateField(_("生效日期"))
    agreement_no = models.CharField(_("协议编号"), max_length=40)
    signed_on = models.DateField(_("签署日期"))
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.ACTIVE)
    ended_on = models.DateField(_("终止日期"), null=True, blank=True)
    reason = models.CharField(_("降级/退出原因"), max_length=500, blank=True)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("降级前签约"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next",
    )
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("高端服务签约")
        verbose_name_plural = _("高端服务签约")
        ordering = ["-effective_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"], condition=Q(state="active"), name="premium_one_active_enrolment"
            )
        ]
        indexes = [
            models.Index(fields=["branch", "state", "broker"], name="premium_enrol_broker_idx"),
            models.Index(fields=["client", "-effective_on"], name="premium_enrol_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement_no} {self.get_tier_display()}"


class PremiumRequest(models.Model):
    """A premium client's request to the 24×7 desk, in the dedicated broker's queue."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("电话")
        WECOM = "wecom", _("企业微信")
        IN_PERSON = "in_person", _("当面")
        VIA_MANAGER = "via_manager", _("客户经理转达")

    class State(models.TextChoices):
        NEW = "new", _("待受理")
        IN_PROGRESS = "in_progress", _("处理中")
        AWAITING_RESEARCH = "awaiting_research", _("待研究员答复")
        ANSWERED = "answered", _("研究员已答复")
        RESOLVED = "resolved", _("已办结")
        CLOSED = "closed", _("已关闭")

    branch = models.ForeignKey("org.Branch", verbose_name=_("营业部"), on_delete=models.PROTECT)
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("客户"), on_delete=models.PROTECT, related_name="premium_requests"
    )
    enrolment = models.ForeignKey(Enrolment, verbose_name=_("签约"), on_delete=models.PROTECT)
    channel = models.CharField(_("渠道"), max_length=12, choices=Channel.choices)
    subject = models.CharField(_("主题"), max_length=200)
    body = models.TextField(_("客户诉求"))
    broker = models.ForeignKey(
        USER, verbose_name=_("专属经纪人"), on_delete=models.PROTECT, related_name="premium_requests"
    )
    backup_broker = models.ForeignKey(
        USER,
        verbose_name=_("备岗经纪人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="premium_backup_requests",
    )
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.NEW)
    state_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("受理时间"))
    first_response_due = models.DateTimeField(_("首次响应期限"))
    resolution_due = models.DateTimeField(_("办结期限"))
    responded_at = models.DateTimeField(_("首次响应时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(
        _("升级级别"), default=0, help_text=_("0 未升级；1 已通知备岗经纪人；2 已通知营业部经理")
    )
    escalated_at = models.DateTimeField(_("最近升级时间"), null=True, blank=True)
    resolution = models.TextField(_("办结说明"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("满意度（1–5）"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("高端客户请求")
        verbose_name_plural = _("高端客户请求")
        ordering = ["resolution_due", "-id"]
        indexes = [
            models.Index(fields=["branch", "broker", "state"], name="premium_req_broker_idx"),
            models.Index(fields=["state", "escalation_level"], name="premium_req_escalate_idx"),
            models.Index(fields=["branch", "received_at"], name="premium_req_received_idx"),
            models.Index(fields=["client", "-received_at"], name="premium_req_client_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class RequestMessage(models.Model):
    """One entry of a request's thread: a note between staff (internal) or what was said to the client."""

    class Kind(models.TextChoices):
        NOTE = "note", _("内部备注")
        REPLY = "reply", _("答复客户")
        QUESTION = "question", _("提问研究员")
        ANSWER = "answer", _("研究员答复")
        RELAY = "relay", _("转达研究答复")
        SYSTEM = "system", _("系统")

    request = models.ForeignKey(PremiumRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(USER, verbose_name=_("记录人"), null=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(_("时间"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    to_client = models.BooleanField(_("告知客户"), default=False)
    text = models.TextField(_("内容"))

    class Meta:
        verbose_name = _("请求记录")
        verbose_name_plural = _("请求记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"


class ResearchQuestion(models.Model):
    """A broker's question to the research platform about a request; answered by a researcher (the one
    assigned, or anyone of the branch's researchers when it sits in the queue) and relayed to the client."""

    branch = models.ForeignKey("org.Branch", verbose_name=_("营业部"), on_delete=models.PROTECT)
    request = models.ForeignKey(
        PremiumRequest, verbose_name=_("高端客户请求"), on_delete=models.CASCADE, related_name="questions"
    )
    asked_by = models.ForeignKey(
        USER, verbose_name=_("提问经纪人"), on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(_("提问时间"))
    researcher = models.ForeignKey(
        USER,
        verbose_name=_("指定研究员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="premium_questions",
        help_text=_("不指定则进入本营业部研究员的公共队列"),
    )
    question = models.TextField(_("问题"))
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(
        USER, verbose_name=_("答复研究员"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    relayed_at = models.DateTimeField(_("转达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("研究问题")
        verbose_name_plural = _("研究问题")
        ordering = ["-asked_at", "-id"]
        indexes = [models.Index(fields=["branch", "answered_at"], name="premium_q_queue_idx")]

    def __str__(self) -> str:
        return f"Q{self.pk} #{self.request_id}"


class Briefing(models.Model):
    """A broker's daily briefing: for each of their active premium clients, new published research that
    concerns the client's holdings (``research.selectors.research_for_client``)."""

    branch = models.ForeignKey("org.Branch", verbose_name=_("营业部"), on_delete=models.PROTECT)
    broker = models.ForeignKey(
        USER, verbose_name=_("经纪人"), on_delete=models.PROTECT, related_name="premium_briefings"
    )
    date = models.DateField(_("日期"))
    generated_at = models.DateTimeField(_("生成时间"))

    class Meta:
        verbose_name = _("经纪人每日简报")
        verbose_name_plural = _("经纪人每日简报")
        ordering = ["-date", "broker_id"]
        constraints = [models.UniqueConstraint(fields=["broker", "date"], name="premium_briefing_unique_day")]

    def __str__(self) -> str:
        return f"{self.broker_id} {self.date}"


class BriefingItem(models.Model):
    """One research item for one client in a briefing; ``explained_at`` once the broker explained it
    (recorded as a research delivery through the research platform)."""

    briefing = models.ForeignKey(Briefing, on_delete=models.CASCADE, related_name="items")
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("客户"), on_delete=models.CASCADE, related_name="+"
    )
    item = models.ForeignKey(
        "research.ResearchItem", verbose_name=_("研究成果"), on_delete=models.CASCADE, related_name="+"
    )
    explained_at = models.DateTimeField(_("讲解时间"), null=True, blank=True)
    explained_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    delivery_id = models.PositiveBigIntegerField(_("交付记录编号"), null=True, blank=True)
    note = models.CharField(_("讲解备注"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("简报条目")
        verbose_name_plural = _("简报条目")
        ordering = ["client_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["briefing", "client", "item"], name="premium_briefing_item_unique"
            )
        ]
        indexes = [models.Index(fields=["client", "item"], name="premium_briefing_client_idx")]

    def __str__(self) -> str:
        return f"{self.briefing_id} {self.client_id} {self.item_id}"
