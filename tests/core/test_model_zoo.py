"""The model zoo and its downloader, against a loopback HTTP server (nothing leaves 127.0.0.1).

The server serves bytes from a dict, honours ``Range: bytes=N-`` (206), can cut a transfer short after
declaring the full length (a dropped connection), and answers 404 for anything it does not hold.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from large_toolkit.cli.app import build_app
from large_toolkit.io import download, zoo

PAYLOAD = bytes(range(256)) * 4096 + b"tail"  # ~1 MB, more than one download chunk


class _Server:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.truncate: dict[str, int] = {}  # path -> bytes actually sent before the connection drops
        self.ranges: list[str | None] = []
        self.honour_range = True
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.ranges.append(self.headers.get("Range"))
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404, "Not Found")
                    return
                start = 0
                rng = self.headers.get("Range")
                if server.honour_range and rng and rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[6:-1])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                cut = server.truncate.pop(self.path, None)
                self.wfile.write(body if cut is None else body[:cut])
                self.wfile.flush()
                if cut is not None:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server():
    srv = _Server()
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LARGE_TK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LARGE_TK_PROGRESS", "off")
    monkeypatch.delenv("LARGE_TK_ZOO", raising=False)
    return tmp_path / "cache" / "models"


def _zoo(tmp_path, monkeypatch, **entries: dict) -> None:
    """Point $LARGE_TK_ZOO at a file holding ``entries`` (name -> fields)."""
    doc = {
        "entries": [
            {"name": name, "kind": "generator", "filename": "G.pkl", **fields} for name, fields in entries.items()
        ]
    }
    path = tmp_path / "zoo.json"
    path.write_text(json.dumps(doc))
    monkeypatch.setenv("LARGE_TK_ZOO", str(path))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _leftovers(cache: Path) -> list[str]:
    records = {download.TRUST_FILE, download.STAMP_FILE}
    return sorted(p.name for p in cache.rglob("*") if p.is_file() and p.name not in records)


def test_published_hash_download_then_cached(server, tmp_path, monkeypatch, cache):
    server.files["/G.pkl"] = PAYLOAD
    _zoo(tmp_path, monkeypatch, good={"url": server.base + "/G.pkl", "sha256": _sha(PAYLOAD), "size": len(PAYLOAD)})
    path = download.resolve_checkpoint("good")
    assert path == cache / "good" / "G.pkl" and path.read_bytes() == PAYLOAD
    assert download.resolve_checkpoint("good") == path and len(server.ranges) == 1  # second use: no request
    assert download.verify(download.source_for("good")) == (True, "sha256 ok (published)")
    assert not (cache / download.TRUST_FILE).exists()  # published hashes are not re-recorded


def test_wrong_hash_keeps_nothing_and_cli_says_one_line_exit_2(server, tmp_path, monkeypatch, cache):
    server.files["/G.pkl"] = PAYLOAD
    _zoo(tmp_path, monkeypatch, bad={"url": server.base + "/G.pkl", "sha256": "0" * 64})
    with pytest.raises(download.ChecksumError) as err:
        download.resolve_checkpoint("bad")
    assert f"expected {'0' * 64}, got {_sha(PAYLOAD)}" in str(err.value)
    assert _leftovers(cache) == []
    result = CliRunner().invoke(build_app(), ["models", "download", "bad"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "sha256 mismatch" in lines[0] and "nothing was kept" in lines[0]
    assert _leftovers(cache) == []


def test_truncated_transfer_keeps_part_and_resumes_with_range(server, tmp_path, monkeypatch, cache):
    server.files["/G.pkl"] = PAYLOAD
    server.truncate["/G.pkl"] = 300_000
    _zoo(tmp_path, monkeypatch, big={"url": server.base + "/G.pkl", "sha256": _sha(PAYLOAD), "size": len(PAYLOAD)})
    with pytest.raises(download.DownloadError, match=r"stopped after \d+ bytes.*run the same command again"):
        download.resolve_checkpoint("big")
    assert _leftovers(cache) == ["G.pkl.part"]  # nothing under the final name
    kept = (cache / "big" / "G.pkl.part").stat().st_size
    assert 0 < kept <= 300_000  # whole network chunks that arrived before the drop
    path = download.resolve_checkpoint("big")
    assert server.ranges == [None, f"bytes={kept}-"]
    assert path.read_bytes() == PAYLOAD and _leftovers(cache) == ["G.pkl"]


def test_a_corrupt_part_is_refused_then_the_next_try_starts_over(server, tmp_path, monkeypatch, cache):
    server.files["/G.pkl"] = PAYLOAD
    _zoo(tmp_path, monkeypatch, g={"url": server.base + "/G.pkl", "sha256": _sha(PAYLOAD)})
    part = cache / "g" / "G.pkl.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"garbage that is not the start of the file")
    # Range honoured, so the garbage prefix + the rest gives a wrong hash: refused, nothing kept.
    with pytest.raises(download.ChecksumError):
        download.resolve_checkpoint("g")
    assert _leftovers(cache) == []
    assert download.resolve_checkpoint("g").read_bytes() == PAYLOAD  # the next try starts from zero


def test_a_server_that_ignores_range_gets_a_full_restart(server, tmp_path, monkeypatch, cache):
    server.files["/G.pkl"] = PAYLOAD
    server.honour_range = False
    _zoo(tmp_path, monkeypatch, g={"url": server.base + "/G.pkl", "sha256": _sha(PAYLOAD)})
    part = cache / "g" / "G.pkl.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD[:5000])
    assert download.resolve_checkpoint("g").read_bytes() == PAYLOAD  # 200 to a Range request: not appended
    assert server.ranges == ["bytes=5000-"] and _leftovers(cache) == ["G.pkl"]


def test_server_holding_fewer_bytes_than_published_is_a_size_mismatch(server, tmp_path, monkeypatch, cache):
    server.files["/G.pkl"] = PAYLOAD[:1000]  # a complete response (Content-Length 1000), just not the file
    _zoo(tmp_path, monkeypatch, s={"url": server.base + "/G.pkl", "sha256": _sha(PAYLOAD), "size": len(PAYLOAD)})
    with pytest.raises(download.ChecksumError, match=f"size mismatch.*expected {len(PAYLOAD)} bytes, got 1000 bytes"):
        download.resolve_checkpoint("s")
    assert _leftovers(cache) == []


def test_a_stale_part_longer_than_the_file_is_dropped(server, tmp_path, monkeypatch, cache):
    server.files["/G.pkl"] = PAYLOAD
    _zoo(tmp_path, monkeypatch, g={"url": server.base + "/G.pkl"})  # no hash, no size: only the server knows
    part = cache / "g" / "G.pkl.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD + b"stale extra bytes")
    assert download.resolve_checkpoint("g").read_bytes() == PAYLOAD
    assert server.ranges == [f"bytes={len(PAYLOAD) + 17}-", None]


def test_404_is_one_clear_error(server, tmp_path, monkeypatch, cache):
    _zoo(tmp_path, monkeypatch, gone={"url": server.base + "/missing.pkl"})
    result = CliRunner().invoke(build_app(), ["models", "download", "gone"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "HTTP 404" in lines[0] and "/missing.pkl" in lines[0]
    assert _leftovers(cache) == []


def test_trust_on_first_use_records_then_refuses_a_changed_file(server, cache):
    url = server.base + "/weights/G.pkl"
    server.files["/weights/G.pkl"] = PAYLOAD
    src = download.url_source(url)
    assert download.status(src).startswith("not yet downloaded")
    path = download.resolve_checkpoint(url)
    assert path.read_bytes() == PAYLOAD and path.name == "G.pkl"
    record = json.loads((cache / download.TRUST_FILE).read_text())
    assert record[url]["sha256"] == _sha(PAYLOAD) and record[url]["size"] == len(PAYLOAD)
    assert download.status(src) == "trust-on-first-use recorded"
    # Upstream changes the bytes: a fresh download must match the record and is refused.
    server.files["/weights/G.pkl"] = PAYLOAD[::-1]
    with pytest.raises(download.ChecksumError, match=f"expected {_sha(PAYLOAD)}, got {_sha(PAYLOAD[::-1])}"):
        download.fetch(src, progress=False, force=True)
    assert _leftovers(cache) == []
    # A cached file altered on disk is refused on use, and `models verify` exits 2.
    server.files["/weights/G.pkl"] = PAYLOAD
    path = download.resolve_checkpoint(url)
    path.write_bytes(PAYLOAD[:-1] + b"X")
    with pytest.raises(download.ChecksumError, match="does not match"):
        download.resolve_checkpoint(url)
    result = CliRunner().invoke(build_app(), ["models", "verify", url])
    assert result.exit_code == 2 and "mismatch" in result.stdout


def test_offline_is_one_line_naming_the_url_and_the_manual_route(tmp_path, monkeypatch, cache):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/G.pkl"
    _zoo(tmp_path, monkeypatch, off={"url": url})
    result = CliRunner().invoke(build_app(), ["models", "download", "off"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert url in lines[0] and "connection refused" in lines[0] and "--checkpoint PATH" in lines[0]


def test_only_https_except_loopback():
    with pytest.raises(download.UserInputError, match="only https://"):
        download.resolve_checkpoint("http://example.org/G.pkl")
    assert download.url_source("https://example.org/a/G%20x.pkl").filename == "G x.pkl"


def test_paths_and_other_text_pass_through(tmp_path):
    local = tmp_path / "mine.pkl"
    local.write_bytes(b"x")
    assert download.resolve_checkpoint(str(local)) == local
    assert download.resolve_checkpoint(local) == local
    assert download.resolve_checkpoint("no/such/file.pkl") == Path("no/such/file.pkl")


def test_checkpoint_hook_in_registration_create(server, tmp_path, monkeypatch):
    """Every generator/inverter factory receives the cached file, not the zoo name."""
    from large_toolkit.plugins import Registration

    server.files["/G.pkl"] = PAYLOAD
    _zoo(tmp_path, monkeypatch, hooked={"url": server.base + "/G.pkl", "sha256": _sha(PAYLOAD)})
    reg = Registration("generator", "probe", "", lambda checkpoint=None, device="cpu": checkpoint, "test")
    assert Path(reg.create(checkpoint="hooked", device="cpu")).read_bytes() == PAYLOAD
    assert reg.create(checkpoint=None) is None


def test_models_list_json_covers_the_bundled_zoo():
    result = CliRunner().invoke(build_app(), ["models", "list", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    names = {r["name"] for r in rows}
    assert {
        "stylegan3-t-ffhq-1024x1024",
        "stylegan2-ffhq-1024x1024",
        "stylegan2-afhqcat-512x512",
        "stylegan3-r-metfaces-1024x1024",
        "rosinality-stylegan2-ffhq-config-f",
        "e4e-ffhq-encode",
        "psp-ffhq-encode",
        "interfacegan-stylegan-ffhq-age-w",
    } <= names
    for row in rows:
        assert row["url"].startswith("https://") and not row["downloaded"]
        assert row["hash_status"] in {"published sha256", "not yet downloaded (trust-on-first-use)"}
        assert (row["sha256"] is None) == (row["hash_origin"] == "none")
    by_name = {r["name"]: r for r in rows}
    assert by_name["e4e-ffhq-encode"]["size"] == 1201649680
    assert by_name["stylegan3-t-ffhq-1024x1024"]["hash_status"].startswith("not yet downloaded")


def test_unknown_zoo_name_suggests_close_names():
    with pytest.raises(download.UserInputError, match="did you mean stylegan2-ffhq-1024x1024"):
        zoo.get("stylegan2-ffhq-1024")


def test_zoo_boundary_as_a_direction_file_spec(server, tmp_path, monkeypatch):
    """``--direction file:NAME`` fetches a zoo boundary (an InterFaceGAN float64 [1, 512] .npy)."""
    import io

    import numpy as np

    from large_toolkit.directions import resolve_direction_set

    vec = np.random.default_rng(0).standard_normal((1, 512))
    vec /= np.linalg.norm(vec)
    buf = io.BytesIO()
    np.save(buf, vec)
    server.files["/b.npy"] = buf.getvalue()
    entry = {"url": server.base + "/b.npy", "sha256": _sha(buf.getvalue()), "kind": "boundary"}
    _zoo(tmp_path, monkeypatch, bnd={**entry, "filename": "stylegan_ffhq_age_w_boundary.npy"})
    dirs = resolve_direction_set("file:bnd")
    assert len(dirs) == 1
    np.testing.assert_allclose(dirs[0].vector.double().numpy().reshape(-1), vec.reshape(-1), rtol=0, atol=1e-7)


def test_a_complete_part_gets_416_and_is_checked_not_refetched(server, tmp_path, monkeypatch, cache):
    server.files["/G.pkl"] = PAYLOAD
    _zoo(tmp_path, monkeypatch, g={"url": server.base + "/G.pkl", "sha256": _sha(PAYLOAD), "size": len(PAYLOAD)})
    part = cache / "g" / "G.pkl.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD)  # killed after the last byte, before the rename
    assert download.resolve_checkpoint("g").read_bytes() == PAYLOAD
    assert server.ranges == [f"bytes={len(PAYLOAD)}-"] and _leftovers(cache) == ["G.pkl"]


def test_ctrl_c_mid_transfer_keeps_the_part_for_resume(server, tmp_path, monkeypatch, cache):
    import large_toolkit.progress

    class Interrupting:  # a progress bar whose second update is a Ctrl-C
        calls = 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def add_task(self, *args, **kwargs):
            return 0

        def update(self, *args, **kwargs):
            Interrupting.calls += 1
            if Interrupting.calls == 2:
                raise KeyboardInterrupt

    server.files["/G.pkl"] = PAYLOAD
    _zoo(tmp_path, monkeypatch, g={"url": server.base + "/G.pkl", "sha256": _sha(PAYLOAD)})
    with monkeypatch.context() as m:
        m.setattr(large_toolkit.progress, "make_progress", lambda disable=False: Interrupting())
        with pytest.raises(KeyboardInterrupt):
            download.resolve_checkpoint("g")
    kept = (cache / "g" / "G.pkl.part").stat().st_size
    assert kept > 0 and _leftovers(cache) == ["G.pkl.part"]
    assert download.resolve_checkpoint("g").read_bytes() == PAYLOAD
    assert server.ranges[-1] == f"bytes={kept}-"


def test_unchanged_cached_file_is_not_rehashed_on_every_use(server, tmp_path, monkeypatch):
    server.files["/G.pkl"] = PAYLOAD
    _zoo(tmp_path, monkeypatch, g={"url": server.base + "/G.pkl", "sha256": _sha(PAYLOAD)})
    path = download.resolve_checkpoint("g")
    hashed = []
    real = download.file_sha256
    monkeypatch.setattr(download, "file_sha256", lambda p, h=None: hashed.append(p) or real(p, h))
    download.resolve_checkpoint("g")
    assert hashed == []  # same size and mtime as when it matched
    path.write_bytes(PAYLOAD)  # touched (new mtime), same bytes: hashed again, still fine
    download.resolve_checkpoint("g")
    assert hashed == [path]
    assert download.verify(download.source_for("g"))[0] and len(hashed) == 2  # verify always hashes


def test_zoo_entry_without_published_hash_is_recorded_and_listed(server, tmp_path, monkeypatch, cache):
    server.files["/nv.pkl"] = PAYLOAD
    _zoo(tmp_path, monkeypatch, nv={"url": server.base + "/nv.pkl"})
    rows = {r["name"]: r for r in json.loads(CliRunner().invoke(build_app(), ["models", "list", "--json"]).stdout)}
    assert rows["nv"]["hash_status"] == "not yet downloaded (trust-on-first-use)" and rows["nv"]["sha256"] is None
    result = CliRunner().invoke(build_app(), ["models", "download", "nv", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == {"nv": str(cache / "nv" / "G.pkl")}
    rows = {r["name"]: r for r in json.loads(CliRunner().invoke(build_app(), ["models", "list", "--json"]).stdout)}
    assert rows["nv"]["hash_status"] == "trust-on-first-use recorded"
    assert rows["nv"]["sha256"] == _sha(PAYLOAD) and rows["nv"]["size"] == len(PAYLOAD) and rows["nv"]["downloaded"]
