# syntax=docker/dockerfile:1
# Prefloop production images (docs/deploy.md). One Dockerfile, three targets:
#
#   ui       builds the React UI (frontend/ -> app/static); only a build stage
#   api      python slim + the API + the built UI, no ML stack; also runs `prefloop db upgrade`
#              docker build --target api -t prefloop/api .
#   worker   a Celery worker with the ML extra. CPU by default (torch from the CPU wheel index):
#              docker build --target worker -t prefloop/worker-cpu .
#            GPU: a CUDA base and torch's CUDA wheel (PyPI's torch 2.13.0 wheel is built for CUDA 13.0):
#              docker build --target worker -t prefloop/worker-gpu \
#                --build-arg BASE_IMAGE=nvidia/cuda:13.0.1-runtime-ubuntu22.04 \
#                --build-arg TORCH_INDEX_URL=https://pypi.org/simple .
#
# compose.yaml builds all three. The project is installed editable (`pip install -e .`) on purpose:
# `prefloop db upgrade` finds alembic.ini and migrations/ next to the app package (app/migrate.py),
# and a plain `pip install .` leaves both out of site-packages.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm
ARG BASE_IMAGE=python:3.11.13-slim-bookworm
# The same pip everywhere (Ubuntu 22.04's python3.11-venv would otherwise bring pip 22.0).
ARG PIP_VERSION=26.3

# --------------------------------------------------------------------------------------------------
FROM node:20.20.2-bookworm-slim AS ui
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
# vite.config.ts writes the build to ../app/static, i.e. /src/app/static
RUN npm run build

# --------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS api
ARG PIP_VERSION
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PREFLOOP_DATA_DIR=/var/lib/prefloop \
    PREFLOOP_ARTIFACT_DIR=/var/lib/prefloop/artifacts
# Same user and uid in every image: the artifact volume is shared between the API and the workers.
RUN groupadd --system --gid 10001 prefloop \
    && useradd --system --uid 10001 --gid prefloop --no-create-home --home-dir /var/lib/prefloop \
       --shell /usr/sbin/nologin prefloop \
    && install -d -o prefloop -g prefloop -m 0750 /var/lib/prefloop /var/lib/prefloop/artifacts \
    && python3.11 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir "pip==${PIP_VERSION}"
WORKDIR /srv/prefloop
# Dependencies first, in their own layer: rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
       > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
COPY README.md alembic.ini ./
COPY migrations ./migrations
COPY workers ./workers
COPY app ./app
COPY --from=ui /src/app/static ./app/static
RUN pip install --no-cache-dir --no-deps -e . \
    && python -m compileall -q app workers migrations
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["prefloop", "serve", "--host", "0.0.0.0", "--port", "8000"]

# --------------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS worker
# torch is installed on its own, from this index, before the ML extra (whose torch==X pin it then
# satisfies): the CPU wheel index by default; https://pypi.org/simple for PyPI's CUDA 13.0 wheel.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_VERSION
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PREFLOOP_DATA_DIR=/var/lib/prefloop \
    PREFLOOP_ARTIFACT_DIR=/var/lib/prefloop/artifacts \
    HF_HOME=/var/lib/prefloop/models/hf-cache
# python:3.11-slim has python3.11; a CUDA (Ubuntu 22.04) base gets it from Ubuntu's packages (not
# pinned to a version: the base image's tag fixes the release, its security updates should come in).
# hadolint ignore=DL3008
RUN if ! command -v python3.11 >/dev/null 2>&1; then \
        apt-get update \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
           ca-certificates python3.11 python3.11-venv \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --system --gid 10001 prefloop \
    && useradd --system --uid 10001 --gid prefloop --no-create-home --home-dir /var/lib/prefloop \
       --shell /usr/sbin/nologin prefloop \
    && install -d -o prefloop -g prefloop -m 0750 /var/lib/prefloop /var/lib/prefloop/artifacts \
       /var/lib/prefloop/models /var/lib/prefloop/models/hf-cache \
    && python3.11 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir "pip==${PIP_VERSION}"
WORKDIR /srv/prefloop
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['ml']))" \
       > /tmp/requirements.txt \
    && grep '^torch==' /tmp/requirements.txt > /tmp/torch.txt \
    && pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" -r /tmp/torch.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" \
    && rm /tmp/requirements.txt /tmp/torch.txt
COPY README.md alembic.ini ./
COPY migrations ./migrations
COPY app ./app
COPY workers ./workers
RUN pip install --no-cache-dir --no-deps -e . \
    && python -m compileall -q app workers migrations
USER 10001:10001
CMD ["prefloop", "worker", "--queues", "cpu", "--concurrency", "1"]
