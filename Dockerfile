# Syndicator in a slim Python image, as a non-root user, with its state on a volume.
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
RUN pip install . \
    && useradd --create-home --uid 10001 syndicator \
    && mkdir -p /data \
    && chown syndicator:syndicator /data
COPY config ./config

USER syndicator
VOLUME ["/data"]
ENTRYPOINT ["python", "daemon.py"]
CMD ["plan", "--config", "config/demo.yaml"]
