from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnsiteConfig(AppConfig):
    name = "branchcare.onsite"
    label = "onsite"
    verbose_name = _("现场服务")

    def ready(self) -> None:
        import importlib

        # Each part registers its timeline events, workbench cards and workflow hooks when present.
        for module in ("register_visits", "register_consultations", "register_meetings"):
            try:
                importlib.import_module(f"{self.name}.{module}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{self.name}.{module}":
                    raise
