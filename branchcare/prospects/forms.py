"""Forms of the prospect pages (input parsing only; the rules are in :mod:`.services`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchcare.clients.models import Client
from branchcare.core.forms import BootstrapFormMixin

from .models import Partner, Prospect, ProspectFollowUp


class DateInput(forms.DateInput):
    input_type = "date"


class ProspectForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=50)
    phone = forms.CharField(label=gettext_lazy("手机"), max_length=30)
    id_number = forms.CharField(label=gettext_lazy("证件号码"), max_length=40, required=False)
    source = forms.ChoiceField(label=gettext_lazy("来源"), choices=Prospect.Source.choices)
    referral_code = forms.CharField(
        label=gettext_lazy("推荐码"), max_length=20, required=False,
        help_text=gettext_lazy("合作伙伴推荐时填写合作伙伴的推荐码"),
    )  # fmt: skip
    referrer_no = forms.CharField(
        label=gettext_lazy("推荐客户号"), max_length=20, required=False,
        help_text=gettext_lazy("高端客户转介绍时填写推荐人的客户号"),
    )  # fmt: skip
    segment = forms.ChoiceField(label=gettext_lazy("客户类型"), choices=Prospect.Segment.choices)
    offered_rate = forms.DecimalField(
        label=gettext_lazy("承诺佣金率（‰）"), max_digits=6, decimal_places=4, min_value=0, required=False,
        help_text=gettext_lazy("留空则取合作伙伴协议佣金率"),
    )  # fmt: skip
    next_follow_up_due = forms.DateField(label=gettext_lazy("下次跟进日期"), required=False, widget=DateInput)
    notes = forms.CharField(
        label=gettext_lazy("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    owner: forms.ModelChoiceField = forms.ModelChoiceField(
        label=gettext_lazy("负责人"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("公海（待认领）"),
    )

    def __init__(self, *args, branch=None, owners=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.branch = branch
        if owners is None:
            del self.fields["owner"]
        else:
            from branchcare.org.models import User

            self.fields["owner"].queryset = User.objects.filter(pk__in=[u.pk for u in owners])  # type: ignore[attr-defined]

    def clean_referrer_no(self) -> Client | None:
        no = (self.cleaned_data.get("referrer_no") or "").strip().upper()
        if not no:
            return None
        client = Client.objects.filter(branch=self.branch, client_no=no).select_related("branch").first()
        if client is None:
            raise forms.ValidationError(_("本营业部没有客户号为 %(no)s 的客户。") % {"no": no})
        return client

    def service_data(self) -> dict:
        d = dict(self.cleaned_data)
        d["referrer"] = d.pop("referrer_no", None)
        d.pop("owner", None)
        return d


class FollowUpForm(BootstrapFormMixin, forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("方式"), choices=ProspectFollowUp.Channel.choices)
    notes = forms.CharField(
        label=gettext_lazy("跟进内容"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    next_due = forms.DateField(label=gettext_lazy("下次跟进日期"), required=False, widget=DateInput)
    step = forms.ChoiceField(
        label=gettext_lazy("同时推进阶段"),
        required=False,
        choices=[("", gettext_lazy("不变（线索自动变为已联系）")), ("contact", gettext_lazy("已联系")),
                 ("visit", gettext_lazy("已到访营业部"))],
    )  # fmt: skip


class PartnerForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Partner
        fields = [
            "name", "kind", "referral_code", "contact_name", "contact_phone", "offered_rate", "agreement_start",
            "agreement_end", "active", "notes",
        ]  # fmt: skip
        widgets = {
            "agreement_start": DateInput,
            "agreement_end": DateInput,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }


class SettingsForm(BootstrapFormMixin, forms.Form):
    reclaim_days = forms.IntegerField(
        label=gettext_lazy("回收天数"), min_value=1, max_value=365,
        help_text=gettext_lazy("潜在客户连续多少天未跟进即退回公海"),
    )  # fmt: skip


class ImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=gettext_lazy("支持 .xlsx 和 .csv；表头可用中文或英文列名"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.txt"}),
    )
