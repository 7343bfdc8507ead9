"""The models after admission now live in `students` (students.0001_initial), with their tables:
they leave this app's state only, and no table is dropped."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('candidates', '0005_cycle'),
        ('students', '0001_initial'),
        ('mentors', '0004_alumnus_from_students'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ProgressMilestone'),
                migrations.DeleteModel(name='CareerProposal'),
                migrations.DeleteModel(name='AlumniOutcome'),
                migrations.DeleteModel(name='Enrolment'),
            ],
            database_operations=[],
        ),
    ]
