"""``large-tk models list|download|verify``: the pretrained-model zoo and its checked cache."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from large_toolkit.cli.output import note, print_json, print_table

EPILOG = (
    "Examples:\n\n"
    "  large-tk models list\n\n"
    "  large-tk models list --json | jq '.[] | select(.kind == \"encoder\") | .name'\n\n"
    "  large-tk models download stylegan2-ffhq-1024x1024 e4e-ffhq-encode\n\n"
    "  large-tk models verify\n\n"
    "  large-tk regress --backend stylegan3 --checkpoint stylegan3-t-ffhq-1024x1024 --direction sefa:0\n\n"
    "  LARGE_TK_CACHE=/data/cache large-tk models download https://example.org/G.pkl"
)


def _row(entry: Any) -> dict[str, Any]:
    from large_toolkit.io import download

    src = download.entry_source(entry)
    sha, size, origin = download.expected(src)
    return {
        **entry.to_dict(),
        "size": size,
        "sha256": sha,
        "hash_status": download.status(src),
        "hash_origin": origin,
        "downloaded": src.path.exists(),
        "path": str(src.path),
    }


def _size(size: int | None) -> str:
    return "?" if size is None else f"{size / 1e6:.1f} MB"


def install(app: typer.Typer) -> None:
    models = typer.Typer(
        help="Pretrained models: list the zoo, download into the checked cache, verify cached files.",
        epilog=EPILOG,
        no_args_is_help=True,
    )
    app.add_typer(models, name="models")

    @models.command("list", epilog=EPILOG)
    def list_(
        json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")] = False,
    ) -> None:
        """Every zoo entry with its source URL, size and hash status (published / recorded / not yet downloaded)."""
        from large_toolkit.io import download, zoo

        rows = [_row(e) for e in zoo.registry().values()]
        if json_out:
            print_json(rows)
            return
        print_table(
            f"model zoo (cache: {download.cache_dir()})",
            ["name", "kind", "size", "hash", "cached", "url"],
            [
                (r["name"], r["kind"], _size(r["size"]), r["hash_status"], "yes" if r["downloaded"] else "", r["url"])
                for r in rows
            ],
        )

    @models.command("download", epilog=EPILOG)
    def download_(
        names: Annotated[list[str], typer.Argument(help="Zoo names or https:// URLs.")],
        force: Annotated[bool, typer.Option("--force", help="Download again even if cached.")] = False,
        json_out: Annotated[bool, typer.Option("--json", help="Print {name: path} as JSON on stdout.")] = False,
    ) -> None:
        """Download (or resume) into the cache and check size and sha256; prints each file's path."""
        from large_toolkit.io import download, zoo

        paths = {}
        for name in names:
            src = download.url_source(name) if name.startswith(("http://", "https://")) else None
            src = src or download.entry_source(zoo.get(name))
            paths[name] = str(download.fetch(src, force=force))
        if json_out:
            print_json(paths)
        else:
            for path in paths.values():
                print(path)

    @models.command("verify", epilog=EPILOG)
    def verify(
        names: Annotated[
            list[str] | None, typer.Argument(help="Zoo names or URLs (default: every cached entry).")
        ] = None,
        json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")] = False,
    ) -> None:
        """Re-hash cached files against the published or recorded sha256; exit 2 if any differs."""
        from large_toolkit.io import download, zoo

        if names:
            sources = [download.source_for(n) or download.entry_source(zoo.get(n)) for n in names]
        else:
            sources = [s for s in map(download.entry_source, zoo.registry().values()) if s.path.exists()]
        results = []
        for src in sources:
            ok, detail = download.verify(src)
            results.append({"name": src.name, "ok": ok, "detail": detail, "path": str(src.path)})
        if json_out:
            print_json(results)
        elif results:
            print_table("verified", ["name", "ok", "detail"], [(r["name"], r["ok"], r["detail"]) for r in results])
        else:
            note("nothing cached yet (large-tk models download NAME)")
        if any(not r["ok"] for r in results):
            raise typer.Exit(2)
