"""Admissions approved before offers existed were final: each gets an accepted offer, so that
enrolment and mentor matching (which take only accepted offers) keep them."""

from django.db import migrations


def accepted_offers(apps, schema_editor):
    CohortAdmission = apps.get_model("candidates", "CohortAdmission")
    Offer = apps.get_model("candidates", "Offer")
    open_offers = Offer.objects.filter(status__in=["pending", "accepted"]).values("nomination_id")
    admissions = (CohortAdmission.objects.filter(cohort__status="approved")
                  .exclude(nomination_id__in=open_offers)
                  .select_related("cohort").order_by("id"))
    batch = []
    for admission in admissions.iterator(chunk_size=2000):
        at = admission.cohort.approved_at or admission.created_at
        batch.append(Offer(cohort_id=admission.cohort_id, nomination_id=admission.nomination_id,
                           track_id=admission.track_id, wave=1, status="accepted", made_at=at,
                           deadline=at, responded_at=at))
        if len(batch) >= 2000:
            Offer.objects.bulk_create(batch)
            batch = []
    Offer.objects.bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ("candidates", "0016_nomination_university_recent_index"),
    ]

    operations = [
        migrations.RunPython(accepted_offers, migrations.RunPython.noop),
    ]
