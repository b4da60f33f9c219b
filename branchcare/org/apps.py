from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "branchcare.org"
    label = "org"
    verbose_name = _("组织与人员")

    def ready(self) -> None:
        from . import workbench  # noqa: F401  (register the calendar warning card)
