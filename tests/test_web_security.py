"""The web app against a hostile user: chunked uploads, DNS rebinding, racing submissions, costly settings,
bad query values, what downloads tell about the server, security headers, the backbone cache.

Most tests talk to a real `painterly serve` process on 127.0.0.1 (the HTTP layer is what they check);
nothing here talks to any other address.
"""

import io
import json
import os
import platform
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import pytest

from painterly import preset

pytest.importorskip("fastapi", reason='the web app needs pip install "painterly[web]"')
httpx = pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from painterly.web.app import create_app  # noqa: E402
from painterly.web.forms import Limits  # noqa: E402
from painterly.web.jobs import Jobs, QueueFull  # noqa: E402

TINY = {"size": "48", "iterations": "3", "model": "vgg16-hed", "save_every": "1"}
LONG = {"size": "48", "iterations": "4000", "model": "vgg16-hed", "optimizer": "adam", "save_every": "0"}
UPLOAD_MB = 0.05  # the served limit per image: 51,200 bytes
STYLES = 4  # Limits().styles: the served limit of style images
BODY_LIMIT = int(UPLOAD_MB * 2**20) * (STYLES + 1) + 2**20  # the most one request body may carry
QUEUE = 3
ALLOWED = "painterly.test"
HOP = 16 * 2**10  # bytes per chunk of a chunked upload


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, root: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = root / "data"
        self.spool = root / "spool"  # the server's TMPDIR: where Starlette spools uploads past 1 MB
        self.spool.mkdir()
        self.log = tempfile.TemporaryFile()  # its stderr: a pipe nobody reads would fill and stop it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "painterly", "serve", "--port", str(self.port), "--data-dir", str(self.data),
             "--quiet", "--max-upload-mb", str(UPLOAD_MB), "--max-pixels", "10000", "--allowed-host", ALLOWED,
             "--max-queue", str(QUEUE)],
            stderr=self.log, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TMPDIR": str(self.spool)})

    def wait_ready(self, seconds=300):  # a loaded machine starts it slowly: a generous bound, not a fixed wait
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise AssertionError(f"painterly serve exited: {self.log.read().decode()[-2000:]}")
            try:
                httpx.get(f"{self.url}/api/settings", timeout=30)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"painterly serve did not start in {seconds} s")

    def held_bytes(self) -> int:
        """Bytes of upload data the server holds on disk now: files open in its TMPDIR (Python's temporary
        files are unlinked at once, so they are found through /proc) and files in the data folder's staging
        folders."""
        total = 0
        fds = Path(f"/proc/{self.process.pid}/fd")
        for fd in list(fds.iterdir()) if fds.is_dir() else []:
            try:
                if os.readlink(fd).startswith(str(self.spool)):
                    total += os.stat(fd).st_size
            except OSError:
                continue  # closed meanwhile
        for staging in self.data.glob(".upload-*"):
            for path in staging.rglob("*"):
                try:
                    total += path.stat().st_size if path.is_file() else 0
                except OSError:
                    continue
        return total

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    served = Server(tmp_path_factory.mktemp("served"))
    try:
        served.wait_ready()
        yield served
    finally:
        served.stop()


@pytest.fixture
def http(server):  # a connection per request: one idle 5 s is closed by the server, and reused then, reset
    with httpx.Client(base_url=server.url, timeout=120, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        yield client


def multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "painterly-test-boundary") -> bytes:
    """A multipart/form-data body from (field, file name or None, data) parts."""
    body = b""
    for field, filename, data in parts:
        disposition = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename else "")
        kind = "Content-Type: application/octet-stream\r\n" if filename else ""
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n".encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def one_line(response, status: int, text: str = "") -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and text in detail, detail
    return detail


def wait(client, job_id, states, seconds=120, until=lambda job: True):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states and until(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} is still {job['state']} after {seconds} s")


def pair_parts(tiny_pair):
    content, style = tiny_pair
    return [("content", "photo.png", content.read_bytes()), ("style", "painting.png", style.read_bytes())]


# -- 7: chunked uploads ---------------------------------------------------------------------------------


def chunked_post(server, body: bytes, boundary="painterly-test-boundary"):
    """POST /api/jobs with `body` sent in chunks of HOP bytes (Transfer-Encoding: chunked), stopping when
    the server answers; returns (status, detail, bytes sent, the most upload bytes the server held)."""
    held = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as connection:
        connection.sendall((f"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                            f"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode())
        sent = 0
        for start in range(0, len(body), HOP):  # bounded: the body's chunks, once
            if select.select([connection], [], [], 0)[0]:
                break  # the server answered: stop sending
            chunk = body[start:start + HOP]
            try:
                connection.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            time.sleep(0.002)  # let the server read (and write) what it got
            held = max(held, server.held_bytes())
        else:
            try:
                connection.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        answer = b""
        for _ in range(10_000):  # bounded read of the answer
            try:
                got = connection.recv(65536)
            except ConnectionResetError:
                break
            if not got:
                break
            answer += got
        held = max(held, server.held_bytes())
    head, _, rest = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    if b"transfer-encoding: chunked" in head.lower():  # de-chunk the answer
        payload, rest_ = b"", rest
        while rest_:
            size, _, rest_ = rest_.partition(b"\r\n")
            if not int(size, 16):
                break
            payload, rest_ = payload + rest_[:int(size, 16)], rest_[int(size, 16) + 2:]
        rest = payload
    return status, json.loads(rest)["detail"], sent, held


def test_a_chunked_upload_over_the_limit_is_cut_off_at_the_limit(server, http, tiny_pair):
    huge = os.urandom(3 * BODY_LIMIT)  # one "photo" of 3× what a whole request may carry
    body = multipart([("content", "huge.png", huge), ("style", "painting.png", tiny_pair[1].read_bytes())])
    status, detail, sent, held = chunked_post(server, body)
    assert status == 413 and "over the upload limit" in detail and "\n" not in detail, (status, detail)
    assert held <= BODY_LIMIT, f"the server held {held:,} bytes of a chunked upload (limit {BODY_LIMIT:,})"
    assert sent < len(body)  # it answered before the end and the client stopped
    time.sleep(0.2)
    assert server.held_bytes() == 0 and list(server.data.glob(".upload-*")) == []
    assert http.get("/api/settings").status_code == 200  # the server is fine


def test_a_chunked_upload_under_the_limit_still_works(server, http, tiny_pair):
    body = multipart(pair_parts(tiny_pair) + [(name, None, value.encode()) for name, value in TINY.items()])
    response = http.post("/api/jobs", content=iter([body[i:i + 1000] for i in range(0, len(body), 1000)]),
                         headers={"Content-Type": "multipart/form-data; boundary=painterly-test-boundary"})
    assert response.status_code == 201, response.text
    job = wait(http, response.json()["id"], {"completed", "failed"})
    assert job["state"] == "completed"


# -- 8: DNS rebinding -----------------------------------------------------------------------------------


def test_a_request_for_another_host_name_is_refused(server, http, tiny_pair):
    """DNS rebinding: evil.example resolves to 127.0.0.1, the browser sends Host and Origin evil.example."""
    evil = f"evil.example:{server.port}"
    headers = {"Host": evil, "Origin": f"http://{evil}"}
    for method, path in (("GET", "/"), ("GET", "/api/jobs"), ("GET", "/api/settings"), ("GET", "/static/app.js")):
        one_line(http.request(method, path, headers=headers), 421, "evil.example")
    body = multipart(pair_parts(tiny_pair) + [(name, None, value.encode()) for name, value in TINY.items()])
    before = len(http.get("/api/jobs").json())
    detail = one_line(http.post("/api/jobs", content=body, headers={
        **headers, "Content-Type": "multipart/form-data; boundary=painterly-test-boundary"}), 421)
    assert "--allowed-host" in detail
    assert len(http.get("/api/jobs").json()) == before  # no job was made
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", f"LOCALHOST.:{server.port}",
                 f"[::1]:{server.port}", f"{ALLOWED}:{server.port}", "localhost"):
        response = http.get("/api/jobs", headers={"Host": host})
        assert response.status_code == 200, (host, response.text)
    for host in ("127.0.0.1.evil.example", "localhost.evil.example", f"{ALLOWED}.evil.example", "", "[::1"):
        assert http.get("/api/jobs", headers={"Host": host}).status_code in (400, 421), host


def test_allowed_hosts_of_create_app(tmp_path):
    with TestClient(create_app(tmp_path / "data", allowed_hosts=["localhost", "127.0.0.1", "::1"]),
                    base_url="http://localhost") as client:
        assert client.get("/api/jobs").status_code == 200
        one_line(client.get("/api/jobs", headers={"Host": "testserver"}), 421, "testserver")


# -- 9: the queue limit is atomic, the work of one job is bounded ------------------------------------------


def test_parallel_submissions_do_not_pass_the_queue_limit(server, http, tiny_pair):
    body = multipart(pair_parts(tiny_pair) + [(name, None, value.encode()) for name, value in LONG.items()])
    kind = {"Content-Type": "multipart/form-data; boundary=painterly-test-boundary"}
    running = http.post("/api/jobs", content=body, headers=kind).json()
    try:
        wait(http, running["id"], {"running"})  # the one worker is busy: the others wait
        answers, start = [], threading.Barrier(12)

        def submit():
            with httpx.Client(base_url=server.url, timeout=60) as client:
                start.wait(30)
                answers.append(client.post("/api/jobs", content=body, headers=kind))

        threads = [threading.Thread(target=submit) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        codes = sorted(a.status_code for a in answers)
        assert codes == [201] * QUEUE + [503] * (12 - QUEUE), codes
        one_line(next(a for a in answers if a.status_code == 503), 503, f"{QUEUE} jobs are already waiting")
        assert sum(job["state"] == "queued" for job in http.get("/api/jobs").json()) == QUEUE
    finally:
        for job in http.get("/api/jobs").json():
            if job["state"] in ("queued", "running"):
                http.post(f"/api/jobs/{job['id']}/cancel")
        wait(http, running["id"], {"cancelled", "completed", "failed"})


def test_submit_checks_and_inserts_atomically(tmp_path, tiny_pair):
    jobs = Jobs(tmp_path / "data")  # not started: nothing leaves the queue
    settings = preset("default", size=48, iterations=2, model="vgg16-hed")
    inputs = []
    for n in range(24):
        copies = [tmp_path / f"content-{n}", tmp_path / f"style-{n}"]
        for source, copy in zip(tiny_pair, copies):
            shutil.copyfile(source, copy)
        inputs.append(copies)
    accepted, refused, start = [], [], threading.Barrier(24)

    def submit(content, style):
        start.wait(30)
        try:
            accepted.append(jobs.submit(settings, "default", ("c.png", content), [("s.png", style)], limit=20))
        except QueueFull as error:
            refused.append(str(error))

    threads = [threading.Thread(target=submit, args=pair) for pair in inputs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert (len(accepted), len(refused)) == (20, 4)
        assert jobs.waiting() == 20 and len(list((tmp_path / "data" / "jobs").iterdir())) == 20
        assert "20 jobs are already waiting" in refused[0]
    finally:
        jobs.close()


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(tmp_path / "data", limits=Limits(upload_bytes=50_000, pixels=10_000))) as client:
        yield client


def files(tiny_pair):
    content, style = tiny_pair
    return [("content", ("photo.png", content.read_bytes(), "image/png")),
            ("style", ("painting.png", style.read_bytes(), "image/png"))]


def test_the_total_work_of_a_job_is_bounded(client, tiny_pair):
    costly = {"size": "1024", "min_size": "16", "multiscale": "on", "iterations": "5000", "fine_iterations": "5000",
              "large_iterations": "5000"}
    detail = one_line(client.post("/api/jobs", files=files(tiny_pair), data=costly), 400, "pixel-iterations")
    assert "7 scales" in detail and f"{Limits().work:,}" in detail
    assert client.get("/api/jobs").json() == []
    limits = client.get("/api/settings").json()["limits"]
    assert limits["work"] == Limits().work == 1024 * 1024 * 5000
    # what a single scale at the largest size and most iterations costs is within it, so is every preset there
    from painterly.settings import PRESETS
    from painterly.web import forms

    forms.parse_settings("default", {"size": "1024", "multiscale": "off", "iterations": "5000"}, Limits())
    for name in PRESETS:
        forms.parse_settings(name, {"size": "1024"}, Limits())


STYLE_SCALED = {  # settings: what the refusal says (a 48 px job, the server's limit 64 px)
    "upscaled style": ({"style_scale": "8", "style_upscale": "true"}, "makes style image 'painting.png' 384×384 px"),
    "large style": ({"style_scale": "8"}, "makes style image 'large.png' 100×100 px"),
    "fast, small scale": ({"method": "fast", "style_scale": "0.05"}, "the fast network paints at 960 px"),
    "fast start": ({"init": "fast", "style_scale": "0.25"}, "the fast network paints at 192 px"),
}


@pytest.mark.parametrize("case", list(STYLE_SCALED))
def test_the_style_scale_cannot_take_a_job_past_the_size_limit(tmp_path, tiny_pair, case):
    """Every picture a job works on stays within --max-size: the style images as scaled, the fast painting."""
    data, text = STYLE_SCALED[case]
    limits = Limits(upload_bytes=50_000, pixels=10_000, size=64)
    upload = files(tiny_pair)
    if case == "large style":  # within the pixel limit, not enlarged: its own 100 px are used
        upload[1] = ("style", ("large.png", png_bytes((100, 100)), "image/png"))
    job = {"size": "48", "iterations": "2", "model": "vgg16-hed", **data}
    with TestClient(create_app(tmp_path / "data", limits=limits)) as client:
        detail = one_line(client.post("/api/jobs", files=upload, data=job), 400, text)
        assert "over this server's limit of 64 px" in detail
        assert client.get("/api/jobs").json() == []
        within = {**job, "style_scale": "1.3" if float(data["style_scale"]) > 1 else "0.8"}  # 62 px, 60 px
        response = client.post("/api/jobs", files=files(tiny_pair), data=within)
        assert response.status_code == 201, response.text


def png_bytes(size) -> bytes:
    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


# -- 10: bad query values ---------------------------------------------------------------------------------


def test_bad_query_values_are_400(server, http):
    job = "0" * 32
    for path in ("/api/jobs?limit=1e20", "/api/jobs?limit=100000000000000000000000", "/api/jobs?limit=-1",
                 "/api/jobs?limit=0", "/api/jobs?limit=abc", "/api/jobs?limit=", "/api/jobs?limit=1.5",
                 f"/api/jobs/{job}/events?since=1e20", f"/api/jobs/{job}/events?since=-3",
                 f"/api/jobs/{job}/events?since=100000000000000000000000", f"/api/jobs/{job}/events?since=x"):
        one_line(http.get(path), 400, "")
    assert http.get("/api/jobs?limit=5").status_code == 200
    one_line(http.get(f"/api/jobs/{job}/events?since=2"), 404, "no job")


# -- 11: what downloads tell, security headers ---------------------------------------------------------------


def _strings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_reports_show_no_server_paths_nor_platform(client, tiny_pair, tmp_path):
    job = client.post("/api/jobs", files=files(tiny_pair), data=TINY).json()
    assert wait(client, job["id"], {"completed", "failed"})["state"] == "completed"
    secrets = [str(tmp_path), str(Path.home()), platform.platform()]
    page = client.get(f"/api/jobs/{job['id']}/report").text
    assert "<table" in page
    with zipfile.ZipFile(io.BytesIO(client.get(f"/api/jobs/{job['id']}/report.zip").content)) as archive:
        texts = {name: archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
                 if name.endswith((".json", ".html", ".csv"))}
        metadata = json.loads(next(t for n, t in texts.items() if n.endswith("metadata.json")))
    for name, text in {"report": page, **texts}.items():
        for secret in secrets:
            assert secret not in text, (name, secret)
    assert "platform" not in metadata.get("versions", {})
    assert metadata["content"]["path"] == "content" and [s["path"] for s in metadata["styles"]] == ["style-1"]
    for text in _strings(metadata):
        assert not text.startswith(("/", "~")) and ":\\" not in text, text
    status = client.get(f"/api/jobs/{job['id']}").json()
    assert not any(text.startswith("/") for text in _strings(status))


HEADERS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


def test_every_response_has_security_headers(server, http):
    responses = [http.get(path) for path in ("/", "/static/app.js", "/static/style.css", "/api/settings",
                                             "/api/jobs", "/api/openapi.json", "/api/jobs/nope", "/missing")]
    responses.append(http.get("/api/jobs", headers={"Host": "evil.example"}))
    responses.append(http.post("/api/jobs", headers={"Origin": "http://evil.example"}))
    for response in responses:
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (response.url, name, response.headers)
        policy = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy, (response.url, policy)
    page = responses[0].headers["content-security-policy"]
    for directive in ("script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'"):
        assert directive in page, page
    assert "unsafe" not in page


def test_the_page_needs_nothing_the_policy_forbids():
    """The page's own files under the page policy: no inline script or style, no eval, nothing from elsewhere."""
    static = Path(__file__).resolve().parents[1] / "src" / "painterly" / "web" / "static"
    html = (static / "index.html").read_text()
    script = (static / "app.js").read_text()
    assert html.count("<script") == html.count('<script src="/static/') == 1
    assert "<style" not in html and not re.search(r"\sstyle\s*=", html) and not re.search(r"\son[a-z]+\s*=", html)
    for forbidden in ("eval(", "new Function", "innerHTML", ".style.", "setAttribute(\"style", "javascript:"):
        assert forbidden not in script, forbidden


def test_the_report_page_gets_a_policy_for_its_inline_style_and_images(client, tiny_pair):
    job = client.post("/api/jobs", files=files(tiny_pair), data=TINY).json()
    wait(client, job["id"], {"completed", "failed"})
    response = client.get(f"/api/jobs/{job['id']}/report")
    policy = response.headers["content-security-policy"]
    assert "script-src 'none'" in policy or ("default-src 'none'" in policy and "script-src" not in policy)
    assert "style-src 'unsafe-inline'" in policy and "img-src data:" in policy and "frame-ancestors 'none'" in policy
    assert "<style>" in response.text and 'src="data:image/png' in response.text


# -- the backbone cache ----------------------------------------------------------------------------------------


def _painted(jobs, settings, pair, folder, n: int) -> dict:
    """Submit a job of `pair` (copied: the worker takes its files) to `jobs` and wait for it: its final status."""
    copies = [folder / f"content-{n}", folder / f"style-{n}"]
    for source, copy in zip(pair, copies):
        shutil.copyfile(source, copy)
    job = jobs.submit(settings, "default", ("c.png", copies[0]), [("s.png", copies[1])])
    deadline = time.monotonic() + 120
    while jobs.status(job["id"])["state"] not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(0.05)
    return jobs.status(job["id"])


def test_the_backbone_cache_is_keyed_by_everything_the_network_depends_on(tmp_path, tiny_pair, monkeypatch):
    from painterly import backbones

    built, build = [], backbones.build

    def recording(model, layers, **options):
        built.append((model, tuple(sorted(layers)), options.get("border"), options.get("precision")))
        return build(model, layers, **options)

    monkeypatch.setattr(backbones, "build", recording)
    jobs = Jobs(tmp_path / "data")
    jobs.start()
    try:
        base = dict(size=48, iterations=2, model="vgg16-hed", optimizer="adam", save_every=0)
        runs = [preset("default", **base), preset("default", **base, border="zero"),
                preset("default", **base, border="zero"), preset("default", **base, precision="bfloat16"),
                preset("default", **base, style_layers=("block1_conv1", "block2_conv1"))]
        for n, settings in enumerate(runs):
            done = _painted(jobs, settings, tiny_pair, tmp_path, n)
            assert done["state"] == "completed", done
        assert [(border, precision) for _, _, border, precision in built] == [
            ("mirror", "float32"), ("zero", "float32"), ("mirror", "bfloat16"), ("mirror", "float32")]  # 3rd reused
        assert len({layers for _, layers, _, _ in built}) == 2
    finally:
        jobs.close()


def test_a_fast_job_after_an_optimised_one_is_not_handed_its_feature_network(tmp_path, tiny_pair):
    """The worker keeps the optimisation's feature network for the next job; a fast job whose settings name the
    same feature network (the fields it ignores) paints with the fast network, not with that one."""
    jobs = Jobs(tmp_path / "data")
    jobs.start()
    try:
        base = dict(size=48, iterations=2, model="vgg16-hed", optimizer="adam", save_every=0)
        for n, settings in enumerate([preset("default", **base), preset("default", **base, method="fast")]):
            done = _painted(jobs, settings, tiny_pair, tmp_path, n)
            assert done["state"] == "completed" and done["result"], done
    finally:
        jobs.close()


# -- duplicate layers ------------------------------------------------------------------------------------------


def test_thousands_of_copies_of_a_layer_are_refused_at_once(client, tiny_pair, tmp_path):
    started = time.perf_counter()
    detail = one_line(client.post("/api/jobs", files=files(tiny_pair),
                                  data={**TINY, "style_layers": " ".join(["block1_conv1"] * 5000)}), 400,
                      "block1_conv1 is given more than once")
    assert time.perf_counter() - started < 5, detail
    assert client.get("/api/jobs").json() == []
    assert list((tmp_path / "data" / "jobs").iterdir()) == []
