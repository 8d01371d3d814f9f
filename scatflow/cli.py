"""`scatflow ...` (and `dask scatflow ...`): run, plan and inspect workflows.

    scatflow run SPEC [--scheduler-address A | --scheduler-file F] [--connect-timeout S]
                      [--resume | --overwrite] [--dry-run]
    scatflow plan SPEC          regions, chunks, tasks, peak worker memory, output size
    scatflow info STORE         what an output holds and which regions are done
    scatflow plot STORE [-o PNG]
    scatflow cluster local      start a LocalCluster and hold it, printing its address

Exit status: 0 done; 2 a bad spec, input or refusal (every problem printed, nothing written);
1 a run that failed while computing (rerun with --resume to complete it).
"""

import sys

import click

from .workflow.inputs import InputError
from .workflow.spec import SpecError, load_spec


def _fail(problems, status=2):
    click.echo(f"scatflow: {len(problems)} problem(s):" if len(problems) > 1 else "scatflow:",
               err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(status)


def _load(path):
    try:
        return load_spec(path)
    except SpecError as error:
        _fail(error.problems)


@click.group(name="scatflow")  # the name `dask scatflow` registers it under
@click.version_option(package_name="scatflow")
def main():
    """Wavelet scattering workflows on Dask: scatflow run workflow.yaml."""


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--scheduler-address", help="A running Dask scheduler (tcp://host:8786, tls://...).")
@click.option("--scheduler-file", type=click.Path(dir_okay=False),
              help="The scheduler file of a running Dask cluster.")
@click.option("--connect-timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Give up reaching the scheduler after this long (default: the spec's "
                   "cluster.connect_timeout, 30).")
@click.option("--resume", is_flag=True, help="Complete an existing output (only missing regions).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output.")
@click.option("--dry-run", is_flag=True, help="Check and plan; write nothing.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def run(spec, scheduler_address, scheduler_file, connect_timeout, resume, overwrite, dry_run,
        progress):
    """Run the workflow SPEC (a YAML file)."""
    from .workflow.run import RefusedError, run_workflow
    from .workflow.store import LockError, StorageError

    if scheduler_address and scheduler_file:
        _fail(["--scheduler-address and --scheduler-file exclude each other"])
    loaded = _load(spec)
    try:
        report = run_workflow(loaded, scheduler_address=scheduler_address,
                              scheduler_file=scheduler_file, connect_timeout=connect_timeout,
                              resume=resume, overwrite=overwrite, dry_run=dry_run,
                              progress=_progress_bar if progress else None, echo=click.echo)
    except InputError as error:
        _fail(error.problems)
    except (RefusedError, LockError, StorageError) as error:
        _fail([str(error)])
    for line in report.lines or report.describe():
        click.echo(line)


def _progress_bar(regions):
    """The bar `scatflow run` shows on stderr while regions are written."""
    return click.progressbar(length=regions, label="regions", file=click.get_text_stream("stderr"),
                             show_pos=True, show_eta=True)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
def plan(spec):
    """Show what running SPEC would do; write nothing."""
    from .workflow.plan import describe_plan, make_plan

    loaded = _load(spec)
    try:
        made = make_plan(loaded)
    except InputError as error:
        _fail(error.problems)
    for line in describe_plan(made):
        click.echo(line)


@main.command()
@click.argument("store")
@click.option("--storage-option", "-s", multiple=True, metavar="KEY=VALUE",
              help="An fsspec storage option for a URL (repeatable).")
def info(store, storage_option):
    """What the output STORE holds and which regions are done."""
    from .workflow.info import describe_store

    try:
        lines = describe_store(store, _options(storage_option))
    except (FileNotFoundError, ValueError) as error:  # StorageError is a ValueError
        _fail([str(error)])
    for line in lines:
        click.echo(line)


@main.command()
@click.argument("store")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="The PNG to write (default: STORE's name with .png).")
@click.option("--variable", help="The variable to plot (default: the first transformed one).")
@click.option("--storage-option", "-s", multiple=True, metavar="KEY=VALUE")
def plot(store, output, variable, storage_option):
    """Write a PNG of coefficient maps (2D), a scalogram (1D) or coefficients (3D)."""
    import xarray as xr

    from .workflow.plot import plot_scattering

    output = output or store.rstrip("/").rsplit("/", 1)[-1].removesuffix(".zarr") + ".png"
    try:
        dataset = xr.open_zarr(store, consolidated=False,
                               storage_options=_options(storage_option) or None)
        path = plot_scattering(dataset, output, variable=variable)
    except (FileNotFoundError, ValueError) as error:
        _fail([str(error)])
    click.echo(f"wrote {path}")


def _options(pairs):
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            _fail([f"--storage-option: expected KEY=VALUE; got {pair!r}"])
        options[key] = value
    return options


@main.group()
def cluster():
    """Start Dask clusters for scatflow run --scheduler-address / --scheduler-file."""


@cluster.command()
@click.option("--n-workers", type=click.IntRange(min=1), help="Worker processes (default: sized "
              "from the machine).")
@click.option("--threads-per-worker", type=click.IntRange(min=1))
@click.option("--memory-limit", default="auto", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--scheduler-file", type=click.Path(dir_okay=False),
              help="Also write the scheduler's address to this file.")
def local(n_workers, threads_per_worker, memory_limit, host, scheduler_file):
    """Start a LocalCluster of worker processes, print its address, hold it until Ctrl-C."""
    import json
    import signal
    import threading

    from distributed import LocalCluster

    with LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                      memory_limit=memory_limit, host=host, processes=True,
                      dashboard_address=f"{host}:0") as local_cluster:
        address = local_cluster.scheduler_address
        if scheduler_file:
            with open(scheduler_file, "w") as handle:
                json.dump(local_cluster.scheduler.identity(), handle)
        click.echo(f"scheduler  {address}")
        click.echo(f"dashboard  {local_cluster.dashboard_link}")
        click.echo(f"workers    {len(local_cluster.workers)}; scatflow run SPEC "
                   f"--scheduler-address {address}")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
