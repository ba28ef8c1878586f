"""Celery workers: thin tasks in workers/tasks, pure ML code in workers/ml."""
