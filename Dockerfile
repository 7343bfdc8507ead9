# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production
RUN useradd --create-home --uid 1000 ecocycle
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config config
COPY ecocycle ecocycle
COPY programs programs
COPY candidates candidates
COPY students students
COPY mentors mentors
COPY privacy privacy
COPY hub hub
RUN pip install --no-cache-dir .
COPY . .
# collectstatic needs settings but no secrets that matter: a throwaway key just for the build,
# and addresses of a cache and a mail server that it never uses.
RUN DJANGO_SECRET_KEY=build-only ECOCYCLE_LOOKUP_HASH_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost \
    REDIS_URL=redis://build-only:6379/0 EMAIL_URL=dummymail:// \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R ecocycle /app/var
USER ecocycle
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
