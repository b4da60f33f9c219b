from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from branchcare.core.forms import BootstrapFormMixin
from branchcare.org.models import Seat, User

from .models import Client

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ClientForm(BootstrapFormMixin, forms.Form):
    client_no = forms.RegexField(
        label=_("客户号"),
        max_length=20,
        regex=r"^[0-9A-Za-z]+$",
        error_messages={"invalid": _("客户号只能包含数字和字母。")},
    )
    name = forms.CharField(label=_("姓名"), max_length=50)
    phone = forms.CharField(label=_("手机"), max_length=20, required=False)
    id_number = forms.CharField(label=_("证件号码"), max_length=32, required=False)
    gender = forms.ChoiceField(label=_("性别"), choices=Client.Gender.choices, required=False)
    birthday = forms.DateField(label=_("出生日期"), required=False, widget=DATE)
    opened_on = forms.DateField(label=_("开户日期"), required=False, widget=DATE)
    status = forms.ChoiceField(label=_("状态"), choices=Client.Status.choices, initial=Client.Status.ACTIVE)
    risk_level = forms.ChoiceField(
        label=_("风险等级"), choices=[("", "—"), *Client.RiskLevel.choices], required=False
    )
    risk_assessed_on = forms.DateField(label=_("风险测评日期"), required=False, widget=DATE)
    total_assets = forms.DecimalField(
        label=_("总资产（元）"), max_digits=16, decimal_places=2, min_value=0, initial=0
    )
    is_premium = forms.BooleanField(label=_("高端客户"), required=False)
    commission_rate = forms.DecimalField(
        label=_("佣金率（‰）"),
        max_digits=6,
        decimal_places=4,
        min_value=0,
        max_value=Decimal("3"),
        required=False,
    )
    manager = forms.ModelChoiceField(label=_("客户经理"), queryset=User.objects.none(), required=False)
    seat = forms.ModelChoiceField(label=_("座位"), queryset=Seat.objects.none(), required=False)
    tags = forms.CharField(label=_("标签"), required=False, help_text=_("多个标签用逗号或空格分隔"))
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args,
        managers=None,
        seats=None,
        personal_data: bool = True,
        can_reassign: bool = True,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["manager"]).queryset = (
            managers if managers is not None else User.objects.none()
        )
        seat_field = cast(forms.ModelChoiceField, self.fields["seat"])
        seat_field.queryset = seats if seats is not None else Seat.objects.none()
        seat_field.label_from_instance = lambda obj: f"{obj.room.name} {obj.label}"  # type: ignore[method-assign]
        if not can_reassign:
            # Changing the owner is a reassignment, which needs its own right (and is audited as such).
            del self.fields["manager"]
        if not personal_data:
            # Without the right to see personal data the fields are not shown, so they cannot be changed.
            del self.fields["phone"]
            del self.fields["id_number"]

    def clean_phone(self):
        value = re.sub(r"[\s-]", "", self.cleaned_data.get("phone") or "")
        if value and not re.fullmatch(r"\+?\d{7,15}", value):
            raise forms.ValidationError(_("手机号码格式不正确，应为 7–15 位数字。"))
        return value

    def clean_id_number(self):
        value = (self.cleaned_data.get("id_number") or "").strip().upper()
        if value and not re.fullmatch(r"[0-9A-Z]{6,32}", value):
            raise forms.ValidationError(_("证件号码只能包含数字和字母。"))
        return value

    def clean_tags(self):
        raw = self.cleaned_data.get("tags") or ""
        return [t for t in re.split(r"[,，\s]+", raw) if t][:20]

    def clean(self):
        data = super().clean() or {}
        today = dt.date.today()
        for name in ("birthday", "opened_on", "risk_assessed_on"):
            if data.get(name) and data[name] > today:
                self.add_error(name, _("日期不能晚于今天。"))
        return data

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class ReassignForm(forms.Form):
    clients = forms.CharField()
    manager = forms.ModelChoiceField(
        queryset=User.objects.none(), error_messages={"required": _("请选择目标客户经理。")}
    )

    def __init__(self, *args, managers=None, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["manager"]).queryset = (
            managers if managers is not None else User.objects.none()
        )

    def clean_clients(self):
        ids = [int(x) for x in cast(QueryDict, self.data).getlist("clients") if str(x).isdigit()]
        if not ids:
            raise forms.ValidationError(_("请先勾选要划转的客户。"))
        return ids


class TierSettingsForm(BootstrapFormMixin, forms.Form):
    large_threshold = forms.DecimalField(
        label=_("大户资产门槛（元）"), max_digits=16, decimal_places=2, min_value=1
    )
    medium_threshold = forms.DecimalField(
        label=_("中户资产门槛（元）"), max_digits=16, decimal_places=2, min_value=1
    )
