"""``branchcare verify_audit``: check that the audit log's hash chain is intact.

Walks every record in id order, a batch at a time, recomputing its hash. Prints ``OK`` with the count and
the head (last id and hash: keep it outside the database and pass it back later as ``--anchor`` to catch
deletion of the newest records); on the first broken link prints the record id and what differs and exits
with status 1.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from branchcare.core.audit import audit_chain_verify


def _anchor(value: str) -> tuple[int, str]:
    record_id, sep, digest = value.partition(":")
    if not sep or not record_id.isdigit() or len(digest) != 64:
        raise ValueError(value)
    return int(record_id), digest.lower()


class Command(BaseCommand):
    help = "校验审计记录的哈希链是否完整（检测修改、删除、调换顺序）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=5000, help="每次读取的记录数（默认 5000）")
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="ID:HASH",
            help="此前记下的链尾（记录编号:hash），可重复；该记录必须仍在且 hash 相同",
        )

    def handle(self, *args, **options) -> None:
        try:
            anchors = dict(_anchor(a) for a in options["anchor"])
        except ValueError as exc:
            raise CommandError(f"--anchor 格式应为 ID:HASH（64 位十六进制）：{exc}") from exc
        if options["batch_size"] < 1:
            raise CommandError("--batch-size 必须大于 0")
        started = time.perf_counter()
        report = audit_chain_verify(batch_size=options["batch_size"], anchors=anchors)
        seconds = time.perf_counter() - started
        if not report.ok:
            raise CommandError(
                f"审计链断裂于记录 #{report.broken_id}：{report.problem}"
                f"（已读 {report.count} 条；此前最后完好的记录 #{report.head_id or '-'}）",
                returncode=1,
            )
        head = f"{report.head_id}:{report.head_hash}" if report.head_id else "（无记录）"
        self.stdout.write(
            f"OK {report.count} 条审计记录，链完整（{seconds:.1f} 秒）。链尾（下次可用 --anchor 核对）：{head}"
        )
