"""painterly batch on a real Ray cluster of two nodes on this machine, on 127.0.0.1 only.

The cluster is Ray's own `ray.cluster_utils.Cluster` (a head and one more node, one CPU each), started
once for this module and torn down after it; every process it started is checked gone, and killed
by its id if not, also when a test fails.
"""

import os
import time
from pathlib import Path

import pytest
from PIL import Image

from conftest import decode, shared_image
from ray_cluster import hang_alarm, two_nodes
from painterly import batch
from painterly.batch import pairs, run_batch
from painterly.cli import main
from painterly.settings import Settings

# Ray reads this once, when it is imported, and then keeps every address on 127.0.0.1 (see issue 14)
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
ray = pytest.importorskip("ray")

FAST = Settings(method="fast", size=32)


@pytest.fixture(scope="module")
def cluster():
    with two_nodes() as made:
        yield made


@pytest.fixture(autouse=True)
def deadline():
    with hang_alarm(240, "the batch"):
        yield


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("in")
    contents = []
    for name in ("tubingen", "chicago", "sailboat"):
        path = folder / f"{name}.png"
        Image.open(shared_image("content", f"{name}.jpg")).convert("RGB").resize((48, 32)).save(path)
        contents.append(path)
    styles = []
    for name in ("starry_night", "candy"):
        path = folder / f"{name}.png"
        Image.open(shared_image("style", f"{name}.jpg")).convert("RGB").resize((40, 40)).save(path)
        styles.append(path)
    broken = folder / "broken.png"
    broken.write_bytes(b"not a picture at all")
    return contents, styles, broken


def test_on_loopback_only(cluster):
    made, second = cluster
    assert made.address.startswith("127.0.0.1:")
    ray.init(address=made.address)
    try:
        addresses = {node["NodeManagerAddress"] for node in ray.nodes()}
    finally:
        ray.shutdown()
    assert addresses == {"127.0.0.1"}


def test_a_live_head_passes_the_address_check(cluster):
    from painterly.cluster import check_address

    made, _ = cluster
    check_address(made.address, timeout=10)  # the check speaks what a head speaks: it must not refuse one


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("command", ["batch", "video"])
def test_a_ray_address_where_nothing_listens_is_refused_in_one_line(command, pictures, tmp_path, capsys):
    """Issue 23 item 7: Ray retried an address where nothing listens for ever (video after 300 s, batch after
    90 s still retrying)."""
    contents, styles, _ = pictures
    address = f"127.0.0.1:{_free_port()}"
    if command == "batch":
        argv = ["batch", str(contents[0]), "--styles", str(styles[0]), "-o", str(tmp_path / "out")]
    else:
        frames = tmp_path / "frames"
        frames.mkdir()
        for i in range(3):
            Image.open(contents[0]).save(frames / f"{i:04d}.png")
        argv = ["video", str(frames), str(styles[0]), "-o", str(tmp_path / "out.mp4"), "--fps", "3", "--quiet"]
    with hang_alarm(60, f"{command} --ray with nothing listening"):
        code = main([*argv, "--ray", address, "--method", "fast", "--size", "32"])
    err = capsys.readouterr().err
    assert code == 2 and f"nothing answers at Ray address '{address}'" in err and "ray start --head" in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_ray_address_that_answers_but_not_as_ray_is_refused_within_the_timeout(pictures, tmp_path, capsys):
    import socket
    import threading

    contents, styles, _ = pictures
    with socket.socket() as silent:  # accepts and says nothing, as a stuck or foreign server
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        held = []
        threading.Thread(target=lambda: held.append(silent.accept()), daemon=True).start()
        address = "127.0.0.1:%d" % silent.getsockname()[1]
        with hang_alarm(60, "--ray with a silent server"):
            code = main(["batch", str(contents[0]), "--styles", str(styles[0]), "-o", str(tmp_path / "out"),
                         "--ray", address, "--ray-timeout", "2", "--method", "fast", "--size", "32"])
    err = capsys.readouterr().err
    assert code == 2 and f"Ray at '{address}' did not answer within 2 s" in err and "--ray-timeout" in err, err
    assert err.count("\n") == 1


def test_items_spread_over_both_nodes_a_bad_one_fails_alone_and_a_rerun_skips(cluster, pictures, tmp_path,
                                                                               capsys):
    made, second = cluster
    contents, styles, broken = pictures
    items = pairs([*contents, broken], styles, FAST)
    out = tmp_path / "out"
    summary = run_batch(items, out, ray=made.address)
    good = [i.name for i in items if not i.name.startswith("broken")]
    assert sorted(summary.done) == sorted(good) and len(good) == 6
    assert sorted(summary.failed) == ["broken__candy.png", "broken__starry_night.png"]
    assert all(str(broken) in reason for reason in summary.failed.values())  # the user's path, not a worker's copy
    assert summary.workers == 2
    record = batch.read_record(out)
    nodes = {record[name]["node"] for name in good}
    assert nodes == {made.head_node.node_id, second.node_id}  # both nodes painted
    for name in good:
        assert decode(out / name).shape == (21, 32, 3)
    stamps = {name: os.stat(out / name).st_mtime_ns for name in good}
    # the same command again, through the CLI: the six are skipped, the bad two tried again and reported
    argv = ["batch", *map(str, contents), str(broken), "--styles", *map(str, styles), "-o", str(out),
            "--ray", made.address, "--method", "fast", "--size", "32"]
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "0 painted, 6 skipped (done before), 2 failed" in err
    assert f"painterly: failed: broken__candy.png: content '{broken}' is not" in err
    assert stamps == {name: os.stat(out / name).st_mtime_ns for name in good}


def test_ctrl_c_keeps_what_is_done(cluster, pictures, tmp_path):
    made, _ = cluster
    contents, styles, _ = pictures
    items = pairs(contents, styles, FAST)
    out = tmp_path / "out"
    seen = []

    def stop_after_two(entry):
        seen.append(entry["name"])
        if len(seen) == 2:
            raise KeyboardInterrupt()

    summary = run_batch(items, out, ray=made.address, listen=stop_after_two)
    assert summary.code == 130 and sorted(summary.done) == sorted(seen)
    assert sorted(p.name for p in out.glob("*.png")) == sorted(seen)
    rest = run_batch(items, out, ray=made.address)
    assert sorted(rest.skipped) == sorted(seen) and len(rest.done) == 4 and not rest.failed


def test_a_node_removed_mid_batch_loses_nothing(cluster, pictures, tmp_path):
    """The second node is removed as soon as it has painted one item, while it paints its next: that
    item goes to the head's worker and the batch completes with every picture whole."""
    made, second = cluster
    contents, styles, _ = pictures
    settings = Settings(method="fast", size=1600)  # about a second a picture: the node dies mid-item
    items = pairs(contents, styles, settings)
    out = tmp_path / "out"
    removed = []

    def remove_second_node(entry):
        if not removed and entry.get("node") == second.node_id:
            made.remove_node(second, allow_graceful=False)
            removed.append(time.monotonic())

    summary = run_batch(items, out, ray=made.address, listen=remove_second_node)
    assert removed, "the second node painted nothing"
    assert sorted(summary.done) == sorted(i.name for i in items) and not summary.failed
    record = batch.read_record(out)
    retried = [e for e in record.values() if e["attempts"] > 1]
    assert retried and all(e["node"] == made.head_node.node_id for e in retried)
    for item in items:
        assert decode(out / item.name).shape == (1067, 1600, 3)
    on_second = sum(e["node"] == second.node_id for e in record.values())
    print(f"node removal: {on_second} picture(s) from the removed node, {len(retried)} retried on the head "
          f"({', '.join(e['name'] for e in retried)}), batch {summary.seconds:.1f} s")


def test_an_item_larger_than_any_node_fails_before_a_worker_starts(cluster, pictures, tmp_path):
    made, _ = cluster
    contents, styles, _ = pictures
    huge = Settings(model="vgg16-hed", size=16000, tile=None)  # hundreds of GB by painterly's estimate
    summary = run_batch(pairs(contents[:1], styles[:1], huge), tmp_path / "out", ray=made.address)
    (reason,) = summary.failed.values()
    assert "of memory and the largest Ray node offers" in reason and "--size" in reason
    assert summary.workers == 0 and not list((tmp_path / "out").glob("*.png"))


def test_each_item_gets_its_report_in_a_folder_of_its_own_on_ray_and_off(cluster, pictures, tmp_path, capsys):
    made, _ = cluster
    contents, styles, _ = pictures
    items = pairs(contents[:2], styles[:1], FAST)
    for where in (made.address, "off"):
        out, reports = tmp_path / f"out-{where[:3]}", tmp_path / f"reports-{where[:3]}"
        summary = run_batch(items, out, ray=where, report=reports)
        assert sorted(summary.done) == sorted(i.name for i in items)
        record = batch.read_record(out)
        for item in items:
            folder = reports / Path(item.name).stem
            assert record[item.name]["report"] == str(folder / "index.html")
            page = (folder / "index.html").read_text()
            assert item.content.name in page and "painterly-batch-" not in page  # no worker's scratch path
            assert decode(folder / "result.png").shape == decode(out / item.name).shape
    argv = ["batch", str(contents[0]), "--styles", str(styles[0]), "-o", str(tmp_path / "cli"), "--ray", "off",
            "--method", "fast", "--size", "32", "--report", str(tmp_path / "cli-reports"), "--quiet"]
    assert main(argv) == 0
    assert (tmp_path / "cli-reports" / Path(items[0].name).stem / "index.html").is_file()
