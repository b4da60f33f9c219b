"""``branchcare import_clients FILE --branch B001 [--dry-run] [--skip-invalid] [--actor USERNAME]``."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from branchcare.clients import import_specs  # noqa: F401  (registers the client and holdings imports)
from branchcare.core import imports
from branchcare.core.errors import DomainError
from branchcare.org.models import Branch, User


class ImportCommand(BaseCommand):
    """Shared body of the import commands: validate the file, print every bad row, and commit only when
    none is bad (or ``--skip-invalid``). Exit code 1 when the file is refused or has bad rows."""

    kind = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("要导入的 .xlsx 或 .csv 文件"))
        parser.add_argument("--branch", required=True, help=_("营业部代码，如 B001"))
        parser.add_argument("--dry-run", action="store_true", help=_("仅预检，不写入数据库"))
        parser.add_argument("--skip-invalid", action="store_true", help=_("跳过错误行，导入其余行"))
        parser.add_argument("--actor", default="", help=_("记入审计记录的操作人账号"))

    def handle(self, *args: Any, **options: Any) -> None:
        spec = imports.get_spec(self.kind)
        path = options["file"]
        if not os.path.isfile(path):
            raise CommandError(_("文件不存在：%(path)s") % {"path": path})
        branch = Branch.objects.filter(code=options["branch"]).first()
        if branch is None:
            raise CommandError(_("营业部 %(code)s 不存在") % {"code": options["branch"]})
        actor = None
        if options["actor"]:
            actor = User.objects.filter(username=options["actor"], is_active=True).first()
            if actor is None:
                raise CommandError(_("操作人账号 %(user)s 不存在或已停用") % {"user": options["actor"]})
        verbose = options["verbosity"] >= 2

        def progress(done: int, total: int, message: str) -> None:
            if verbose:
                self.stderr.write(f"{message} ({done}/{total})")

        try:
            result = imports.run_import(
                spec,
                path,
                file_name=os.path.basename(path),
                branch=branch,
                actor=actor,
                dry_run=options["dry_run"],
                skip_invalid=options["skip_invalid"],
                progress=progress,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        for error in result.errors:
            self.stderr.write(str(error))
        if result.errors_truncated:
            self.stderr.write(_("错误过多，仅列出前 %(n)d 条。") % {"n": len(result.errors)})
        labels = spec.count_labels
        counts = "，".join(
            f"{labels[name]} {getattr(result.counts, name)}"
            for name in ("created", "updated", "unchanged")
            if name in labels
        )
        if result.bad_rows and not result.committed:
            raise CommandError(result.summary(spec))
        self.stdout.write(result.summary(spec))
        self.stdout.write(
            _("%(counts)s，错误 %(bad)d 行；校验 %(vrate).0f 行/秒")
            % {"counts": counts, "bad": result.bad_rows, "vrate": result.validate_rate}
            + (_("，写入 %(crate).0f 行/秒") % {"crate": result.commit_rate} if result.committed else "")
        )


class Command(ImportCommand):
    help = _("从柜台系统导出的 .xlsx / .csv 文件导入客户资料（按客户号新增或更新）")
    kind = "clients"
