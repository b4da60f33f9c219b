"""监督考核: the daily rollups the assessment pages read, the versioned scorecards directors configure,
and the record of alerts sent (so the daily digest is sent once per day). Owns no source data: every
figure is computed from the other apps' records by ``measures`` and kept here."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

STAFF = settings.AUTH_USER_MODEL


class DailyMeasure(models.Model):
    """One measure of one employee on one day: ``numerator`` / ``denominator`` (and for medians the
    samples), as computed from the source records by the nightly rollup. Periods are sums of days."""

    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="+"
    )
    employee = models.ForeignKey(STAFF, verbose_name=_("员工"), on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("日期"))
    measure = models.CharField(_("指标"), max_length=40)
    numerator = models.FloatField(_("分子"), default=0)
    denominator = models.FloatField(_("分母"), default=0)
    value = models.FloatField(_("当日值"), null=True, blank=True)
    samples = models.JSONField(_("样本"), default=list, blank=True)
    computed_at = models.DateTimeField(_("计算时间"), auto_now=True)

    class Meta:
        verbose_name = _("每日指标")
        verbose_name_plural = _("每日指标")
        constraints = [
            models.UniqueConstraint(fields=["employee", "date", "measure"], name="daily_measure_unique")
        ]
        indexes = [
            models.Index(fields=["branch", "date", "measure"], name="daily_measure_branch_idx"),
            models.Index(fields=["employee", "measure", "date"], name="daily_measure_employee_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.employee_id} {self.measure}"


class RollupRun(models.Model):
    """When a branch's rollups were last recomputed for a date range (shown as "数据截至")."""

    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="+"
    )
    first = models.DateField(_("起始日期"))
    last = models.DateField(_("截止日期"))
    rows = models.PositiveIntegerField(_("行数"), default=0)
    finished_at = models.DateTimeField(_("完成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("汇总计算")
        verbose_name_plural = _("汇总计算")
        ordering = ["-finished_at", "-id"]
        indexes = [models.Index(fields=["branch", "-finished_at"], name="rollup_run_branch_idx")]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.first}–{self.last}"


class Scorecard(models.Model):
    """One version of a branch's weighted scorecard for one role, in force from ``effective_from`` (the
    first day of a month) until the next version. A period is scored with the version in force on its
    first day, so a change made during a period applies from the next period only."""

    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(_("角色"), max_length=32)
    effective_from = models.DateField(_("生效日期"))
    note = models.CharField(_("调整说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        STAFF, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")
        ordering = ["branch", "role", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "role", "effective_from"], name="scorecard_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.role} {self.effective_from}"


class ScorecardItem(models.Model):
    """One measure of a scorecard version: its weight, the target (full marks) and the threshold (zero
    marks); a value between them scores proportionally."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="items")
    measure = models.CharField(_("指标"), max_length=40)
    weight = models.PositiveSmallIntegerField(_("权重"))
    target = models.FloatField(_("目标值（满分）"))
    threshold = models.FloatField(_("底线值（零分）"))

    class Meta:
        verbose_name = _("考核指标")
        verbose_name_plural = _("考核指标")
        ordering = ["scorecard", "-weight", "measure"]
        constraints = [models.UniqueConstraint(fields=["scorecard", "measure"], name="scorecard_item_unique")]

    def __str__(self) -> str:
        return f"{self.scorecard_id} {self.measure} {self.weight}"


class AlertLog(models.Model):
    """An alert or digest sent to one person for one day and kind: the unique key makes the daily run
    idempotent (a second run the same day sends nothing)."""

    date = models.DateField(_("日期"))
    recipient = models.ForeignKey(STAFF, verbose_name=_("收件人"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("类别"), max_length=32)
    items = models.PositiveIntegerField(_("事项数"), default=0)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("督导提醒")
        verbose_name_plural = _("督导提醒")
        constraints = [
            models.UniqueConstraint(fields=["date", "recipient", "kind"], name="alert_log_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.recipient_id} {self.kind}"
