"""潜在客户开发 models: partners that refer prospects, the prospects and their follow-ups, and the
branch's settings (how many days an untouched prospect stays with its owner before it returns to the
pool)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

RATE_HELP = _("以千分之几计，如 0.25 表示万分之二点五")


class Partner(models.Model):
    """A business near the branch that bundles the branch's low commission with its products and
    refers price-sensitive prospects under its referral code."""

    class Kind(models.TextChoices):
        SOFTWARE = "software", _("分析软件商")
        COMPUTER_SHOP = "computer_shop", _("电脑商")
        CONSULTING = "consulting", _("咨询公司")
        OTHER = "other", _("其他")

    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.PROTECT, related_name="partners"
    )
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.SOFTWARE)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    offered_rate = models.DecimalField(
        _("约定佣金率（‰）"), max_digits=6, decimal_places=4, null=True, blank=True, help_text=RATE_HELP
    )
    agreement_start = models.DateField(_("协议开始日期"), null=True, blank=True)
    agreement_end = models.DateField(_("协议结束日期"), null=True, blank=True)
    referral_code = models.CharField(_("推荐码"), max_length=20, unique=True)
    active = models.BooleanField(_("合作中"), default=True)
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("合作伙伴")
        verbose_name_plural = _("合作伙伴")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["branch", "active"], name="partner_branch_active_idx")]

    def __str__(self) -> str:
        return f"{self.name}（{self.referral_code}）"


class Prospect(models.Model):
    """Someone who is not yet a client, owned by a broker or manager (or in the branch's pool)."""

    class Source(models.TextChoices):
        PARTNER = "partner", _("合作伙伴推荐")
        REFERRAL = "referral", _("高端客户转介绍")
        MEETING = "meeting", _("交流会嘉宾")
        WALK_IN = "walk_in", _("自然到访")
        EVENT = "event", _("营销活动")

    class Segment(models.TextChoices):
        PRICE = "price", _("价格敏感型")
        ADVICE = "advice", _("咨询服务型")

    class Stage(models.TextChoices):
        LEAD = "lead", _("线索")
        CONTACTED = "contacted", _("已联系")
        VISITED = "visited", _("已到访")
        OPENED = "opened", _("已开户")
        FUNDED = "funded", _("已入金")
        ACTIVE = "active", _("已活跃")
        LOST = "lost", _("已流失")

    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.PROTECT, related_name="prospects"
    )
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("手机"), max_length=20)
    id_number = models.CharField(_("证件号码"), max_length=32, blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.WALK_IN)
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("推荐合作伙伴"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prospects",
    )
    referrer = models.ForeignKey(
        "clients.Client",
        verbose_name=_("推荐客户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referred_prospects",
    )
    segment = models.CharField(_("客户类型"), max_length=8, choices=Segment.choices, default=Segment.PRICE)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prospects",
        help_text=_("为空表示在公海中，等待认领或分配"),
    )
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("原负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    stage = models.CharField(_("阶段"), max_length=10, choices=Stage.choices, default=Stage.LEAD)
    reached = models.PositiveSmallIntegerField(_("到达的最远阶段"), default=0)
    state_changed_at = models.DateTimeField(_("阶段变更时间"), null=True, blank=True)
    last_touched_at = models.DateTimeField(_("最近跟进时间"))
    next_follow_up_due = models.DateField(_("下次跟进日期"), null=True, blank=True)
    offered_rate = models.DecimalField(
        _("承诺佣金率（‰）"), max_digits=6, decimal_places=4, null=True, blank=True, help_text=RATE_HELP
    )
    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("开户客户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="source_prospects",
    )
    converted_at = models.DateTimeField(_("开户时间"), null=True, blank=True)
    credited_partner = models.ForeignKey(
        Partner,
        verbose_name=_("业绩归属合作伙伴"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credited_prospects",
    )
    credited_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("业绩归属人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credited_prospects",
    )
    premium_offered = models.BooleanField(_("已推荐高端服务"), default=False)
    notes = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("潜在客户")
        verbose_name_plural = _("潜在客户")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["phone"], name="prospect_phone_idx"),
            models.Index(fields=["branch", "owner", "stage"], name="prospect_owner_stage_idx"),
            models.Index(fields=["branch", "stage", "last_touched_at"], name="prospect_reclaim_idx"),
            models.Index(fields=["id_number"], name="prospect_id_number_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"

    @property
    def in_pool(self) -> bool:
        return self.owner_id is None


class ProspectFollowUp(models.Model):
    """One contact with a prospect: what was said, and when to follow up next."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("电话")
        WECHAT = "wechat", _("企业微信")
        VISIT = "visit", _("面谈")
        OTHER = "other", _("其他")

    prospect = models.ForeignKey(
        Prospect, verbose_name=_("潜在客户"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    channel = models.CharField(_("方式"), max_length=8, choices=Channel.choices, default=Channel.PHONE)
    notes = models.TextField(_("跟进内容"))
    at = models.DateTimeField(_("跟进时间"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("跟进人"), on_delete=models.PROTECT, related_name="+"
    )
    next_due = models.DateField(_("下次跟进日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("跟进记录")
        verbose_name_plural = _("跟进记录")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["prospect", "at"], name="prospect_followup_at_idx")]

    def __str__(self) -> str:
        return f"{self.prospect_id} @ {self.at:%Y-%m-%d %H:%M}"


class ProspectSettings(models.Model):
    """Per-branch settings of prospect development."""

    branch = models.OneToOneField(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="prospect_settings"
    )
    reclaim_days = models.PositiveSmallIntegerField(
        _("回收天数"),
        default=7,
        help_text=_("潜在客户连续多少天未跟进即退回公海"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("潜客开发设置")
        verbose_name_plural = _("潜客开发设置")

    def __str__(self) -> str:
        return str(self.branch_id)
