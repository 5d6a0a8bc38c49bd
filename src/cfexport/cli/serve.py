"""`cfexport serve`: the framework as a local web page."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cfexport.cli import (EXIT_USAGE, Failure, _friendly, _located, _templates_folder, framework_option, main,
                          root_option, templates_option)

@main.command()
@framework_option
@root_option
@templates_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="A copy of every pack the page hands out goes to OUT/packs/; nothing is "
                                      "written anywhere else (uploads go to a temporary folder).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but this machine (127.0.0.1, localhost, ::1) lets others in: "
                   "the page has no login.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
@_friendly
def serve(framework_dir: Path, root: str | None, templates_dir: Path | None, out_dir: Path, host: str, port: int,
          open_browser: bool) -> None:
    """Serve the framework as a local web page for people who never open a terminal: roles,
    comparisons, the matrix, downloads, promotion packs and the problems validate finds.
    The framework is read again when its pages change. Stop it with Ctrl+C."""
    import logging

    if not framework_dir.is_dir():
        raise Failure(f"error: framework folder {framework_dir} not found; pass --framework DIR", EXIT_USAGE)
    templates = _templates_folder(templates_dir)
    try:
        from cfexport.web.app import create_app
        from cfexport.web.server import bind, is_loopback, make_server, url
    except ImportError as exc:
        raise Failure(f"error: the web page needs {exc.name}, which is not installed; run `make export` "
                      "(or pip install -e .) again", EXIT_USAGE) from None
    if not is_loopback(host):
        click.echo(f"warning: listening on {host}: the page has NO LOGIN. Anyone who can reach this address can read "
                   "the framework and make promotion packs with the names they type. Use the default "
                   "--host 127.0.0.1 unless everyone on that network may do so.", err=True)
    app = create_app(framework_dir, templates, out_dir, root)
    for problem in app.state.store.snapshot().problems:
        if problem.severity == "error":
            click.echo(_located(framework_dir, problem), err=True)
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise Failure(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}; pass another --port "
                      "(or --port 0 for any free one)", EXIT_USAGE) from None
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    address = url(sock)
    try:
        click.echo(f"cfexport: serving {framework_dir} at {address}  (Ctrl+C to stop)")
        sys.stdout.flush()
        server = make_server(app)
    except BaseException:
        sock.close()
        raise
    if open_browser:
        import threading
        import webbrowser

        def _open() -> None:
            import time

            for _ in range(500):
                if server.started:
                    break
                time.sleep(0.01)
            webbrowser.open(address)

        threading.Thread(target=_open, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
