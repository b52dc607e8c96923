"""The web app's API in process (FastAPI's TestClient) and as a real server: jobs run, refuse, cancel, survive."""

import dataclasses
import io
import json
import signal
import socket
import sqlite3
import sys
import threading
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from painterly import PainterlyError, Settings, preset
from painterly.cli import main
from painterly.settings import PRESETS

pytest.importorskip("fastapi", reason='the web app needs pip install "painterly[web]"')
httpx = pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from painterly.web.app import create_app  # noqa: E402
from painterly.web import store as store_module  # noqa: E402
from painterly.web.forms import Limits  # noqa: E402
from tests.conftest import events, free_port, killed_server, wait  # noqa: E402

TINY = {"size": "48", "iterations": "3", "model": "vgg16-hed", "save_every": "1"}
LONG = {"size": "48", "iterations": "4000", "model": "vgg16-hed", "optimizer": "adam", "save_every": "0"}
LIMITS = Limits(upload_bytes=50_000, pixels=10_000, styles=2)
FINISHED = {"completed", "cancelled", "interrupted", "failed"}


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(tmp_path / "data", limits=LIMITS)) as client:
        yield client


def files(content, *styles):
    """Multipart files: (field, (name, bytes, type)) from paths or (name, bytes) pairs."""
    def part(field, item):
        name, data = (item.name, item.read_bytes()) if hasattr(item, "read_bytes") else item
        return field, (name, data, "application/octet-stream")
    return ([part("content", content)] if content is not None else []) + [part("style", s) for s in styles]


def png(size, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_job_from_upload_to_download(client, tiny_pair, tmp_path):
    content, style = tiny_pair
    response = client.post("/api/jobs", files=files(("../../../photo.png", content.read_bytes()),
                                                    ("C:\\paintings\\starry.png", style.read_bytes())), data=TINY)
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["state"] in ("queued", "running") and job["inputs"] == {"content": "photo.png", "styles": ["starry.png"]}
    assert job["settings"] == preset("default", size=48, iterations=3, model="vgg16-hed", save_every=1).to_dict()

    stream = events(client, job["id"])
    steps = [data["step"] for kind, data in stream if kind == "progress"]
    states = [data["state"] for kind, data in stream if kind == "state"]
    assert steps == [0, 1, 2, 3] and states[-1] == "completed" and set(states) <= {"queued", "running", "completed"}
    last = [data for kind, data in stream if kind == "progress"][-1]
    assert last["size"] == [48, 32] and last["eta"] == 0
    losses = [data["loss"] for kind, data in stream if kind == "progress"]
    assert min(losses[1:]) < losses[0]  # it painted

    done = client.get(f"/api/jobs/{job['id']}").json()
    assert done["state"] == "completed" and done["result"] and done["report"] and done["progress"]["step"] == 3
    result = client.get(f"/api/jobs/{job['id']}/result")
    assert result.headers["content-disposition"].startswith("attachment")
    image = decoded(result.content)
    assert image.size == (48, 32)
    assert not np.array_equal(np.asarray(image.convert("RGB")), np.asarray(Image.open(content).convert("RGB")))
    assert decoded(client.get(f"/api/jobs/{job['id']}/preview").content).size == (48, 32)
    assert "<table" in client.get(f"/api/jobs/{job['id']}/report").text
    with zipfile.ZipFile(io.BytesIO(client.get(f"/api/jobs/{job['id']}/report.zip").content)) as archive:
        names = archive.namelist()
        table = next(n for n in names if n.endswith("table.csv"))
        assert len(archive.read(table).decode().strip().splitlines()) == 1 + 4  # header + iterations 0..3
        assert any(n.endswith("loss.png") for n in names) and any(n.endswith("index.html") for n in names)
    assert [j["id"] for j in client.get("/api/jobs").json()] == [job["id"]]

    # user file names are for display only: the job folder holds our names, nothing was written elsewhere
    data = tmp_path / "data"
    assert sorted(p.name for p in (data / "jobs" / job["id"]).iterdir()) == ["content", "report", "result.png", "style-1"]
    assert sorted(p.name for p in data.iterdir()) == ["jobs", "jobs.lock", "jobs.sqlite", "jobs.sqlite-shm",
                                                      "jobs.sqlite-wal"]
    assert not (tmp_path / "photo.png").exists()


def test_the_page_and_the_api_document_are_served_offline(client):
    page = client.get("/")
    assert page.status_code == 200 and 'src="/static/app.js"' in page.text
    for name in ("app.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    for text in (page.text, client.get("/static/app.js").text, client.get("/static/style.css").text):
        assert "http://" not in text and "https://" not in text and "//cdn" not in text  # nothing from elsewhere
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/events", "/api/jobs/{job_id}/result",
                 "/api/jobs/{job_id}/report", "/api/jobs/{job_id}/cancel", "/api/settings"):
        assert path in paths, path
    form = paths["/api/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert {"content", "style", "iterations", "style_weight", "preserve_color"} <= set(form)


def test_the_form_is_built_from_settings(client):
    described = client.get("/api/settings").json()
    names = [f["name"] for f in described["fields"]]
    assert sorted(names) == sorted(f.name for f in dataclasses.fields(Settings) if f.name != "weights")
    assert names[:6] == ["method", "init", "style_weight", "style_strength", "size", "preserve_color"]  # main first
    by_name = {f["name"]: f for f in described["fields"]}
    assert by_name["iterations"]["methods"] == ["optimise"] and "fast" in by_name["size"]["methods"]
    assert "fast" in by_name["init"]["choices"]
    for field in described["fields"]:
        meta = next(f for f in dataclasses.fields(Settings) if f.name == field["name"]).metadata
        assert field["flag"] == meta["flag"] and field["help"] == meta["help"]
    assert described["presets"] == {name: preset(name).to_dict() for name in PRESETS}
    assert described["limits"]["styles"] == 2 and described["limits"]["upload_bytes"] == 50_000


def test_a_fast_job_paints_in_one_step_and_an_optimisation_can_start_from_it(client, tiny_pair):
    content, style = tiny_pair
    response = client.post("/api/jobs", files=files(content, style), data={"method": "fast", "size": "48"})
    assert response.status_code == 201, response.text
    stream = events(client, response.json()["id"])
    progress = [data for kind, data in stream if kind == "progress"]
    assert len(progress) == 1 and progress[0]["steps"] == 0 and progress[0]["loss"] is None
    job = client.get(f"/api/jobs/{response.json()['id']}").json()
    assert job["state"] == "completed"
    image = decoded(client.get(f"/api/jobs/{job['id']}/result").content)
    assert image.size == (48, 32)
    assert "Painted in one pass" in client.get(f"/api/jobs/{job['id']}/report").text

    response = client.post("/api/jobs", files=files(content, style), data={**TINY, "init": "fast"})
    stream = events(client, response.json()["id"])
    first = [data for kind, data in stream if kind == "progress"][0]
    assert first["step"] == 0 and first["start"] == "fast" and first["loss"] is not None


def _refusals(pair):
    content, style = pair
    c, s = ("photo.png", content.read_bytes()), ("painting.png", style.read_bytes())
    return {
        "no content": (files(None, s), {}, 400, "no content photo: pick the photo"),
        "no style": (files(c), {}, 400, "no style image: pick at least one"),
        "not an image": (files(("notes.png", b"hello, I am text"), s), {}, 400,
                         "content photo 'notes.png' is not an image painterly can read"),
        "corrupt": (files(c, ("cut.png", s[1][: len(s[1]) // 2])), {}, 400, "style image 'cut.png' is truncated or corrupt"),
        "empty": (files(("empty.jpg", b""), s), {}, 400, "content photo 'empty.jpg' is empty (0 bytes)"),
        "too many bytes": (files(("big.png", png((140, 140))), s), {}, 413,
                           "content photo 'big.png' is 58 KB, over the upload limit of 49 KB: downscale it"),
        "too many pixels": (files(c, ("wide.png", png((200, 60)))), {}, 400, "style image 'wide.png' is too large"),
        "too many styles": (files(c, s, s, s), {}, 400, "3 style images: choose at most 2"),
        "demo and uploads": (files(c, s), {"demo": "true"}, 400, "the demo uses the bundled pair"),
        "unknown setting": (files(c, s), {"itrations": "5"}, 400, "unknown setting 'itrations': did you mean iterations?"),
        "not a number": (files(c, s), {"iterations": "many"}, 400, "setting --iterations: invalid int value: 'many'"),
        "out of range": (files(c, s), {"iterations": "0"}, 400, "iterations 0 is out of range"),
        "over the size limit": (files(c, s), {"size": "4096"}, 400, "size 4096 is over this server's limit"),
        "bad choice": (files(c, s), {"preserve_color": "sepia"}, 400, "invalid choice: 'sepia'"),
        "not a boolean": (files(c, s), {"normalize": "maybe"}, 400, "'maybe' is not true or false"),
        "unknown preset": (files(c, s), {"preset": "papr"}, 400, "unknown preset 'papr': did you mean paper?"),
        "server file as init": (files(c, s), {"init": "/etc/passwd"}, 400, "init '/etc/passwd' is not available"),
        "server weights file": (files(c, s), {"weights": "/etc/passwd"}, 400, "names a file on the server"),
        "style weights": (files(c, s), {"style_blend": "1 2"}, 400, "2 style weights for 1 style images"),
        "body too large": (files(("huge.png", b"\0" * 1_300_000), s), {}, 413, "over the upload limit"),
    }


REFUSED = ["no content", "no style", "not an image", "corrupt", "empty", "too many bytes", "too many pixels",
           "too many styles", "demo and uploads", "unknown setting", "not a number", "out of range",
           "over the size limit", "bad choice", "not a boolean", "unknown preset", "server file as init",
           "server weights file", "style weights", "body too large"]


@pytest.mark.parametrize("case", REFUSED)
def test_each_refused_input_gets_one_line(client, tiny_pair, tmp_path, case):
    upload, data, status, message = _refusals(tiny_pair)[case]
    response = client.post("/api/jobs", files=upload, data=data)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert message in detail and "\n" not in detail, detail
    assert client.get("/api/jobs").json() == []
    assert list((tmp_path / "data" / "jobs").iterdir()) == []  # no job folder, no upload left behind
    assert [p.name for p in (tmp_path / "data").iterdir() if p.name.startswith(".")] == []


def test_other_sites_pages_and_a_second_server_are_refused(client, tiny_pair, tmp_path):
    content, style = tiny_pair
    response = client.post("/api/jobs", files=files(content, style), data=TINY, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403 and "http://evil.example was refused" in response.json()["detail"]
    assert client.get("/api/jobs").json() == []
    with pytest.raises(PainterlyError, match="is in use by another painterly server: stop that one"):
        create_app(tmp_path / "data")


def test_unknown_jobs_are_404(client):
    assert "32 hex digits" in client.get("/api/jobs/not-a-job").json()["detail"]
    for path in ("", "/result", "/report", "/events", "/preview"):
        response = client.get(f"/api/jobs/{'0' * 32}{path}")
        assert response.status_code == 404 and "no job" in response.json()["detail"], path
    assert client.post(f"/api/jobs/{'0' * 32}/cancel").status_code == 404


def test_cancel_a_running_and_a_queued_job(client, tiny_pair):
    content, style = tiny_pair
    running = client.post("/api/jobs", files=files(content, style), data=LONG).json()
    queued = client.post("/api/jobs", files=files(content, style), data=TINY).json()
    assert queued["state"] == "queued" and queued["position"] == 1  # one worker: it waits
    wait(client, running["id"], {"running"}, until=lambda job: job["result"])  # the best image so far is saved

    cancelled = client.post(f"/api/jobs/{queued['id']}/cancel").json()
    assert cancelled["state"] == "cancelled" and cancelled["message"] == "cancelled before it started"
    assert client.post(f"/api/jobs/{running['id']}/cancel").json()["stopping"]
    stopped = wait(client, running["id"], {"completed", "cancelled", "failed", "interrupted"}, 60)
    assert stopped["state"] == "cancelled" and "best image so far is kept" in stopped["message"]
    assert stopped["result"] and stopped["report"]
    assert decoded(client.get(f"/api/jobs/{running['id']}/result").content).size == (48, 32)
    records = [d for kind, d in events(client, running["id"]) if kind == "progress"]
    assert 1 <= records[-1]["step"] < 4000
    again = client.post(f"/api/jobs/{running['id']}/cancel")
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    time.sleep(0.5)
    left = client.get(f"/api/jobs/{queued['id']}").json()
    assert left["state"] == "cancelled" and left["started"] is None and not left["result"]  # it never ran


def test_a_tiled_job_shows_its_tiles_while_a_step_runs(client, tiny_pair):
    content, style = tiny_pair
    job = client.post("/api/jobs", files=files(content, style), data={**LONG, "tile": "16"}).json()
    seen = wait(client, job["id"], {"running"}, until=lambda j: j["tile"] is not None)
    # 48×32 px in 16 px tiles: 3 × 2 tiles, each computed twice (the loss's sums, then the gradient)
    assert seen["tile"]["total"] == 12 and 1 <= seen["tile"]["done"] <= 12
    client.post(f"/api/jobs/{job['id']}/cancel")
    done = wait(client, job["id"], {"cancelled"})
    assert done["tile"] is None


def test_stopping_the_server_keeps_a_running_job_as_interrupted(tiny_pair, tmp_path):
    content, style = tiny_pair
    with TestClient(create_app(tmp_path / "data")) as client:
        job = client.post("/api/jobs", files=files(content, style), data=LONG).json()
        wait(client, job["id"], {"running"}, until=lambda job: job["result"])
    with TestClient(create_app(tmp_path / "data")) as client:  # the app stopped, then started again
        stopped = client.get(f"/api/jobs/{job['id']}").json()
        assert stopped["state"] == "interrupted" and stopped["message"] == "the server stopped: the best image so far is kept"
        assert stopped["result"] and stopped["report"]  # a clean stop writes the report too
        assert "<table" in client.get(f"/api/jobs/{job['id']}/report").text


def test_restart_keeps_results_and_marks_a_running_job_interrupted(tiny_pair, tmp_path):
    """A real server (painterly serve) is killed mid-job; a new one on the same folder shows everything."""
    content, style = tiny_pair
    data = tmp_path / "data"
    with killed_server(data) as http:
        finished = http.post("/api/jobs", files=files(content, style), data=TINY).json()
        wait(http, finished["id"], {"completed"})
        running = http.post("/api/jobs", files=files(content, style), data=LONG).json()
        waiting = http.post("/api/jobs", files=files(content, style), data={**TINY, "iterations": "2"}).json()

        seen = [[], []]  # two browsers watch the same job at once

        def watch(into):
            with httpx.Client(base_url=http.base_url, timeout=120) as browser:
                with browser.stream("GET", f"/api/jobs/{running['id']}/events") as stream:
                    for line in stream.iter_lines():
                        if line.startswith("data: {\"scale\""):
                            into.append(json.loads(line[6:])["step"])
                        if len(into) >= 3:
                            return

        watchers = [threading.Thread(target=watch, args=(into,)) for into in seen]
        for thread in watchers:
            thread.start()
        for thread in watchers:
            thread.join(300)
        assert seen == [[0, 1, 2], [0, 1, 2]]
        wait(http, running["id"], {"running"}, until=lambda job: job["result"])

    with TestClient(create_app(data)) as client:
        jobs = {job["id"]: job for job in client.get("/api/jobs").json()}
        assert jobs[finished["id"]]["state"] == "completed" and jobs[finished["id"]]["report"]
        assert decoded(client.get(f"/api/jobs/{finished['id']}/result").content).size == (48, 32)
        cut = jobs[running["id"]]
        assert cut["state"] == "interrupted" and cut["result"]
        assert cut["message"] == "the server stopped while this job ran: the best image so far is kept"
        assert decoded(client.get(f"/api/jobs/{running['id']}/result").content).size == (48, 32)
        assert [d["state"] for kind, d in events(client, running["id"])] == ["interrupted"]
        assert wait(client, waiting["id"], {"completed", "failed"})["state"] == "completed"  # it was not lost


def test_serve_refuses_a_taken_port_and_missing_dependencies(tmp_path, capsys, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--data-dir", str(tmp_path)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the web extra were not installed
    assert main(["serve", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "painterly[web]"' in err


# -- the job records (jobs.sqlite) held by another program, damaged, or on a full disk ------------------------


def saved_states(data) -> dict:
    """Each job's state as jobs.sqlite holds it, read by a connection of our own."""
    with sqlite3.connect(data / "jobs.sqlite") as db:
        return dict(db.execute("SELECT id, state FROM jobs").fetchall())


def hold(database):
    """Another program (an sqlite3 shell, a backup) holding the write lock of `database` until closed."""
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    return other


def test_a_database_locked_by_another_program_does_not_stop_the_worker(tiny_pair, tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "WAIT_SECONDS", 1.0)  # a write waits this long (30 s served)
    content, style = tiny_pair
    data = tmp_path / "data"
    with TestClient(create_app(data)) as client:
        running = client.post("/api/jobs", files=files(content, style), data=LONG).json()
        later = client.post("/api/jobs", files=files(content, style), data=TINY).json()
        wait(client, running["id"], {"running"}, until=lambda job: job["result"])
        other = hold(data / "jobs.sqlite")
        try:
            assert client.post(f"/api/jobs/{running['id']}/cancel").json()["stopping"]
            # its end cannot be written: the worker goes on, the API tells the truth, the next job runs
            stopped = wait(client, running["id"], FINISHED, 120)
            assert stopped["state"] == "cancelled" and "not saved yet" in stopped["message"], stopped
            done = wait(client, later["id"], FINISHED, 120)
            assert done["state"] == "completed" and done["result"] and "locked by another program" in done["message"]
            assert saved_states(data)[later["id"]] == "queued"  # the file could not be told yet
        finally:
            other.rollback()
            other.close()
        deadline = time.monotonic() + 120  # released: what was kept in memory reaches the file
        while saved_states(data) != {running["id"]: "cancelled", later["id"]: "completed"}:
            assert time.monotonic() < deadline, saved_states(data)
            time.sleep(0.1)
        assert client.get(f"/api/jobs/{later['id']}").json()["message"] is None
        again = client.post("/api/jobs", files=files(content, style), data=TINY).json()
        assert wait(client, again["id"], FINISHED)["state"] == "completed"


def test_a_submission_while_the_records_are_locked_gets_one_line_and_leaves_nothing(tiny_pair, tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "WAIT_SECONDS", 1.0)
    content, style = tiny_pair
    data = tmp_path / "data"
    with TestClient(create_app(data, limits=LIMITS)) as client:
        other = hold(data / "jobs.sqlite")
        try:
            response = client.post("/api/jobs", files=files(content, style), data=TINY)
        finally:
            other.rollback()
            other.close()
        assert response.status_code == 503, response.text
        detail = response.json()["detail"]
        assert "jobs.sqlite is locked by another program" in detail and "over 1 s" in detail, detail
        assert "\n" not in detail and str(data) not in detail, detail
        assert client.get("/api/jobs").json() == []
        assert list((data / "jobs").iterdir()) == []  # no job folder holding the uploads
        assert [p.name for p in data.iterdir() if p.name.startswith(".")] == []
        assert client.post("/api/jobs", files=files(content, style), data=TINY).status_code == 201  # released: fine


def test_a_submission_the_disk_refuses_gets_one_line_and_leaves_nothing(client, tmp_path):
    """The kernel refuses the upload's bytes (a file-size limit on this process: as a full disk, EFBIG)."""
    import resource

    data = tmp_path / "data"
    before = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, before[1]))
    try:
        response = client.post("/api/jobs", files=files(("photo.png", png((90, 90))), ("art.png", png((40, 40), 1))))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, before)
        signal.signal(signal.SIGXFSZ, handler)
    assert response.status_code == 503, response.text
    detail = response.json()["detail"]
    assert "could not store" in detail and "File too large" in detail and "\n" not in detail, detail
    assert str(data) not in detail
    assert list((data / "jobs").iterdir()) == [] and [p.name for p in data.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("case", ["damaged", "not ours", "locked"])
def test_serve_refuses_a_damaged_foreign_or_locked_jobs_file_in_one_line(tmp_path, capsys, monkeypatch, case):
    monkeypatch.setattr(store_module, "WAIT_SECONDS", 1.0)
    data = tmp_path / "data"
    data.mkdir()
    database = data / "jobs.sqlite"
    other = None
    if case == "damaged":
        database.write_bytes(b"SQLite format 3\0" + bytes(range(256)) * 16)  # the header, then garbage
    elif case == "not ours":
        with sqlite3.connect(database) as db:
            db.execute("CREATE TABLE photos (path TEXT)")
    else:  # an sqlite3 shell holding a database in rollback-journal mode: not even a read gets through
        with sqlite3.connect(database) as db:
            db.execute("CREATE TABLE jobs (id TEXT)")
        other = sqlite3.connect(database, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
    before = database.read_bytes()
    try:
        assert main(["serve", "--port", str(free_port()), "--data-dir", str(data)]) == 2
    finally:
        if other is not None:
            other.rollback()
            other.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert str(database) in err, err
    expected = {"damaged": "is damaged", "not ours": "was not made by painterly", "locked": "locked by another program"}
    assert expected[case] in err, err
    assert database.read_bytes() == before  # the file is left as it was
    if case != "locked":
        create = pytest.raises(PainterlyError, match="jobs.sqlite")
        with create:  # and the lock of the data folder was let go: the same one-line refusal, not "in use"
            create_app(data)


def test_an_upload_cut_before_its_closing_boundary_is_refused(client, tiny_pair):
    content, style = tiny_pair
    boundary = "painterly-boundary"
    parts = [b"--%s\r\nContent-Disposition: form-data; name=\"content\"; filename=\"photo.png\"\r\n"
             b"Content-Type: image/png\r\n\r\n%s\r\n" % (boundary.encode(), content.read_bytes()),
             b"--%s\r\nContent-Disposition: form-data; name=\"style\"; filename=\"art.png\"\r\n"
             b"Content-Type: image/png\r\n\r\n%s\r\n" % (boundary.encode(), style.read_bytes())]
    for name, value in TINY.items():
        parts.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                     % (boundary.encode(), name.encode(), value.encode()))
    whole = b"".join(parts) + b"--%s--\r\n" % boundary.encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    cut = b"".join(parts)  # every part, but the closing boundary never came: was the last field whole?
    response = client.post("/api/jobs", content=cut, headers=headers)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "closing boundary" in detail and "\n" not in detail, detail
    assert client.get("/api/jobs").json() == []
    ok = client.post("/api/jobs", content=whole, headers=headers)
    assert ok.status_code == 201, ok.text
    assert ok.json()["settings"]["save_every"] == 1  # the last field arrived


def test_a_finished_jobs_steps_leave_memory_and_are_still_streamed(client, tiny_pair, tmp_path):
    """The server holds a job's step records in memory while it runs only (issue 21, seam 5): then jobs.sqlite."""
    content, style = tiny_pair
    job = client.post("/api/jobs", files=files(content, style), data=TINY).json()
    wait(client, job["id"], {"completed"})
    jobs = client.app.state.jobs
    deadline = time.monotonic() + 60  # they move right after the state is written
    while job["id"] in jobs._live:
        assert time.monotonic() < deadline, "the finished job's step records are still in memory"
        time.sleep(0.05)
    assert [d["step"] for kind, d in events(client, job["id"]) if kind == "progress"] == [0, 1, 2, 3]
    assert [r["step"] for r in jobs.records(job["id"], 2)] == [2, 3]
    with sqlite3.connect(tmp_path / "data" / "jobs.sqlite") as db:
        kept = json.loads(db.execute("SELECT steps FROM jobs WHERE id = ?", (job["id"],)).fetchone()[0])
    assert [r["step"] for r in kept] == [0, 1, 2, 3]


def test_a_full_disk_during_a_job_fails_that_job_in_one_line_and_the_worker_goes_on(client, tiny_pair, tmp_path):
    """No file may grow while a job runs (RLIMIT_FSIZE on this process: the kernel refuses the bytes, as a full disk
    does, with EFBIG): its image, its report and jobs.sqlite are refused. The job fails saying so; once the disk
    takes bytes again the records are written and the next job runs."""
    import resource

    content, style = tiny_pair
    running = client.post("/api/jobs", files=files(content, style), data=LONG).json()
    wait(client, running["id"], {"running"}, until=lambda job: job["result"])
    before = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, before[1]))
    try:
        failed = wait(client, running["id"], FINISHED, 120)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, before)
        signal.signal(signal.SIGXFSZ, handler)
    assert failed["state"] == "failed" and "File too large" in failed["message"], failed
    assert "\n" not in failed["message"] and str(tmp_path) not in failed["message"], failed["message"]
    deadline = time.monotonic() + 120
    while saved_states(tmp_path / "data").get(running["id"]) != "failed":
        assert time.monotonic() < deadline, saved_states(tmp_path / "data")
        time.sleep(0.1)
    later = client.post("/api/jobs", files=files(content, style), data=TINY).json()
    assert wait(client, later["id"], FINISHED)["state"] == "completed"


def test_serve_refuses_a_data_folder_whose_jobs_is_not_a_folder_in_one_line(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "jobs").write_text("my notes")  # the user's file, where the job folders would go
    assert main(["serve", "--port", str(free_port()), "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{data / 'jobs'} is not a folder" in err and "--data-dir" in err, err
    assert (data / "jobs").read_text() == "my notes" and not (data / "jobs.sqlite").exists()
