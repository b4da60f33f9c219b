"""推荐绩效: the computed outcome of each stock recommendation against its daily closes and the benchmark.

One :class:`RecommendationOutcome` per recommendation item (``research.ResearchItem`` of kind
"recommendation"). The rows are *derived data*: :func:`.services.outcomes_refresh` (a Huey task after each
price import and nightly) writes them, and the league table reads only them, never the prices. The
item's author, source, branch, security, direction and publication date are copied onto the row so that
aggregation per analyst / source is one ``GROUP BY`` over this table.

Returns are fractions (0.0523 = +5.23 %). ``excess_*`` is *directional*: for 减持 / 卖出 it is
``-(return - benchmark return)``, so a positive excess always means the recommendation was right.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .calc import HORIZONS

__all__ = ["HORIZONS", "RecommendationOutcome"]


def _ret(label: Any) -> models.DecimalField:
    return models.DecimalField(label, max_digits=12, decimal_places=6, null=True, blank=True)


class RecommendationOutcome(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待计算")
        PARTIAL = "partial", _("跟踪中")
        COMPLETE = "complete", _("已完成")

    class Result(models.TextChoices):
        OPEN = "open", _("观察中")
        TARGET = "target", _("达到目标价")
        STOP = "stop", _("触及止损价")
        EXPIRED = "expired", _("到期未触及")

    item = models.OneToOneField(
        "research.ResearchItem",
        verbose_name=_("个股推荐"),
        on_delete=models.CASCADE,
        related_name="outcome",
    )
    # Copied from the item (and its security) for aggregation without joins.
    branch = models.ForeignKey(
        "org.Branch",
        verbose_name=_("营业部"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    source = models.ForeignKey(
        "research.ResearchSource", verbose_name=_("研究来源"), on_delete=models.CASCADE, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("分析师"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    security = models.ForeignKey(
        "clients.Security", verbose_name=_("证券"), on_delete=models.CASCADE, related_name="+"
    )
    direction = models.CharField(_("方向"), max_length=8)
    published_on = models.DateField(_("发布日期"))
    # Entry: the close on (or just before) the publication date.
    entry_date = models.DateField(_("基准日"), null=True, blank=True)
    entry_price = models.DecimalField(_("发布时价格"), max_digits=14, decimal_places=4, null=True, blank=True)
    benchmark_entry = models.DecimalField(
        _("发布时基准点位"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    return_5 = _ret(_("5日收益"))
    benchmark_return_5 = _ret(_("5日基准收益"))
    excess_return_5 = _ret(_("5日超额收益"))
    return_20 = _ret(_("20日收益"))
    benchmark_return_20 = _ret(_("20日基准收益"))
    excess_return_20 = _ret(_("20日超额收益"))
    return_60 = _ret(_("60日收益"))
    benchmark_return_60 = _ret(_("60日基准收益"))
    excess_return_60 = _ret(_("60日超额收益"))
    target_hit_on = models.DateField(_("达到目标价日期"), null=True, blank=True)
    stop_hit_on = models.DateField(_("触及止损日期"), null=True, blank=True)
    window_end = models.DateField(_("观察期截止"), null=True, blank=True)
    result = models.CharField(_("结果"), max_length=8, choices=Result.choices, default=Result.OPEN)
    status = models.CharField(_("计算状态"), max_length=8, choices=Status.choices, default=Status.PENDING)
    data_through = models.DateField(_("行情截至"), null=True, blank=True)
    inputs_key = models.CharField(_("输入摘要"), max_length=200, blank=True)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("推荐绩效")
        verbose_name_plural = _("推荐绩效")
        ordering = ["-published_on", "-item_id"]
        indexes = [
            models.Index(fields=["author", "published_on"], name="perf_outcome_author_idx"),
            models.Index(fields=["source", "published_on"], name="perf_outcome_source_idx"),
            models.Index(fields=["status", "security"], name="perf_outcome_status_idx"),
            models.Index(fields=["security", "window_end"], name="perf_outcome_security_idx"),
            models.Index(fields=["branch", "-published_on"], name="perf_outcome_branch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.security_id} {self.direction} {self.published_on}"

    @property
    def hit(self) -> bool:
        """The target price was reached before the stop-loss."""
        return self.result == self.Result.TARGET

    def horizon(self, days: int) -> tuple:
        """``(return, benchmark return, excess return)`` at ``days`` trading days."""
        return (
            getattr(self, f"return_{days}"),
            getattr(self, f"benchmark_return_{days}"),
            getattr(self, f"excess_return_{days}"),
        )
