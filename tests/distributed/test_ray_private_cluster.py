"""``--ray-address local`` starts a private cluster and never joins a foreign one; ``auto`` does join it.

A real foreign cluster is started with ``ray start --head --block`` (127.0.0.1, 1 CPU, minimal object
store, its own temp dir, RAY_ADDRESS pointing at it) in its own process group, and that group -- and
nothing else -- is terminated in teardown.  The checks run in subprocesses, so no Ray state of the test
session is involved.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")
ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import sys, ray\n"
    "from large_toolkit.ray_support import connect\n"
    "assert connect(sys.argv[1], data=False)\n"
    "print(ray.get_runtime_context().gcs_address)\n"
    "ray.shutdown()\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"ray start exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("the foreign Ray cluster did not start in time")


@pytest.fixture
def foreign_cluster():
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ltk-foreign-", dir="/tmp")
    ray_bin = Path(sys.executable).with_name("ray")
    cmd = [
        str(ray_bin) if ray_bin.exists() else "ray",
        "start",
        "--head",
        "--block",
        "--node-ip-address",
        "127.0.0.1",
        "--port",
        str(port),
        "--num-cpus",
        "1",
        "--num-gpus",
        "0",
        "--include-dashboard",
        "false",
        "--object-store-memory",
        str(80 * 1024 * 1024),
        "--temp-dir",
        temp,
        "--disable-usage-stats",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=_ray_env()
    )
    try:
        _wait_listening(port, proc)
        yield f"127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # ray start --block stops the processes it started
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # what of that group remains (gcs_server, raylet) goes too
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def _ray_env(**extra: str) -> dict[str, str]:
    """Token auth off (Ray >= 2.5x turns it on for `ray start`; this test is about addresses, not auth)."""
    return dict(os.environ, RAY_AUTH_MODE="disabled", OMP_NUM_THREADS="1", **extra)


def _gcs_address(address: str, foreign: str) -> str:
    env = _ray_env(RAY_ADDRESS=foreign)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "plugins"), env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-c", PROBE, address], capture_output=True, text=True, env=env, timeout=180
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_local_never_joins_a_running_foreign_cluster(foreign_cluster):
    joined = _gcs_address("auto", foreign_cluster)  # named: joins it (proves the foreign cluster is reachable)
    assert joined.endswith(":" + foreign_cluster.split(":")[1])
    private = _gcs_address("local", foreign_cluster)
    assert private != joined and not private.endswith(":" + foreign_cluster.split(":")[1])
