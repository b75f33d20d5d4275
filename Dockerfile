# The production image of Credit Portal. It serves the web application with gunicorn by default; the
# same image runs the Celery worker and beat with another command (see docker-compose.yml).
FROM python:3.11-slim-bookworm

# PYTHONPATH: the code runs from /app, so that the settings find templates/, static/ and locale/
# beside it. WEB_CONCURRENCY and WEB_THREADS: gunicorn's worker processes and threads per process
# (gunicorn.conf.py); their product is the most database connections one container holds.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    WEB_CONCURRENCY=3 \
    WEB_THREADS=4

# WeasyPrint needs Pango (and HarfBuzz to subset fonts fast); the PDFs are in Chinese and need a CJK font.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-microhei fonts-noto-cjk fontconfig \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
      --shell /usr/sbin/nologin app

WORKDIR /app

# The dependencies first, from pyproject.toml alone: changing the code does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Then the project itself (no dev or embedded extras: PostgreSQL and Redis are separate services;
# .dockerignore leaves out the tests, the docs and the development tools in devtools/).
COPY . .
RUN pip install --no-deps . \
 && rm -rf build ./*.egg-info

# Static files are collected into the image; the keys below exist only for this step.
RUN DJANGO_DEBUG=false \
    SECRET_KEY=collectstatic-only-not-a-secret \
    PERSONAL_DATA_KEY=collectstatic-only-not-a-secret \
    AUDIT_CHAIN_KEY=collectstatic-only-not-a-secret \
    python manage.py collectstatic --noinput --verbosity 0 \
 && mkdir -p /app/.local/media /app/.local/audit-anchors \
 && chown -R app:app /app/.local/media /app/.local/audit-anchors

USER app
EXPOSE 8000

# /healthz answers 200 while the database answers ("ok", or "degraded" naming what is down, e.g.
# Redis: the portal serves without it; docs/adr/0006-redis-down.md). The Host header is the first entry of
# ALLOWED_HOSTS; X-Forwarded-Proto keeps SECURE_SSL_REDIRECT (with USE_X_FORWARDED_PROTO) from redirecting.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import http.client, os, sys; hosts = [h.strip().lstrip('.') for h in os.environ.get('ALLOWED_HOSTS', 'localhost').split(',') if h.strip() not in ('', '*')]; c = http.client.HTTPConnection('127.0.0.1', 8000, timeout=4); c.request('GET', '/healthz', headers={'Host': (hosts or ['localhost'])[0], 'X-Forwarded-Proto': 'https'}); sys.exit(c.getresponse().status != 200)"]

# gunicorn.conf.py: gthread workers, timeouts, and the refusal to start with production settings
# while a demo account keeps the published demo password.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "credit_portal.wsgi:application"]
