"""The left navigation, grouped by subsystem, showing only what the user's roles allow."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .capabilities import Cap

# (group label, [(label, url name, capability or None, icon)])
# A capability of None: everyone; a tuple: any one of them.
ONSITE_ANY = (Cap.ONSITE_SERVE, Cap.ADVICE_WRITE, Cap.SUPERVISE)
RESEARCH_READ = (
    Cap.RESEARCH_WRITE,
    Cap.RESEARCH_REVIEW,
    Cap.ADVICE_WRITE,
    Cap.PREMIUM_SERVE,
    Cap.ONSITE_SERVE,
    Cap.SUPERVISE,
)
RESEARCH_PUSH = (Cap.ADVICE_WRITE, Cap.PREMIUM_SERVE, Cap.ONSITE_SERVE, Cap.SUPERVISE)
OFFSITE_ANY = (Cap.OFFSITE_HANDLE, Cap.SUPERVISE, Cap.COMPLIANCE_REVIEW)
PREMIUM_ANY = (Cap.PREMIUM_SERVE, Cap.SUPERVISE)
PROSPECTS_ANY = (Cap.PROSPECTS_DEVELOP, Cap.ONSITE_SERVE, Cap.SUPERVISE)
NAVIGATION: list[tuple[Any, list[tuple[Any, str, Any, str]]]] = [
    (_("工作台"), [(_("我的工作台"), "home", None, "bi-speedometer2")]),
    (
        _("客户"),
        [
            (_("客户列表"), "clients:list", Cap.CLIENTS_VIEW, "bi-people"),
            (_("数据导入"), "clients:import", Cap.DATA_IMPORT, "bi-upload"),
        ],
    ),
    (
        _("现场服务"),
        [
            (_("今日计划"), "onsite:today", Cap.ONSITE_SERVE, "bi-calendar-check"),
            (_("拜访记录"), "onsite:visits", Cap.ONSITE_SERVE, "bi-person-walking"),
            (_("巡视记录"), "onsite:patrols", Cap.ONSITE_SERVE, "bi-binoculars"),
            (_("跟进事项"), "onsite:followups", ONSITE_ANY, "bi-list-check"),
            (_("咨询单"), "onsite:consultations", ONSITE_ANY, "bi-chat-square-text"),
            (_("客户交流会"), "onsite:meetings", ONSITE_ANY, "bi-people-fill"),
            (_("现场服务看板"), "onsite:dashboard", Cap.SUPERVISE, "bi-bar-chart"),
        ],
    ),
    (
        _("研发平台"),
        [
            (_("研究成果"), "research:items", RESEARCH_READ, "bi-journal-richtext"),
            (_("合规审核"), "research:review_queue", Cap.RESEARCH_REVIEW, "bi-shield-check"),
            (_("研究推送"), "research:pushes", RESEARCH_PUSH, "bi-send"),
            (
                _("待当面交付"),
                "research:my_tasks",
                (Cap.ONSITE_SERVE, Cap.PREMIUM_SERVE, Cap.SUPERVISE),
                "bi-person-video2",
            ),
            (_("推荐绩效"), "research_performance:league", RESEARCH_READ, "bi-graph-up-arrow"),
            (
                _("研究来源"),
                "research:sources",
                (Cap.RESEARCH_WRITE, Cap.RESEARCH_REVIEW, Cap.ORG_CONFIGURE),
                "bi-building",
            ),
        ],
    ),
    (
        _("非现场服务"),
        [
            (_("咨询与投诉"), "offsite:inquiries", OFFSITE_ANY, "bi-headset"),
            (_("来电记录"), "offsite:calls", Cap.OFFSITE_HANDLE, "bi-telephone-inbound"),
            (_("回访任务"), "offsite:revisits", OFFSITE_ANY, "bi-telephone-outbound"),
            (_("回访规则"), "offsite:revisit_rules", (Cap.ORG_CONFIGURE, Cap.COMPLIANCE_REVIEW), "bi-gear"),
            (_("外呼活动"), "offsite:campaigns", OFFSITE_ANY, "bi-megaphone"),
        ],
    ),
    (
        _("高端服务"),
        [
            (_("高端服务台"), "premium:desk", PREMIUM_ANY, "bi-gem"),
            (_("每日简报"), "premium:briefing", Cap.PREMIUM_SERVE, "bi-newspaper"),
            (_("签约管理"), "premium:enrolments", PREMIUM_ANY, "bi-file-earmark-check"),
            (
                _("研究问题"),
                "premium:questions",
                (Cap.RESEARCH_WRITE, Cap.PREMIUM_SERVE, Cap.SUPERVISE),
                "bi-question-circle",
            ),
            (_("高端服务看板"), "premium:dashboard", Cap.SUPERVISE, "bi-bar-chart-line"),
        ],
    ),
    (
        _("潜客开发"),
        [
            (_("潜在客户"), "prospects:list", PROSPECTS_ANY, "bi-person-plus"),
            (_("合作伙伴"), "prospects:partners", PROSPECTS_ANY, "bi-shop"),
            (_("开发报表"), "prospects:reports", PROSPECTS_ANY, "bi-funnel"),
        ],
    ),
    (
        _("监督考核"),
        [
            (_("督导看板"), "supervision:dashboard", Cap.SUPERVISE, "bi-speedometer"),
            (_("考核评分"), "supervision:scorecards", Cap.SUPERVISE, "bi-award"),
            (_("合规检查"), "supervision:compliance", Cap.COMPLIANCE_REVIEW, "bi-clipboard2-check"),
        ],
    ),
    (
        _("系统设置"),
        [
            (_("员工与角色"), "org:staff_list", Cap.STAFF_VIEW, "bi-person-badge"),
            (_("房间与座位"), "org:rooms", Cap.ORG_CONFIGURE, "bi-door-open"),
            (_("客户层级门槛"), "clients:tier_settings", Cap.ORG_CONFIGURE, "bi-sliders"),
            (_("服务标准"), "standards:standards", Cap.ORG_CONFIGURE, "bi-clipboard-check"),
            (_("交易日历"), "standards:calendar", Cap.ORG_CONFIGURE, "bi-calendar3"),
            (_("审计记录"), "org:audit_list", Cap.AUDIT_VIEW, "bi-journal-text"),
            (_("API 文档"), "api-docs", None, "bi-code-slash"),
        ],
    ),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    groups = []
    path = request.path
    for label, items in NAVIGATION:
        visible = []
        for item_label, url_name, cap, icon in items:
            if cap is None or (
                user.has_cap(cap) if isinstance(cap, str) else any(user.has_cap(c) for c in cap)
            ):
                try:
                    url = reverse(url_name)
                except NoReverseMatch:  # an app not installed in this deployment
                    continue
                visible.append({"label": item_label, "url": url, "icon": icon, "active": False})
        if visible:
            groups.append({"label": label, "items": visible})
    # Highlight only the item whose URL is the longest prefix of the current path.
    matches = [
        i
        for g in groups
        for i in g["items"]
        if (path == i["url"] if i["url"] == "/" else path.startswith(i["url"]))
    ]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    from branchcare.core.notify import unread_count

    return {
        "nav_groups": groups,
        "nav_can_search": user.has_cap(Cap.CLIENTS_VIEW),
        "nav_unread": unread_count(user),
    }
