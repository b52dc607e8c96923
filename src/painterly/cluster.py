"""Work on Ray actors, on this machine or on a cluster: a batch's items (`batch.Painter` workers) and a video's
chunks (`video.chunked`), both through `Pool`, whose unit of work is any task with `memory`, `attempts` and `sent`.

    with connect("local") as ray: ...        # Ray started here on 127.0.0.1, sized to the cores; stopped after
    with connect("10.0.0.5:6379") as ray: ...  # an existing cluster (`ray start --head` there), with its addresses

`run` (a batch) starts the actors — each asks Ray for `threads` CPUs and the memory painterly's own estimate gives
for the batch's largest item (plus RAY_WORKER_BYTES), so a node is never promised more than it has —
and, once they are all up (or START_GRACE_S after the first), hands each actor two items at a time (one
painting, one waiting, so the round trip is hidden). An actor builds its network
once and keeps it for every item. The input files travel as bytes (the machines need not share a disk)
and the pixels come back to the driver, which writes them (`batch.Finisher`). A worker lost mid-item
(its process killed: Ray says so; its node gone: Ray's node table says so, checked every NODE_CHECK_S)
has its items sent to the other actors, each up to MAX_ATTEMPTS times; Ray restarts the lost actor
where there is room, and it takes items again once it answers. `where()` is what an actor answers `ready()`.

Ray is optional: ``pip install 'painterly[cluster]'``.
"""

from __future__ import annotations

import collections
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Callable

from .errors import PainterlyError, SettingsError

LOOPBACK = "127.0.0.1"
REQUIREMENT = "painterly[cluster]"  # ray, pinned in pyproject.toml
DEPTH = 2  # items an actor holds at once
MAX_ATTEMPTS = 3  # an item whose worker is lost this many times fails
WORKER_WAIT_S = 120.0  # how long the batch waits for a worker when none is running
RAY_WORKER_BYTES = 200_000_000  # Ray's own share of an actor's process, beyond painterly's estimate (an actor
# painting 128 px peaked at 1179 MB, the same batch in one process at 1079 MB, estimated 998 MB: bench/batch.py)
NODE_CHECK_S = 2.0  # how often the batch asks Ray which nodes are alive (a dead node's results may never come)
START_GRACE_S = 10.0  # at the start, items wait this long after the first actor is up for the others
CONNECT_TIMEOUT_S = 30.0  # how long a cluster's address has to answer (PAINTERLY_RAY_TIMEOUT, --ray-timeout)
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # and an empty SETTINGS


def require_ray(address: str | None = None):
    """The ray module, or one line saying how to install it. For "local" or a 127.0.0.1 address, Ray is
    told first to keep to loopback: it rewrites 127.0.0.1 to the machine's outward address unless
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 is set when it is imported (it reads it once, then), and the
    processes it starts inherit the setting."""
    if address is not None and (address == "local" or address.split(":")[0] in ("127.0.0.1", "localhost")):
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise PainterlyError(f"Ray is not installed: pip install '{REQUIREMENT}', or run with --ray off") from None
    return ray


def where() -> dict:
    """Where this process paints, as a Ray actor answers `ready()`: {"node": its Ray node (None outside Ray;
    Ray is never imported for it), "pid"}."""
    ray, node = sys.modules.get("ray"), None
    try:
        if ray is not None and ray.is_initialized():
            node = ray.get_runtime_context().get_node_id()
    except Exception:
        pass
    return {"node": node, "pid": os.getpid()}


def connect_timeout(timeout: float | None = None) -> float:
    """The seconds a cluster's address has to answer: `timeout`, else PAINTERLY_RAY_TIMEOUT, else 30."""
    if timeout is None:
        text = os.environ.get("PAINTERLY_RAY_TIMEOUT", "").strip()
        if not text:
            return CONNECT_TIMEOUT_S
        try:
            timeout = float(text)
        except ValueError:
            raise SettingsError(f"PAINTERLY_RAY_TIMEOUT '{text}' is not a number of seconds") from None
    if not (timeout == timeout and 0 < timeout <= 3600):
        raise SettingsError(f"Ray timeout {timeout} is out of range: give 1 to 3600 seconds")
    return float(timeout)


def check_address(address: str, timeout: float | None = None) -> None:
    """Refuse, within `timeout` seconds (`connect_timeout`), a cluster address where nothing answers as Ray
    does: Ray itself retries such an address for ever. Its head (and its client server, ray://) speak gRPC,
    so an answer to HTTP/2's opening is what a live head gives; "local" and "auto" are not checked."""
    import socket

    if address in ("local", "auto"):
        return
    seconds = connect_timeout(timeout)
    host, port = _host_port(address)
    advice = "start a head there with `ray start --head`, or use --ray local or --ray off"
    deadline = time.monotonic() + seconds
    try:
        with socket.create_connection((host, port), timeout=seconds) as line:
            if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
                return  # a TLS head answers a handshake, not HTTP/2 in the clear: that it listens must do
            line.settimeout(max(0.1, deadline - time.monotonic()))
            line.sendall(HTTP2_PREFACE)
            answer = line.recv(9)
    except socket.timeout:
        raise PainterlyError(f"Ray at '{address}' did not answer within {seconds:g} s: {advice} (or wait longer "
                             f"with --ray-timeout or PAINTERLY_RAY_TIMEOUT)") from None
    except OSError as error:
        raise PainterlyError(f"nothing answers at Ray address '{address}' ({error.strerror or error}): {advice}") \
            from None
    if len(answer) < 4 or answer[3] != 4:  # a server's first HTTP/2 frame is its SETTINGS (type 4)
        raise PainterlyError(f"'{address}' answers, but not as a Ray head does: check the port (a head's is "
                             f"6379 unless `ray start --head --port` said otherwise); {advice}")


def _host_port(address: str) -> tuple[str, int]:
    """("HOST", PORT) of "HOST:PORT", "[IPv6]:PORT" or "ray://HOST:PORT" (default ports: 6379, ray:// 10001)."""
    client = address.startswith("ray://")
    rest = address.removeprefix("ray://").rstrip("/")
    host, colon, port = rest.rpartition(":") if not rest.endswith("]") else ("", "", "")
    if not colon or not port:
        host, port = rest, "10001" if client else "6379"
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"Ray address '{address}' is not HOST:PORT (e.g. 10.0.0.5:6379), local, auto or off")
    return host, int(port)


@contextlib.contextmanager
def connect(address: str, cpus: int | None = None, timeout: float | None = None):
    """Ray, connected: "local" starts it on this machine, on 127.0.0.1 only (`cpus`: default the cores),
    and stops it afterwards; an address joins that cluster and leaves it running, and is refused in one
    line when it does not answer within `timeout` seconds (`connect_timeout`). A Ray this process already
    started is used as it is."""
    ray = require_ray(address)
    if ray.is_initialized():
        yield ray
        return
    check_address(address, timeout)
    import logging

    quiet = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        if address == "local":
            ray.init(num_cpus=cpus or os.cpu_count(), _node_ip_address=LOOPBACK, **quiet)
        else:
            quiet.pop("include_dashboard")
            ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise PainterlyError(f"could not connect to Ray at '{address}' ({first}): start a head there with "
                             f"`ray start --head`, or use --ray local or --ray off") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def run(todo: list, finish, *, painter: type, files: Callable, address: str, workers: int | None,
        threads: int | None, summary, notice: Callable[[str], None], timeout: float | None = None) -> None:
    """Paint the tasks `todo` (`batch.Task`) on Ray actors of class `painter` (`batch.Painter`), each task's
    input files sent as `files(task, True)` gives them; `finish.result(task, answer)` for each."""
    threads = threads or 1
    started = time.perf_counter()
    with connect(address, timeout=timeout) as ray:
        sender = _FileSender(ray, files)
        pool = Pool(ray, todo, _Items(finish), actor=painter, submit=sender.submit, workers=workers, threads=threads,
                    notice=notice)
        try:
            summary.workers = len(pool.actors)
            pool.run(lambda: setattr(summary, "startup_s", time.perf_counter() - started))
        finally:
            pool.close()


class _Items:
    """A batch's finisher as the pool calls it: a task that cannot be done fails its item (with its key and
    attempts, for the batch's record)."""

    def __init__(self, finish):
        self.finish = finish

    def result(self, task, answer: dict):
        return self.finish.result(task, answer)

    def failed(self, task, reason: str) -> None:
        self.finish.failed(task.item, reason, task.key, task.attempts)


class _FileSender:
    """A batch task to its actor: the content's bytes, and each style's put into Ray's object store once."""

    def __init__(self, ray, files: Callable):
        self.ray, self.files = ray, files
        self.styles: dict[Path, object] = {}

    def submit(self, actor, task):
        files = self.files(task, True)
        paths = [path for path, _ in files]
        blobs = [files[0][1]] + [self._style(Path(p), data) for p, data in files[1:]]
        return actor.paint_sent.remote(task.item.name, task.item.settings, paths, *blobs,
                                       report=task.report is not None)

    def _style(self, path: Path, data: bytes):
        if path not in self.styles:
            self.styles[path] = self.ray.put(data)
        return self.styles[path]


class Pool:
    """Actors of class `actor` (built with `actor(threads)`, answering `ready()` with where they run) and the
    tasks they are given, DEPTH at a time each: `submit(actor, task)` sends one and gives its object ref.

    A task is any object with `memory` (bytes it needs), `attempts` and `sent`; `finish.result(task, answer)`
    takes each answer and may return follow-up tasks, which go to the front of the queue (a video's next
    piece of a chunk before a new chunk); `finish.failed(task, reason)` takes the tasks that cannot be done.
    `run()` works until every task is answered; `step()` is one round of it."""

    def __init__(self, ray, todo: list, finish, *, actor: type, submit: Callable, workers: int | None,
                 threads: int, notice):
        from . import memory

        self.ray, self.finish, self.notice, self.submit = ray, finish, notice, submit
        self.exceptions = ray.exceptions
        largest = _largest_node_memory(ray)
        fitting = [t for t in todo if largest is None or t.memory + RAY_WORKER_BYTES <= largest]
        for task in todo:
            if task not in fitting:
                needs = memory.format_bytes(task.memory + RAY_WORKER_BYTES)
                finish.failed(task, f"needs about {needs} of memory and the largest Ray node offers "
                                    f"{memory.format_bytes(largest)}: use a smaller --size")
        self.queue = collections.deque(fitting)
        need = max((t.memory for t in fitting), default=0) + RAY_WORKER_BYTES
        resources = ray.cluster_resources()
        if workers is None:
            workers = max(1, int(resources.get("CPU", 1) // threads))
            workers = max(1, min(workers, int(resources.get("memory", need) // need)))
        workers = max(1, min(workers, len(fitting)))
        if resources.get("CPU", 0) < threads:
            raise SettingsError(f"--threads {threads} is more than the Ray cluster's {resources.get('CPU', 0):g} "
                                f"CPUs: use --threads {max(1, int(resources.get('CPU', 1)))} or fewer")
        remote = ray.remote(actor).options(num_cpus=threads, memory=need, max_restarts=-1,
                                            max_task_retries=0, scheduling_strategy="SPREAD")
        self.actors = [remote.remote(threads) for _ in range(workers)] if fitting else []
        self.live: dict = {}  # actor -> where it runs (after its first answer)
        self.pings = {a.ready.remote(): a for a in self.actors}
        self.flight: dict = {}  # object ref -> (actor, task)
        self.idle_since = time.perf_counter()
        self.checked = time.perf_counter()
        self.started, self.first_up = False, None

    def busy(self) -> bool:
        return bool(self.queue or self.flight)

    def run(self, on_ready: Callable[[], None] = lambda: None) -> None:
        while self.busy():
            self.step(on_ready)

    def step(self, on_ready: Callable[[], None] = lambda: None) -> None:
        """Send what the actors have room for, then take what is answered within a second."""
        if not self.started and self.live:  # every actor up, or the grace after the first is over: start
            self.first_up = self.first_up or time.perf_counter()
            if not self.pings or time.perf_counter() - self.first_up > START_GRACE_S:
                self.started = True
                on_ready()
        if self.started:
            self._send()
        refs = list(self.flight) + list(self.pings)
        if not refs:  # every actor gone for good (killed without restart)
            self._fail_queue("every Ray worker is gone: see `ray status`, then run it again")
            return
        done, _ = self.ray.wait(refs, num_returns=1, timeout=1.0)
        for ref in done:
            if ref in self.pings:
                self._pinged(ref)
            elif ref in self.flight:  # (not one given up with its actor's node)
                self._answered(ref)
        if time.perf_counter() - self.checked > NODE_CHECK_S:
            self._check_nodes()
        if not self.live and not self.flight and self.queue:
            if time.perf_counter() - self.idle_since > WORKER_WAIT_S:
                self._fail_queue(f"no Ray worker could be started in {WORKER_WAIT_S:.0f} s (the cluster has "
                                 f"no room for one): see `ray status`")
        else:
            self.idle_since = time.perf_counter()

    def _fail_queue(self, reason: str) -> None:
        while self.queue:
            task = self.queue.popleft()
            self.finish.failed(task, reason)

    def _send(self) -> None:
        held = collections.Counter(actor for actor, _ in self.flight.values())
        for actor in list(self.live):
            while self.queue and held[actor] < DEPTH:
                task = self.queue.popleft()
                try:
                    ref = self.submit(actor, task)
                except OSError as error:  # changed since the plan: fails alone
                    self.finish.failed(task, f"input could not be read: {error}")
                    continue
                task.attempts += 1
                task.sent = time.perf_counter()
                self.flight[ref] = actor, task
                held[actor] += 1

    def _pinged(self, ref) -> None:
        actor = self.pings.pop(ref)
        try:
            self.live[actor] = self.ray.get(ref)
        except self.exceptions.RayError:  # gone for good: no more items for it
            pass

    def _answered(self, ref) -> None:
        actor, task = self.flight.pop(ref)
        try:
            answer = self.ray.get(ref)
        except (self.exceptions.RayActorError, self.exceptions.ActorUnavailableError,
                self.exceptions.WorkerCrashedError, self.exceptions.ObjectLostError,
                self.exceptions.OutOfMemoryError, self.exceptions.NodeDiedError) as error:
            self._lost(actor, error, task)
            return
        except self.exceptions.RayError as error:
            answer = {"state": "failed", "reason": f"Ray: {type(error).__name__}: {str(error).splitlines()[0]}"}
        follow = self.finish.result(task, answer)
        if follow:
            self.queue.extendleft(reversed(follow))

    def _check_nodes(self) -> None:
        """Actors on nodes Ray has declared dead are lost with everything they held: a result left in a
        dead node's object store may never be answered, nor fail."""
        self.checked = time.perf_counter()
        alive = {node["NodeID"] for node in self.ray.nodes() if node.get("Alive")}
        for actor, where in list(self.live.items()):
            if where.get("node") and where["node"] not in alive:
                self._lost(actor, "NodeDied")

    def _lost(self, actor, error, task=None) -> None:
        """The worker is gone (under `task`, or its node died): its items go back to the queue, to the
        other actors, and it is asked again, which answers once Ray has restarted it."""
        held = [task] if task is not None else []
        for ref, (owner, other) in list(self.flight.items()):
            if owner is actor:
                del self.flight[ref]
                held.append(other)
        why = error if isinstance(error, str) else type(error).__name__
        if actor in self.live:
            where = self.live.pop(actor)
            self.notice(f"a worker was lost ({why}, node {str(where.get('node'))[:8]}): its items go to the others")
            self.pings[actor.ready.remote()] = actor
        for lost in reversed(held):
            if lost.attempts >= MAX_ATTEMPTS:
                self.finish.failed(lost, f"its worker was lost {lost.attempts} times (killed, out of memory "
                                         f"or its node gone): {why}")
            else:
                self.queue.appendleft(lost)

    def close(self) -> None:
        for actor in self.actors:
            with contextlib.suppress(Exception):
                self.ray.kill(actor, no_restart=True)


def _largest_node_memory(ray) -> float | None:
    sizes = [node["Resources"].get("memory") for node in ray.nodes() if node.get("Alive")]
    sizes = [s for s in sizes if s]
    return max(sizes) if sizes else None
