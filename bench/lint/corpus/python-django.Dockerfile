# syntax=docker/dockerfile:1
ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN apt-get update && apt-get install -y --no-install-recommends \
        build-essential \
        libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY requirements/base.txt requirements/prod.txt ./requirements/
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --upgrade pip==24.0 \
    && /opt/venv/bin/pip install -r requirements/prod.txt

FROM python:${PYTHON_VERSION}-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/venv/bin:$PATH" \
    DJANGO_SETTINGS_MODULE=config.settings.production
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 999 --create-home django
COPY --from=builder /opt/venv /opt/venv
WORKDIR /srv/app
COPY --chown=django:django . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput
USER django
EXPOSE 8000
HEALTHCHECK CMD curl --fail http://localhost:8000/health/ || exit 1
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
