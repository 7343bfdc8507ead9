"""The programs part of the demo world, for seed_demo and for tests alike.

Everything here is clearly illustrative: names of people and e-mail addresses are invented, and
addresses use reserved domains (.test, example.*). Building is idempotent: each record is looked up
by its natural key first, so running it twice changes nothing.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ecocycle.models import User
from ecocycle.services import model_create

from .models import (
    DegreeTrack,
    IntakeRound,
    PartnerCompany,
    Program,
    ProgramUniversity,
    University,
)
from .services import (
    core_technology_create,
    degree_track_create,
    intake_round_create,
    program_create,
    program_university_add,
    university_create,
)

UNIVERSITIES = [
    # name, country, city, website, email domain
    ("Institut Teknologi Bandung", "ID", "Bandung", "https://www.itb.ac.id", "itb.ac.id"),
    ("Universitas Gadjah Mada", "ID", "Yogyakarta", "https://ugm.ac.id", "ugm.ac.id"),
    ("IPB University", "ID", "Bogor", "https://www.ipb.ac.id", "apps.ipb.ac.id"),
    ("Universitas Indonesia", "ID", "Depok", "https://www.ui.ac.id", "ui.ac.id"),
    ("Institut Teknologi Sepuluh Nopember", "ID", "Surabaya", "https://www.its.ac.id", "its.ac.id"),
    ("Hanoi University of Science and Technology", "VN", "Hanoi", "https://hust.edu.vn",
     "hust.edu.vn"),
    ("Ho Chi Minh City University of Technology", "VN", "Ho Chi Minh City", "https://hcmut.edu.vn",
     "hcmut.edu.vn"),
    ("University of Science and Technology – The University of Danang", "VN", "Da Nang",
     "https://dut.udn.vn", "dut.udn.vn"),
    ("Can Tho University", "VN", "Can Tho", "https://www.ctu.edu.vn", "ctu.edu.vn"),
]

PROGRAMS = [
    {
        "name": "Indonesia palm oil to biodiesel",
        "country": "ID",
        "industry": "Palm oil and biofuels",
        "description": (
            "Indonesia's palm-oil industry meets Korea's process engineering: transesterification, "
            "catalysts, biodiesel quality control and the valorisation of palm-oil mill effluent."
        ),
        "technologies": [
            ("Palm-oil transesterification", "transesterification, esterification, FAME, reactor"),
            ("Biodiesel quality control", "quality control, ASTM D6751, EN 14214, analysis"),
            ("Heterogeneous catalysts for biofuels", "catalyst, heterogeneous, zeolite"),
            ("Process scale-up and plant engineering", "scale-up, process design, plant"),
            ("Palm-oil mill effluent valorisation", "POME, biogas, wastewater, anaerobic"),
        ],
        "universities": [("Institut Teknologi Bandung", 12), ("Universitas Gadjah Mada", 10),
                         ("IPB University", 8), ("Universitas Indonesia", 10),
                         ("Institut Teknologi Sepuluh Nopember", 8)],
        "tracks": [
            ("masters", "Green Chemical Process Engineering", "Green Process and Materials R&D Department",
             "ulsan", "Dr. Park Ji-hoon", 0, "reactor, kinetics", 3),
            ("doctoral", "Green Chemical Process Engineering", "Green Process and Materials R&D Department",
             "ulsan", "Dr. Park Ji-hoon", 0, "reactor, kinetics", 1),
            ("masters", "Biofuel Analysis and Quality", "Clean Energy R&D Department", "cheonan",
             "Dr. Lee Seo-yeon", 1, "chromatography, quality", 2),
            ("integrated", "Catalysis for Renewable Fuels", "Green Process and Materials R&D Department",
             "ulsan", "Dr. Choi Min-jae", 2, "catalyst, zeolite", 2),
            ("masters", "Plant Process Systems", "Smart Manufacturing R&D Department", "ansan",
             "Dr. Jung Hye-won", 3, "process design, simulation", 2),
            ("doctoral", "Bioenergy from Industrial Waste", "Clean Energy R&D Department", "gwangju",
             "Dr. Kang Tae-yang", 4, "biogas, anaerobic digestion", 1),
            ("masters", "Bioenergy from Industrial Waste", "Clean Energy R&D Department", "gwangju",
             "Dr. Kang Tae-yang", 4, "biogas, wastewater", 2),
            ("masters", "Energy Process Materials", "Carbon Neutral Technology R&D Department",
             "cheonan", "Dr. Yoon Ha-eun", 2, "materials, membranes", 2),
        ],
    },
    {
        "name": "Vietnam precision casting and moulding for electronics parts",
        "country": "VN",
        "industry": "Electronics parts manufacturing",
        "description": (
            "Vietnam's electronics supply chain and Korea's root industries: precision die casting, "
            "injection moulds, casting simulation and surface treatment for electronics parts."
        ),
        "technologies": [
            ("Precision die casting", "die casting, aluminium, magnesium, casting"),
            ("Injection mould design", "injection moulding, mould, polymer"),
            ("Casting and moulding simulation", "CAE, simulation, solidification, FEM"),
            ("Surface treatment and plating", "plating, coating, anodising, surface"),
            ("Smart factory for moulding lines", "automation, sensors, data, smart factory"),
        ],
        "universities": [("Hanoi University of Science and Technology", 12),
                         ("Ho Chi Minh City University of Technology", 10),
                         ("University of Science and Technology – The University of Danang", 8),
                         ("Can Tho University", 6)],
        "tracks": [
            ("masters", "Casting Process Engineering", "Molding and Metal Forming R&D Department",
             "incheon", "Dr. Kim Do-hyun", 0, "die casting, alloys", 3),
            ("doctoral", "Casting Process Engineering", "Molding and Metal Forming R&D Department",
             "incheon", "Dr. Kim Do-hyun", 0, "solidification, alloys", 1),
            ("masters", "Mould Design and Polymer Processing", "Molding and Metal Forming R&D Department",
             "incheon", "Dr. Han Ye-jin", 1, "injection moulding, polymers", 2),
            ("integrated", "Computational Manufacturing", "Smart Manufacturing R&D Department",
             "ansan", "Dr. Oh Seung-woo", 2, "CAE, FEM, simulation", 2),
            ("masters", "Surface Engineering", "Surface Technology R&D Department", "incheon",
             "Dr. Shin Ji-yoo", 3, "plating, coating", 2),
            ("doctoral", "Surface Engineering", "Surface Technology R&D Department", "incheon",
             "Dr. Shin Ji-yoo", 3, "electrochemistry, coating", 1),
            ("masters", "Smart Factory Systems", "Smart Manufacturing R&D Department", "ansan",
             "Dr. Lim Chae-won", 4, "automation, sensors, data", 2),
            ("masters", "Lightweight Metal Components", "Advanced Mobility Components R&D Department",
             "daegu", "Dr. Song Min-seo", 0, "aluminium, magnesium", 2),
        ],
    },
]

ROUND_NAME = "2027 Spring"
# A round already decided: its cohort is approved in the demo, and its candidates get mentors.
PAST_ROUND_NAME = "2026 Autumn"
PAST_ROUND_NOMINATED_DAYS_AGO = 100
# Earlier rounds, for the cycle's later stages: name -> days ago its nominations opened.
# 2023 Autumn's students have graduated; 2025 Autumn's are close to graduation.
DECIDED_ROUNDS = {"2023 Autumn": 1250, "2025 Autumn": 480, PAST_ROUND_NAME: 120}
# A round whose nominations have closed and whose cohort is being matched: a proposal for staff
# to review, not yet approved.
MATCHING_ROUND_NAME = "2026 Winter"
NOMINATED_AFTER_OPENING_DAYS = 20
ENROLMENT_AFTER_OPENING_DAYS = 160

PARTNER_COMPANIES = [
    # name, kind, sector, size, country, region, program index, technology indexes, keywords,
    # openings per year, contact
    ("Hanbit Bio-Energy", "onshore", "Biodiesel production", "small", "KR", "Ulsan", 0, [0, 1],
     "transesterification, quality control", 2, "Ms. Seo Yun-ah"),
    ("Daesung Catalyst Works", "onshore", "Catalysts and fine chemicals", "medium", "KR",
     "Gyeonggi", 0, [2, 3], "catalyst, scale-up", 1, "Mr. Kwon Min-ho"),
    ("KoInd Green Fuels Indonesia", "offshore", "Palm-oil refining", "large", "ID", "Riau", 0,
     [0, 4], "biogas, POME, plant", 2, "Mr. Lim Jae-sung"),
    ("Samwoo Precision Casting", "onshore", "Die casting for electronics", "small", "KR",
     "Incheon", 1, [0, 2], "die casting, simulation", 2, "Ms. Han Ji-min"),
    ("Geumsan Mould & Plating", "onshore", "Moulds and surface treatment", "medium", "KR",
     "Gyeongnam", 1, [1, 3], "injection moulding, plating", 1, "Mr. Baek Sung-jin"),
    ("K-Parts Vietnam", "offshore", "Electronics parts", "large", "VN", "Bac Ninh", 1, [0, 4],
     "casting, smart factory", 2, "Ms. Yoon Hye-jin"),
]


def decided_round_milestones(name: str, now):
    """The five milestones of a decided demo round, counted from when it opened."""
    opened = now - timedelta(days=DECIDED_ROUNDS[name])
    return {
        "nominations_open": opened,
        "nominations_close": opened + timedelta(days=60),
        "matching": opened + timedelta(days=75),
        "decisions": opened + timedelta(days=100),
        "enrolment": opened + timedelta(days=ENROLMENT_AFTER_OPENING_DAYS),
    }


def matching_round_milestones(now):
    """A round closed five days ago, in its matching phase since two days, deciding soon."""
    return {
        "nominations_open": now - timedelta(days=45),
        "nominations_close": now - timedelta(days=5),
        "matching": now - timedelta(days=2),
        "decisions": now + timedelta(days=12),
        "enrolment": now + timedelta(days=75),
    }


def _milestones(now):
    return {
        "nominations_open": now - timedelta(days=14),
        "nominations_close": now + timedelta(days=30),
        "matching": now + timedelta(days=37),
        "decisions": now + timedelta(days=50),
        "enrolment": now + timedelta(days=120),
    }


@transaction.atomic
def build_programs(*, actor: User | None = None, now=None) -> list[Program]:
    """Universities, two active programs with core technologies, tracks, and rounds in each
    phase: one taking nominations, one closed and being matched, and rounds already decided."""
    now = now or timezone.now()
    universities = {}
    for name, country, city, website, domain in UNIVERSITIES:
        universities[name] = University.objects.filter(name=name, country=country).first() or (
            university_create(actor=actor, data={
                "name": name, "country": country, "city": city, "website": website,
                "email_domain": domain,
            })
        )
    programs = []
    for spec in PROGRAMS:
        program = Program.objects.filter(name=spec["name"]).first()
        if program is None:
            program = program_create(actor=actor, data={
                "name": spec["name"], "country": spec["country"], "industry": spec["industry"],
                "description": spec["description"], "status": Program.Status.ACTIVE,
            })
        technologies = []
        for tech_name, keywords in spec["technologies"]:
            tech = program.core_technologies.filter(name=tech_name).first() or (
                core_technology_create(actor=actor, data={
                    "program": program, "name": tech_name, "keywords": keywords,
                })
            )
            technologies.append(tech)
        for uni_name, quota in spec["universities"]:
            if not ProgramUniversity.objects.filter(
                program=program, university=universities[uni_name]
            ).exists():
                program_university_add(
                    actor=actor, program=program, university=universities[uni_name],
                    nomination_quota=quota,
                )
        for level, major, department, campus, supervisor, tech_index, keywords, seats in spec[
            "tracks"
        ]:
            lookup = {"program": program, "level": level, "major": major, "department": department}
            if DegreeTrack.objects.filter(**lookup).exists():
                continue
            slug = supervisor.split()[-1].lower()
            degree_track_create(actor=actor, data={
                **lookup, "campus": campus, "supervisor_name": supervisor,
                "supervisor_email": f"{slug}.supervisor@example.kitech.re.kr",
                "wanted_technologies": [technologies[tech_index]],
                "wanted_keywords": keywords, "seats": seats,
                "language_of_instruction": "en",
            })
        rounds = [(name, decided_round_milestones(name, now)) for name in DECIDED_ROUNDS]
        for name, milestones in [*rounds, (MATCHING_ROUND_NAME, matching_round_milestones(now)),
                                 (ROUND_NAME, _milestones(now))]:
            if not IntakeRound.objects.filter(program=program, name=name).exists():
                intake_round_create(actor=actor, program=program, name=name,
                                    milestones=milestones, preference_limit=3)
        programs.append(program)
    return programs


@transaction.atomic
def build_companies(*, actor: User | None = None) -> None:
    """Partner companies in the demo programs' industries (invented)."""
    programs = list(Program.objects.filter(name__in=[p["name"] for p in PROGRAMS]).order_by("id"))
    if len(programs) < len(PROGRAMS):
        return
    by_name = {program.name: program for program in programs}
    for (name, kind, sector, size, country, region, program_index, tech_indexes, keywords,
         openings, contact) in PARTNER_COMPANIES:
        if PartnerCompany.objects.filter(name=name).exists():
            continue
        program = by_name[PROGRAMS[program_index]["name"]]
        technologies = list(program.core_technologies.order_by("id"))
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
        model_create(model=PartnerCompany, actor=actor, data={
            "name": name, "kind": kind, "sector": sector, "size_band": size, "country": country,
            "region": region, "locations": region, "skill_keywords": keywords,
            "openings_per_year": openings, "contact_name": contact,
            "contact_email": f"people@{slug}.example", "contact_language": "ko",
            "programs": [program], "technologies": [technologies[i] for i in tech_indexes],
        })
