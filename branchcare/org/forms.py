from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from branchcare.core.forms import BootstrapFormMixin

from .capabilities import CAPABILITY_LABELS, Scope
from .models import Branch, Role, Room, Team


class StaffForm(BootstrapFormMixin, forms.Form):
    username = forms.RegexField(
        label=_("登录账号"),
        max_length=150,
        regex=r"^[A-Za-z0-9_.@+-]+$",
        error_messages={"invalid": _("登录账号只能包含字母、数字和 _ . @ + -")},
    )
    name = forms.CharField(label=_("姓名"), max_length=50)
    branch = forms.ModelChoiceField(label=_("营业部"), queryset=Branch.objects.none())
    team = forms.ModelChoiceField(label=_("团队"), queryset=Team.objects.none(), required=False)
    roles = forms.ModelMultipleChoiceField(
        label=_("角色"), queryset=Role.objects.all(), widget=forms.CheckboxSelectMultiple, required=False
    )
    practice_no = forms.CharField(label=_("执业编号"), max_length=32, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False)
    is_active = forms.BooleanField(label=_("在职（可登录）"), required=False, initial=True)
    password = forms.CharField(
        label=_("初始密码"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=_("至少 8 位，不能全为数字或过于常见。编辑时留空表示不修改。"),
    )

    def __init__(self, *args, branches=None, teams=None, creating: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["branch"]).queryset = (
            branches if branches is not None else Branch.objects.none()
        )
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = (
            teams if teams is not None else Team.objects.none()
        )
        self.creating = creating
        if creating:
            self.fields["password"].required = True
        else:
            self.fields["username"].disabled = True

    def clean(self):
        data = super().clean() or {}
        if data.get("roles") is not None and not data.get("roles"):
            self.add_error("roles", _("请至少选择一个角色。"))
        return data


class RoleForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("角色名称"), max_length=50)
    scope = forms.ChoiceField(label=_("数据范围"), choices=Scope.choices)
    capabilities = forms.MultipleChoiceField(
        label=_("权限"),
        choices=list(CAPABILITY_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class RoomForm(BootstrapFormMixin, forms.Form):
    branch = forms.ModelChoiceField(label=_("营业部"), queryset=Branch.objects.none())
    name = forms.CharField(label=_("房间名称"), max_length=50)
    kind = forms.ChoiceField(label=_("类型"), choices=Room.Kind.choices)
    seats = forms.IntegerField(label=_("座位数"), min_value=0, max_value=500, initial=8)

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["branch"]).queryset = (
            branches if branches is not None else Branch.objects.none()
        )
