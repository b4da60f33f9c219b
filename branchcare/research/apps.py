from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResearchConfig(AppConfig):
    name = "branchcare.research"
    label = "research"
    verbose_name = _("研发平台")

    def ready(self) -> None:
        import importlib

        # Timeline providers, workbench cards, client panels and workflow hooks register themselves here.
        try:
            importlib.import_module(f"{self.name}.register")
        except ModuleNotFoundError as exc:
            if exc.name != f"{self.name}.register":
                raise
