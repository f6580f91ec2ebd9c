# Relais: one image for the web, worker and beat processes (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Requirements first, so that a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home relais
COPY --chown=relais:relais . .

# Compiled translations belong to the image. The values below only let the settings load during the
# build (nothing is contacted); the containers get their real ones from the environment.
RUN DEBUG=false \
    SECRET_KEY=build-only-not-used-at-run-time-xxxxxxxxxxxxxxxxxxxxxxxx \
    ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py compile_translations \
 && mkdir -p /app/staticfiles /app/var/media \
 && chown -R relais:relais /app/staticfiles /app/var

USER relais
EXPOSE 8000

CMD ["gunicorn", "crm.asgi:application", "-k", "uvicorn_worker.UvicornWorker", "-w", "2", "-b", "0.0.0.0:8000"]
