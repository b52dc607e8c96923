"""Run one benchmark case in a fresh Python process, so that its peak memory is its own.

The script is started as `python SCRIPT --child CASE_JSON`; its child mode prints one JSON line with
what it measured. Used by memory_check.py and tiling.py, which also run as scripts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


class CaseFailed(RuntimeError):
    """A case whose process exited non-zero or printed no JSON; `reason` is its last line of stderr."""

    def __init__(self, case: dict, returncode: int, stderr: str):
        self.reason = (stderr.strip().splitlines() or ["no output"])[-1]
        super().__init__(f"case {case} failed ({returncode}):\n{stderr[-3000:]}")


def run(script: str, case: dict) -> dict:
    """What `script --child CASE` reported, as a dict; raises CaseFailed."""
    done = subprocess.run([sys.executable, script, "--child", json.dumps(case)], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise CaseFailed(case, done.returncode, done.stderr)
    return json.loads(lines[-1])
