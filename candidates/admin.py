from django.contrib import admin

from ecocycle.admin import AuditedModelAdmin

from .models import Coordinator


@admin.register(Coordinator)
class CoordinatorAdmin(AuditedModelAdmin):
    list_display = ["user", "university", "timezone"]
    list_filter = ["university__country", "university"]
    search_fields = ["user__email", "user__full_name", "university__name"]
    list_select_related = ["user", "university"]
    autocomplete_fields = ["user", "university"]
