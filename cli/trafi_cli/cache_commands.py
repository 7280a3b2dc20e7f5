"""`trafi cache ...`: the compiled-artifact cache."""

from __future__ import annotations

from pathlib import Path

import typer

from .context import ProjectOption, console, emit_json, exclusive, open_project, reported_errors

app = typer.Typer(help="The compiled-artifact cache.", no_args_is_help=True)


@app.command("prune")
def prune(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would go; delete nothing."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Delete compiled artifacts no installed module version uses.

    Every command that changes the project already does this when the cache is the
    project's own (`.trafi/artifacts`); a cache shared by projects (`TRAFI_ARTIFACT_DIR`) is
    only pruned here, keeping what this project uses (other projects recompile theirs).
    """
    from trafi_host.recovery import owns_artifact_cache, prune_unused_artifacts

    from .outputs import CachePruneOutput, PrunedArtifact

    with reported_errors(as_json):
        proj = open_project(project)
        with exclusive(proj, tidy=False):  # it prunes itself (or, dry, must not)
            pruned = prune_unused_artifacts(proj, dry_run=dry_run)
    output = CachePruneOutput(
        cache=str(proj.artifacts_dir),
        shared=not owns_artifact_cache(proj),
        dryRun=dry_run,
        pruned=[PrunedArtifact(file=a.path.name, component=a.component, bytes=a.size) for a in pruned],
        freedBytes=0 if dry_run else sum(a.size for a in pruned),
    )
    if as_json:
        emit_json(output)
        return
    verb = "would delete" if dry_run else "deleted"
    for item in output.pruned:
        console.print(f"{verb} {item.file} ({item.bytes / 1e6:.1f} MB)", highlight=False)
    total = sum(item.bytes for item in output.pruned)
    console.print(
        f"{verb} {len(output.pruned)} artifact(s), {total / 1e6:.1f} MB, from {output.cache}"
        + (
            " (shared: artifacts of other projects using it are recompiled when they next load)"
            if output.shared and output.pruned
            else ""
        ),
        highlight=False,
    )
