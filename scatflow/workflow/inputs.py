"""The workflow's input, opened lazily: a zarr store (path or URL), a bundled dataset, or a file
inside an installed package; cut to `input.select`, chunked along `input.chunks`."""

import importlib.resources
import importlib.util

from .. import registry


class InputError(ValueError):
    """Problems with the input itself (missing store, variables, dims), one line each."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def open_input(spec):
    """`(dataset, variables, dims, chunks)`: the input (selected; lazy where it was read from a
    store, in memory for a bundled dataset), what is transformed over what, and the chunks to
    read it in (whole along `dims`). Raises InputError listing every problem."""
    dataset, variables, dims, problems = inspect_input(spec)
    if problems:
        raise InputError(problems)
    return select_input(spec, dataset, variables, dims)


def inspect_input(spec):
    """`(dataset, variables, dims, problems)`: the opened input, as it is, and every problem
    found against it; `dims` is None where the transformed dims could not be resolved, and
    `variables` holds only names the input has. Raises InputError where the input cannot be
    opened at all."""
    section = spec.input
    dataset = _open(section)
    problems = []
    for dim, (start, stop) in section["select"].items():
        if dim not in dataset.dims:
            problems.append(f"input.select.{dim}: no such dim; the input's dims: "
                            f"{list(dataset.dims)}")
        elif stop > dataset.sizes[dim]:
            problems.append(f"input.select.{dim}: stop {stop} is beyond the dim's size "
                            f"{dataset.sizes[dim]}")
    dims = _dims(dataset, spec.transform["kind"], section["dims"], problems)
    variables = _variables(dataset, section["variables"], dims, problems)
    if dims is not None:
        _check_transform(spec, dataset, dims, problems)
    else:
        _check_transform_on_largest_dims(spec, dataset, problems)
    for dim in section["chunks"]:
        if dim not in dataset.dims:
            problems.append(f"input.chunks.{dim}: no such dim; the input's dims: "
                            f"{list(dataset.dims)}")
    return dataset, [v for v in variables if v in dataset.data_vars], dims, problems


def select_input(spec, dataset, variables, dims):
    """`(dataset, variables, dims, chunks)` of `open_input` from a checked input."""
    section = spec.input
    target = (spec.model or {}).get("target")
    dataset = dataset[variables + ([target] if target in dataset.data_vars else [])]
    if section["select"]:
        dataset = dataset.isel({d: slice(a, b) for d, (a, b) in section["select"].items()})
    chunks = {d: -1 for d in dims}
    chunks.update({d: n for d, n in section["chunks"].items() if d not in dims})
    return dataset, variables, dims, chunks


def _open(section):
    import xarray as xr

    if "store" in section:
        return _open_store(section["store"], section["storage_options"])
    if "dataset" in section:
        from .datasets import load_dataset

        return load_dataset(section["dataset"], **section["options"])
    package, relative = section["file"]["package"], section["file"]["path"]
    if importlib.util.find_spec(package) is None:
        raise InputError([f"input.file.package: {package!r} is not installed"])
    path = importlib.resources.files(package) / relative
    if not path.exists():
        raise InputError([f"input.file.path: {relative!r} is not in package {package!r}"])
    path = str(path)
    if path.rstrip("/").endswith(".zarr"):
        return _open_store(path, {}, "input.file")
    try:
        return xr.open_dataset(path, chunks={})
    except Exception as error:  # noqa: BLE001 -- any error of the netCDF libraries
        from .store import describe_error

        raise InputError([f"input.file: cannot read {path!r}: {describe_error(error)}"]) from None


def _open_store(location, storage_options, where="input.store"):
    """The zarr store at `location`, opened lazily; InputError naming `where` where it is not
    there or cannot be reached or read (its metadata unreadable: any error of the reading
    library, as in `store.reach_store`)."""
    import xarray as xr

    from .store import StorageError, describe_error, reach_store

    try:
        _, exists = reach_store(location, storage_options, where)
    except StorageError as error:
        raise InputError([str(error)]) from None
    if not exists:
        raise InputError([f"{where}: no zarr store at {location!r}"])
    try:
        return xr.open_zarr(location, storage_options=storage_options or None, consolidated=False)
    except Exception as error:  # noqa: BLE001 -- see the docstring
        raise InputError([f"{where}: cannot read the zarr store at {location!r}: "
                          f"{describe_error(error)}"]) from None


def _check_transform(spec, dataset, dims, problems, where=""):
    """The frontend's own checks (J against the sizes, ...) on the selected sizes of `dims`."""
    from .. import dask as scat_dask
    from ..xarray.api import resolve_from_coordinates

    window = {dim: slice(*spec.input["select"].get(dim, (0, dataset.sizes[dim]))) for dim in dims}
    selected = dataset.isel(window)
    sizes = tuple(selected.sizes[dim] for dim in dims)
    kind = spec.transform["kind"]
    try:
        kwargs = resolve_from_coordinates(kind, selected, dims, spec.frontend_kwargs)
        scat_dask.describe(registry.get(kind).class_name, sizes, **kwargs)
    except (ValueError, TypeError) as error:
        over = ", ".join(f"{d}={n}" for d, n in zip(dims, sizes))
        problems.append(f"transform: {error} ({where or 'over'} {over})")


def _check_transform_on_largest_dims(spec, dataset, problems):
    """Where the transformed dims are not known, the frontend's checks on the input's largest
    dims: what fails there (a J too large for the whole input) fails on whichever dims are
    meant."""
    ndim = registry.get(spec.transform["kind"]).ndim
    largest = sorted(dataset.dims, key=lambda d: dataset.sizes[d], reverse=True)[:ndim]
    if len(largest) == ndim:
        _check_transform(spec, dataset, largest, problems,
                         where="even over the input's largest dims")


def _dims(dataset, kind, dims, problems):
    transform = registry.get(kind)
    ndim, defaults = transform.ndim, transform.default_dims
    if dims is None:
        for candidate in defaults:
            if all(d in dataset.dims for d in candidate):
                return list(candidate)
        problems.append(f"input.dims: give the {ndim} transformed dim(s); the defaults "
                        f"{[list(c) for c in defaults]} are not among the input's dims "
                        f"{list(dataset.dims)}")
        return None
    if len(dims) != ndim or len(set(dims)) != ndim:
        problems.append(f"input.dims: {kind} needs {ndim} distinct dim(s); got {dims}")
        return None
    missing = [d for d in dims if d not in dataset.dims]
    if missing:
        problems.append(f"input.dims: {missing} not in the input; its dims: {list(dataset.dims)}")
        return None
    return list(dims)


def _variables(dataset, variables, dims, problems):
    if variables is None:
        if dims is None:
            return []
        found = [str(n) for n, v in dataset.data_vars.items() if set(dims) <= set(v.dims)]
        if not found:
            problems.append(f"input.variables: no variable has all of dims {dims}; variables: "
                            f"{ {str(n): list(v.dims) for n, v in dataset.data_vars.items()} }")
        return found
    missing = [v for v in variables if v not in dataset.data_vars]
    if missing:
        problems.append(f"input.variables: {missing} not in the input; its variables: "
                        f"{[str(n) for n in dataset.data_vars]}")
    elif dims is not None:
        for name in variables:
            if not set(dims) <= set(dataset[name].dims):
                problems.append(f"input.variables: {name!r} has dims {list(dataset[name].dims)}, "
                                f"not all of {dims}")
    return variables
