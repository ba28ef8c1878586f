"""Pure ML code: no Celery, no database; each module runnable as ``python -m workers.ml.X``."""
