from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Branch, Company, Role, Room, Seat, Team, User


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ("username", "name", "branch", "team", "is_active")
    list_filter = ("branch", "is_active", "roles")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("BranchCare", {"fields": ("name", "branch", "team", "roles", "practice_no", "phone")}),
    )


for model in (Company, Branch, Team, Role, Room, Seat):
    admin.site.register(model)
