"""The ``prefloop`` command line: run the service, manage the database, users and imports."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from app.config import get_settings

cli = typer.Typer(no_args_is_help=True, help="Prefloop: the human-feedback loop for language models.")
admin_cli = typer.Typer(no_args_is_help=True, help="Manage users.")
db_cli = typer.Typer(no_args_is_help=True, help="Manage the database schema.")
models_cli = typer.Typer(no_args_is_help=True, help="Manage the model registry.")
cli.add_typer(admin_cli, name="admin")
cli.add_typer(db_cli, name="db")
cli.add_typer(models_cli, name="models")

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "frontend"
STATIC = Path(__file__).resolve().parent / "static"
ADMIN_PASSWORD_FILE = "admin-password.txt"  # noqa: S105 - a file name


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database to a revision (default: the newest)."""
    from app.db import get_engine
    from app.migrate import upgrade

    upgrade(get_engine(), revision)
    typer.echo(f"database at {revision}")


@db_cli.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to a revision ('base' empties it)."""
    from app.db import get_engine
    from app.migrate import downgrade

    downgrade(get_engine(), revision)
    typer.echo(f"database at {revision}")


@admin_cli.command("create")
def admin_create(
    username: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create an admin user (the first one, or another)."""
    from app.auth import service
    from app.auth.models import GlobalRole
    from app.auth.schemas import UserCreate
    from app.db import session_scope
    from app.errors import AppError

    try:
        with session_scope() as session:
            service.create_user(session, UserCreate(username=username, password=password, role=GlobalRole.admin))
    except AppError as exc:
        raise typer.BadParameter(exc.detail) from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(f"admin {username!r} created")


@models_cli.command("build-tiny")
def build_tiny(
    out_dir: Annotated[Path | None, typer.Option(help="Where to build (default: DATA_DIR/models/tiny).")] = None,
    name: str = "tiny-llama",
    train_steps: Annotated[int | None, typer.Option(help="Training steps (default: the builder's).")] = None,
) -> None:
    """Build a tiny causal LM (tokenizer trained on the shipped corpus, briefly trained) and register it.

    Runs the worker-side builder in a subprocess (the API package never imports the ML stack).
    """
    extra = ["--train_steps", str(train_steps)] if train_steps is not None else []
    version_id = build_and_register_tiny(out_dir or get_settings().data_dir / "models" / "tiny", name, extra)
    typer.echo(f"registered model version {version_id}")


def build_and_register_tiny(out_dir: Path, name: str, builder_args: list[str] | None = None) -> int:
    import json

    from sqlalchemy import select

    from app.db import session_scope
    from app.registry.models import ModelKind, ModelStatus, ModelVersion

    out_dir = out_dir.resolve()
    build = [sys.executable, "-m", "workers.ml.tiny", "--out_dir", str(out_dir), *(builder_args or [])]
    subprocess.run(build, cwd=ROOT, check=True)  # noqa: S603
    described = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "workers.ml.inspect_model", str(out_dir)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    info = json.loads(described.stdout)
    with session_scope() as session:
        existing = session.scalar(
            select(ModelVersion).where(ModelVersion.source == str(out_dir), ModelVersion.status == ModelStatus.ready)
        )
        if existing is not None:
            existing.info = info
            return existing.id
        version = ModelVersion(
            name=name, kind=ModelKind.base, status=ModelStatus.ready, source=str(out_dir), metrics={}, info=info
        )
        session.add(version)
        session.flush()
        return version.id


@cli.command("import")
def import_file(
    project_id: int,
    path: Path,
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl, csv or parquet (default: from the name)")] = None,
) -> None:
    """Import prompts (and candidates) from a JSONL, CSV or Parquet file into a project."""
    from app.db import session_scope
    from app.errors import AppError
    from app.projects.models import Project
    from app.prompts.service import import_file as do_import

    try:
        with session_scope() as session:
            project = session.get(Project, project_id)
            if project is None:
                raise typer.BadParameter(f"project {project_id} not found")
            report = do_import(session, project, path, fmt)
    except AppError as exc:
        typer.echo(f"import failed, nothing changed: {exc.detail}", err=True)
        for err in exc.errors or []:
            typer.echo(f"  row {err.get('row')}: {err.get('field')}: {err.get('message')}", err=True)
        raise typer.Exit(1) from None
    typer.echo(report.model_dump_json())


@cli.command("export")
def export_snapshot(
    snapshot_id: int,
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (a folder for --format datasets).")],
    layout: Annotated[
        str, typer.Option(help="preference, preference_conversational, sft, sft_conversational, pairs, raw")
    ] = "preference",
    fmt: Annotated[str, typer.Option("--format", help="jsonl, csv, parquet or datasets")] = "jsonl",
    split: Annotated[str | None, typer.Option(help="train, validation or test (default: all)")] = None,
    with_margin: Annotated[bool, typer.Option(help="Add the margin column (preference layouts).")] = False,
    include_ties: Annotated[bool, typer.Option(help="Also export tie rows (preference layouts).")] = False,
) -> None:
    """Export a ready snapshot in a trainer's format, streamed to a file (or a datasets folder)."""
    from app.datasets import exports
    from app.datasets.models import Snapshot
    from app.datasets.service import ready_dir
    from app.db import session_scope
    from app.errors import AppError

    try:
        with session_scope(write=False) as session:
            snapshot = session.get(Snapshot, snapshot_id)
            if snapshot is None:
                raise typer.BadParameter(f"snapshot {snapshot_id} not found")
            folder = ready_dir(snapshot)
        exports.check_options(layout, fmt, split=split, with_margin=with_margin, include_ties=include_ties)
        if fmt == "datasets":
            exports.write_datasets_dir(
                folder, layout, out, split=split, with_margin=with_margin, include_ties=include_ties
            )
        else:
            tmp = out.with_name(f".{out.name}.tmp")
            with tmp.open("wb") as f:
                for chunk in exports.iter_export(
                    folder, layout, fmt, split=split, with_margin=with_margin, include_ties=include_ties
                ):
                    f.write(chunk)
            tmp.replace(out)
    except AppError as exc:
        typer.echo(f"export failed: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {out}")


@cli.command("serve")
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, grace_seconds: int = 20) -> None:
    """Run the API and the UI (no migrations, no worker). On SIGTERM it stops accepting connections and
    lets requests in flight finish for up to grace_seconds (keep it below the orchestrator's kill grace)."""
    import uvicorn

    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        timeout_graceful_shutdown=grace_seconds,
    )


@cli.command("worker")
def worker(queues: str = "cpu,gpu", concurrency: int = 1) -> None:
    """Run a Celery worker consuming the given queues."""
    os.execvp(sys.executable, _worker_argv(queues, concurrency))  # noqa: S606 - replaces this process on purpose


def _worker_argv(queues: str, concurrency: int) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
        "-Q", queues, "--concurrency", str(concurrency), "--loglevel", "INFO", "-n", "prefloop@%h",
    ]  # fmt: skip


@cli.command("up")
def up(
    host: str = "127.0.0.1",
    port: int = 8000,
    build_ui: Annotated[bool, typer.Option(help="Build the web UI when it is missing or stale.")] = True,
    demo_models: Annotated[bool, typer.Option(help="Build the tiny model and let it answer the demo prompts.")] = True,
) -> None:
    """Everything on the embedded default: migrate, create the first admin, build the UI, start a
    Celery worker and the API. One command, no server to install."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db_upgrade()
    username, password = _ensure_first_admin()
    demo_project = _seed_demo_once(username)
    if build_ui:
        _build_ui_if_stale()
    env = {**os.environ}
    worker_proc = subprocess.Popen(_worker_argv("cpu,gpu", 1), cwd=ROOT, env=env)  # noqa: S603
    api_proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            host,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://{host}:{port}/"
    typer.echo("")
    typer.echo(f"  Prefloop is running at {url}")
    typer.echo(f"  Log in as {username!r} with password {password!r}" if password else f"  Log in as {username!r}")
    typer.echo(f"  Database: {settings.resolved_database_url}   Broker: {settings.resolved_broker_url}")
    if demo_project is not None:
        typer.echo(f"  A demo project (id {demo_project}) is ready to label; the tiny model adds its own answers soon.")
    typer.echo("  Press Ctrl-C to stop.")
    typer.echo("")
    if demo_project is not None and demo_models:
        threading.Thread(target=_demo_generation, args=(demo_project,), daemon=True).start()
    _supervise([api_proc, worker_proc])


def _ensure_first_admin() -> tuple[str, str | None]:
    """Create 'admin' with a random password when there is no user yet; keep the password in data_dir."""
    from sqlalchemy import select

    from app.auth import service
    from app.auth.models import GlobalRole, User
    from app.auth.schemas import UserCreate
    from app.db import session_scope

    secret_file = get_settings().data_dir / ADMIN_PASSWORD_FILE
    with session_scope() as session:
        admin = session.scalar(select(User).where(User.role == GlobalRole.admin).order_by(User.id).limit(1))
        if admin is not None:
            password = secret_file.read_text().strip() if secret_file.exists() else None
            return admin.username, password
        if session.scalar(select(User.id).limit(1)) is not None:
            return "(an existing user)", None
        password = secrets.token_urlsafe(12)
        service.create_user(session, UserCreate(username="admin", password=password, role=GlobalRole.admin))
    secret_file.write_text(password + "\n")
    secret_file.chmod(0o600)
    return "admin", password


def _seed_demo_once(admin_username: str) -> int | None:
    """On a fresh database, the demo project: shipped prompts with hand-written answers to label at once."""
    from sqlalchemy import select

    from app.auth.models import User
    from app.db import session_scope
    from app.demo.seed import seed_demo

    with session_scope() as session:
        admin_id = session.scalar(select(User.id).where(User.username == admin_username))
        if admin_id is None:
            return None
        project = seed_demo(session, admin_id)
        return project.id if project else None


def _demo_generation(project_id: int) -> None:
    """Build and register the tiny model, then queue a generation job for the demo project."""
    from app.db import session_scope
    from app.jobs.kinds import JobKind
    from app.jobs.service import create_job

    try:
        version_id = build_and_register_tiny(get_settings().data_dir / "models" / "tiny", "tiny-llama")
        params = {"model_version_id": version_id, "k": 2, "max_new_tokens": 48, "temperature": 0.8, "top_p": 0.95}
        with session_scope() as session:
            job = create_job(session, JobKind.generation, params, project_id=project_id, created_by=None)
        typer.echo(f"  demo: the tiny model (version {version_id}) is answering the demo prompts (job {job.id})")
    except (subprocess.CalledProcessError, OSError) as exc:
        typer.echo(f"  demo: no tiny model ({exc}); is the ML extra installed? The demo works without it.", err=True)


def _build_ui_if_stale() -> None:
    index = STATIC / "index.html"
    if not (FRONTEND / "package.json").exists():
        return
    sources = [p for p in (FRONTEND / "src").rglob("*") if p.is_file()] + [FRONTEND / "index.html"]
    newest = max((p.stat().st_mtime for p in sources if p.exists()), default=0.0)
    if index.exists() and index.stat().st_mtime >= newest:
        return
    npm = shutil.which("npm")
    if npm is None:
        typer.echo("npm not found: serving the API without the web UI", err=True)
        return
    typer.echo("building the web UI ...")
    if not (FRONTEND / "node_modules").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)  # noqa: S603
    subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)  # noqa: S603


def _supervise(procs: list[subprocess.Popen[bytes]]) -> None:
    """Wait until Ctrl-C or until one process dies, then stop the others."""
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping and all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
    dead = [p for p in procs if p.returncode not in (0, -signal.SIGTERM, None)]
    if dead and not stopping:
        raise typer.Exit(1)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
