"""Bad specs, generated from valid ones, run through the CLI as a user runs it.

Every spec field gets a bad value of each kind that applies to it: a wrong type, a value out of
range, an unknown name, a missing value, something unreachable (storage, a cluster), and text
that is not YAML; every frontend parameter of every transform gets a wrong type, a value out of
range and an unknown name. Each must end with exit status 2, a message naming the field, no
traceback, nothing written (the spec's folder holds what it held before), and an answer (the
one clock is a hang guard). The CLI runs in-process (click's CliRunner); the only servers are a
local S3 (moto) and ports where nothing listens.
"""

import copy
import json
import re
import socket
import threading
from dataclasses import dataclass

import numpy as np
import pytest
import xarray as xr
import yaml
from click.testing import CliRunner

from scatflow import registry
from scatflow.cli import main

HANG_GUARD_SECONDS = 120
KINDS = ("wrong type", "out of range", "unknown name", "missing", "unreachable", "not YAML")
TIMED_OUT = r"cluster: cannot connect .*connect timeout 2 s\): OSError: Timed out"
FAST_S3 = {"key": "testing", "secret": "testing",
           "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2}}


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    names: str  # a regular expression the message must match (the field it names)
    change: object  # (spec, env) -> the spec to write (a dict, or text)
    base: str = "scattering2d"
    args: tuple = ()
    needs_s3: bool = False


# -- the valid specs the bad ones are made from ------------------------------------------------
INPUTS = {  # transform -> (input store, dims, variable shape without the sample dim)
    "scattering2d": ("in2d.zarr", ["y", "x"], {"y": 16, "x": 20}),
    "scattering1d": ("in1d.zarr", ["time"], {"time": 256}),
    "harmonic_scattering3d": ("in3d.zarr", ["z", "y", "x"], {"z": 8, "y": 8, "x": 8}),
    "time_frequency_scattering": ("in1d.zarr", ["time"], {"time": 256}),
}
PARAMETERS = {
    "scattering2d": {"J": 2, "L": 4, "max_order": 2, "pre_pad": False,
                     "filter_levels": "kymatio", "average": True},
    "scattering1d": {"J": 3, "Q": 2, "T": 16, "max_order": 2, "average": True,
                     "oversampling": 0, "stride": 4, "kymatio_compat": None},
    "harmonic_scattering3d": {"J": 1, "L": 1, "sigma_0": 1, "max_order": 2,
                              "rotation_covariant": True, "method": "integral",
                              "integral_powers": [0.5, 1.0, 2.0], "average": True},
    "time_frequency_scattering": {"J": 4, "J_fr": 2, "Q": 4, "T": 16, "stride": 4,
                                  "Q_fr": 1, "F": 2, "stride_fr": 1, "format": "time"},
}


def valid_spec(kind, folder):
    store, dims, _ = INPUTS[kind]
    return {"input": {"store": str(folder / store), "dims": dims, "variables": ["signal"],
                      "chunks": {"sample": 2}, "select": {"sample": [0, 8]}},
            "transform": {"kind": kind, **PARAMETERS[kind], "backend": "numpy",
                          "dtype": "float64", "chunking": "rechunk", "nan_policy": "propagate"},
            "output": {"store": "out.zarr", "storage_options": {}, "chunks": 2, "shards": 4,
                       "codec": {"name": "zstd", "level": 3}},
            "execution": {"region_dim": "sample", "region_size": 4, "retries": 1},
            "cluster": {"kind": "local", "n_workers": 1, "threads_per_worker": 1,
                        "memory_limit": "1GiB", "connect_timeout": 30}}


# -- changes -----------------------------------------------------------------------------------
def put(path, value):
    """Set the dotted `path` to `value` (a callable of env: computed when the case runs)."""
    def change(spec, env):
        *parents, last = path.split(".")
        node = spec
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value(env) if callable(value) else value
        return spec
    return change


def drop(path):
    def change(spec, env):
        *parents, last = path.split(".")
        node = spec
        for key in parents:
            node = node[key]
        del node[last]
        return spec
    return change


def both(*changes):
    def change(spec, env):
        for one in changes:
            spec = one(spec, env)
        return spec
    return change


def text(content):
    return lambda spec, env: content


def field(path):
    return re.escape(path)


def case(path, kind, value, names=None, label=None, **kw):
    return Case(f"{path}={label or repr(value)}"[:80], kind, names or field(path),
                put(path, value), **kw)


# -- the generated cases -----------------------------------------------------------------------
def parameter_cases():
    """Each frontend parameter of each transform: a wrong type, a value out of range, an
    unknown name; and each required one missing."""
    out_of_range = {"J": -1, "L": -1, "Q": 0, "T": -16, "max_order": 3, "oversampling": -1,
                    "stride": 3, "sigma_0": -1.0, "J_fr": -1, "Q_fr": 0, "F": -2,
                    "stride_fr": 3, "integral_powers": [], "pre_pad": 2, "average": 2,
                    "kymatio_compat": 2, "rotation_covariant": 2, "method": 2,
                    "filter_levels": 2, "format": 2}
    cases = []
    for kind, parameters in PARAMETERS.items():
        for name in parameters:
            where = rf"transform\b.*\b{name}\b"
            path = f"transform.{name}"
            cases += [Case(f"{kind}:{name}=mapping", "wrong type", where,
                           put(path, {"a": 1}), base=kind),
                      Case(f"{kind}:{name}={out_of_range[name]!r}", "out of range", where,
                           put(path, out_of_range[name]), base=kind),
                      Case(f"{kind}:{name}='bogus'", "unknown name", where,
                           put(path, "bogus"), base=kind)]
        for name in registry.get(kind).required():
            cases.append(Case(f"{kind}:{name} missing", "missing", rf"transform\.{name}",
                              drop(f"transform.{name}"), base=kind))
        cases.append(Case(f"{kind}:an unknown parameter", "unknown name", r"transform\.colour",
                          put("transform.colour", "red"), base=kind))
    return cases


def scheduler_file(content, name="scheduler.json"):
    """A scheduler file in the case's folder holding `content` (a callable of env, or text)."""
    def make(env):
        path = env["folder"] / name
        path.write_text(content(env) if callable(content) else content)
        return str(path)
    return make


def closed(env):
    return f"tcp://127.0.0.1:{env['closed_port']}"


def storage_cases(section):
    """An input or output store that cannot be reached or read."""
    where = f"{section}.store"
    closed_endpoint = both(put(where, "s3://scatflow-test/data.zarr"), put(
        f"{section}.storage_options",
        lambda env: {**FAST_S3, "endpoint_url": f"http://127.0.0.1:{env['closed_port']}"}))
    no_credentials = put(where, "s3://scatflow-test/data.zarr")
    missing_bucket = both(put(where, "s3://no-such-bucket/data.zarr"),
                          put(f"{section}.storage_options", lambda env: env["s3"]))
    cases = [Case(f"{where}: endpoint that does not answer", "unreachable", field(where),
                  closed_endpoint),
             Case(f"{where}: s3 without credentials", "unreachable", field(where),
                  no_credentials),
             Case(f"{where}: a bucket that does not exist", "unreachable", field(where),
                  missing_bucket, needs_s3=True),
             case(where, "unknown name", "nosuch://bucket/data.zarr"),
             case(where, "unreachable", "/dev/null/data.zarr"),
             case(where, "wrong type", 7), case(where, "wrong type", ["a.zarr"]),
             case(where, "missing", ""),
             case(f"{section}.storage_options", "wrong type", "endpoint"),
             case(f"{section}.storage_options", "wrong type", [1])]
    if section == "input":
        cases += [case(where, "unreachable", lambda env: str(env["folder"] / "absent.zarr"),
                       label="a path with nothing there"),
                  case(where, "unreachable", lambda env: str(env["workspace"] / "corrupt.zarr"),
                       label="a store with unreadable metadata"),
                  case(where, "unreachable", lambda env: str(env["workspace"] / "a-file.txt"),
                       label="a plain file")]
    else:
        cases.append(case(where, "out of range", lambda env: str(env["workspace"] / "in2d.zarr"),
                          label="the input store"))
    cases.append(Case(f"{section}.storage_options with a local path", "out of range",
                      rf"{section}\.storage_options",
                      put(f"{section}.storage_options", {"anon": True})))
    return cases


def spec_cases():
    cases = [
        # not YAML, not a mapping, not a file
        *[Case(f"not YAML: {content[:30]!r}", "not YAML", r"spec", text(content)) for content in (
            "input: [unclosed", "input: {store: a.zarr", "a: b: c", "\tinput: {}",
            "input:\n  - a\n b: c", "key: 'unterminated", "*undefined_alias", "{{{",
            "input: !!python/object:os.system {}", "%YAML 9.9\n---\na: 1", "- [a, b]\n- c",
            "", "just a sentence", "42")],
        Case("not YAML: binary", "not YAML", r"spec", text("\x00\x01\xff\xfe")),
        # sections
        Case("an unknown section", "unknown name", r"extra", put("extra", {"a": 1})),
        *[case(section, "wrong type", value) for section, value in (
            ("input", 3), ("transform", "scattering2d"), ("output", ["out.zarr"]),
            ("execution", 5), ("cluster", "local"), ("model", 7))],
        *[Case(f"{section} missing", "missing", field(section), drop(section))
          for section in ("input", "transform", "output")],
        # input
        Case("input: two kinds", "out of range", r"input", put("input.dataset",
                                                               "hadcm3_air_temperature")),
        Case("input: no kind", "missing", r"input", drop("input.store")),
        case("input.dataset", "unknown name", "no_such_dataset",
             names=r"input(\.dataset)?"),
        Case("input.dataset wrong type", "wrong type", r"input(\.dataset)?",
             both(drop("input.store"), put("input.dataset", ["hadcm3"]))),
        Case("input.options without a dataset", "out of range", r"input\.options",
             put("input.options", {"scenario": "A1B"})),
        Case("input.options unknown option", "unknown name", r"input\.options",
             both(drop("input.store"), put("input.dataset", "hadcm3_air_temperature"),
                  put("input.options", {"colour": "red"}))),
        Case("input.options wrong type", "wrong type", r"input\.options",
             both(drop("input.store"), put("input.dataset", "hadcm3_air_temperature"),
                  put("input.options", "A1B"))),
        *[Case(f"input.file={value!r}", kind, r"input\.file",
               both(drop("input.store"), put("input.file", value))) for kind, value in (
            ("wrong type", "a.nc"), ("missing", {"package": "scatflow"}),
            ("unknown name", {"package": "no_such_package_xyz", "path": "a.nc"}),
            ("unreachable", {"package": "scatflow", "path": "no/such/file.nc"}),
            ("wrong type", {"package": 3, "path": "a.nc"}),
            ("unreachable", {"package": "scatflow", "path": "cli.py"}))],
        case("input.variables", "wrong type", 7), case("input.variables", "wrong type", [1]),
        case("input.variables", "missing", []),
        case("input.variables", "unknown name", ["nope"]),
        case("input.dims", "wrong type", 7), case("input.dims", "wrong type", [1, 2]),
        case("input.dims", "out of range", ["y"]), case("input.dims", "out of range", ["y", "y"]),
        case("input.dims", "unknown name", ["y", "q"]),
        case("input.dims", "out of range", ["sample", "y", "x"]),
        case("input.chunks", "wrong type", "x"),
        case("input.chunks.sample", "out of range", 0),
        case("input.chunks.sample", "wrong type", "x"),
        case("input.chunks.sample", "wrong type", 1.5),
        case("input.chunks.w", "unknown name", 2),
        case("input.select", "wrong type", "x"),
        case("input.select.sample", "out of range", [3, 1]),
        case("input.select.sample", "out of range", [-1, 2]),
        case("input.select.sample", "out of range", [0, 99]),
        case("input.select.sample", "wrong type", 5),
        case("input.select.sample", "wrong type", [0, "4"]),
        case("input.select.w", "unknown name", [0, 1]),
        case("input.colour", "unknown name", "red"),
        *storage_cases("input"),
        # transform
        case("transform.kind", "unknown name", "scattering4d"),
        case("transform.kind", "wrong type", 2),
        Case("transform.kind missing", "missing", r"transform\.kind", drop("transform.kind")),
        case("transform.backend", "unknown name", "jax"),
        case("transform.backend", "wrong type", 7),
        case("transform.dtype", "unknown name", "int8"),
        case("transform.dtype", "wrong type", 32),
        case("transform.chunking", "unknown name", "bogus"),
        case("transform.chunking", "wrong type", 7),
        Case("transform.chunking halo on 3D", "out of range", r"transform\.chunking",
             put("transform.chunking", "halo"), base="harmonic_scattering3d"),
        case("transform.nan_policy", "unknown name", "bogus"),
        case("transform.nan_policy", "wrong type", True),
        case("transform.nan_policy", "out of range", float("inf")),
        case("transform.nan_policy", "wrong type", {"a": 1}),
        Case("transform.nan_policy mask on 3D", "out of range", r"transform\b.*nan_policy='mask'",
             put("transform.nan_policy", "mask"), base="harmonic_scattering3d"),
        Case("transform.nan_policy mask with T=0", "out of range", r"transform\b.*T=0",
             both(put("transform.nan_policy", "mask"), put("transform.T", 0),
                  drop("transform.stride")), base="scattering1d"),
        case("transform.min_valid", "out of range", 1.5, names=r"transform\b.*\bmin_valid\b"),
        case("transform.min_valid", "out of range", 0, names=r"transform\b.*\bmin_valid\b"),
        case("transform.min_valid", "wrong type", "half", names=r"transform\b.*\bmin_valid\b"),
        *[case(f"transform.{name}", "unknown name", value) for name, value in (
            ("shape", [16, 20]), ("out_type", "list"), ("dims", ["y", "x"]), ("axis", -1))],
        Case("transform.J too large for the data", "out of range", r"transform\b.*\bJ\b",
             put("transform.J", 5)),
        *parameter_cases(),
        # output
        Case("output.store missing", "missing", r"output\.store", drop("output.store")),
        *storage_cases("output"),
        case("output.chunks", "out of range", 0), case("output.chunks", "out of range", -1),
        case("output.chunks", "wrong type", "x"), case("output.chunks", "wrong type", 1.5),
        case("output.chunks", "wrong type", True),
        case("output.shards", "out of range", 0), case("output.shards", "wrong type", "x"),
        case("output.shards", "out of range", 3),
        case("output.codec", "wrong type", "zstd"),
        case("output.codec", "unknown name", {"name": "lz77"}),
        case("output.codec", "missing", {"level": 3}),
        case("output.codec", "out of range", {"name": "zstd", "level": 100}),
        case("output.codec", "wrong type", {"name": "zstd", "level": "high"}),
        case("output.codec", "wrong type", {"name": "zstd", "level": 2.5}),
        case("output.codec", "wrong type", {"name": "zstd", "level": True},
             names=r"output\.codec"),
        case("output.codec", "out of range", {"name": "gzip", "level": 12}),
        case("output.codec", "unknown name", {"name": "blosc", "cname": "lz77"}),
        case("output.codec", "out of range", {"name": "blosc", "clevel": 12}),
        case("output.codec", "out of range", {"name": "blosc", "clevel": -1}),
        case("output.codec", "unknown name", {"name": "blosc", "shuffle": "sideways"}),
        case("output.codec", "unknown name", {"name": "zstd", "colour": 1}),
        case("output.colour", "unknown name", "red"),
        # execution
        case("execution.region_dim", "wrong type", 7),
        case("execution.region_dim", "unknown name", "nope"),
        case("execution.region_dim", "out of range", "y"),
        case("execution.region_size", "out of range", 0),
        case("execution.region_size", "wrong type", "x"),
        case("execution.region_size", "out of range", 3),
        Case("execution.region_size against the default chunk", "out of range",
             r"execution\.region_size", both(drop("output.chunks"), drop("output.shards"),
                                             put("execution.region_size", 3))),
        case("execution.retries", "out of range", -1),
        case("execution.retries", "wrong type", "x"),
        case("execution.retries", "wrong type", 1.5),
        case("execution.colour", "unknown name", "red"),
        # cluster
        case("cluster.kind", "unknown name", "moon"), case("cluster.kind", "wrong type", 7),
        case("cluster.n_workers", "out of range", 0), case("cluster.n_workers", "wrong type", "x"),
        case("cluster.threads_per_worker", "out of range", 0),
        case("cluster.threads_per_worker", "wrong type", "x"),
        case("cluster.memory_limit", "unknown name", "lots"),
        case("cluster.memory_limit", "wrong type", []),
        case("cluster.memory_limit", "wrong type", True),
        case("cluster.memory_limit", "out of range", -5),
        case("cluster.connect_timeout", "out of range", 0),
        case("cluster.connect_timeout", "out of range", -1),
        case("cluster.connect_timeout", "out of range", float("inf")),
        case("cluster.connect_timeout", "wrong type", "x"),
        case("cluster.connect_timeout", "wrong type", True),
        case("cluster.address", "unknown name", "tcp://127.0.0.1:1",
             names=r"cluster(\.address)?"),
        Case("cluster.address missing", "missing", r"cluster\.address",
             put("cluster", {"kind": "address"})),
        Case("cluster.address wrong type", "wrong type", r"cluster\.address",
             put("cluster", {"kind": "address", "address": 8786})),
        Case("cluster.address where nothing answers", "unreachable", TIMED_OUT,
             put("cluster", lambda env: {"kind": "address", "address": closed(env),
                                         "connect_timeout": 2})),
        Case("cluster.address not an address", "unknown name", r"cluster",
             put("cluster", {"kind": "address", "address": "nonsense", "connect_timeout": 2})),
        Case("cluster.scheduler_file missing", "missing", r"cluster\.scheduler_file",
             put("cluster", {"kind": "scheduler_file"})),
        Case("cluster.scheduler_file not there", "unreachable", r"cluster\.scheduler_file",
             put("cluster", {"kind": "scheduler_file", "scheduler_file": "absent.json"})),
        Case("cluster.scheduler_file where nothing answers", "unreachable", TIMED_OUT,
             put("cluster", lambda env: {
                 "kind": "scheduler_file", "connect_timeout": 2, "scheduler_file":
                 scheduler_file(lambda env: json.dumps({"address": closed(env)}))(env)})),
        Case("cluster.scheduler_file not JSON", "wrong type", r"cluster: .*JSONDecodeError",
             put("cluster", lambda env: {"kind": "scheduler_file", "connect_timeout": 2,
                                         "scheduler_file": scheduler_file("{{{")(env)})),
        Case("cluster.scheduler_file without an address", "missing",
             r"cluster: .*no scheduler address",
             put("cluster", lambda env: {"kind": "scheduler_file", "connect_timeout": 2,
                                         "scheduler_file": scheduler_file("{}")(env)})),
        Case("cluster: a field of another kind", "unknown name", r"cluster",
             put("cluster", {"kind": "address", "address": "tcp://a:1", "n_workers": 2})),
        # model
        case("model", "wrong type", "sgd"),
        Case("model.target missing", "missing", r"model\.target", put("model", {})),
        case("model.target", "wrong type", 7),
        case("model.target", "unknown name", "nope"),
        *[Case(f"model.{key}={value!r}", kind, rf"model\.{key}",
               put("model", {"target": "label", key: value})) for key, kind, value in (
            ("estimator", "unknown name", "svm"), ("estimator", "wrong type", 3),
            ("test_fraction", "out of range", 2), ("test_fraction", "wrong type", "x"),
            ("random_state", "out of range", -1), ("standardize", "wrong type", "yes"),
            ("max_iter", "out of range", 0), ("colour", "unknown name", "red"))],
        # the command line
        *[Case(f"--connect-timeout {value}", "out of range" if value != "abc" else "wrong type",
               r"--connect-timeout", lambda spec, env: spec, args=("--connect-timeout", value))
          for value in ("0", "-1", "abc")],
        Case("--scheduler-file not there", "unreachable", r"--scheduler-file",
             lambda spec, env: spec, args=("--scheduler-file", "/nonexistent/scheduler.json")),
        Case("--scheduler-address where nothing answers", "unreachable", TIMED_OUT,
             lambda spec, env: spec,
             args=("--scheduler-address", "{closed}", "--connect-timeout", "2")),
        Case("--scheduler-file where nothing answers", "unreachable", TIMED_OUT,
             lambda spec, env: spec,
             args=("--scheduler-file", "{scheduler_file}", "--connect-timeout", "2")),
        Case("--scheduler-address and --scheduler-file", "out of range", r"--scheduler",
             lambda spec, env: spec,
             args=("--scheduler-address", "tcp://a:1", "--scheduler-file", "s.json")),
        Case("--resume and --overwrite", "out of range", r"--resume",
             lambda spec, env: spec, args=("--resume", "--overwrite")),
        Case("the spec file is not there", "unreachable", r"spec",
             lambda spec, env: None),
    ]
    return cases


CASES = spec_cases()


# -- running a case ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """The valid inputs, a corrupt store, a plain file; every case gets its own folder."""
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    for store, dims, sizes in {v[0]: v for v in INPUTS.values()}.values():
        shape = (8,) + tuple(sizes.values())
        xr.Dataset({"signal": (("sample",) + tuple(sizes), rng.standard_normal(shape)),
                    "label": ("sample", np.arange(8) % 2)},
                   coords={"sample": np.arange(8)}).to_zarr(folder / store, consolidated=False)
    (folder / "corrupt.zarr").mkdir()
    (folder / "corrupt.zarr" / "zarr.json").write_text("{not json")
    (folder / "a-file.txt").write_text("not a store")
    return folder


@pytest.fixture
def no_cloud_credentials(monkeypatch):
    """No AWS credentials anywhere: s3:// without options has none, as on a fresh machine."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def closed_port():
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def invoke(args):
    """The CLI's result, within the hang guard."""
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(
        result=CliRunner().invoke(main, args, catch_exceptions=True)), daemon=True)
    thread.start()
    thread.join(HANG_GUARD_SECONDS)
    assert not thread.is_alive(), f"no answer within {HANG_GUARD_SECONDS} s: {args}"
    return outcome["result"]


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def run_case(bad, workspace, folder, request):
    env = {"folder": folder, "workspace": workspace, "closed_port": closed_port()}
    if bad.needs_s3:
        env["s3"] = request.getfixturevalue("s3_server")
    spec = bad.change(copy.deepcopy(valid_spec(bad.base, workspace)), env)
    path = folder / "spec.yaml"
    if spec is not None:
        path.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec))
    env["scheduler_file"] = scheduler_file(json.dumps({"address": closed(env)}),
                                           name="cli-scheduler.json")(env)
    args = [arg.format(closed=closed(env), scheduler_file=env["scheduler_file"])
            for arg in bad.args]
    before = listing(folder)
    result = invoke(["run", str(path), "--no-progress", *args])
    return result, before


@pytest.mark.parametrize("bad", CASES, ids=[c.name for c in CASES])
def test_a_bad_spec_ends_in_exit_2_naming_its_field_with_nothing_written(
        bad, workspace, tmp_path, request, no_cloud_credentials):
    result, before = run_case(bad, workspace, tmp_path, request)
    output = result.output
    assert result.exit_code == 2, (result.exit_code, output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in output, output
    assert re.search(bad.names, output), (bad.names, output)
    assert listing(tmp_path) == before, "something was written"
    assert not (tmp_path / "out.zarr").exists()


def test_the_suite_tries_at_least_150_bad_specs_of_every_kind():
    counts = {kind: sum(c.kind == kind for c in CASES) for kind in KINDS}
    assert len(CASES) >= 150, len(CASES)
    assert all(counts.values()), counts
    assert set(c.kind for c in CASES) <= set(KINDS)
    assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"


@pytest.mark.parametrize("kind", list(INPUTS))
def test_the_specs_the_bad_ones_come_from_are_valid(kind, workspace, tmp_path):
    path = tmp_path / "spec.yaml"
    spec = valid_spec(kind, workspace)
    path.write_text(yaml.safe_dump(spec))
    result = invoke(["plan", str(path)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "out.zarr").exists()
