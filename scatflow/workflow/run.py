"""Run a plan on a Dask cluster: template first, then region writes with completion markers.

The order that makes a killed run lose nothing:
1. refuse before any work: an existing output without --resume/--overwrite, a resumed store
   made by another spec (its sha256 is in the store's attrs), a store another run is writing;
2. take the store's lock (a lease the run keeps fresh; `store.py`);
3. write the template (metadata and coords; no data) unless a complete one is there, then
   mark it; a half-written template is cleared and written again;
4. for every region without a marker: compute it on the cluster and write its chunks
   (xarray region writes, aligned to the store's chunks or shards, so no two tasks write one
   chunk), then write its marker. A region that was written but not marked is written again,
   with the same bytes.
"""

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from .plan import describe_plan, make_plan, region_name, region_piece
from .spec import compressors
from .store import LockError, StorageError, describe_error, reach_store


class RefusedError(RuntimeError):
    """The run would overwrite, mix or race with other work; nothing was written."""


@dataclass
class Report:
    seconds: float = 0.0
    write_seconds: float = 0.0
    regions_done: int = 0
    regions_skipped: int = 0
    input_bytes: int = 0
    output_bytes: int = 0
    model: dict | None = None
    lines: list = field(default_factory=list)

    def describe(self):
        rate = self.input_bytes / 1e6 / self.write_seconds if self.write_seconds > 0 else 0.0
        lines = [f"done in {self.seconds:.1f} s: {self.regions_done} region(s) written, "
                 f"{self.regions_skipped} already done; input {self.input_bytes / 1e6:.1f} MB "
                 f"in {self.write_seconds:.1f} s of region writes ({rate:.1f} MB/s); output "
                 f"store {self.output_bytes / 1e6:.2f} MB"]
        if self.model:
            m = self.model
            lines.append(f"model: {m['estimator']} on {m['n_features']} scattering features: "
                         f"test accuracy {m['test_accuracy']:.1%} (raw values "
                         f"{m['raw_test_accuracy']:.1%}), train {m['train_accuracy']:.1%}; "
                         f"{m['n_train']} train / {m['n_test']} test samples, "
                         f"{m['seconds']:.1f} s")
        return lines


def check_output(spec, store, resume, overwrite):
    """Refuse what must not run, before anything is written."""
    if resume and overwrite:
        raise RefusedError("--resume and --overwrite exclude each other: resume completes a "
                           "store, overwrite replaces it")
    holder = store.lock_holder()
    if holder is not None:
        raise RefusedError(f"output.store: {spec.output['store']} is being written by another "
                           f"run (host {holder.get('host')}, pid {holder.get('pid')}); refused")
    if not store.exists():
        return
    if not (resume or overwrite):
        raise RefusedError(f"output.store: {spec.output['store']} exists; pass --resume to "
                           f"complete it or --overwrite to replace it")
    template = store.template()
    if resume and template is not None and template.get("spec_sha256") != spec.digest():
        raise RefusedError(
            f"output.store: {spec.output['store']} was made by another spec (sha256 "
            f"{template.get('spec_sha256', '?')[:12]}, this one {spec.digest()[:12]}); differs "
            f"in {'; '.join(_differences(template.get('spec', {}), spec.identity()))}. Resume "
            f"it with the "
            f"spec that made it, or pass --overwrite")


def _differences(stored, current, prefix=""):
    keys = sorted(set(stored) | set(current))
    out = []
    for key in keys:
        a, b = stored.get(key), current.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_differences(a, b, f"{prefix}{key}."))
        elif a != b:
            out.append(f"{prefix}{key} ({a!r} there, {b!r} here)")
    return out


def connect(cluster, scheduler_address=None, scheduler_file=None, connect_timeout=None):
    """`(client, cluster or None)`: the CLI's scheduler options, else the spec's cluster;
    an embedded LocalCluster of worker processes, bound to 127.0.0.1, by default. A scheduler
    that does not answer within `connect_timeout` seconds (default: the spec's
    `cluster.connect_timeout`) is a RefusedError."""
    import dask
    from distributed import Client, LocalCluster

    timeout = connect_timeout or cluster["connect_timeout"]
    scheduler_file = scheduler_file or (None if scheduler_address else
                                        cluster.get("scheduler_file"))
    address = scheduler_address or (None if scheduler_file else cluster.get("address"))
    if address or scheduler_file:
        target = address or f"the scheduler file {scheduler_file}"
        defaults = {key: dask.config.get(key, None) for key in ("scheduler", "shuffle")}
        try:
            if scheduler_file:
                address = _scheduler_address(scheduler_file)
            return Client(address, timeout=timeout), None
        except (OSError, TypeError, ValueError) as error:
            # a Client sets itself as dask's scheduler before it connects, and one that fails
            # to connect leaves it set: later computations would ask for a client that is gone
            dask.config.set(defaults)
            raise RefusedError(f"cluster: cannot connect to {target} (connect timeout "
                               f"{timeout:g} s): {describe_error(error)} (a TLS scheduler "
                               f"needs the certificates in Dask's config: cluster/README.md); "
                               f"nothing written") from None
    try:
        local = LocalCluster(n_workers=cluster.get("n_workers"),
                             threads_per_worker=cluster.get("threads_per_worker"),
                             memory_limit=cluster.get("memory_limit", "auto"), processes=True,
                             host="127.0.0.1", dashboard_address="127.0.0.1:0")
    except (OSError, TypeError, ValueError) as error:
        raise RefusedError(f"cluster: cannot start a local cluster: {describe_error(error)}; "
                           f"nothing written") from None
    return Client(local), local


def check_scheduler_file(cluster, scheduler_address=None, scheduler_file=None):
    """Refuse a scheduler file that is not there, before any work (Dask's client would wait
    for it to appear, without end)."""
    path = scheduler_file or (None if scheduler_address else cluster.get("scheduler_file"))
    if path is not None and not Path(path).is_file():
        where = "--scheduler-file" if scheduler_file else "cluster.scheduler_file"
        raise RefusedError(f"{where}: no scheduler file at {str(path)!r} (start the cluster "
                           f"first: it writes the file); nothing written")


def _scheduler_address(path):
    """The address a scheduler file holds (what Dask's client reads, without its wait for a
    file that is not there)."""
    with open(path) as handle:
        content = json.load(handle)
    if not isinstance(content, dict) or not isinstance(content.get("address"), str):
        raise ValueError(f"{path} holds no scheduler address (JSON with an 'address')")
    return content["address"]


def run_workflow(spec, *, scheduler_address=None, scheduler_file=None, connect_timeout=None,
                 resume=False, overwrite=False, dry_run=False, progress=None, echo=print):
    """Run `spec`; returns a Report. Raises InputError (spec against data), StorageError,
    RefusedError or LockError before writing anything when the run must not go ahead.

    `connect_timeout`: seconds to reach a scheduler (default: the spec's). `progress`: None, or
    a callable that takes the number of regions to write and returns a context manager whose
    `update(n)` is called as regions complete (`click.progressbar` is one)."""
    check_scheduler_file(spec.cluster, scheduler_address, scheduler_file)
    store, _ = reach_store(spec.output["store"], spec.output["storage_options"],
                           "output.store", writable=True)
    check_output(spec, store, resume, overwrite)
    plan = make_plan(spec)
    for line in describe_plan(plan):
        echo(line)
    if dry_run:
        return Report(lines=["dry run: nothing written"])
    started = time.perf_counter()
    if resume and not spec.model and _complete(plan, store):
        store.acquire()  # a lock that a run killed after its last marker left: gone
        store.release()
        return Report(regions_skipped=len(plan.regions), output_bytes=store.size_bytes(),
                      seconds=time.perf_counter() - started)
    client, cluster = connect(spec.cluster, scheduler_address, scheduler_file, connect_timeout)
    try:
        echo(f"dashboard  {client.dashboard_link}")
        _acquire(store)
        try:
            report = _write(plan, store, client, overwrite, progress)
        finally:
            store.release()
        report.output_bytes = store.size_bytes()
        if spec.model:
            from .model import fit_model

            report.model = fit_model(spec.model, spec.transform, plan.input, plan.variables[0],
                                     plan.dims, client=client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    report.seconds = time.perf_counter() - started
    return report


def _acquire(store):
    """Take the store's lock: its first write, so a store that refuses writes (permissions,
    credentials that only read) is a StorageError here, with nothing written."""
    try:
        store.acquire()
    except LockError:
        raise
    except Exception as error:  # noqa: BLE001 -- any filesystem library's error, as reach_store
        raise StorageError(f"output.store: cannot write {store.location!r}: "
                           f"{describe_error(error)}") from None


def _complete(plan, store):
    """Whether the store's template and every region's marker are there."""
    template = store.template()
    return (template is not None and template.get("spec_sha256") == plan.spec.digest()
            and set(plan.region_names()) <= store.done_regions())


def _write(plan, store, client, overwrite, progress):
    if overwrite:
        store.clear()
    if store.template() is None:
        store.clear()
        write_template(plan, store)
    done = store.done_regions()
    todo = [r for r in plan.regions if region_name(r) not in done]
    report = Report(regions_skipped=len(plan.regions) - len(todo))
    if todo:
        started = time.perf_counter()
        _write_regions(plan, store, client, todo, progress)
        report.write_seconds = time.perf_counter() - started
    report.regions_done = len(todo)
    per_index = plan.input_bytes / max(plan.input.sizes.get(plan.region_dim, 1), 1)
    report.input_bytes = int(sum(b - a for a, b in todo) * per_index)
    return report


def write_template(plan, store):
    """Metadata, coords and attrs (the spec's sha256 too); no data. Then its marker."""
    spec = plan.spec
    template = plan.output[plan.variables]
    template = template.assign_coords({name: coord.variable.load()
                                       for name, coord in template.coords.items()})
    template.attrs.update(scatflow_spec_sha256=spec.digest(),
                          scatflow_spec=json.dumps(spec.identity(), sort_keys=True))
    for coord in template.coords.values():
        coord.encoding = {k: v for k, v in coord.encoding.items()
                          if k in ("units", "calendar", "dtype")}
    encoding = {name: _encoding(plan, template[name]) for name in plan.variables}
    template.to_zarr(store.location, mode="a", compute=False, consolidated=False,
                     encoding=encoding, storage_options=store.storage_options or None)
    store.mark_template({"spec_sha256": spec.digest(), "spec": spec.identity(),
                         "regions": len(plan.regions)})


def _encoding(plan, variable):
    chunks = tuple(plan.chunk if d == plan.region_dim else c[0]
                   for d, c in zip(variable.dims, variable.chunks))
    encoding = {"chunks": chunks, "compressors": compressors(plan.spec.output["codec"])}
    if plan.shard:
        encoding["shards"] = tuple(plan.shard if d == plan.region_dim else c
                                   for d, c in zip(variable.dims, chunks))
    return encoding


def _write_regions(plan, store, client, todo, progress):
    """Compute and write the regions, a bounded number in flight; mark each when written."""
    from distributed import as_completed

    spec = plan.spec
    resources = {"GPU": 1} if spec.transform["backend"] == "cupy" else None
    threads = sum(client.nthreads().values()) or 1
    in_flight = max(2, 2 * threads)
    pending = iter(todo)

    def submit(region):
        region_dict = {plan.region_dim: slice(*region)} if plan.region_dim else None
        delayed = region_piece(plan, region).to_zarr(
            store.location, region=region_dict, mode="r+", compute=False, consolidated=False,
            storage_options=store.storage_options or None)
        future = client.compute(delayed, retries=spec.execution["retries"],
                                resources=resources)
        future.region = region
        return future

    first = [submit(r) for _, r in zip(range(in_flight), pending)]
    futures = as_completed(first)
    with progress(len(todo)) if progress else contextlib.nullcontext() as bar:
        for future in futures:
            future.result()
            store.mark_done(region_name(future.region))
            if bar is not None:
                bar.update(1)
            region = next(pending, None)
            if region is not None:
                futures.add(submit(region))
