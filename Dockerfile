# One bot process per container: `infinipost-bot run`, with the Slack, Discord, S3 and PostgreSQL extras.
#   docker build -t infinipost-bot .
#   docker run --env-file .env -p 3000:3000 -v bot-data:/app/data infinipost-bot
# deploy/compose.yaml runs two replicas of it beside PostgreSQL and MinIO.

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY adapters adapters
COPY storage storage
COPY app app
COPY sandbox sandbox
# pip warns about an extra the project does not declare, and installs the rest: the line stays valid whichever
# extras pyproject.toml has.
RUN /opt/venv/bin/pip install ".[slack,discord,s3,postgres]"

FROM python:3.12-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home bot \
    && mkdir -p /app/data \
    && chown bot:bot /app/data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER bot
# The relative defaults land here: BOT_DATABASE (data/bot.db), BOT_MEDIA_DIR (data/media), the generated media
# key and the sandbox's file beside the database.
VOLUME /app/data
# BOT_HTTP_PORT: Slack's HTTP mode, media links of the local store, /healthz, /readyz and /metrics.
EXPOSE 3000
# Liveness only: /healthz answers while the process serves HTTP (slim images have no curl). /readyz, which asks
# the database, is for a load balancer's readiness check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('BOT_HTTP_PORT', '3000'), timeout=4)"]
ENTRYPOINT ["infinipost-bot"]
CMD ["run"]
