# Placeholder image for the API on the embedded default. The production images (multi-stage: UI build,
# slim API, worker with the ML extra and a CUDA base) come with the deployment work.
FROM python:3.11-slim
WORKDIR /srv/prefloop
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY workers ./workers
COPY migrations ./migrations
RUN pip install --no-cache-dir .
ENV PREFLOOP_DATA_DIR=/data
EXPOSE 8000
CMD ["sh", "-c", "prefloop db upgrade && prefloop serve --host 0.0.0.0 --port 8000"]
