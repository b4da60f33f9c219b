"""Company, branches, teams, staff, roles and rooms."""

from __future__ import annotations

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
