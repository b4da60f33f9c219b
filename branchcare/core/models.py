"""Shared records: the append-only audit log and background import jobs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any, cast

from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):  # type: ignore[override]
        raise PermissionError("审计记录不可修改")

    def delete(self):  # type: ignore[override]
        raise PermissionError("审计记录不可删除")

    def bulk_create(self, objs: Iterable[AuditLog], batch_size: int | None = None, **kwargs: Any):  # type: ignore[override]
        """Insert new records in list order, each chained to the one before (see ``AuditLog.seal``).
        Conflict handling is refused: a skipped or overwritten row would break the chain."""
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            raise PermissionError("审计记录不可覆盖或跳过")
        objs = list(objs)
        if not objs:
            return objs
        if any(obj.pk is not None for obj in objs):
            raise PermissionError("审计记录不可修改")
        using = self.db
        with transaction.atomic(using=using, savepoint=False):
            prev = AuditLog.chain_tip(using=using)
            for obj in objs:
                prev = obj.seal(prev)
            return super().bulk_create(objs, batch_size=batch_size, **kwargs)


class AuditLog(models.Model):
    """Who did what to which object, when and from where. Append-only: never updated or deleted."""

    # Set when the record is built (not auto_now_add, which would overwrite it after the hash was taken).
    created_at = models.DateTimeField(_("时间"), default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_username = models.CharField(_("操作人账号"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    branch_id = models.BigIntegerField(_("营业部"), null=True, blank=True)
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    # Tamper evidence: ``hash`` is sha256 over this record's content and ``prev_hash``, which is the
    # ``hash`` of the record before it (by id). ``branchcare verify_audit`` walks the chain.
    prev_hash = models.CharField(_("前一条记录哈希"), max_length=64, blank=True, default="", editable=False)
    hash = models.CharField(
        _("记录哈希"), max_length=64, blank=True, default="", editable=False, db_index=True
    )

    objects = AuditLogQuerySet.as_manager()

    #: ``prev_hash`` of the first record of the chain.
    GENESIS_HASH = "0" * 64
    #: Key of the PostgreSQL advisory lock that serialises appends (any constant).
    CHAIN_LOCK_KEY = 0x0BCA0D17
    # Canonical JSON for the hash: sorted keys, no spaces, UTF-8 as is (one encoder, reused: faster).
    _CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-created_at"], name="audit_object_idx"),
            models.Index(fields=["branch_id", "-created_at"], name="audit_branch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审计记录不可修改")
        using = kwargs.get("using") or router.db_for_write(AuditLog, instance=self)
        with transaction.atomic(using=using, savepoint=False):
            self.seal(AuditLog.chain_tip(using=using))
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计记录不可删除")

    # --- hash chain ---------------------------------------------------------------------------------

    @classmethod
    def chain_tip(cls, *, using: str = "default") -> str:
        """The ``hash`` of the last record, to chain the next one to. Call inside the writing transaction:
        on PostgreSQL this first takes a transaction-scoped advisory lock, so appends queue until the
        writer before commits; on SQLite the IMMEDIATE transaction mode holds the write lock from BEGIN."""
        connection = connections[using]
        if not connection.in_atomic_block:
            raise RuntimeError("chain_tip() must run inside the transaction that appends")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [cls.CHAIN_LOCK_KEY])
        last = cls._base_manager.using(using).order_by("-pk").values_list("hash", flat=True).first()
        return cls.GENESIS_HASH if last is None else last

    def seal(self, prev_hash: str) -> str:
        """Chain this unsaved record to ``prev_hash``: normalise the content to what the database will
        give back, then set ``prev_hash`` and ``hash``. Returns the new hash."""
        if self.created_at is None:
            self.created_at = timezone.now()
        elif settings.USE_TZ and timezone.is_naive(self.created_at):
            self.created_at = timezone.make_aware(self.created_at)
        self.actor_username = str(self.actor_username or "")
        self.object_type = str(self.object_type or "")
        self.object_id = str(self.object_id or "")
        self.object_repr = str(self.object_repr or "")
        self.branch_id = None if self.branch_id is None else int(self.branch_id)
        # What the JSON column will return (string keys, lists for tuples).
        self.changes = json.loads(json.dumps(self.changes if self.changes is not None else {}))
        ip_field = cast(models.GenericIPAddressField, self._meta.get_field("ip"))
        self.ip = ip_field.get_prep_value(self.ip) or None  # an IPv6 address spelled as stored
        self.prev_hash = prev_hash
        self.hash = self.compute_hash(
            created_at=self.created_at,
            actor_username=self.actor_username,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            object_repr=self.object_repr,
            branch_id=self.branch_id,
            changes=self.changes,
            ip=self.ip,
            prev_hash=prev_hash,
        )
        return self.hash

    @staticmethod
    def compute_hash(
        *,
        created_at: dt.datetime,
        actor_username: str,
        action: str,
        object_type: str,
        object_id: str,
        object_repr: str,
        branch_id: int | None,
        changes: Any,
        ip: str | None,
        prev_hash: str,
    ) -> str:
        """sha256 (hex) over the canonical JSON of a record's content and its ``prev_hash``. The id is not
        part of it, so a record's hash can be computed before it is inserted."""
        if timezone.is_aware(created_at):
            created_at = created_at.astimezone(dt.UTC)
        payload = {
            "created_at": created_at.isoformat(timespec="microseconds"),
            "actor_username": actor_username,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "object_repr": object_repr,
            "branch_id": branch_id,
            "changes": AuditLog._canonical_json_value(changes),
            "ip": ip,
            "prev_hash": prev_hash,
        }
        return hashlib.sha256(AuditLog._CANONICAL_JSON.encode(payload).encode("utf-8")).hexdigest()

    @staticmethod
    def _canonical_json_value(value: Any) -> Any:
        """Integral floats as ints: PostgreSQL's jsonb gives ``1e16`` back as ``10000000000000000``, so
        the hash must not depend on that spelling."""
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, dict):
            return {str(k): AuditLog._canonical_json_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [AuditLog._canonical_json_value(v) for v in value]
        return value


class ImportJob(models.Model):
    """One uploaded file being validated and committed, possibly in the background."""

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("处理中")
        PREVIEWED = "previewed", _("已预检")
        DONE = "done", _("已完成")
        FAILED = "failed", _("有错误，未写入")

    kind = models.CharField(_("导入类型"), max_length=32)
    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("营业部"), on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # When the job last showed progress; a running job silent for too long lost its worker.
    updated_at = models.DateTimeField(_("最近进展"), default=timezone.now)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_path = models.CharField(max_length=500)
    dry_run = models.BooleanField(_("仅预检"), default=False)
    skip_invalid = models.BooleanField(_("跳过错误行"), default=False)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    total_rows = models.IntegerField(_("总行数"), default=0)
    processed_rows = models.IntegerField(_("已处理行数"), default=0)
    created_count = models.IntegerField(_("新增"), default=0)
    updated_count = models.IntegerField(_("更新"), default=0)
    unchanged_count = models.IntegerField(_("未变"), default=0)
    error_count = models.IntegerField(_("错误行"), default=0)
    errors = models.JSONField(_("错误明细"), default=list, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name}"

    @property
    def progress_percent(self) -> int:
        if self.status in (self.Status.DONE, self.Status.FAILED, self.Status.PREVIEWED):
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(self.processed_rows * 100 / self.total_rows))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.PREVIEWED)


class TransitionLog(models.Model):
    """One step of a service workflow: who moved which piece of work from which state to which, when,
    and who held it afterwards. Assessment and lateness attribution read this table."""

    workflow = models.CharField(_("流程"), max_length=32)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象编号"), max_length=64)
    transition = models.CharField(_("操作"), max_length=32)
    from_state = models.CharField(_("原状态"), max_length=32)
    to_state = models.CharField(_("新状态"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"))
    note = models.TextField(_("说明"), blank=True)
    sla = models.CharField(_("时限影响"), max_length=8, default="none")

    class Meta:
        verbose_name = _("流程记录")
        verbose_name_plural = _("流程记录")
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"], name="transition_object_idx"),
            models.Index(fields=["workflow", "at"], name="transition_workflow_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow} {self.object_id} {self.from_state}->{self.to_state}"


class Notification(models.Model):
    """An in-app message to one member of staff (the inbox), optionally also sent on external channels."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("收件人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类别"), max_length=32, default="info")
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox_idx")
        ]

    def __str__(self) -> str:
        return self.title


class NotificationDelivery(models.Model):
    """One attempt series to send a notification on an external channel (e-mail, WeCom/SMS webhook).
    Failures are retried by a background job and end as *failed* — never silently lost."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=16)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知发送")
        verbose_name_plural = _("通知发送")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.channel} {self.status}"
