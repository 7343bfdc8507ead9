"""Writes of the candidates domain."""

from django.db import transaction

from ecocycle.models import User
from ecocycle.services import model_create, user_create
from programs.models import University

from .models import Coordinator


@transaction.atomic
def coordinator_create(
    *,
    actor: User | None,
    email: str,
    university: University,
    full_name: str = "",
    language: str = "en",
    timezone: str = "Asia/Jakarta",
    password: str | None = None,
) -> Coordinator:
    """An account with the coordinator role, tied to one partner university."""
    user = user_create(
        actor=actor, email=email, role=User.Role.COORDINATOR, full_name=full_name,
        language=language, password=password,
    )
    return model_create(
        model=Coordinator,
        data={"user": user, "university": university, "timezone": timezone},
        actor=actor,
    )
