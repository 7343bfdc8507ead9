"""The kernel: users and roles, the audit log, the outbox, emailed links, job locks, CSV import,
domain errors; and the pure matching engine in `ecocycle.matching`.

Imports nothing at package level, so that `import ecocycle.matching` needs neither Django nor
Celery.
"""
