# One image for every hotline process: `hotline worker`, `hotline gateway`, `hotline hash-secret`.
# No secrets are baked in: partner keys and officer tokens arrive as SHA-256 digests through the
# environment at run time (see docs/operations.md).

# ---- build: install the project and its dependencies into a virtualenv ----------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/hotline
WORKDIR /src
# The pinned, hash-checked runtime dependencies first: their layer is rebuilt only when the
# lock changes, not on every source edit.
COPY requirements.lock ./
RUN /opt/hotline/bin/pip install --require-hashes -r requirements.lock
# Only what `pip install .` needs (pyproject names README.md as the readme and LICENSE as the
# licence); .dockerignore keeps everything else — tests, .venv, .env files, local broker data —
# out of the build context.
COPY pyproject.toml README.md LICENSE ./
COPY hotline ./hotline
COPY streams ./streams
COPY gateway ./gateway
COPY cli ./cli
# --no-deps: every dependency is already there, from the lock; none may come in unpinned.
RUN /opt/hotline/bin/pip install . --no-deps \
 && /opt/hotline/bin/pip check \
 && /opt/hotline/bin/hotline --version

# ---- runtime ----------------------------------------------------------------------------------
FROM python:3.11-slim

LABEL org.opencontainers.image.title="hotline" \
      org.opencontainers.image.description="Live alert hotline between partner law-enforcement agencies" \
      org.opencontainers.image.licenses="Apache-2.0"

# Containers listen beyond their loopback, so the image runs in production mode: without
# configured keys a process refuses to start rather than accept the public demo credentials.
# (A demo container must say so: HOTLINE_MODE=dev and HOTLINE_ALLOW_DEV_ON_NETWORK=true.)
ENV PATH=/opt/hotline/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOTLINE_MODE=production \
    HOTLINE_GATEWAY_HOST=0.0.0.0 \
    HOTLINE_WORKER_HOST=0.0.0.0

# A fixed, unprivileged uid/gid; its home is the working directory, where Faust keeps its
# `<worker id>-data/` directory and the settings' relative `.hotline/` data dir lives.
RUN groupadd --system --gid 10001 hotline \
 && useradd --system --uid 10001 --gid hotline --home-dir /var/lib/hotline --create-home \
      --shell /usr/sbin/nologin hotline

COPY --from=build /opt/hotline /opt/hotline

WORKDIR /var/lib/hotline
USER 10001:10001

# gateway (HTTP + WebSocket, /healthz /readyz /metrics), worker web (/readyz /metrics)
EXPOSE 8000 6066

ENTRYPOINT ["hotline"]
CMD ["--help"]
