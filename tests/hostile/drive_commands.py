"""Run many ``large-tk`` command lines in ONE process and report how each ended (JSON on stdout).

Why one process: starting Python + torch per run costs seconds on a small machine, and the
point is the CLI's own behaviour (exit code, stderr lines), which :func:`large_toolkit.cli.main.run`
gives exactly.  A crash (SIGSEGV) kills the whole driver, which the calling test sees.
Peak memory is ``ru_maxrss`` of this process after all runs.

Usage: ``python drive_commands.py JOBS.json`` where JOBS.json is a list of
``{"args": [...], "out_dir": "..."}``; ``out_dir`` must stay empty (no partial output).
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
from pathlib import Path


def main(jobs_file: str) -> None:
    from large_toolkit.cli.app import build_app
    from large_toolkit.cli.main import run

    jobs = json.loads(Path(jobs_file).read_text())
    app = build_app()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results = []
    for job in jobs:
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code = run(app, job["args"])
            except SystemExit as exc:  # a command that calls sys.exit itself
                code = exc.code if isinstance(exc.code, int) else 1
        left = sorted(str(p.relative_to(job["out_dir"])) for p in Path(job["out_dir"]).rglob("*"))
        results.append({"args": job["args"], "code": code, "stderr": err.getvalue(), "left": left})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"results": results, "base_rss_kb": base_rss, "peak_rss_kb": peak}))


if __name__ == "__main__":
    main(sys.argv[1])
