"""Enrolment moved from `candidates` to `students` with its table: the link follows in the state
only (the database's foreign key already points at that table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('mentors', '0003_alumni_mentors'),
        ('students', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='mentor',
                    name='alumnus',
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='mentor_profile', to='students.enrolment', verbose_name='alumnus of the program'),
                ),
            ],
            database_operations=[],
        ),
    ]
