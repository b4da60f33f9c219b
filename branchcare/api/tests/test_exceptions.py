"""The API exception handler: domain and Django errors become DRF answers with Chinese messages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404

from branchcare.api.exceptions import exception_handler
from branchcare.core.errors import DomainError


def test_domain_error_naming_a_field_is_400_on_that_field():
    response = exception_handler(DomainError("客户号已存在。", field="client_no"), {})

    assert response.status_code == 400
    assert response.data == {"client_no": ["客户号已存在。"]}


def test_domain_error_without_a_field_is_400_detail():
    response = exception_handler(DomainError("不允许。"), {})

    assert (response.status_code, response.data) == (400, {"detail": "不允许。"})


def test_conflict_is_409():
    response = exception_handler(DomainError("已被他人修改。", code="conflict"), {})

    assert (response.status_code, response.data) == (409, {"detail": "已被他人修改。"})


def test_http404_is_404_in_chinese():
    response = exception_handler(Http404("Client matching query does not exist."), {})

    assert (response.status_code, response.data) == (404, {"detail": "未找到。"})


def test_django_permission_denied_is_403_in_chinese():
    response = exception_handler(PermissionDenied(), {})

    assert (response.status_code, response.data) == (403, {"detail": "您没有执行该操作的权限。"})


def test_django_validation_error_is_400_per_field():
    exc = DjangoValidationError({"name": ["姓名过长。"], "__all__": ["数据不一致。"]})

    response = exception_handler(exc, {})

    assert response.status_code == 400
    assert response.data == {"name": ["姓名过长。"], "non_field_errors": ["数据不一致。"]}


def test_django_validation_error_without_fields():
    response = exception_handler(DjangoValidationError("数据无效。"), {})

    assert (response.status_code, response.data) == (400, {"non_field_errors": ["数据无效。"]})
