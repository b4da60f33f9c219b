"""Maps domain and Django errors onto DRF answers with Chinese messages.

* ``DomainError`` → 400 naming the field (``{field: [message]}``), or 409 when its code is ``conflict``;
* Django ``Http404`` → 404 ``{"detail": "未找到。"}`` (out of scope looks exactly like missing);
* Django ``PermissionDenied`` → 403 ``{"detail": "您没有执行该操作的权限。"}``;
* Django ``ValidationError`` (e.g. from ``full_clean`` inside a service) → 400 ``{field: [messages]}``;
* everything else as DRF does.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from branchcare.core.errors import DomainError


def _validation_body(exc: DjangoValidationError) -> dict[str, list[str]]:
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: list(exc.messages)}
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
        for field, messages in exc.message_dict.items()
    }


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        code = status.HTTP_409_CONFLICT if exc.code == "conflict" else status.HTTP_400_BAD_REQUEST
        body = {exc.field: [exc.message]} if exc.field else {"detail": exc.message}
        return Response(body, status=code)
    if isinstance(exc, DjangoValidationError):
        return Response(_validation_body(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到。"))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(_("您没有执行该操作的权限。"))
    return drf_exception_handler(exc, context)
