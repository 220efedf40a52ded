# The production image: the project's dependencies (pip install . installs only those: the code
# runs from /app), served by gunicorn as a non-root user. docker-compose.yml runs it as web,
# worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles \
    VAR_DIR=/app/var

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN pip install .

COPY . .
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /app jumpstart \
    && mkdir -p "$STATIC_ROOT" "$VAR_DIR" \
    && chown jumpstart:jumpstart "$STATIC_ROOT" "$VAR_DIR"
USER jumpstart

EXPOSE 8000
CMD ["gunicorn", "jumpstart_ui.wsgi", "--bind", "0.0.0.0:8000", "--no-control-socket", "--access-logfile", "-"]
