"""Capability flags a role can carry, and the data scopes. One place, used by roles, views and the API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Scope(models.TextChoices):
    OWN = "own", _("本人客户")
    TEAM = "team", _("本团队")
    BRANCH = "branch", _("本营业部")
    COMPANY = "company", _("全公司")


SCOPE_RANK = {Scope.OWN: 0, Scope.TEAM: 1, Scope.BRANCH: 2, Scope.COMPANY: 3}


class Cap:
    """Capability codes. Role.capabilities holds a list of these strings."""

    CLIENTS_VIEW = "clients.view"
    CLIENTS_CREATE = "clients.create"
    CLIENTS_EDIT = "clients.edit"
    CLIENTS_REASSIGN = "clients.reassign"
    CLIENTS_EXPORT = "clients.export"
    DATA_IMPORT = "data.import"
    PERSONAL_DATA_VIEW = "personal_data.view"
    STAFF_VIEW = "staff.view"
    STAFF_MANAGE = "staff.manage"
    ORG_CONFIGURE = "org.configure"
    AUDIT_VIEW = "audit.view"
    # Later subsystems use these; they are declared here so roles can already carry them.
    ONSITE_SERVE = "onsite.serve"
    ADVICE_WRITE = "advice.write"
    RESEARCH_WRITE = "research.write"
    RESEARCH_REVIEW = "research.review"
    PREMIUM_SERVE = "premium.serve"
    OFFSITE_HANDLE = "offsite.handle"
    PROSPECTS_DEVELOP = "prospects.develop"
    SUPERVISE = "supervise"
    COMPLIANCE_REVIEW = "compliance.review"


CAPABILITY_LABELS: dict[str, StrOrPromise] = {
    Cap.CLIENTS_VIEW: _("查看客户"),
    Cap.CLIENTS_CREATE: _("新建客户"),
    Cap.CLIENTS_EDIT: _("编辑客户"),
    Cap.CLIENTS_REASSIGN: _("客户划转"),
    Cap.CLIENTS_EXPORT: _("导出客户"),
    Cap.DATA_IMPORT: _("数据导入"),
    Cap.PERSONAL_DATA_VIEW: _("查看个人敏感信息"),
    Cap.STAFF_VIEW: _("查看员工"),
    Cap.STAFF_MANAGE: _("管理员工与角色"),
    Cap.ORG_CONFIGURE: _("系统设置"),
    Cap.AUDIT_VIEW: _("查看审计记录"),
    Cap.ONSITE_SERVE: _("现场服务"),
    Cap.ADVICE_WRITE: _("撰写投顾意见"),
    Cap.RESEARCH_WRITE: _("发布研究成果"),
    Cap.RESEARCH_REVIEW: _("研究成果合规审核"),
    Cap.PREMIUM_SERVE: _("高端客户服务"),
    Cap.OFFSITE_HANDLE: _("非现场服务"),
    Cap.PROSPECTS_DEVELOP: _("潜客开发"),
    Cap.SUPERVISE: _("监督考核"),
    Cap.COMPLIANCE_REVIEW: _("合规检查"),
}

ALL_CAPABILITIES = list(CAPABILITY_LABELS)

# The standard roles every installation starts with (code -> name, scope, capabilities).
# Directors and administrators may edit them or add more in the UI.
STANDARD_ROLES: dict[str, tuple[str, str, list[str]]] = {
    "director": (
        "营业部经理",
        Scope.BRANCH,
        [
            Cap.CLIENTS_VIEW,
            Cap.CLIENTS_CREATE,
            Cap.CLIENTS_EDIT,
            Cap.CLIENTS_REASSIGN,
            Cap.CLIENTS_EXPORT,
            Cap.DATA_IMPORT,
            Cap.PERSONAL_DATA_VIEW,
            Cap.STAFF_VIEW,
            Cap.STAFF_MANAGE,
            Cap.ORG_CONFIGURE,
            Cap.AUDIT_VIEW,
            Cap.SUPERVISE,
        ],
    ),
    "manager": (
        "客户经理",
        Scope.OWN,
        [Cap.CLIENTS_VIEW, Cap.CLIENTS_EDIT, Cap.CLIENTS_EXPORT, Cap.PERSONAL_DATA_VIEW, Cap.ONSITE_SERVE],
    ),
    "consultant": ("投资顾问", Scope.BRANCH, [Cap.CLIENTS_VIEW, Cap.ADVICE_WRITE]),
    "researcher": ("研究员", Scope.BRANCH, [Cap.RESEARCH_WRITE, Cap.STAFF_VIEW]),
    "broker": (
        "经纪人",
        Scope.OWN,
        [
            Cap.CLIENTS_VIEW,
            Cap.CLIENTS_EDIT,
            Cap.PERSONAL_DATA_VIEW,
            Cap.PREMIUM_SERVE,
            Cap.PROSPECTS_DEVELOP,
        ],
    ),
    "agent": ("客服专员", Scope.BRANCH, [Cap.CLIENTS_VIEW, Cap.OFFSITE_HANDLE]),
    "compliance": (
        "合规专员",
        Scope.BRANCH,
        [
            Cap.CLIENTS_VIEW,
            Cap.CLIENTS_EXPORT,
            Cap.PERSONAL_DATA_VIEW,
            Cap.AUDIT_VIEW,
            Cap.STAFF_VIEW,
            Cap.RESEARCH_REVIEW,
            Cap.COMPLIANCE_REVIEW,
        ],
    ),
    "supervisor": (
        "总部督导",
        Scope.COMPANY,
        [Cap.CLIENTS_VIEW, Cap.STAFF_VIEW, Cap.AUDIT_VIEW, Cap.SUPERVISE],
    ),
    "admin": (
        "系统管理员",
        Scope.COMPANY,
        [
            Cap.CLIENTS_VIEW,
            Cap.DATA_IMPORT,
            Cap.STAFF_VIEW,
            Cap.STAFF_MANAGE,
            Cap.ORG_CONFIGURE,
            Cap.AUDIT_VIEW,
        ],
    ),
}
