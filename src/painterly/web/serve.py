"""`painterly serve [--host H] [--port P] [--data-dir DIR] [--allowed-host NAME]`: start the web app.

The server answers only requests whose Host header names it (DNS rebinding): the --host address,
localhost / 127.0.0.1 / [::1] when that is a loopback or wildcard address, every IP address when it is
a wildcard (0.0.0.0, ::), and each --allowed-host NAME (e.g. the machine's name on the network).

Everything the server keeps (job records in jobs.sqlite, inputs, results, reports) lives in the data
folder, so a restart keeps it. Missing web dependencies get one line: pip install "painterly[web]".
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from pathlib import Path
from typing import Sequence

from ..errors import OutputError, PainterlyError, SettingsError


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "painterly"


def build_parser():
    from ..flags import Parser
    from .forms import Limits

    limits = Limits()
    parser = Parser(prog="painterly serve", description="Start painterly's web app: upload a photo and "
                     "paintings, watch it paint, download the result.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this "
                        "computer only)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="a name this server is reached by, besides its --host address (and localhost "
                             "for a local one); repeat for more. Requests naming any other host are refused")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), metavar="DIR",
                        help=f"where jobs, inputs and results are kept (default {default_data_dir()})")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="jobs run at once (default 1: each job uses every core)")
    parser.add_argument("--max-upload-mb", type=float, default=limits.upload_bytes / 2**20, metavar="MB",
                        help=f"largest image file accepted (default {limits.upload_bytes // 2**20})")
    parser.add_argument("--max-pixels", type=int, default=limits.pixels, metavar="N",
                        help=f"largest input image in pixels (default {limits.pixels:,})")
    parser.add_argument("--max-size", type=int, default=limits.size, metavar="PX",
                        help=f"largest output side a job may ask for (default {limits.size})")
    parser.add_argument("--max-queue", type=int, default=limits.queue, metavar="N",
                        help=f"most jobs waiting at once (default {limits.queue})")
    parser.add_argument("--max-video-mb", type=float, default=limits.video_bytes / 2**20, metavar="MB",
                        help=f"largest video file accepted (default {limits.video_bytes // 2**20})")
    parser.add_argument("--max-video-seconds", type=float, default=limits.video_seconds, metavar="S",
                        help=f"longest video accepted, in seconds (default {limits.video_seconds:g})")
    parser.add_argument("--max-video-frames", type=int, default=limits.video_frames, metavar="N",
                        help=f"most frames in a video (default {limits.video_frames})")
    parser.add_argument("--max-video-pixels", type=int, default=limits.video_pixels, metavar="N",
                        help=f"largest video frame in pixels (default {limits.video_pixels:,}: 1280×720)")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return parser


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401  (for uploads)
        import uvicorn
    except ImportError as error:
        raise PainterlyError(f'the web app needs {error.name or "its dependencies"}: pip install "painterly[web]"') \
            from None
    from .app import create_app
    from .forms import Limits

    if not 1 <= args.workers <= 64:
        raise SettingsError(f"--workers {args.workers} is out of range: choose 1 to 64")
    if args.max_upload_mb <= 0 or args.max_pixels < 1 or not 16 <= args.max_size <= 16384:
        raise SettingsError("--max-upload-mb, --max-pixels must be positive and --max-size 16 to 16384")
    if not 1 <= args.max_queue <= 10_000:
        raise SettingsError(f"--max-queue {args.max_queue} is out of range: choose 1 to 10000")
    if not (args.max_video_mb > 0 and args.max_video_seconds > 0 and args.max_video_frames >= 1
            and args.max_video_pixels >= 1):
        raise SettingsError("--max-video-mb, --max-video-seconds, --max-video-frames and --max-video-pixels must be "
                            "positive")
    hosts = allowed_hosts(args.host, args.allowed_host)
    _check_port(args.host, args.port)
    try:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        probe = args.data_dir / ".write-test"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise OutputError(f"data folder {args.data_dir} cannot be used ({error.strerror or error}): "
                          f"choose another with --data-dir") from None
    defaults = Limits()
    limits = Limits(upload_bytes=int(args.max_upload_mb * 2**20), pixels=args.max_pixels, size=args.max_size,
                    queue=args.max_queue,  # the work of one job: a single scale of the largest size, most steps
                    work=max(defaults.work, args.max_size**2 * defaults.iterations),
                    video_bytes=int(args.max_video_mb * 2**20), video_seconds=args.max_video_seconds,
                    video_frames=args.max_video_frames, video_pixels=args.max_video_pixels)
    app = create_app(args.data_dir, workers=args.workers, limits=limits, allowed_hosts=hosts)
    if not args.quiet:
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(f"painterly: serving http://{host}:{args.port}/ (data in {args.data_dir}); Ctrl-C stops",
              file=sys.stderr, flush=True)
        if not _is_loopback(args.host):
            print("painterly: note: anyone who can reach this address can use the app and see its jobs",
                  file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if args.quiet else "info",
                timeout_graceful_shutdown=5)
    return 0


def allowed_hosts(host: str, extra: Sequence[str]) -> list[str]:
    """The names the Host header of a request may give: the bound address, the loopback names for a local
    or wildcard one, and the --allowed-host names (checked: a bare host name or address, no port)."""
    from .guard import LOOPBACK_NAMES, host_name

    names = [host]
    if _is_loopback(host) or host in ("0.0.0.0", "::", ""):
        names += LOOPBACK_NAMES
    for name in extra:
        plain = host_name(name)
        if not plain or "/" in plain or name.strip().lower().rstrip(".") not in (plain, f"[{plain}]"):
            raise SettingsError(f"--allowed-host '{name[:80]}' is not a host name: give a name or address without "
                                f"scheme or port, e.g. --allowed-host mybox.local")
        names.append(plain)
    return names


def _check_port(host: str, port: int) -> None:
    """Refuse at once, in one line, a port that is out of range or already taken."""
    if not 1 <= port <= 65535:
        raise SettingsError(f"--port {port} is out of range: choose 1 to 65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise SettingsError(f"cannot listen on {host}:{port} ({error.strerror or error}): "
                                f"choose another --port or --host") from None


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
