"""Admin for the kernel, and the base that routes every admin write through audited services."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken as KnoxAuthToken

from .api_tokens import api_token_revoke
from .mail import outbound_email_send
from .models import ApiToken, AuditEntry, OutboundEmail, User
from .services import model_create, model_delete, model_update, user_create


def _model_field_names(model) -> set[str]:
    opts = model._meta
    return {f.name for f in opts.concrete_fields} | {f.name for f in opts.many_to_many}


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes go through the kernel's audited services.

    Django's admin would save straight to the database; here every change, in the main form and
    in inlines, is validated, saved and written to the audit log by the same service functions the
    rest of the code calls.
    """

    def _form_data(self, form, *, creating: bool) -> dict:
        names = _model_field_names(form._meta.model)
        keys = form.cleaned_data.keys() if creating else form.changed_data
        return {k: form.cleaned_data[k] for k in keys if k in names and k in form.cleaned_data}

    def save_model(self, request, obj, form, change):
        data = self._form_data(form, creating=not change)
        if change:
            before = type(obj)._default_manager.get(pk=obj.pk)
            model_update(instance=before, data=data, actor=request.user)
        else:
            created = model_create(model=type(obj), data=data, actor=request.user)
            obj.pk = created.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # Many-to-many fields of the main form were saved by save_model's service call.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        parent_fk = formset.fk.name if hasattr(formset, "fk") else None
        # The admin's change message reads these three lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        deleted = set(formset.deleted_forms)
        for inline_form in deleted:
            if inline_form.instance.pk:
                fresh = type(inline_form.instance)._default_manager.get(pk=inline_form.instance.pk)
                model_delete(instance=fresh, actor=request.user)
                formset.deleted_objects.append(inline_form.instance)
        for inline_form in formset.forms:
            if inline_form in deleted or not inline_form.has_changed():
                continue
            model = type(inline_form.instance)
            pk = inline_form.instance.pk
            creating = pk is None or not model._default_manager.filter(pk=pk).exists()
            data = self._form_data(inline_form, creating=creating)
            if creating:
                if parent_fk:
                    data[parent_fk] = formset.instance
                formset.new_objects.append(
                    model_create(model=model, data=data, actor=request.user)
                )
            else:
                fresh = model._default_manager.get(pk=pk)
                model_update(instance=fresh, data=data, actor=request.user)
                formset.changed_objects.append((fresh, inline_form.changed_data))

    def delete_model(self, request, obj):
        model_delete(instance=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            model_delete(instance=obj, actor=request.user)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EcocycleUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role", "language")


class EcocycleUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role", "language", "is_active", "is_staff")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = EcocycleUserChangeForm
    add_form = EcocycleUserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "language", "is_active", "last_login"]
    list_filter = ["role", "is_active", "language"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["full_name", "language"]}),
        (_("Access"), {"fields": ["role", "is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["email", "full_name", "role", "language", "usable_password",
                           "password1", "password2"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def save_model(self, request, obj, form, change):
        if not change:
            created = user_create(
                actor=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                full_name=form.cleaned_data.get("full_name", ""),
                language=form.cleaned_data.get("language", "en"),
                password=form.cleaned_data.get("password1") or None,
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        names = {"email", "full_name", "role", "language", "is_active", "is_staff", "is_superuser"}
        data = {k: form.cleaned_data[k] for k in form.changed_data if k in names}
        before = User.objects.get(pk=obj.pk)
        model_update(instance=before, data=data, actor=request.user)
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        if change and "groups" in form.changed_data:
            before = User.objects.get(pk=form.instance.pk)
            model_update(instance=before, data={"groups": form.cleaned_data["groups"]},
                         actor=request.user)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "actor_label", "action", "target_type", "target_repr"]
    list_filter = ["action", "target_type", "created_at"]
    search_fields = ["actor_label", "action", "target_repr", "target_id"]
    date_hierarchy = "created_at"
    list_select_related = ["target_type"]
    readonly_fields = [
        "created_at", "actor", "actor_label", "action", "target_type", "target_id",
        "target_repr", "before", "after",
    ]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "topic", "to", "language", "status", "attempts", "sent_at"]
    list_filter = ["status", "topic", "language"]
    search_fields = ["to", "subject"]
    date_hierarchy = "created_at"
    # The live links of an unsent email: the bodies show "[[link:N]]" in their place.
    exclude = ["links"]
    actions = ["send_now"]

    @admin.action(description=_("Send the selected unsent emails now"))
    def send_now(self, request, queryset):
        sent = sum(outbound_email_send(email_id=pk, retry_failed=True) for pk in queryset.exclude(
            status=OutboundEmail.Status.SENT).values_list("pk", flat=True))
        self.message_user(request, _("%(count)s sent.") % {"count": sent})


# knox registers its own token model, which ApiToken replaces: its page would show nothing.
if admin.site.is_registered(KnoxAuthToken):
    admin.site.unregister(KnoxAuthToken)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff see who holds API tokens and can revoke them; keys exist only as hashes, so there is
    nothing to show or edit. Tokens are made on the account page or by `create_api_token`."""

    list_display = ("user", "key_start", "created", "expiry", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    fields = ("user", "key_start", "created", "expiry", "last_used_at")
    readonly_fields = fields

    @admin.display(description=_("token"))
    def key_start(self, token: ApiToken) -> str:
        return token.token_key[:8] + "…"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj: ApiToken) -> None:
        api_token_revoke(actor=request.user, user=obj.user, digest=obj.digest)

    def delete_queryset(self, request, queryset) -> None:
        for token in queryset.select_related("user"):
            api_token_revoke(actor=request.user, user=token.user, digest=token.digest)
