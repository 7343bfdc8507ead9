"""Kernel services: the audit log and the audited create / update / delete every app builds on.

Every state change in ecocycle goes through a service, inside one transaction, and leaves an
AuditEntry written in that same transaction.
"""

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from .models import AuditEntry, User

M = TypeVar("M", bound=models.Model)

SYSTEM_ACTOR = "system"


def _plain(value: Any) -> Any:
    """Turn a field value into something JSON can hold (dates are handled by the encoder)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set):
        return sorted(_plain(v) for v in value)
    if hasattr(value, "isoformat") or value.__class__.__name__ in {"Decimal", "UUID"}:
        return value
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or None
    return str(value)


def instance_snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict:
    """The audited values of a record: concrete fields, and many-to-many ids once saved."""
    opts = instance._meta
    names = set(fields) if fields is not None else None
    snapshot: dict[str, Any] = {}
    for field in opts.concrete_fields:
        if field.primary_key or (names is not None and field.name not in names):
            continue
        if field.name in {"created_at", "updated_at", "password"}:
            continue
        snapshot[field.name] = _plain(field.value_from_object(instance))
    if instance.pk:
        for field in opts.many_to_many:
            if names is None or field.name in names:
                snapshot[field.name] = sorted(
                    getattr(instance, field.name).values_list("pk", flat=True)
                )
    return snapshot


def audit_entry_create(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    before: Mapping | None = None,
    after: Mapping | None = None,
    actor_label: str | None = None,
) -> AuditEntry:
    """Record one state change. Call inside the transaction that makes the change.

    `actor_label` names an actor without an account (a candidate answering an emailed link).
    """
    entry = audit_entry_build(actor=actor, action=action, target=target, before=before,
                              after=after, actor_label=actor_label)
    entry.save()
    return entry


def audit_entry_build(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    before: Mapping | None = None,
    after: Mapping | None = None,
    actor_label: str | None = None,
) -> AuditEntry:
    """An unsaved entry, for jobs that write many at once with bulk_create."""
    real_actor = actor if actor is not None and actor.pk else None
    return AuditEntry(
        actor=real_actor,
        actor_label=actor_label or (real_actor.email if real_actor else SYSTEM_ACTOR),
        action=action,
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        target_id=str(target.pk),
        target_repr=str(target)[:300],
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
    )


def _split_m2m(model: type[models.Model], data: Mapping[str, Any]) -> tuple[dict, dict]:
    m2m_names = {f.name for f in model._meta.many_to_many}
    plain = {k: v for k, v in data.items() if k not in m2m_names}
    m2m = {k: v for k, v in data.items() if k in m2m_names}
    return plain, m2m


@transaction.atomic
def model_create(
    *, model: type[M], data: Mapping[str, Any], actor: User | None, action: str | None = None
) -> M:
    """Create a record from field values, validated with full_clean, audited as `<model>_create`."""
    plain, m2m = _split_m2m(model, data)
    instance = model(**plain)
    instance.full_clean()
    instance.save()
    for name, values in m2m.items():
        getattr(instance, name).set(values)
    audit_entry_create(
        actor=actor,
        action=action or f"{model._meta.model_name}_create",
        target=instance,
        after=instance_snapshot(instance),
    )
    return instance


@transaction.atomic
def model_update(
    *, instance: M, data: Mapping[str, Any], actor: User | None, action: str | None = None
) -> tuple[M, bool]:
    """Apply the values that differ, validate, save and audit only what changed.

    Returns the instance and whether anything changed; an update that changes nothing writes
    nothing, not even an audit entry.
    """
    model = type(instance)
    plain, m2m = _split_m2m(model, data)
    before = instance_snapshot(instance, data.keys())
    for name, value in plain.items():
        setattr(instance, name, value)
    after_plain = instance_snapshot(instance, plain.keys())
    changed_plain = [k for k in plain if before.get(k) != after_plain.get(k)]
    changed_m2m = [
        k for k, values in m2m.items() if before.get(k) != sorted(_plain(v) for v in values)
    ]
    if not changed_plain and not changed_m2m:
        return instance, False
    instance.full_clean()
    instance.save(update_fields=[*changed_plain, *(
        ["updated_at"] if any(f.name == "updated_at" for f in model._meta.concrete_fields) else []
    )])
    for name in changed_m2m:
        getattr(instance, name).set(m2m[name])
    changed = [*changed_plain, *changed_m2m]
    after = instance_snapshot(instance, changed)
    audit_entry_create(
        actor=actor,
        action=action or f"{model._meta.model_name}_update",
        target=instance,
        before={k: before[k] for k in changed},
        after=after,
    )
    return instance, True


@transaction.atomic
def model_delete(*, instance: models.Model, actor: User | None, action: str | None = None) -> None:
    """Delete a record, keeping what it held in the audit log."""
    before = instance_snapshot(instance)
    audit_entry_create(
        actor=actor,
        action=action or f"{instance._meta.model_name}_delete",
        target=instance,
        before=before,
    )
    instance.delete()


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    email: str,
    role: str,
    full_name: str = "",
    language: str = "en",
    password: str | None = None,
) -> User:
    """Create an account for one role. Only KITECH staff get the Django admin (is_staff)."""
    user = User(
        email=User.objects.normalize_email(email).lower(),
        role=role,
        full_name=full_name,
        language=language,
        is_staff=role == User.Role.STAFF,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit_entry_create(
        actor=actor, action="user_create", target=user, after=instance_snapshot(user)
    )
    return user


@transaction.atomic
def user_staff_digest_set(*, actor: User | None, user: User, wants: bool) -> User:
    """Whether a KITECH staff member is emailed the daily staff digest. Only staff are ever sent
    it (hub.digest), so the account page offers the choice to staff alone."""
    # A fresh row: the caller may hold request.user, a lazy wrapper with older values.
    user, _changed = model_update(instance=User.objects.get(pk=user.pk),
                                  data={"wants_staff_digest": wants}, actor=actor,
                                  action="user_staff_digest_set")
    return user
