"""Registry tasks: validate a registered model."""

from __future__ import annotations

from sqlalchemy import update

from app.db import session_scope
from app.registry.models import ModelStatus, ModelVersion
from workers.celery_app import celery_app
from workers.ml.inspect_model import inspect_model
from workers.tasks.runtime import JobSkipped, job_run


@celery_app.task(name="prefloop.validate_model", acks_late=True)
def validate_model(job_id: int) -> None:
    """Load the model's config and tokenizer; mark the version ready (with its description) or invalid."""
    try:
        with job_run(job_id, "validate_model") as ctx:
            version_id = int(ctx.params["model_version_id"])
            with session_scope(write=False) as s:
                version = s.get(ModelVersion, version_id)
                source = version.source if version else None
            if source is None:
                raise LookupError(f"model version {version_id} does not exist")
            try:
                info = inspect_model(source)
            except Exception as exc:
                with session_scope() as s:
                    s.execute(
                        update(ModelVersion)
                        .where(ModelVersion.id == version_id)
                        .values(status=ModelStatus.invalid, error=f"{type(exc).__name__}: {exc}"[:2000])
                    )
                raise
            with session_scope() as s:
                version = s.get(ModelVersion, version_id)
                assert version is not None
                version.status = ModelStatus.ready
                version.info = {**version.info, **info}
            ctx.result = {"model_version_id": version_id, **info}
            ctx.progress(1, 1)
    except JobSkipped:
        return
