"""Demo mentors: illustrative retired KITECH scientists (invented people). Idempotent."""

from django.db import transaction

from ecocycle.models import User
from programs.models import CoreTechnology

from .models import Mentor
from .services import mentor_create

MENTORS = [
    # name, email, retired from, expertise (core technology names), keywords, languages, travel
    ("Dr. Kim Young-soo", "mentor@kitech.test", "KITECH Green Process R&D",
     ["Palm-oil transesterification", "Heterogeneous catalysts for biofuels"],
     "catalysis, reactors", "ko,en", ["ID"], 3),
    ("Dr. Lee Jung-hee", "lee.mentor@retired.example", "KITECH Clean Energy R&D",
     ["Biodiesel quality control", "Palm-oil mill effluent valorisation"],
     "analysis, biogas", "ko,en,id", ["ID"], 2),
    ("Dr. Choi Byung-ho", "choi.mentor@retired.example", "KITECH Molding and Metal Forming R&D",
     ["Precision die casting", "Casting and moulding simulation"],
     "die casting, solidification", "ko,en", ["VN"], 3),
    ("Dr. Jang Mi-kyung", "jang.mentor@retired.example", "KITECH Surface Technology R&D",
     ["Surface treatment and plating", "Injection mould design"],
     "plating, polymers", "ko,en,vi", ["VN", "ID"], 2),
]


@transaction.atomic
def build_mentors() -> None:
    for name, email, retired, expertise, keywords, languages, travel, capacity in MENTORS:
        if Mentor.objects.filter(email=email).exists():
            continue
        mentor_create(actor=None, data={
            "full_name": name, "email": email, "retired_from": retired, "keywords": keywords,
            "languages_spoken": languages, "travel_countries": travel, "capacity": capacity,
            "user": User.objects.filter(email=email).first(),
            "expertise": list(CoreTechnology.objects.filter(name__in=expertise)),
            "biography": "Illustrative profile of a retired KITECH researcher.",
        })
