"""Ray start-up shared by every ``engine=ray`` code path (inversion, direction-finder sampling).

Why a core module: the inverter engine and the finders' chunk engine must fail the same way when
Ray is missing (one line naming the ``distributed`` extra), probe a HOST:PORT address with a short
timeout instead of letting ``ray.init`` retry for minutes, and leave an already-initialised Ray
(a test fixture, a notebook) alone.  Ray itself is imported lazily, so importing this module never
needs the extra.
"""

from __future__ import annotations

import socket
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
    """Join the cluster at ``address`` (``auto``, ``HOST:PORT``) or start a local one when None.

    Returns True when this call started/joined Ray (so the caller should shut it down), False when
    Ray was already initialised in this process (a test fixture, a notebook) and is left alone.
    """
    ray = require_ray(what, data)
    if ray.is_initialized():
        return False
    if address and address not in ("auto", "local"):
        _check_reachable(address, timeout)
    kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": "WARNING"}
    if address in (None, "local"):
        kwargs["include_dashboard"] = False
    try:
        ray.init(address=None if address == "local" else address, **kwargs)
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserInputError(
            f"cannot connect to Ray at {address}: {first}",
            hint="start a cluster with `ray start --head`, or omit --ray-address for a local one",
        ) from None
    return True
