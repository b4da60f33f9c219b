"""``branchcare compute_outcomes [--full]``: compute recommendation performance now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from branchcare.research.performance.services import outcomes_refresh


class Command(BaseCommand):
    help = _("计算个股推荐的绩效（默认增量；--full 全部重算）")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help=_("全部重算"))

    def handle(self, *args: Any, **options: Any) -> None:
        result = outcomes_refresh(full=options["full"])
        self.stdout.write(
            _("推荐 %(n)d 条，本次计算 %(c)d 条，用时 %(s).2f 秒")
            % {"n": result.measured, "c": result.computed, "s": result.seconds}
        )
