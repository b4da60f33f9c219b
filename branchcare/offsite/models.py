"""非现场客户服务 models."""

from django.db import models  # noqa: F401
