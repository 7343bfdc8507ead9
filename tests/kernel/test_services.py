import pytest
from django.core.exceptions import ValidationError

from ecocycle.models import AuditEntry, User
from ecocycle.services import model_create, model_delete, model_update, user_create
from programs.models import University

pytestmark = pytest.mark.django_db


def test_model_create_validates_saves_and_audits(staff_user):
    uni = model_create(
        model=University, data={"name": "Universitas Andalas", "country": "ID", "city": "Padang"},
        actor=staff_user,
    )
    entry = AuditEntry.objects.get(target_id=str(uni.pk), action="university_create")
    assert entry.actor == staff_user
    assert entry.actor_label == staff_user.email
    assert entry.before is None
    assert entry.after["name"] == "Universitas Andalas"
    assert entry.after["country"] == "ID"


def test_model_create_refuses_invalid_data_and_writes_nothing(staff_user):
    with pytest.raises(ValidationError) as excinfo:
        model_create(model=University, data={"name": "", "country": "XX"}, actor=staff_user)
    assert set(excinfo.value.message_dict) >= {"name", "country"}
    assert not University.objects.exists()
    assert not AuditEntry.objects.exists()


def test_model_update_audits_only_changed_fields(staff_user):
    uni = model_create(model=University, data={"name": "UGM", "country": "ID"}, actor=None)
    _, changed = model_update(
        instance=uni, data={"name": "Universitas Gadjah Mada", "country": "ID"}, actor=staff_user
    )
    assert changed
    entry = AuditEntry.objects.get(action="university_update")
    assert entry.before == {"name": "UGM"}
    assert entry.after == {"name": "Universitas Gadjah Mada"}
    assert entry.actor_label == staff_user.email


def test_model_update_without_change_writes_nothing(staff_user):
    uni = model_create(model=University, data={"name": "UGM", "country": "ID"}, actor=None)
    _, changed = model_update(instance=uni, data={"name": "UGM"}, actor=staff_user)
    assert not changed
    assert not AuditEntry.objects.filter(action="university_update").exists()


def test_model_delete_keeps_the_record_in_the_audit_log(staff_user):
    uni = model_create(model=University, data={"name": "UI", "country": "ID"}, actor=None)
    pk = uni.pk
    model_delete(instance=uni, actor=staff_user)
    assert not University.objects.filter(pk=pk).exists()
    entry = AuditEntry.objects.get(action="university_delete")
    assert entry.before["name"] == "UI"
    assert entry.target_id == str(pk)


def test_system_changes_are_recorded_as_system():
    model_create(model=University, data={"name": "ITS", "country": "ID"}, actor=None)
    assert AuditEntry.objects.get().actor_label == "system"


def test_user_create_gives_admin_access_only_to_staff():
    staff = user_create(actor=None, email="Staff@KITECH.test", role=User.Role.STAFF,
                        password="s3cret-pass")
    coordinator = user_create(actor=staff, email="c@uni.test", role=User.Role.COORDINATOR)
    assert staff.email == "staff@kitech.test"
    assert staff.is_staff and staff.check_password("s3cret-pass")
    assert not coordinator.is_staff
    assert not coordinator.has_usable_password()
    assert AuditEntry.objects.filter(action="user_create").count() == 2
    assert "password" not in AuditEntry.objects.filter(action="user_create").first().after


def test_user_create_refuses_duplicate_email():
    user_create(actor=None, email="a@uni.test", role=User.Role.MENTOR)
    with pytest.raises(ValidationError):
        user_create(actor=None, email="A@uni.test", role=User.Role.MENTOR)
