"""Forms of the research pages (validation of shape only; rules live in ``services``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchcare.clients.models import Client, RiskRating, Security
from branchcare.core.forms import BootstrapFormMixin

from .models import ResearchDelivery, ResearchItem, ResearchSource


def security_by_code(code: str) -> Security:
    code = code.strip().split(".")[0]
    security = Security.objects.filter(code=code).order_by("exchange").first()
    if security is None:
        raise forms.ValidationError(_("证券代码 %(c)s 不存在。") % {"c": code})
    return security


class SourceForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = ResearchSource
        fields = ["kind", "name", "licence_no", "contract_start", "contract_end", "active", "notes"]
        widgets = {
            "contract_start": forms.DateInput(attrs={"type": "date"}),
            "contract_end": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }


class ItemForm(BootstrapFormMixin, forms.Form):
    source = forms.ModelChoiceField(label=gettext_lazy("研究来源"), queryset=ResearchSource.objects.none())
    kind = forms.ChoiceField(label=gettext_lazy("类别"), choices=ResearchItem.Kind.choices)
    title = forms.CharField(label=gettext_lazy("标题"), max_length=200)
    summary = forms.CharField(label=gettext_lazy("摘要"), max_length=500, required=False)
    body = forms.CharField(
        label=gettext_lazy("正文"), widget=forms.Textarea(attrs={"rows": 8}), required=False
    )
    risk_rating = forms.ChoiceField(label=gettext_lazy("风险等级"), choices=RiskRating.choices, initial="R3")
    industries = forms.CharField(
        label=gettext_lazy("行业"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("多个行业用逗号分隔"),
    )
    security_codes = forms.CharField(
        label=gettext_lazy("相关证券代码"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("多个代码用逗号分隔"),
    )
    security_code = forms.CharField(label=gettext_lazy("推荐证券代码"), required=False, max_length=12)
    direction = forms.ChoiceField(
        label=gettext_lazy("方向"), required=False, choices=[("", "—"), *ResearchItem.Direction.choices]
    )
    target_price = forms.DecimalField(
        label=gettext_lazy("目标价"), required=False, max_digits=14, decimal_places=4
    )
    stop_loss = forms.DecimalField(
        label=gettext_lazy("止损价"), required=False, max_digits=14, decimal_places=4
    )
    horizon_days = forms.IntegerField(
        label=gettext_lazy("持有期（天）"), required=False, min_value=1, max_value=3650
    )
    reason = forms.CharField(
        label=gettext_lazy("推荐理由"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    expires_on = forms.DateField(
        label=gettext_lazy("有效期至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, sources: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sources is not None:
            self.fields["source"].queryset = sources  # type: ignore[attr-defined]

    def clean_security_code(self) -> Security | None:
        code = self.cleaned_data.get("security_code") or ""
        return security_by_code(code) if code.strip() else None

    def clean_security_codes(self) -> list[Security]:
        raw = (self.cleaned_data.get("security_codes") or "").replace("，", ",")
        return [security_by_code(c) for c in raw.split(",") if c.strip()][:20]

    def service_data(self) -> tuple[dict[str, Any], list[Security]]:
        d = self.cleaned_data
        data = {
            k: d.get(k)
            for k in ("source", "kind", "title", "summary", "body", "risk_rating", "industries", "direction",
                      "target_price", "stop_loss", "horizon_days", "reason", "expires_on")
        }  # fmt: skip
        data["security"] = d.get("security_code")
        for key in ("summary", "body", "industries", "direction", "reason"):
            data[key] = data[key] or ""
        return data, d.get("security_codes") or []


class AttachmentForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=gettext_lazy("附件（PDF / Office）"))


AUDIENCE_KINDS = [
    ("holders", gettext_lazy("持有某证券的客户")),
    ("tier", gettext_lazy("按客户层级")),
    ("premium", gettext_lazy("高端客户")),
    ("manager", gettext_lazy("客户经理名下客户")),
]


class PushForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("推送对象"), choices=AUDIENCE_KINDS, widget=forms.RadioSelect)
    security_code = forms.CharField(label=gettext_lazy("持仓证券代码"), required=False, max_length=12)
    tier = forms.ChoiceField(
        label=gettext_lazy("客户层级"), required=False, choices=[("", "—"), *Client.Tier.choices]
    )
    manager = forms.TypedChoiceField(label=gettext_lazy("客户经理"), required=False, coerce=int, choices=[])
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("推送渠道"),
        choices=[
            (c, label)
            for c, label in ResearchDelivery.Channel.choices
            if c in ("email", "wecom", "sms", "in_person")
        ],
        widget=forms.CheckboxSelectMultiple,
        initial=["wecom"],
    )
    note = forms.CharField(label=gettext_lazy("附言"), required=False, max_length=500)

    def __init__(self, *args: Any, managers: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].choices = [("", "—"), *[(m.pk, str(m)) for m in managers]]  # type: ignore[attr-defined]

    def clean_security_code(self) -> Security | None:
        code = self.cleaned_data.get("security_code") or ""
        return security_by_code(code) if code.strip() else None

    def audience(self) -> dict[str, Any]:
        d = self.cleaned_data
        sec = d.get("security_code")
        return {
            "kind": d.get("kind"),
            "security": sec.pk if sec else None,
            "tier": d.get("tier") or "",
            "manager": d.get("manager") or None,
        }
