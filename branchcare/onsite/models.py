"""On-site service: daily visit and patrol plans, visits, patrols and their follow-ups, the
consultation pipeline (orders, holdings snapshots, advice) and the weekly exchange meeting."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

STAFF = settings.AUTH_USER_MODEL


# --- Plans -------------------------------------------------------------------------------------------


class VisitPlan(models.Model):
    """One customer manager's plan for one trading day: N clients to visit and M room patrols."""

    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="+"
    )
    manager = models.ForeignKey(
        STAFF, verbose_name=_("客户经理"), on_delete=models.CASCADE, related_name="visit_plans"
    )
    date = models.DateField(_("日期"))
    visits_quota = models.PositiveSmallIntegerField(_("拜访定额"))
    patrols_quota = models.PositiveSmallIntegerField(_("巡视定额"))
    generated_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("拜访计划")
        verbose_name_plural = _("拜访计划")
        ordering = ["-date", "manager"]
        constraints = [models.UniqueConstraint(fields=["manager", "date"], name="visit_plan_unique_day")]
        indexes = [models.Index(fields=["branch", "date"], name="visit_plan_branch_idx")]

    def __str__(self) -> str:
        return f"{self.manager} {self.date}"


class VisitPlanItem(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("待拜访")
        DONE = "done", _("已拜访")
        SWAPPED = "swapped", _("已调换")

    plan = models.ForeignKey(VisitPlan, on_delete=models.CASCADE, related_name="items")
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("客户"), on_delete=models.CASCADE, related_name="visit_plan_items"
    )
    rank = models.PositiveSmallIntegerField(_("顺序"))
    reasons = models.JSONField(_("入选原因"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.PLANNED)
    swap_reason = models.CharField(_("调换原因"), max_length=200, blank=True)
    replaced_by = models.ForeignKey(
        "self", verbose_name=_("调换为"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("计划拜访客户")
        verbose_name_plural = _("计划拜访客户")
        ordering = ["plan", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "client"], name="visit_plan_item_unique_client")
        ]
        indexes = [models.Index(fields=["client", "status"], name="visit_plan_item_client_idx")]

    def __str__(self) -> str:
        return f"{self.plan_id} #{self.rank} {self.client_id}"


class PatrolPlanItem(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("待巡视")
        DONE = "done", _("已巡视")

    plan = models.ForeignKey(VisitPlan, on_delete=models.CASCADE, related_name="patrol_items")
    room = models.ForeignKey("org.Room", verbose_name=_("房间"), on_delete=models.CASCADE, related_name="+")
    round_no = models.PositiveSmallIntegerField(_("轮次"))
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.PLANNED)

    class Meta:
        verbose_name = _("计划巡视")
        verbose_name_plural = _("计划巡视")
        ordering = ["plan", "round_no"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "round_no"], name="patrol_plan_item_unique_round")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} R{self.round_no} {self.room_id}"


# --- Visits and patrols --------------------------------------------------------------------------------


class Visit(models.Model):
    """A recorded contact with a client (拜访记录)."""

    class Place(models.TextChoices):
        HALL = "hall", _("营业部大厅")
        ROOM = "room", _("大户室")
        OFFICE = "office", _("客户办公室")
        OTHER = "other", _("其他")

    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="+"
    )
    manager = models.ForeignKey(
        STAFF, verbose_name=_("客户经理"), on_delete=models.PROTECT, related_name="visits"
    )
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("客户"), on_delete=models.CASCADE, related_name="visits"
    )
    at = models.DateTimeField(_("拜访时间"))
    place = models.CharField(_("地点"), max_length=8, choices=Place.choices, default=Place.HALL)
    room = models.ForeignKey(
        "org.Room", verbose_name=_("房间"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    topic = models.CharField(_("主题"), max_length=200)
    concerns = models.TextField(_("客户关注与需求"), blank=True)
    holdings_confirmed = models.BooleanField(_("已核对持仓"), default=False)
    satisfaction = models.PositiveSmallIntegerField(_("满意度（1–5）"), null=True, blank=True)
    follow_up = models.TextField(_("后续跟进"), blank=True)
    plan_item = models.OneToOneField(
        VisitPlanItem,
        verbose_name=_("计划项"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visit",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("拜访")
        verbose_name_plural = _("拜访")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["branch", "at"], name="visit_branch_at_idx"),
            models.Index(fields=["manager", "at"], name="visit_manager_at_idx"),
            models.Index(fields=["client", "-at"], name="visit_client_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.client_id} {self.topic}"

    @property
    def planned(self) -> bool:
        return self.plan_item_id is not None


class Patrol(models.Model):
    """A recorded round of a room (巡视记录)."""

    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="+"
    )
    manager = models.ForeignKey(
        STAFF, verbose_name=_("客户经理"), on_delete=models.PROTECT, related_name="patrols"
    )
    room = models.ForeignKey(
        "org.Room", verbose_name=_("房间"), on_delete=models.PROTECT, related_name="patrols"
    )
    at = models.DateTimeField(_("巡视时间"))
    observations = models.TextField(_("巡视情况"), blank=True)
    clients_present = models.ManyToManyField(
        "clients.Client", verbose_name=_("在场客户"), blank=True, related_name="patrols_present"
    )
    plan_item = models.OneToOneField(
        PatrolPlanItem,
        verbose_name=_("计划项"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patrol",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("巡视")
        verbose_name_plural = _("巡视")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["branch", "at"], name="patrol_branch_at_idx"),
            models.Index(fields=["manager", "at"], name="patrol_manager_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.room_id}"


class FollowUp(models.Model):
    """A task raised by a patrol problem or a visit: owner, due date, state."""

    class Kind(models.TextChoices):
        EQUIPMENT = "equipment", _("设备问题")
        COMPLAINT = "complaint", _("客户投诉")
        RISK = "risk", _("风险行为")
        CLIENT_NEED = "need", _("客户需求")
        OTHER = "other", _("其他")

    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        DONE = "done", _("已完成")

    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices, default=Kind.OTHER)
    description = models.TextField(_("问题描述"))
    owner = models.ForeignKey(
        STAFF, verbose_name=_("负责人"), on_delete=models.PROTECT, related_name="follow_ups"
    )
    due_on = models.DateField(_("完成期限"))
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.OPEN)
    patrol = models.ForeignKey(
        Patrol, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups"
    )
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups"
    )
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(STAFF, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    resolution = models.TextField(_("处理结果"), blank=True)

    class Meta:
        verbose_name = _("跟进事项")
        verbose_name_plural = _("跟进事项")
        ordering = ["state", "due_on"]
        indexes = [
            models.Index(fields=["owner", "state", "due_on"], name="followup_owner_idx"),
            models.Index(fields=["branch", "state", "due_on"], name="followup_branch_idx"),
        ]

    def __str__(self) -> str:
        return self.description[:40]


# --- Consultation pipeline ---------------------------------------------------------------------------------


class ConsultationOrder(models.Model):
    """咨询单: a client's holdings and question, handed by the manager to a consultant, answered with
    advice within the standard's deadline, reviewed by the manager and delivered jointly."""

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待分析")
        IN_ANALYSIS = "in_analysis", _("分析中")
        ADVICE_READY = "advice_ready", _("意见待复核")
        ACCEPTED = "accepted", _("待交付")
        DELIVERED = "delivered", _("已交付")
        CLOSED = "closed", _("已关闭")
        CANCELLED = "cancelled", _("已取消")

    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="+"
    )
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("客户"), on_delete=models.CASCADE, related_name="consultation_orders"
    )
    manager = models.ForeignKey(
        STAFF, verbose_name=_("客户经理"), on_delete=models.PROTECT, related_name="orders_raised"
    )
    consultant = models.ForeignKey(
        STAFF,
        verbose_name=_("投资顾问"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders_assigned",
    )
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    question = models.TextField(_("客户问题"))
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.DRAFT)
    state_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("办理期限"), null=True, blank=True)
    advice_ready_at = models.DateTimeField(_("意见完成时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("交付时间"), null=True, blank=True)
    late_holder = models.ForeignKey(
        STAFF,
        verbose_name=_("逾期时经办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rework_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    delivery_method = models.CharField(_("交付方式"), max_length=20, blank=True)
    client_response = models.TextField(_("客户反馈"), blank=True)
    manager_rating = models.PositiveSmallIntegerField(_("意见质量评分（客户经理评）"), null=True, blank=True)
    consultant_rating = models.PositiveSmallIntegerField(
        _("咨询单完整度评分（投顾评）"), null=True, blank=True
    )
    manager_confirmed = models.BooleanField(_("客户经理确认交付"), default=False)
    consultant_confirmed = models.BooleanField(_("投资顾问确认交付"), default=False)

    class Meta:
        verbose_name = _("咨询单")
        verbose_name_plural = _("咨询单")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["branch", "state", "due_at"], name="order_branch_state_idx"),
            models.Index(fields=["consultant", "state", "due_at"], name="order_consultant_idx"),
            models.Index(fields=["manager", "state", "due_at"], name="order_manager_idx"),
            models.Index(fields=["client", "-created_at"], name="order_client_idx"),
        ]

    def __str__(self) -> str:
        return f"咨询单 {self.pk} {self.client_id}"


class OrderHolding(models.Model):
    """The holdings snapshot carried by an order (editable while the order is a draft)."""

    order = models.ForeignKey(ConsultationOrder, on_delete=models.CASCADE, related_name="holdings")
    security = models.ForeignKey(
        "clients.Security", verbose_name=_("证券"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.BigIntegerField(_("数量"))
    cost_price = models.DecimalField(_("成本价"), max_digits=14, decimal_places=4)

    class Meta:
        verbose_name = _("咨询单持仓")
        verbose_name_plural = _("咨询单持仓")
        constraints = [models.UniqueConstraint(fields=["order", "security"], name="order_holding_unique")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.security_id}"


class Advice(models.Model):
    """投顾意见: one version of the consultant's advice on an order. Immutable once delivered: a
    correction is a new version that points at the one it replaces."""

    order = models.ForeignKey(ConsultationOrder, on_delete=models.CASCADE, related_name="advices")
    version = models.PositiveSmallIntegerField(_("版本"))
    consultant = models.ForeignKey(
        STAFF, verbose_name=_("投资顾问"), on_delete=models.PROTECT, related_name="+"
    )
    practice_no = models.CharField(_("执业编号"), max_length=32)
    overall = models.TextField(_("总体建议"))
    risk_warning = models.TextField(_("风险提示"))
    suitability = models.JSONField(_("适当性检查结果"), default=dict)
    client_request_ack = models.BooleanField(_("客户主动要求并已确认特别风险提示"), default=False)
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("撰写时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    returned_reason = models.TextField(_("退回原因"), blank=True)
    delivered_at = models.DateTimeField(_("交付时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投顾意见")
        verbose_name_plural = _("投顾意见")
        ordering = ["order", "-version"]
        constraints = [models.UniqueConstraint(fields=["order", "version"], name="advice_unique_version")]

    def __str__(self) -> str:
        return f"{self.order_id} v{self.version}"


class AdviceLine(models.Model):
    class Action(models.TextChoices):
        HOLD = "hold", _("持有")
        ADD = "add", _("加仓")
        REDUCE = "reduce", _("减仓")
        SELL = "sell", _("卖出")
        WATCH = "watch", _("观望")
        BUY = "buy", _("买入")

    advice = models.ForeignKey(Advice, on_delete=models.CASCADE, related_name="lines")
    security = models.ForeignKey(
        "clients.Security", verbose_name=_("证券"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("建议"), max_length=8, choices=Action.choices)
    rationale = models.TextField(_("理由"))

    class Meta:
        verbose_name = _("个股建议")
        verbose_name_plural = _("个股建议")

    def __str__(self) -> str:
        return f"{self.advice_id} {self.security_id} {self.action}"


# --- Weekly exchange meeting --------------------------------------------------------------------------------


class AdviceCitation(models.Model):
    """A research item cited in an advice version. Title, publisher and publish date are copied from the
    research item when the advice is saved (Art. 18: the advice names its sources, filled in by the
    system, not typed), so the advice keeps saying what it cited even if the item later changes or is
    withdrawn. ``research_item_id`` points back at the item (no foreign key: the snapshot is the record)."""

    advice = models.ForeignKey(Advice, on_delete=models.CASCADE, related_name="citations")
    rank = models.PositiveSmallIntegerField(_("序号"), default=1)
    research_item_id = models.PositiveBigIntegerField(_("研究资料编号"))
    title = models.CharField(_("标题"), max_length=200)
    publisher = models.CharField(_("发布机构"), max_length=100, blank=True)
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    source_name = models.CharField(_("研究来源"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("引用研究资料")
        verbose_name_plural = _("引用研究资料")
        ordering = ["advice", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["advice", "research_item_id"], name="advice_citation_unique_item")
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.publisher} {self.published_on or ''}）"


class ExchangeMeeting(models.Model):
    """客户交流会 for large and medium clients."""

    class State(models.TextChoices):
        PLANNED = "planned", _("筹备中")
        HELD = "held", _("已举行")
        CANCELLED = "cancelled", _("已取消")

    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField(_("开始时间"))
    duration_minutes = models.PositiveSmallIntegerField(_("时长（分钟）"), default=90)
    location = models.CharField(_("地点"), max_length=100, default="")
    topic = models.CharField(_("主题"), max_length=200)
    speakers: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        STAFF, verbose_name=_("主讲分析师"), blank=True, related_name="+"
    )
    guest_speakers = models.ManyToManyField(
        "clients.Client", verbose_name=_("分享经验的客户"), blank=True, related_name="+"
    )
    minutes = models.TextField(_("会议纪要"), blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PLANNED)
    created_by = models.ForeignKey(STAFF, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("客户交流会")
        verbose_name_plural = _("客户交流会")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["branch", "starts_at"], name="meeting_branch_idx")]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d} {self.topic}"


def material_path(instance: MeetingMaterial, filename: str) -> str:
    return f"onsite/meetings/{instance.meeting_id}/{uuid.uuid4().hex}/{filename}"


class MeetingMaterial(models.Model):
    """A file for an exchange meeting (slides, a report, a chart): PDF, Office or an image, type checked
    by its magic bytes and size limited (:mod:`branchcare.onsite.attachments`); downloaded only by
    those who may see the meeting."""

    meeting = models.ForeignKey(ExchangeMeeting, on_delete=models.CASCADE, related_name="materials")
    file = models.FileField(_("文件"), upload_to=material_path, max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=200)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("文件类型"), max_length=100)
    uploaded_by = models.ForeignKey(STAFF, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("会议资料")
        verbose_name_plural = _("会议资料")
        ordering = ["meeting", "uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class MeetingInvitation(models.Model):
    class Rsvp(models.TextChoices):
        PENDING = "pending", _("未回复")
        YES = "yes", _("参加")
        NO = "no", _("不参加")

    meeting = models.ForeignKey(ExchangeMeeting, on_delete=models.CASCADE, related_name="invitations")
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("客户"), on_delete=models.CASCADE, related_name="meeting_invitations"
    )
    rsvp = models.CharField(_("回复"), max_length=8, choices=Rsvp.choices, default=Rsvp.PENDING)
    attended = models.BooleanField(_("出席"), null=True, blank=True)

    class Meta:
        verbose_name = _("交流会邀请")
        verbose_name_plural = _("交流会邀请")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "client"], name="meeting_invitation_unique")
        ]
        indexes = [models.Index(fields=["client", "meeting"], name="invitation_client_idx")]

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.client_id}"
