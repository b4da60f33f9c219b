"""Company, branches, teams, staff, roles and rooms; service standards and the trading calendar."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cached_property
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from .capabilities import SCOPE_RANK, Scope


class Company(models.Model):
    name = models.CharField(_("公司名称"), max_length=100)

    class Meta:
        verbose_name = _("公司")
        verbose_name_plural = _("公司")

    def __str__(self) -> str:
        return self.name


class Branch(models.Model):
    company = models.ForeignKey(
        Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="branches"
    )
    code = models.CharField(_("营业部代码"), max_length=16, unique=True)
    name = models.CharField(_("营业部名称"), max_length=100)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    # Tier thresholds on total assets (元): >= large is 大户, >= medium is 中户, else 小户.
    large_threshold = models.DecimalField(
        _("大户资产门槛（元）"), max_digits=16, decimal_places=2, default=Decimal("5000000")
    )
    medium_threshold = models.DecimalField(
        _("中户资产门槛（元）"), max_digits=16, decimal_places=2, default=Decimal("500000")
    )

    class Meta:
        verbose_name = _("营业部")
        verbose_name_plural = _("营业部")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Team(models.Model):
    branch = models.ForeignKey(
        Branch, verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="teams"
    )
    name = models.CharField(_("团队名称"), max_length=100)

    class Meta:
        verbose_name = _("团队")
        verbose_name_plural = _("团队")
        ordering = ["branch", "name"]
        constraints = [models.UniqueConstraint(fields=["branch", "name"], name="team_unique_name")]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A role = capability flags + a data scope. A user may hold several roles."""

    code = models.SlugField(_("角色代码"), max_length=32, unique=True)
    name = models.CharField(_("角色名称"), max_length=50)
    scope = models.CharField(_("数据范围"), max_length=16, choices=Scope.choices, default=Scope.OWN)
    capabilities = models.JSONField(_("权限"), default=list, blank=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class StaffManager(UserManager):
    def get_queryset(self):
        # Every page shows the user's branch; loading it with the user saves a query per request.
        return super().get_queryset().select_related("branch")


class User(AbstractUser):
    """A member of staff. ``branch`` is where they work; ``team`` groups customer managers."""

    name = models.CharField(_("姓名"), max_length=50, blank=True)
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("营业部"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("团队"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    roles = models.ManyToManyField(Role, verbose_name=_("角色"), blank=True, related_name="users")
    practice_no = models.CharField(_("执业编号"), max_length=32, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)

    objects: ClassVar[StaffManager] = StaffManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("员工")
        verbose_name_plural = _("员工")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.name or self.username

    @cached_property
    def _grants(self) -> dict[str, str]:
        """capability -> widest scope among the user's roles (one query, cached per instance)."""
        grants: dict[str, str] = {}
        for scope, caps in self.roles.values_list("scope", "capabilities"):
            for cap in caps or []:
                if cap not in grants or SCOPE_RANK[Scope(scope)] > SCOPE_RANK[Scope(grants[cap])]:
                    grants[cap] = scope
        return grants

    def has_cap(self, capability: str) -> bool:
        return self.is_active and capability in self._grants

    def scope_for(self, capability: str) -> str | None:
        """The widest data scope with which the user holds ``capability``, or None."""
        if not self.is_active:
            return None
        return self._grants.get(capability)

    @property
    def role_names(self) -> list[str]:
        return [r.name for r in self.roles.all()]


class Room(models.Model):
    class Kind(models.TextChoices):
        HALL = "hall", _("交易大厅")
        VIP = "vip", _("大户室")

    branch = models.ForeignKey(
        Branch, verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="rooms"
    )
    name = models.CharField(_("房间名称"), max_length=50)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices, default=Kind.HALL)
    capacity = models.PositiveIntegerField(_("座位数"), default=0)

    class Meta:
        verbose_name = _("房间")
        verbose_name_plural = _("房间")
        ordering = ["branch", "name"]
        constraints = [models.UniqueConstraint(fields=["branch", "name"], name="room_unique_name")]

    def __str__(self) -> str:
        return self.name


class Seat(models.Model):
    room = models.ForeignKey(Room, verbose_name=_("房间"), on_delete=models.CASCADE, related_name="seats")
    label = models.CharField(_("座位号"), max_length=16)

    class Meta:
        verbose_name = _("座位")
        verbose_name_plural = _("座位")
        ordering = ["room", "label"]
        constraints = [models.UniqueConstraint(fields=["room", "label"], name="seat_unique_label")]

    def __str__(self) -> str:
        return f"{self.room.name} {self.label}"


# --- Service standards and the trading calendar --------------------------------------------------------


def default_service_hours() -> list[list[str]]:
    """The XSHG trading sessions, as the branch's default service hours."""
    return [["09:30", "11:30"], ["13:00", "15:00"]]


def default_meeting_tiers() -> list[str]:
    return ["large", "medium"]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("周一")
    TUESDAY = 1, _("周二")
    WEDNESDAY = 2, _("周三")
    THURSDAY = 3, _("周四")
    FRIDAY = 4, _("周五")
    SATURDAY = 5, _("周六")
    SUNDAY = 6, _("周日")


class ServiceStandard(models.Model):
    """One version of a branch's service standard (服务标准), in force from ``effective_from`` until the
    next version's date. Versions whose date has come are never changed: a change is a new version.
    Rules live in ``services_standards``; reads in ``calendar.standard_for``."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="service_standards"
    )
    effective_from = models.DateField(_("生效日期"))
    visits_per_day = models.PositiveSmallIntegerField(_("每交易日拜访客户数（每位客户经理）"), default=8)
    patrols_per_day = models.PositiveSmallIntegerField(_("每交易日巡视次数（每位客户经理）"), default=2)
    contact_interval_large_days = models.PositiveSmallIntegerField(_("大户最长联系间隔（天）"), default=7)
    contact_interval_medium_days = models.PositiveSmallIntegerField(_("中户最长联系间隔（天）"), default=14)
    contact_interval_small_days = models.PositiveSmallIntegerField(_("小户最长联系间隔（天）"), default=30)
    consultation_deadline_hours = models.DecimalField(
        _("咨询单办理时限（服务时段小时）"), max_digits=5, decimal_places=2, default=Decimal("4")
    )
    service_hours = models.JSONField(_("服务时段"), default=default_service_hours)
    meeting_weekday = models.PositiveSmallIntegerField(
        _("交流会星期"), choices=Weekday.choices, default=Weekday.FRIDAY
    )
    meeting_time = models.TimeField(_("交流会时间"), default=dt.time(15, 30))
    meeting_tiers = models.JSONField(_("交流会邀请层级"), default=default_meeting_tiers)
    holding_drop_alert_pct = models.DecimalField(
        _("持仓跌幅提醒（%）"), max_digits=5, decimal_places=2, default=Decimal("10")
    )
    note = models.CharField(_("调整说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("服务标准")
        verbose_name_plural = _("服务标准")
        ordering = ["branch", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "effective_from"], name="service_standard_unique_date")
        ]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.effective_from}"

    @property
    def windows(self) -> tuple[tuple[dt.time, dt.time], ...]:
        """``service_hours`` as ``((start, end), …)`` times, for ``core.sla.ServiceCalendar``."""
        return tuple(
            (dt.time.fromisoformat(start), dt.time.fromisoformat(end)) for start, end in self.service_hours
        )

    @property
    def service_hours_display(self) -> str:
        return ", ".join(f"{start}-{end}" for start, end in self.service_hours)

    @property
    def meeting_tiers_display(self) -> str:
        labels = {"large": _("大户"), "medium": _("中户"), "small": _("小户")}
        return "、".join(str(labels.get(t, t)) for t in self.meeting_tiers)

    def contact_interval_days(self, tier: str) -> int:
        """The longest allowed gap between two contacts with a client of ``tier``."""
        return {
            "large": self.contact_interval_large_days,
            "medium": self.contact_interval_medium_days,
        }.get(tier, self.contact_interval_small_days)


class CalendarOverride(models.Model):
    """A company-wide correction of the exchange calendar: a holiday or an extra trading day the
    library does not know yet (China publishes each next year's holidays late in the year)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("休市")
        TRADING_DAY = "trading_day", _("交易日")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=50)
    created_by = models.ForeignKey(
        User, verbose_name=_("录入人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("交易日历例外")
        verbose_name_plural = _("交易日历例外")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class CalendarCoverage(models.Model):
    """The administrator's declaration that the exchange calendar has been entered up to
    ``known_until`` (the latest row wins). Past the library's range, weekdays count as trading days only
    up to this date, less the holidays entered as ``CalendarOverride``."""

    known_until = models.DateField(_("日历已录入至"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("声明人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("声明时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("交易日历覆盖范围")
        verbose_name_plural = _("交易日历覆盖范围")
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]

    def __str__(self) -> str:
        return str(self.known_until)
