"""Turns DomainError into HTTP 400 with the field it names; everything else as DRF does."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from branchcare.core.errors import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        code = status.HTTP_409_CONFLICT if exc.code == "conflict" else status.HTTP_400_BAD_REQUEST
        body = {exc.field: [exc.message]} if exc.field else {"detail": exc.message}
        return Response(body, status=code)
    return drf_exception_handler(exc, context)
