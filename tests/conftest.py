"""Shared fixtures: tiny real images from ../shared/images and a random-weight backbone."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"
LAYERS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block4_conv2", "block5_conv1", "block5_conv2"]


def shared_image(kind: str, name: str) -> Path:
    path = SHARED_IMAGES / kind / name
    if not path.is_file():
        pytest.skip(f"{path} is not here (../shared/images is beside the checkout in CI)")
    return path


@pytest.fixture
def tiny_pair(tmp_path):
    """A 48×32 content photo and a 40×40 style painting, cut from the shared test images."""
    content = Image.open(shared_image("content", "tubingen.jpg")).convert("RGB").resize((48, 32))
    style = Image.open(shared_image("style", "starry_night.jpg")).convert("RGB").resize((40, 40))
    content_path, style_path = tmp_path / "content.png", tmp_path / "style.png"
    content.save(content_path)
    style.save(style_path)
    return content_path, style_path


@pytest.fixture(scope="session")
def random_vgg19():
    """VGG19 with random weights, returning the default layers: fast and offline."""
    import keras

    from painterly import backbones

    keras.utils.set_random_seed(0)
    return backbones.build("vgg19-random", LAYERS)


@pytest.fixture(scope="session")
def hed_backbone():
    from painterly import backbones

    return backbones.build("vgg16-hed", LAYERS)


def decode(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


# -- the web app's jobs, as its tests watch them


def wait(client, job_id, states, seconds=120, until=lambda job: True, poll=0.05):
    """A web job (TestClient or httpx) once it is in one of `states` and `until` holds; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states and until(job):
            return job
        time.sleep(poll)
    raise AssertionError(f"job {job_id} is still {job['state']} after {seconds} s")


def events(client, job_id):
    """Every (event, data) of a job's stream, to its end."""
    got, kind = [], None
    with client.stream("GET", f"/api/jobs/{job_id}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                got.append((kind, json.loads(line[6:])))
    return got


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def killed_server(data, *flags, seconds=300):
    """A real `painterly serve --data-dir data` on a free port of 127.0.0.1, ready; yields an httpx client of it
    that opens a connection per request (a connection left idle is closed by the server after 5 s: reused
    just then, under load, it is reset). On leaving, the server is killed (SIGKILL: a crash, nothing cleaned
    up). Readiness is waited for up to `seconds` (a loaded machine starts slowly), failing early if it exits."""
    import httpx

    port = free_port()
    log = tempfile.TemporaryFile()  # not a pipe: one nobody reads fills up and stops the server
    server = subprocess.Popen([sys.executable, "-m", "painterly", "serve", "--port", str(port), "--data-dir",
                               str(data), "--quiet", *flags], stderr=log,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                          limits=httpx.Limits(max_keepalive_connections=0)) as http:
            deadline = time.monotonic() + seconds
            while True:
                if server.poll() is not None:
                    log.seek(0)
                    raise AssertionError(f"painterly serve exited: {log.read().decode()[-2000:]}")
                try:
                    http.get("/api/settings")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, f"painterly serve did not answer in {seconds} s"
                    time.sleep(0.1)
            yield http
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(60)
        log.close()
