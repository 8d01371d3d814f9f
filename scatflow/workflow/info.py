"""`scatflow info STORE`: what an output store holds and how far its run got."""

import json

from .store import reach_store


def describe_store(location, storage_options=None):
    """Lines describing the store: variables, transform, spec, regions done, lock, size."""
    import xarray as xr

    store, exists = reach_store(location, storage_options, "STORE")
    if not exists:
        raise FileNotFoundError(f"STORE: no scatflow output at {location!r}")
    template = store.template()
    if template is None:
        return [f"{location}: the template is not complete (a run was stopped while writing "
                f"it); scatflow run SPEC --resume completes it"]
    dataset = xr.open_zarr(location, consolidated=False, storage_options=storage_options or None)
    lines = [f"store      {location}  ({store.size_bytes() / 1e6:.2f} MB stored)"]
    for name, variable in dataset.data_vars.items():
        sizes = ", ".join(f"{d}={n}" for d, n in variable.sizes.items())
        lines.append(f"variable   {name}({sizes}) {variable.dtype}")
        attrs = {k.removeprefix("scatflow_"): v for k, v in variable.attrs.items()
                 if k.startswith("scatflow_") and k not in ("scatflow_version",)}
        if attrs:
            lines.append("transform  " + " ".join(f"{k}={json.dumps(v)}"
                                                  for k, v in sorted(attrs.items())))
    total = template.get("regions", 0)
    done = sorted(store.done_regions())
    state = "complete" if len(done) == total else "incomplete: scatflow run SPEC --resume"
    lines.append(f"regions    {len(done)} of {total} done ({state})")
    spec = dataset.attrs.get("scatflow_spec")
    if spec:
        region = json.loads(spec).get("execution", {})
        lines.append(f"           along {region.get('region_dim')!r}, "
                     f"{region.get('region_size') or 'one chunk'} per region")
    lines.append(f"spec       sha256 {dataset.attrs.get('scatflow_spec_sha256', '?')}")
    holder = store.lock_holder()
    if holder is not None:
        lines.append(f"lock       held by a running run (host {holder.get('host')}, pid "
                     f"{holder.get('pid')})")
    return lines
