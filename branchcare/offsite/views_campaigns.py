"""Call campaign pages: the list, a new campaign built from a filter, and one campaign's progress with
the targets (each agent records outcomes of their own targets)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from branchcare.clients.models import Client
from branchcare.core.errors import DomainError
from branchcare.core.forms import BootstrapFormMixin, add_domain_error
from branchcare.org.capabilities import Cap
from branchcare.org.models import User
from branchcare.org.typing import AuthedRequest

from . import services_campaigns as svc
from .models import CampaignTarget
from .views_inquiries import require_any_cap

CAPS = (Cap.OFFSITE_HANDLE, Cap.SUPERVISE)
PAGE_SIZE = 100


class CampaignForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("活动名称"), max_length=100)
    purpose = forms.CharField(
        label=gettext_lazy("目的与话术"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    assessment_older_than_years = forms.IntegerField(
        label=gettext_lazy("风险测评超过（年）"), required=False, min_value=1, max_value=20
    )
    dormant = forms.BooleanField(label=gettext_lazy("仅休眠客户"), required=False)
    security_code = forms.CharField(label=gettext_lazy("持有证券代码"), required=False, max_length=12)
    tier = forms.ChoiceField(
        label=gettext_lazy("客户层级"), required=False, choices=[("", "—"), *Client.Tier.choices]
    )
    agents = forms.ModelMultipleChoiceField(
        label=gettext_lazy("参与坐席"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def criteria(self) -> svc.CampaignCriteria:
        d = self.cleaned_data
        return svc.CampaignCriteria(
            assessment_older_than_years=d["assessment_older_than_years"],
            dormant=d["dormant"],
            security_code=d["security_code"].strip(),
            tier=d["tier"],
        )


@login_required
@require_any_cap(*CAPS)
def campaign_list(request: AuthedRequest) -> HttpResponse:
    rows = list(svc.campaign_list(viewer=request.user)[:PAGE_SIZE])
    return render(request, "offsite/campaigns/list.html", {"rows": rows})


@login_required
@require_any_cap(*CAPS)
def campaign_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = CampaignForm(request.POST or None)
    cast(forms.ModelMultipleChoiceField, form.fields["agents"]).queryset = (
        svc.campaign_agents(user.branch_id) if user.branch_id else User.objects.none()
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        if request.POST.get("preview"):
            preview = svc.campaign_clients(viewer=user, criteria=form.criteria()).count()
        else:
            try:
                campaign = svc.campaign_create(
                    actor=user, name=form.cleaned_data["name"], purpose=form.cleaned_data["purpose"],
                    criteria=form.criteria(), agents=list(form.cleaned_data["agents"]),
                )  # fmt: skip
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request, _("外呼活动已创建，共 %(n)s 位客户。") % {"n": campaign.targets.count()}
                )
                return redirect("offsite:campaign_detail", pk=campaign.pk)
    return render(request, "offsite/campaigns/new.html", {"form": form, "preview": preview})


@login_required
@require_any_cap(*CAPS)
def campaign_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    campaign = svc.campaign_get_for(viewer=request.user, pk=pk)
    mine = request.GET.get("mine", "1" if request.user.has_cap(Cap.OFFSITE_HANDLE) else "") == "1"
    progress = svc.campaign_progress(campaign)
    labels = dict(CampaignTarget.Outcome.choices)
    chart = {
        "agents": [a["name"] for a in progress["agents"]],
        "series": [
            {"name": str(labels[o]), "data": [a[o] for a in progress["agents"]]}
            for o in CampaignTarget.Outcome.values
        ],
    }
    return render(
        request,
        "offsite/campaigns/detail.html",
        {
            "c": campaign,
            "criteria": svc.CampaignCriteria(**campaign.criteria).describe(),
            "progress": progress,
            "overall": [(labels[o], n) for o, n in progress["overall"].items()],
            "chart": chart,
            "targets": list(svc.campaign_targets(campaign=campaign, viewer=request.user, mine=mine)[:500]),
            "mine": mine,
            "outcomes": [c for c in CampaignTarget.Outcome.choices if c[0] != CampaignTarget.Outcome.PENDING],
            "see_personal": request.user.has_cap(Cap.PERSONAL_DATA_VIEW),
        },
    )


@login_required
@require_any_cap(*CAPS)
@require_POST
def target_record(request: AuthedRequest, pk: int) -> HttpResponse:
    target = CampaignTarget.objects.filter(pk=pk).select_related("campaign").first()
    campaign = svc.campaign_get_for(viewer=request.user, pk=target.campaign_id if target else 0)
    assert target is not None
    try:
        svc.target_record(
            actor=request.user,
            target=target,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("外呼结果已登记。"))
    return redirect("offsite:campaign_detail", pk=campaign.pk)
