# Syndicator's daemon in a slim Python image, as a non-root user, its state on a volume.
# By default it runs the bundled demo (sandbox marketplaces in-process, docs/demo.md); mount
# your own config and catalogs and pass --config to run a real one (docs/deploy.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SYNDICATOR_DATABASE_URL=sqlite:////data/syndicator.db

WORKDIR /app
COPY pyproject.toml README.md LICENSE daemon.py ./
COPY syndicator ./syndicator
COPY connectors ./connectors
COPY sandbox ./sandbox
RUN pip install . \
    && useradd --create-home --uid 10001 syndicator \
    && mkdir -p /data \
    && chown syndicator:syndicator /data
COPY config ./config

USER syndicator
VOLUME ["/data"]
# The daemon's own endpoint listens on loopback inside the container (daemon.http in the
# config); the health check runs inside the container too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4).status == 200 else 1)"]
# SIGTERM (docker stop) ends it cleanly within daemon.stop_timeout (8 s; docker waits 10).
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "daemon.py"]
CMD ["--config", "config/demo.yaml"]
