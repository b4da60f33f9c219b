"""Settings for the test suite: fast hashing, tasks run inline, local-memory cache."""

from .base import *  # noqa: F403
from .base import HUEY

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HUEY = {**HUEY, "immediate": True}
HUEY.pop("url", None)
HUEY["huey_class"] = "huey.MemoryHuey"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["*"]
AXES_ENABLED = True
LANGUAGE_CODE = "zh-hans"
# Two-factor login is off for the suite; its own tests turn it on with override_settings.
BRANCHCARE_2FA_REQUIRED = False
