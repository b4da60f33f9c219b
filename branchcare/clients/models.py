"""Clients, the security master, holdings and prices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RiskRating(models.TextChoices):
    """Product risk rating (产品风险等级)."""

    R1 = "R1", _("R1 低风险")
    R2 = "R2", _("R2 中低风险")
    R3 = "R3", _("R3 中风险")
    R4 = "R4", _("R4 中高风险")
    R5 = "R5", _("R5 高风险")


class Security(models.Model):
    class Exchange(models.TextChoices):
        SH = "SH", _("上交所")
        SZ = "SZ", _("深交所")
        BJ = "BJ", _("北交所")

    class Kind(models.TextChoices):
        STOCK = "stock", _("股票")
        ETF = "etf", _("ETF")
        FUND = "fund", _("基金")
        BOND = "bond", _("债券")
        INDEX = "index", _("指数")

    code = models.CharField(_("证券代码"), max_length=12)
    exchange = models.CharField(_("交易所"), max_length=2, choices=Exchange.choices)
    name = models.CharField(_("证券名称"), max_length=50)
    kind = models.CharField(_("类别"), max_length=8, choices=Kind.choices, default=Kind.STOCK)
    risk_rating = models.CharField(
        _("风险等级"), max_length=2, choices=RiskRating.choices, default=RiskRating.R3
    )
    industry = models.CharField(_("行业"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("证券")
        verbose_name_plural = _("证券")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["code", "exchange"], name="security_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def price_decimals(self) -> int:
        return 3 if self.kind in (self.Kind.ETF, self.Kind.FUND) else 2


class Price(models.Model):
    """Daily close of a security."""

    security = models.ForeignKey(Security, on_delete=models.CASCADE, related_name="prices")
    date = models.DateField(_("日期"))
    close = models.DecimalField(_("收盘价"), max_digits=14, decimal_places=4)

    class Meta:
        verbose_name = _("行情")
        verbose_name_plural = _("行情")
        constraints = [models.UniqueConstraint(fields=["security", "date"], name="price_unique_day")]
        indexes = [models.Index(fields=["security", "-date"], name="price_latest_idx")]

    def __str__(self) -> str:
        return f"{self.security_id} {self.date} {self.close}"


class Client(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("正常")
        DORMANT = "dormant", _("休眠")
        CLOSED = "closed", _("销户")

    class Gender(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")
        UNKNOWN = "", _("未知")

    class RiskLevel(models.TextChoices):
        C1 = "C1", _("C1 保守型")
        C2 = "C2", _("C2 谨慎型")
        C3 = "C3", _("C3 稳健型")
        C4 = "C4", _("C4 积极型")
        C5 = "C5", _("C5 激进型")

    class Tier(models.TextChoices):
        LARGE = "large", _("大户")
        MEDIUM = "medium", _("中户")
        SMALL = "small", _("小户")

    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.PROTECT, related_name="clients"
    )
    client_no = models.CharField(_("客户号"), max_length=20)
    name = models.CharField(_("姓名"), max_length=50)
    name_pinyin = models.CharField(_("姓名拼音"), max_length=200, blank=True)
    name_initials = models.CharField(_("拼音首字母"), max_length=50, blank=True)
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    phone_tail = models.CharField(_("手机尾号"), max_length=4, blank=True)
    id_number = models.CharField(_("证件号码"), max_length=32, blank=True)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True, default="")
    birthday = models.DateField(_("出生日期"), null=True, blank=True)
    opened_on = models.DateField(_("开户日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    risk_level = models.CharField(_("风险等级"), max_length=2, choices=RiskLevel.choices, blank=True)
    risk_assessed_on = models.DateField(_("风险测评日期"), null=True, blank=True)
    total_assets = models.DecimalField(
        _("总资产（元）"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    tier = models.CharField(_("客户层级"), max_length=8, choices=Tier.choices, default=Tier.SMALL)
    is_premium = models.BooleanField(_("高端客户"), default=False)
    commission_rate = models.DecimalField(
        _("佣金率（‰）"),
        max_digits=6,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("以千分之几计，如 0.25 表示万分之二点五"),
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("客户经理"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clients",
    )
    # The dedicated broker of a premium client (set and cleared by the premium enrolment services);
    # the broker sees and serves the client like its manager does.
    broker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("专属经纪人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="premium_clients",
    )
    seat = models.OneToOneField(
        "org.Seat",
        verbose_name=_("座位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="client",
    )
    tags = models.JSONField(_("标签"), default=list, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    last_contact_at = models.DateTimeField(
        _("最近联系时间"),
        null=True,
        blank=True,
        help_text=_("最近一次拜访等联系的时间，由拜访等服务通过 clients_touch 维护"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        ordering = ["client_no"]
        constraints = [models.UniqueConstraint(fields=["branch", "client_no"], name="client_unique_no")]
        indexes = [
            models.Index(fields=["broker", "branch"], name="client_broker_idx"),
            models.Index(fields=["branch", "name_initials"], name="client_initials_idx"),
            models.Index(fields=["branch", "name"], name="client_name_idx"),
            models.Index(fields=["branch", "phone_tail"], name="client_phone_tail_idx"),
            models.Index(fields=["branch", "name_pinyin"], name="client_pinyin_idx"),
            models.Index(fields=["branch", "manager", "client_no"], name="client_branch_manager_idx"),
            models.Index(fields=["branch", "tier", "risk_assessed_on"], name="client_tier_assessed_idx"),
            models.Index(fields=["branch", "tier", "client_no"], name="client_tier_idx"),
            models.Index(fields=["branch", "risk_level", "client_no"], name="client_risk_idx"),
            models.Index(fields=["branch", "status", "client_no"], name="client_status_idx"),
            models.Index(fields=["branch", "is_premium", "client_no"], name="client_premium_idx"),
            models.Index(fields=["branch", "risk_assessed_on"], name="client_assessed_idx"),
            models.Index(fields=["branch", "-total_assets"], name="client_assets_idx"),
            models.Index(fields=["manager", "last_contact_at"], name="client_manager_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client_no} {self.name}"

    @property
    def risk_assessment_expired(self) -> bool:
        """True when the risk assessment is missing or older than the configured validity (2 years)."""
        if not self.risk_assessed_on:
            return True
        days = settings.BRANCHCARE["RISK_ASSESSMENT_VALID_DAYS"]
        return self.risk_assessed_on < timezone.localdate() - dt.timedelta(days=days)


class Holding(models.Model):
    """A client's position in one security as of a date (from the counter system or a visit)."""

    client = models.ForeignKey(
        Client, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="holdings"
    )
    security = models.ForeignKey(
        Security, verbose_name=_("证券"), on_delete=models.PROTECT, related_name="holdings"
    )
    quantity = models.BigIntegerField(_("持仓数量（股）"))
    cost_price = models.DecimalField(_("成本价"), max_digits=14, decimal_places=4)
    as_of = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("持仓")
        verbose_name_plural = _("持仓")
        ordering = ["client", "security__code"]
        constraints = [models.UniqueConstraint(fields=["client", "security"], name="holding_unique_security")]
        indexes = [models.Index(fields=["security", "client"], name="holding_security_idx")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.security_id} {self.quantity}"
