"""``branchcare import_holdings FILE --branch B001 [--dry-run] [--skip-invalid] [--actor USERNAME]``."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .import_clients import ImportCommand


class Command(ImportCommand):
    help = _("从柜台系统导出的 .xlsx / .csv 文件导入持仓（替换文件中每位客户的持仓）")
    kind = "holdings"
