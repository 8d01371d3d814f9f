"""The workflow spec: a YAML file read with `yaml.safe_load`, checked field by field.

    input:      # exactly one of store / dataset / file
      store: data/fields.zarr         # zarr path (relative to the spec's folder) or URL (s3://, gs://)
      storage_options: {}             # fsspec options of a URL (credentials, endpoint_url, ...)
      dataset: hadcm3_air_temperature # or: a real dataset shipped in a package (workflow.datasets)
      options: {scenario: A1B}        #     its loader's options
      file: {package: iris_sample_data, path: sample_data/SOI_Darwin.nc}
                                      # or: a netCDF or zarr file inside an installed package
      variables: [air_temperature]    # default: every variable that has all of `dims`
      dims: [latitude, longitude]     # the transformed dims (default: the transform's defaults)
      chunks: {time: 24}              # read chunks of the other dims
      select: {time: [0, 48]}         # index ranges [start, stop) to keep (a slice of the data)
    transform:
      kind: scattering2d              # the name of a transform of scatflow.registry
                                      # (registry.TRANSFORMS)
      J: 2                            # its required parameters (J, ...) and every other
                                      # frontend keyword (L, Q, max_order, ...); T may be a
                                      # duration ("6h", "16ms") on a time coordinate
      backend: auto                   # auto | numpy | cupy (cupy: GPU workers)
      dtype: float32                  # float32 | float64 | null (the data's float type)
      chunking: rechunk               # rechunk | halo
      nan_policy: propagate           # propagate | raise | mask (NaN as missing data; with
                                      # min_valid: 0.5, a frontend keyword) | a fill number
      padding_mode: auto              # reflect (default) | symmetric | zero | periodic | auto
                                      # (periodic along a longitude spanning 360 degrees;
                                      # scatflow.xarray), or one per dim: [reflect, periodic]
    output:
      store: out/scattering.zarr      # path or URL; never overwritten without --overwrite
      storage_options: {}
      chunks: 8                       # zarr chunk length along the region dim (default: ~16 MB)
      shards: null                    # shard length (a multiple of chunks), or null
      codec: {name: zstd, level: 3}   # zstd | blosc (cname, clevel, shuffle) | gzip | none
    execution:
      region_dim: time                # the dim cut into regions (default: the first other dim)
      region_size: 48                 # a multiple of the shard (or chunk) length (default: one)
      retries: 2                      # task retries on a worker's failure
    cluster:                          # where it runs (the CLI's --scheduler-* options win)
      kind: local                     # local (embedded LocalCluster) | address | scheduler_file
      n_workers: null                 # local: sized from the machine when null
      threads_per_worker: null
      memory_limit: auto
      address: tcp://host:8786        # kind address
      scheduler_file: scheduler.json  # kind scheduler_file
      connect_timeout: 30             # seconds to reach a scheduler before giving up (any kind;
                                      # the CLI's --connect-timeout wins)
    model: {...}                      # optional: a dask-ml classifier on the features (model.py)

`load_spec(path)` returns a `Spec` or raises `SpecError` holding every problem found, each
naming its field ("transform.J: ..."). Checks against the data (variables, dims, J against the
sizes) run when the input is opened (`plan.make_plan`).
"""

import hashlib
import json
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path

from ..xarray.units import is_duration

BACKENDS = ("auto", "numpy", "cupy")
DTYPES = ("float32", "float64")
CODECS = {"zstd": ("level",), "blosc": ("cname", "clevel", "shuffle"), "gzip": ("level",),
          "none": ()}
CLUSTER_KINDS = {"local": ("n_workers", "threads_per_worker", "memory_limit"),
                 "address": ("address",), "scheduler_file": ("scheduler_file",)}
CONNECT_TIMEOUT = 30.0  # seconds to reach a scheduler, by default
SECTIONS = ("input", "transform", "output", "execution", "cluster", "model")
INPUT_KINDS = ("store", "dataset", "file")
INPUT_FIELDS = INPUT_KINDS + ("storage_options", "options", "variables", "dims", "chunks",
                              "select")
OUTPUT_FIELDS = ("store", "storage_options", "chunks", "shards", "codec")
EXECUTION_FIELDS = ("region_dim", "region_size", "retries")
TRANSFORM_FIELDS = ("kind", "backend", "dtype", "chunking", "nan_policy")


class SpecError(ValueError):
    """Every problem found in a spec, one line each."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class Spec:
    """A checked spec; paths resolved against `folder`, defaults filled in."""

    input: dict
    transform: dict
    output: dict
    execution: dict
    cluster: dict
    model: dict | None
    source: str = ""
    frontend_kwargs: dict = field(default_factory=dict)

    def identity(self):
        """What makes a store's content: the input, the transform, the output format and the
        regions (not where the output goes, nor where or how it runs)."""
        output = {k: v for k, v in self.output.items() if k not in ("store", "storage_options")}
        return {"input": {k: v for k, v in self.input.items() if k != "storage_options"},
                "transform": self.transform, "output": output,
                "execution": {"region_dim": self.execution["region_dim"],
                              "region_size": self.execution["region_size"]}}

    def digest(self):
        """sha256 of `identity()` as canonical JSON: a resumed store must carry the same."""
        text = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def is_url(location):
    return isinstance(location, str) and "://" in location


def resolve(location, folder):
    """A path relative to the spec's folder made absolute; URLs unchanged."""
    if is_url(location):
        return location
    path = Path(location).expanduser()
    return str(path if path.is_absolute() else (Path(folder) / path).resolve())


def load_spec(path):
    """Read and check the spec file at `path`."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise SpecError([f"spec: cannot read {str(path)!r}: {error.strerror or error}"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SpecError([f"spec: {path} is not valid YAML: {error}"]) from None
    return check_spec(raw, path.resolve().parent, source=str(path))


def check_spec(raw, folder, source=""):
    """A `Spec` from the parsed YAML `raw`, or a SpecError listing every problem."""
    problems = []
    if not isinstance(raw, dict):
        raise SpecError([f"spec: expected a mapping with sections {list(SECTIONS)}; got "
                         f"{type(raw).__name__}"])
    _unknown(raw, SECTIONS, "spec", problems)
    sections = {}
    for name in SECTIONS:
        value = raw.get(name)
        if value is None and name in ("input", "transform", "output"):
            problems.append(f"{name}: missing (a mapping)")
            value = {}
        elif value is None:
            value = {}
        elif not isinstance(value, dict):
            problems.append(f"{name}: expected a mapping; got {type(value).__name__}")
            value = {}
        sections[name] = value
    inputs = _check_input(sections["input"], folder, problems)
    transform, kwargs = _check_transform(sections["transform"], problems)
    output = _check_output(sections["output"], folder, problems)
    execution = _check_execution(sections["execution"], output, problems)
    cluster = _check_cluster(sections["cluster"], folder, problems)
    model = None
    if raw.get("model") is not None:
        from . import model as model_step

        model = sections["model"]
        problems.extend(model_step.check_model(model))
    if output.get("store") and inputs.get("store") and output["store"] == inputs["store"]:
        problems.append("output.store: is the input store; write the output elsewhere")
    if problems:
        raise SpecError(problems)
    return Spec(inputs, transform, output, execution, cluster, model, source, kwargs)


# -- sections --------------------------------------------------------------------------------
def _check_input(section, folder, problems):
    _unknown(section, INPUT_FIELDS, "input", problems)
    kinds = [k for k in INPUT_KINDS if section.get(k) is not None]
    if len(kinds) != 1:
        problems.append(f"input: give exactly one of {list(INPUT_KINDS)}; got "
                        f"{kinds or 'none'}")
    out = {}
    if section.get("store") is not None:
        if _string(section["store"], "input.store", problems):
            out["store"] = resolve(section["store"], folder)
    if section.get("dataset") is not None:
        from . import datasets

        options = section.get("options") or {}
        problems.extend(datasets.check_dataset(section["dataset"], options))
        out.update(dataset=section["dataset"], options=dict(options) if isinstance(options, dict)
                   else options)
    elif section.get("options") is not None:
        problems.append("input.options: only with input.dataset")
    if section.get("file") is not None:
        file = section["file"]
        if not isinstance(file, dict) or set(file) != {"package", "path"} or not all(
                isinstance(v, str) and v for v in file.values()):
            problems.append(f"input.file: expected {{package: NAME, path: PATH}} naming a file "
                            f"inside an installed package; got {file!r}")
        else:
            out["file"] = dict(file)
    out["storage_options"] = _mapping(section.get("storage_options"), "input.storage_options",
                                      problems)
    _url_options(out, "input", problems)
    out["variables"] = _names(section.get("variables"), "input.variables", problems)
    out["dims"] = _names(section.get("dims"), "input.dims", problems)
    chunks = _mapping(section.get("chunks"), "input.chunks", problems)
    for dim, size in chunks.items():
        _positive_int(size, f"input.chunks.{dim}", problems)
    out["chunks"] = chunks
    select = _mapping(section.get("select"), "input.select", problems)
    for dim, bounds in select.items():
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(
                isinstance(b, int) and not isinstance(b, bool) and b >= 0 for b in bounds)
                and bounds[0] < bounds[1]):
            problems.append(f"input.select.{dim}: expected [start, stop] with 0 <= start < stop "
                            f"(indices); got {bounds!r}")
    out["select"] = select
    return out


def _check_transform(section, problems):
    from .. import registry

    kind = section.get("kind")
    transform = registry.TRANSFORMS.get(kind) if isinstance(kind, str) else None
    if transform is None:
        problems.append(f"transform.kind: must be one of {list(registry.TRANSFORMS)}; got "
                        f"{kind!r}")
    backend = section.get("backend", "auto")
    if backend not in BACKENDS:
        problems.append(f"transform.backend: must be one of {list(BACKENDS)}; got {backend!r}")
    dtype = section.get("dtype")
    if dtype is not None and dtype not in DTYPES:
        problems.append(f"transform.dtype: must be one of {list(DTYPES)} or null; got {dtype!r}")
    for name in ("shape", "out_type", "dims", "axis", "axes"):
        if name in section:
            problems.append(f"transform.{name}: not a transform field (the shape comes from the "
                            f"data, the dims from input.dims)")
    kwargs = {k: v for k, v in section.items()
              if k not in TRANSFORM_FIELDS + ("shape", "out_type", "dims", "axis", "axes")}
    # YAML has no tuples: a list is a tuple parameter (Q: [8, 2]), as the frontends take them
    frontend_kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    chunking = section.get("chunking", "rechunk")
    nan_policy = section.get("nan_policy", "propagate")
    if transform is not None:
        _frontend_parameters(transform, frontend_kwargs, nan_policy, problems)
    else:  # the parameters every transform requires
        common = set.intersection(*(set(t.required()) for t in registry.TRANSFORMS.values()))
        for name in sorted(common - set(kwargs)):
            problems.append(f"transform.{name}: missing (a required parameter)")
    _check_chunking(transform, chunking, nan_policy, problems)
    transform = {"kind": kind, "backend": backend, "dtype": dtype, "chunking": chunking,
                 "nan_policy": nan_policy, **kwargs}
    return transform, frontend_kwargs


def _check_chunking(transform, chunking, nan_policy, problems):
    """`chunking` and `nan_policy` as `scatflow.dask` takes them."""
    from ..dask import CHUNKING, NAN_POLICIES

    if chunking not in CHUNKING:
        problems.append(f"transform.chunking: must be one of {list(CHUNKING)}; got {chunking!r}")
    elif chunking == "halo" and transform is not None and transform.no_halo:
        problems.append(f"transform.chunking: 'halo' does not apply to {transform.name} "
                        f"({transform.no_halo}); use 'rechunk'")
    if not (nan_policy in NAN_POLICIES or (
            isinstance(nan_policy, numbers.Real) and not isinstance(nan_policy, bool)
            and math.isfinite(nan_policy))):
        problems.append(f"transform.nan_policy: must be 'propagate', 'raise', 'mask' or a finite "
                        f"number to fill NaN and inf with; got {nan_policy!r}")


def _frontend_parameters(transform, kwargs, nan_policy, problems):
    """Missing, unknown and invalid frontend parameters (the transform's own checks, those
    that do not need the data's shape, with nan_policy="mask" where it is the frontends'; the
    rest run when the input is opened)."""
    allowed = [p.name for p in transform.parameters()
               if p.name not in ("shape", "out_type", "backend") + TRANSFORM_FIELDS]
    missing = [name for name in transform.required() if name not in kwargs]
    for name in missing:
        problems.append(f"transform.{name}: missing (a required parameter of {transform.name})")
    unknown = [name for name in kwargs if name not in allowed]
    for name in unknown:
        problems.append(f"transform.{name}: not a parameter of {transform.name}; allowed: "
                        f"{sorted(allowed + list(TRANSFORM_FIELDS))}")
    if missing or unknown:
        return
    if kwargs.get("padding_mode") == "auto":  # resolved from the input's coordinates
        kwargs = dict(kwargs, padding_mode="reflect")
    if is_duration(kwargs.get("T")):  # samples once the input's time coordinate is read
        kwargs = dict(kwargs, T=None)
    try:
        masked = {"nan_policy": "mask"} if nan_policy == "mask" else {}
        transform.load("base").check_parameters(shape=None, out_type="array", **kwargs, **masked)
    except (TypeError, ValueError) as error:
        problems.append(f"transform: {error}")


def _check_output(section, folder, problems):
    _unknown(section, OUTPUT_FIELDS, "output", problems)
    out = {"store": None}
    if section.get("store") is None:
        problems.append("output.store: missing (a path or URL for the zarr output)")
    elif _string(section["store"], "output.store", problems):
        out["store"] = resolve(section["store"], folder)
    out["storage_options"] = _mapping(section.get("storage_options"), "output.storage_options",
                                      problems)
    _url_options(out, "output", problems)
    for name in ("chunks", "shards"):
        value = section.get(name)
        if value is not None:
            _positive_int(value, f"output.{name}", problems)
        out[name] = value
    chunks, shards = out["chunks"], out["shards"]
    if (isinstance(chunks, int) and isinstance(shards, int) and chunks > 0 and shards > 0
            and shards % chunks):
        problems.append(f"output.shards: must be a multiple of output.chunks ({chunks}); got "
                        f"{shards}")
    codec = section.get("codec", {"name": "zstd", "level": 3})
    if not isinstance(codec, dict) or codec.get("name") not in CODECS:
        problems.append(f"output.codec: expected {{name: one of {list(CODECS)}, ...}}; got "
                        f"{codec!r}")
    else:
        before = len(problems)
        _unknown(codec, ("name",) + CODECS[codec["name"]], "output.codec", problems)
        if len(problems) == before:
            _check_codec(codec, problems)
    out["codec"] = codec
    return out


def compressors(codec):
    """The zarr compressors of the `output.codec` mapping (None for name `none`)."""
    import zarr.codecs as codecs

    name = codec["name"]
    if name == "none":
        return None
    if name == "zstd":
        return [codecs.ZstdCodec(level=codec.get("level", 3))]
    if name == "gzip":
        return [codecs.GzipCodec(level=codec.get("level", 5))]
    return [codecs.BloscCodec(cname=codec.get("cname", "zstd"), clevel=codec.get("clevel", 3),
                              shuffle=codec.get("shuffle", "bitshuffle"))]


def _check_codec(codec, problems):
    """The codec's own verdict on its parameters, before anything is written: zarr builds the
    codec (names, types, the ranges it knows) and encodes a small array into memory with it
    (the ranges only the compression library knows, such as blosc's clevel)."""
    import numpy as np
    import zarr
    from zarr.storage import MemoryStore

    flags = [k for k, v in codec.items() if isinstance(v, bool)]
    if flags:
        problems.append(f"output.codec.{flags[0]}: expected a number or a name; got "
                        f"{codec[flags[0]]!r}")
        return
    try:
        trial = zarr.create_array(store=MemoryStore(), shape=(16,), dtype="float32",
                                  compressors=compressors(codec))
        trial[:] = np.arange(16, dtype="float32")
    except (TypeError, ValueError, RuntimeError) as error:
        parameters = {k: v for k, v in codec.items() if k != "name"}
        problems.append(f"output.codec: {codec['name']} does not take {parameters}: {error}")


def _check_execution(section, output, problems):
    _unknown(section, EXECUTION_FIELDS, "execution", problems)
    region_dim = section.get("region_dim")
    if region_dim is not None:
        _string(region_dim, "execution.region_dim", problems)
    region_size = section.get("region_size")
    unit = output["shards"] or output["chunks"]
    if (region_size is not None and _positive_int(region_size, "execution.region_size", problems)
            and isinstance(unit, int) and unit > 0 and region_size % unit):
        problems.append(f"execution.region_size: must be a multiple of output."
                        f"{'shards' if output['shards'] else 'chunks'} ({unit}); got "
                        f"{region_size}")
    retries = section.get("retries", 2)
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        problems.append(f"execution.retries: must be an integer >= 0; got {retries!r}")
    return {"region_dim": region_dim, "region_size": region_size, "retries": retries}


def _check_cluster(section, folder, problems):
    kind = section.get("kind", "local")
    if kind not in CLUSTER_KINDS:
        problems.append(f"cluster.kind: must be one of {list(CLUSTER_KINDS)}; got {kind!r}")
        return {"kind": "local"}
    _unknown(section, ("kind", "connect_timeout") + CLUSTER_KINDS[kind], f"cluster (kind {kind})",
             problems)
    timeout = section.get("connect_timeout", CONNECT_TIMEOUT)
    if (not isinstance(timeout, numbers.Real) or isinstance(timeout, bool)
            or not 0 < timeout < float("inf")):
        problems.append(f"cluster.connect_timeout: must be a number of seconds > 0; got "
                        f"{timeout!r}")
    out = {"kind": kind, "connect_timeout": timeout}
    if kind == "local":
        for name in ("n_workers", "threads_per_worker"):
            value = section.get(name)
            if value is not None:
                _positive_int(value, f"cluster.{name}", problems)
            out[name] = value
        limit = section.get("memory_limit", "auto")
        if not _memory_limit(limit):
            problems.append(f"cluster.memory_limit: expected 'auto', a size such as '2GiB', or "
                            f"bytes; got {limit!r}")
        out["memory_limit"] = limit
    elif kind == "address":
        if _string(section.get("address"), "cluster.address", problems):
            out["address"] = section["address"]
    elif _string(section.get("scheduler_file"), "cluster.scheduler_file", problems):
        out["scheduler_file"] = resolve(section["scheduler_file"], folder)
    return out


# -- field checks ------------------------------------------------------------------------------
def _url_options(section, where, problems):
    """Storage options go with a URL store only (a local path has no options to take)."""
    if section["storage_options"] and not is_url(section.get("store")):
        problems.append(f"{where}.storage_options: only with a URL {where}.store (s3://, gs://, "
                        f"...); got {section['storage_options']!r} for "
                        f"{section.get('store')!r}")


def _memory_limit(limit):
    """Whether `limit` is what a LocalCluster takes: 'auto', bytes, or a size Dask parses."""
    from dask.utils import parse_bytes

    if limit == "auto":
        return True
    if isinstance(limit, bool) or not isinstance(limit, (str, int)):
        return False
    try:
        return parse_bytes(limit) >= 0
    except ValueError:
        return False


def _unknown(section, allowed, where, problems):
    for name in section:
        if name not in allowed:
            problems.append(f"{where}.{name}: unknown field; allowed: {list(allowed)}"
                            if where != "spec" else
                            f"{name}: unknown section; allowed: {list(allowed)}")


def _string(value, where, problems):
    if not isinstance(value, str) or not value:
        problems.append(f"{where}: expected a non-empty string; got {value!r}")
        return False
    return True


def _mapping(value, where, problems):
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: expected a mapping; got {value!r}")
        return {}
    return dict(value)


def _names(value, where, problems):
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: expected a name or a list of names; got {value!r}")
        return None
    return list(value)


def _positive_int(value, where, problems):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        problems.append(f"{where}: must be an integer >= 1; got {value!r}")
        return False
    return True
