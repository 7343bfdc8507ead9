"""The models after admission move here from `candidates`, in the state only: their tables keep
their names (db_table), so no row is copied or lost. Their content types follow them, so that
audit entries about them still find their records."""

import django.db.models.deletion
import django_countries.fields
from django.conf import settings
from django.db import migrations, models


MOVED = ["enrolment", "progressmilestone", "careerproposal", "alumnioutcome"]


def _content_types_relabel(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_move(apps, schema_editor):
    _content_types_relabel(apps, "candidates", "students")


def content_types_move_back(apps, schema_editor):
    _content_types_relabel(apps, "students", "candidates")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('candidates', '0005_cycle'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('programs', '0002_partner_companies'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Enrolment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                        ('status', models.CharField(choices=[('enrolled', 'Enrolled'), ('on_leave', 'On leave'), ('withdrawn', 'Withdrawn'), ('graduated', 'Graduated')], db_index=True, default='enrolled', max_length=10, verbose_name='status')),
                        ('semester', models.CharField(help_text='e.g. 2027 Spring', max_length=40, verbose_name='first semester')),
                        ('campus', models.CharField(choices=[('cheonan', 'Cheonan (headquarters)'), ('ansan', 'Ansan'), ('incheon', 'Incheon'), ('gwangju', 'Gwangju'), ('ulsan', 'Ulsan'), ('busan', 'Busan'), ('daegu', 'Daegu'), ('jeonbuk', 'Jeonbuk'), ('gangneung', 'Gangneung'), ('jinju', 'Jinju')], max_length=12, verbose_name='campus')),
                        ('supervisor_name', models.CharField(max_length=200, verbose_name='supervisor')),
                        ('enrolled_on', models.DateField(verbose_name='enrolled on')),
                        ('expected_graduation', models.DateField(blank=True, null=True, verbose_name='expected graduation')),
                        ('thesis_title', models.CharField(blank=True, max_length=300, verbose_name='thesis title')),
                        ('graduated_on', models.DateField(blank=True, null=True, verbose_name='graduated on')),
                        ('degree_awarded', models.CharField(blank=True, choices=[('masters', "Master's"), ('doctoral', 'Doctoral'), ('integrated', "Integrated master's-doctoral")], max_length=12, verbose_name='degree awarded')),
                        ('career_wish', models.CharField(choices=[('undecided', 'Undecided'), ('stay_korea', 'Stay in Korea'), ('return_home', 'Return home')], default='undecided', max_length=12, verbose_name='after graduation')),
                        ('preferred_region', models.CharField(blank=True, help_text='Where the student would like to work.', max_length=120, verbose_name='preferred region')),
                        ('admission', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='enrolment', to='candidates.cohortadmission', verbose_name='admission')),
                        ('nomination', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='enrolment', to='candidates.nomination', verbose_name='student')),
                    ],
                    options={
                        'verbose_name': 'enrolment',
                        'verbose_name_plural': 'enrolments',
                        'db_table': 'candidates_enrolment',
                        'ordering': ['nomination__family_name', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='AlumniOutcome',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                        ('path', models.CharField(choices=[('stayed_korea', 'Stayed in Korea'), ('returned_home', 'Returned home'), ('other', 'Other')], max_length=14, verbose_name='path')),
                        ('organisation', models.CharField(blank=True, max_length=200, verbose_name='employer or organisation')),
                        ('employer_type', models.CharField(blank=True, choices=[('sme', 'Small or medium-sized company'), ('large_company', 'Large company'), ('research_institute', 'Research institute'), ('university', 'University'), ('public', 'Government or public body'), ('other', 'Other')], max_length=20, verbose_name='type of employer')),
                        ('country', django_countries.fields.CountryField(blank=True, max_length=2, verbose_name='country')),
                        ('region', models.CharField(blank=True, max_length=120, verbose_name='region or city')),
                        ('cooperating_company_name', models.CharField(blank=True, max_length=200, verbose_name='Korean company cooperated with (if not listed)')),
                        ('as_of', models.DateField(verbose_name='as of')),
                        ('offers_to_mentor', models.BooleanField(default=False, verbose_name='offers to mentor')),
                        ('offers_partner_contact', models.BooleanField(default=False, verbose_name='offers to be a partner-side contact')),
                        ('update_requested_at', models.DateTimeField(blank=True, null=True, verbose_name='update requested')),
                        ('updated_by_alumnus_at', models.DateTimeField(blank=True, null=True, verbose_name='updated by the alumnus')),
                        ('cooperating_company', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='cooperating_alumni', to='programs.partnercompany', verbose_name='Korean company cooperated with')),
                        ('enrolment', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='outcome', to='students.enrolment', verbose_name='graduate')),
                    ],
                    options={
                        'verbose_name': 'alumni outcome',
                        'verbose_name_plural': 'alumni outcomes',
                        'db_table': 'candidates_alumnioutcome',
                        'ordering': ['-as_of', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='ProgressMilestone',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('enrolled', 'Enrolled'), ('coursework', 'Coursework completed'), ('thesis', 'Thesis submitted'), ('leave_start', 'Leave of absence started'), ('leave_end', 'Returned from leave'), ('withdrawn', 'Withdrawn'), ('graduated', 'Graduated')], max_length=12, verbose_name='step')),
                        ('on', models.DateField(verbose_name='date')),
                        ('note', models.TextField(blank=True, verbose_name='note')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='recorded')),
                        ('enrolment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='milestones', to='students.enrolment', verbose_name='enrolment')),
                        ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by')),
                    ],
                    options={
                        'verbose_name': 'progress milestone',
                        'verbose_name_plural': 'progress milestones',
                        'db_table': 'candidates_progressmilestone',
                        'ordering': ['enrolment', 'on', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='CareerProposal',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                        ('status', models.CharField(choices=[('proposed', 'Proposed'), ('introduced', 'Introduced'), ('dismissed', 'Dismissed'), ('superseded', 'Superseded')], db_index=True, default='proposed', max_length=10, verbose_name='status')),
                        ('fit', models.DecimalField(decimal_places=4, max_digits=7, verbose_name='fit')),
                        ('explanation', models.JSONField(blank=True, default=dict, verbose_name='why')),
                        ('introduced_at', models.DateTimeField(blank=True, null=True, verbose_name='introduced')),
                        ('company', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='career_proposals', to='programs.partnercompany', verbose_name='company')),
                        ('introduced_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='introduced by')),
                        ('match_run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='career_proposals', to='candidates.matchrun', verbose_name='proposed by run')),
                        ('enrolment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='career_proposals', to='students.enrolment', verbose_name='student')),
                    ],
                    options={
                        'verbose_name': 'career proposal',
                        'verbose_name_plural': 'career proposals',
                        'db_table': 'candidates_careerproposal',
                        'ordering': ['enrolment', '-fit', 'id'],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status__in', ['proposed', 'introduced'])), fields=('enrolment', 'company'), name='career_proposal_one_live_per_pair')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_move_back, elidable=False),
    ]
