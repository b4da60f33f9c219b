"""推荐绩效 models."""

from django.db import models  # noqa: F401
