"""Ray start-up shared by every ``engine=ray`` code path (inversion, direction-finder sampling).

Why a core module: the inverter engine and the finders' chunk engine must fail the same way when
Ray is missing (one line naming the ``distributed`` extra), probe a HOST:PORT address with a short
timeout instead of letting ``ray.init`` retry for minutes, and leave an already-initialised Ray
(a test fixture, a notebook) alone.  Ray itself is imported lazily, so importing this module never
needs the extra.

Which cluster: ``local`` (and no address) ALWAYS starts a private cluster for this process -- Ray's
``address="local"``, in a fresh temporary directory -- and never joins one that someone else started on
the machine, even when ``RAY_ADDRESS`` is set or ``/tmp/ray`` names a running cluster (plain
``ray.init()`` would join either).  An existing cluster is used only when named: ``auto`` (Ray's
discovery: ``RAY_ADDRESS`` or the cluster started on this machine) or ``HOST:PORT`` / ``ray://...``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
from typing import Any

from large_toolkit.errors import UserInputError

INSTALL_HINT = "pip install 'large-toolkit[distributed]'"
CONNECT_TIMEOUT_S = 5.0


def require_ray(what: str = "--engine ray", data: bool = True) -> Any:
    """Import Ray (with Ray Data when ``data``) or fail with one line that names the install command."""
    try:
        import ray

        if data:
            import ray.data  # the inverter pipeline needs Ray Data, not only Ray core
    except ImportError:
        raise UserInputError(f"{what} needs Ray, which is not installed", hint=INSTALL_HINT) from None
    return ray


def _check_reachable(address: str, timeout: float) -> None:
    """A TCP probe with a timeout, because ``ray.init`` on a dead HOST:PORT retries for a long time."""
    target = address.removeprefix("ray://")
    host, sep, port_text = target.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise UserInputError(f"bad --ray-address {address!r}", hint="use auto, HOST:PORT or ray://HOST:PORT")
    try:
        with socket.create_connection((host, int(port_text)), timeout=timeout):
            pass
    except OSError as exc:
        raise UserInputError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc})",
            hint="start one with `ray start --head` and pass the address it prints, or omit --ray-address",
        ) from None


def probe(
    address: str | None, timeout: float = CONNECT_TIMEOUT_S, what: str = "--engine ray", data: bool = True
) -> None:
    """Cheap up-front checks for a CLI: Ray importable and, for HOST:PORT, something listening there."""
    require_ray(what, data)
    if address and address not in ("auto", "local"):
        _check_reachable(address, timeout)


def connect(
    address: str | None = None, timeout: float = CONNECT_TIMEOUT_S, what: str = "--engine ray", data: bool = True
) -> bool:
    """Join the cluster at ``address`` (``auto``, ``HOST:PORT``) or start a private local one (None, ``local``).

    Returns True when this call started/joined Ray (so the caller should shut it down), False when
    Ray was already initialised in this process (a test fixture, a notebook) and is left alone.
    """
    ray = require_ray(what, data)
    if ray.is_initialized():
        return False
    if address and address not in ("auto", "local"):
        _check_reachable(address, timeout)
    kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": "WARNING"}
    private = address in (None, "local")
    if private:
        kwargs["include_dashboard"] = False
        kwargs["_temp_dir"] = _private_temp_dir()
    try:
        ray.init(address="local" if private else address, **kwargs)
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserInputError(
            f"cannot connect to Ray at {address}: {first}",
            hint="start a cluster with `ray start --head`, or omit --ray-address for a local one",
        ) from None
    return True


def _private_temp_dir() -> str:
    """A fresh, short Ray temp dir (socket paths must stay under ~107 bytes), removed at exit.

    Sharing ``/tmp/ray`` with a foreign cluster would overwrite its ``session_latest`` link and make a
    later ``ray.init(address="auto")`` on the machine find our private cluster instead of theirs.
    """
    path = tempfile.mkdtemp(prefix="ltk-ray-", dir="/tmp" if os.path.isdir("/tmp") else None)
    atexit.register(shutil.rmtree, path, True)
    return path
