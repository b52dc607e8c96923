"""Fixed-seed outputs of every front end, rendered by one checkout and compared with another's.

    python -m bench.equality render OUT_DIR          # this checkout's painterly (PYTHONPATH) paints the cases
    python -m bench.equality compare OLD_DIR NEW_DIR # max grey-level difference per picture, and the help texts

A restructure that must not change what painterly computes renders the cases before and after and compares:
a still with each method, a tiled still, a 12-frame video (fast along the flow, and optimised), a batch of four
with `--ray off` and `--ray local`, and a web job (in process, through the HTTP API). Tiny sizes and few steps,
vgg16-hed, seed 0. Besides the pictures it keeps `painterly --help`, each subcommand's help and the web form's
settings, and `compare` says which flags or form fields appeared or went.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CONTENT = SHARED / "images" / "content"
STYLE = SHARED / "images" / "style"
VIDEO = SHARED / "videos" / "vtest.avi"
COMMON = ["--model", "vgg16-hed", "--seed", "0"]
STILL = [*COMMON, "--size", "96", "--iterations", "6", "--multiscale", "off"]

CASES = {
    "still_optimise": [str(CONTENT / "tubingen.jpg"), str(STYLE / "starry_night.jpg"), "-o", "{out}/still_optimise.png",
                       *STILL],
    "still_fast": [str(CONTENT / "tubingen.jpg"), str(STYLE / "starry_night.jpg"), "-o", "{out}/still_fast.png",
                   "--method", "fast", "--size", "128"],
    "still_default_init": [str(CONTENT / "chicago.jpg"), str(STYLE / "the_scream.jpg"), "-o",
                           "{out}/still_default_init.png", *COMMON, "--size", "128", "--iterations", "4",
                           "--fine-iterations", "2"],
    "still_tiled": [str(CONTENT / "golden_gate.jpg"), str(STYLE / "the_scream.jpg"), "-o", "{out}/still_tiled.png",
                    *STILL, "--size", "160", "--tile", "96"],
    "video_fast": ["video", str(VIDEO), str(STYLE / "starry_night.jpg"), "-o", "{out}/video_fast", "--frames", "12",
                   "--size", "96", "--method", "fast", "--work", "{out}/work_fast"],
    "video_optimise": ["video", str(VIDEO), str(STYLE / "starry_night.jpg"), "-o", "{out}/video_optimise",
                       "--frames", "12", "--method", "optimise", "--work", "{out}/work_optimise", *STILL,
                       "--size", "64", "--iterations", "3", "--frame-iterations", "2"],
    "batch_off": ["batch", str(CONTENT / "tubingen.jpg"), str(CONTENT / "sailboat.jpg"), "--styles",
                  str(STYLE / "candy.jpg"), str(STYLE / "mosaic.jpg"), "-o", "{out}/batch_off", "--ray", "off", *STILL,
                  "--size", "64"],
    "batch_local": ["batch", str(CONTENT / "tubingen.jpg"), str(CONTENT / "sailboat.jpg"), "--styles",
                    str(STYLE / "candy.jpg"), str(STYLE / "mosaic.jpg"), "-o", "{out}/batch_local", "--ray", "local",
                    "--workers", "2", *STILL, "--size", "64"],
    "gallery": ["gallery", "{out}/work-gallery/photos", "{out}/work-gallery/paintings", "-o", "{out}/gallery.png", *STILL, "--size", "64", "--cell", "64"],
}
HELPS = [[], ["video"], ["batch"], ["gallery"], ["serve"], ["styles"]]


def painterly(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "painterly", *args], capture_output=True, text=True)


def web_job(out: Path) -> None:
    """One optimisation and one fast job through the web app's HTTP API (FastAPI's TestClient, in process)."""
    from fastapi.testclient import TestClient

    from painterly.web.app import create_app

    content, style = (CONTENT / "tubingen.jpg").read_bytes(), (STYLE / "starry_night.jpg").read_bytes()
    upload = [("content", ("photo.jpg", content, "image/jpeg")), ("style", ("painting.jpg", style, "image/jpeg"))]
    forms = {"web_optimise": {"size": "96", "iterations": "6", "model": "vgg16-hed", "multiscale": "off", "seed": "0"},
             "web_fast": {"size": "128", "method": "fast"}}
    with TestClient(create_app(out / "web-data")) as client:
        for name, form in forms.items():
            job = client.post("/api/jobs", files=upload, data=form).json()
            for _ in range(600):
                state = client.get(f"/api/jobs/{job['id']}").json()["state"]
                if state not in ("queued", "running"):
                    break
                time.sleep(0.5)
            (out / f"{name}.png").write_bytes(client.get(f"/api/jobs/{job['id']}/result").content)
        (out / "help_web_settings.json").write_text(json.dumps(client.get("/api/settings").json(), indent=1))


def render(out: Path, only: list[str]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for folder, files in (("photos", [CONTENT / "tubingen.jpg", CONTENT / "cornell.jpg"]),
                          ("paintings", [STYLE / "candy.jpg", STYLE / "the_scream.jpg"])):
        (out / "work-gallery" / folder).mkdir(parents=True, exist_ok=True)
        for path in files:
            (out / "work-gallery" / folder / path.name).write_bytes(path.read_bytes())
    times = {}
    for name, args in CASES.items():
        if only and name not in only:
            continue
        started = time.perf_counter()
        done = painterly(*(a.format(out=out) for a in args), "--overwrite", "--quiet")
        times[name] = round(time.perf_counter() - started, 1)
        print(f"{name}: exit {done.returncode} in {times[name]} s", flush=True)
        if done.returncode:
            print(done.stderr[-2000:], file=sys.stderr)
    if not only or "web" in only:
        started = time.perf_counter()
        web_job(out)
        times["web"] = round(time.perf_counter() - started, 1)
        print(f"web: {times['web']} s", flush=True)
    for command in HELPS:
        text = painterly(*command, "--help").stdout
        (out / f"help_{'_'.join(command) or 'main'}.txt").write_text(text)
    (out / "times.json").write_text(json.dumps(times, indent=1))
    return 0


def pictures(folder: Path) -> dict[str, Path]:
    """Every painted picture under `folder` by its relative path (work folders and web data left out)."""
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*"))
            if p.suffix.lower() in (".png", ".jpg", ".webp") and not p.relative_to(folder).parts[0].startswith(("work", "web-data"))}


def video_frames(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def flags(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text))


def compare(old: Path, new: Path) -> int:
    worst, rows = 0, []
    a, b = pictures(old), pictures(new)
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            rows.append((name, "only in " + ("new" if name in b else "old")))
            worst = 255
            continue
        x = np.asarray(Image.open(a[name]).convert("RGB"), dtype=np.int16)
        y = np.asarray(Image.open(b[name]).convert("RGB"), dtype=np.int16)
        diff = 255 if x.shape != y.shape else int(np.abs(x - y).max())
        worst = max(worst, diff)
        rows.append((name, diff))
    for video in sorted(old.glob("*.mp4")):
        x, y = video_frames(video), video_frames(new / video.name)
        diff = 255 if len(x) != len(y) else max(int(np.abs(p.astype(np.int16) - q).max()) for p, q in zip(x, y))
        rows.append((f"{video.name} ({len(x)} frames)", diff))
        worst = max(worst, diff)
    for name, diff in rows:
        print(f"{diff!s:>14}  {name}")
    print(f"largest difference: {worst} grey levels over {len(rows)} pictures")
    for help_file in sorted(old.glob("help_*.txt")):
        before, after = flags(help_file.read_text()), flags((new / help_file.name).read_text())
        print(f"{help_file.name}: {len(before)} flags before, {len(after)} after"
              + (f"; gone {sorted(before - after)}" if before - after else "")
              + (f"; new {sorted(after - before)}" if after - before else ""))
    form = old / "help_web_settings.json"
    if form.exists():
        before, after = json.loads(form.read_text()), json.loads((new / form.name).read_text())
        names = lambda d: {f.get("name") for f in d.get("fields", d) if isinstance(f, dict)} if isinstance(d, dict) else set()
        print(f"web form: {'same' if before == after else 'changed'}"
              + (f" (fields gone {sorted(names(before) - names(after))}, new {sorted(names(after) - names(before))})"
                 if before != after else ""))
    return 0 if worst <= 1 else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    r = commands.add_parser("render")
    r.add_argument("out", type=Path)
    r.add_argument("--only", nargs="*", default=[], help=f"some of: {', '.join(CASES)}, web")
    c = commands.add_parser("compare")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    return render(args.out, args.only) if args.command == "render" else compare(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())
