"""``branchcare import_prices FILE [--dry-run] [--branch B001] [--actor USERNAME]``: daily closes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from branchcare.clients.management.commands.import_clients import ImportCommand
from branchcare.org.models import Branch
from branchcare.research.performance import import_specs  # noqa: F401  (registers the price import)


class Command(ImportCommand):
    help = _("从 .xlsx / .csv 文件导入每日收盘价（列：证券代码、日期、收盘价），并增量计算推荐绩效")
    kind = import_specs.KIND

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        # Prices belong to no branch; the branch only records where the import was run from.
        for action in parser._actions:
            if action.dest == "branch":
                action.required = False
                action.default = ""
                action.help = _("记入审计记录的营业部代码（可省略，默认为第一个营业部）")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["branch"]:
            branch = Branch.objects.order_by("code").first()
            if branch is None:
                raise CommandError(_("系统中还没有营业部"))
            options["branch"] = branch.code
        if options["skip_invalid"]:
            raise CommandError(_("行情导入只能全部导入或全部不导入，不支持 --skip-invalid"))
        super().handle(*args, **options)
