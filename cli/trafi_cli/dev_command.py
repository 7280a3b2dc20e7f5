"""`trafi dev`: serve modules from their source and reload each one when it is saved."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from .context import console, err_console, reported_errors


def _report(event: object) -> None:
    """One line per reload; an error with its file, line and excerpt, and what still serves."""
    from trafi_host.dev.event_stream import DevEvent

    assert isinstance(event, DevEvent)
    if event.kind == "reloaded":
        console.print(
            f"[green]reloaded[/] {event.module} {event.version} in {event.reload_ms:.0f} ms",
            highlight=False,
        )
        return
    if event.problem is None:
        return
    still = f"still serving {event.module} {event.serving}" if event.serving else "not serving it"
    err_console.print(
        f"[bold red]error:[/] {event.problem.render()}", highlight=False, markup=True, soft_wrap=True
    )
    err_console.print(f"  ({still}; fix and save to reload)", highlight=False)


def _confirm(module: str, missing: dict[str, str]) -> bool:
    """The author grants a new permission in the terminal; no answer (no terminal) is a no."""
    err_console.print(f"[bold yellow]module {module} asks for new permissions:[/]", highlight=False)
    for item, reason in sorted(missing.items()):
        err_console.print(f"  - {item}: {reason}", highlight=False, markup=False)
    try:
        return typer.confirm(f"grant them to {module}?", default=False, err=True)
    except (typer.Abort, EOFError):
        return False


def run_dev(directories: list[Path], project: Path, host: str, port: int) -> None:
    from trafi_host.api import create_app
    from trafi_host.dev.routes import dev_router
    from trafi_host.devserver import DevServer, module_dirs

    from .serving import bind_listener, run_server

    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # each save is reported as its reload
    with reported_errors():
        folders = module_dirs(directories)
        listener = bind_listener(host, port)  # before anything loads: a busy port fails at once
        server = DevServer.start(project, folders, _confirm, _report)
    try:
        served = server.modules.names()
        console.print(f"modules: {', '.join(served)} (watching {len(folders)} folder(s))", highlight=False)
        console.print(f"tenant 'demo' API key: [bold]{server.api_key}[/]", highlight=False, soft_wrap=True)
        base = f"http://{host}:{port}"
        if "hello" in served:
            console.print(
                f'try: curl -H "Authorization: Bearer {server.api_key}" {base}/api/modules/hello/v1/hits',
                highlight=False,
                soft_wrap=True,
            )
        console.print(f"reloads and errors: curl -N {base}/dev/events", highlight=False, soft_wrap=True)
        if server.admin_password is not None:
            console.print(
                f"dashboard: {base}/admin (user admin, password {server.admin_password})",
                highlight=False,
                soft_wrap=True,
            )
        app = create_app(server.project, server.host)
        app.include_router(dev_router(server.events))
        run_server(app, listener, "info")
    finally:
        server.close()
