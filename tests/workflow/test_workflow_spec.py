"""The workflow spec: every problem reported at once, each naming its field, nothing written;
the spec's identity (what a resumed store must match)."""

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
import yaml

from scatflow.workflow.inputs import InputError
from scatflow.workflow.plan import make_plan
from scatflow.workflow.spec import SpecError, check_spec


def fields(spec_dict, tmp_path):
    with pytest.raises(SpecError) as caught:
        check_spec(spec_dict, tmp_path)
    return [p.split(":", 1)[0] for p in caught.value.problems]


def images_store(path, n=6, size=(16, 20)):
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    ds = xr.Dataset({"img": (("sample", "y", "x"), rng.standard_normal((n,) + size))},
                    coords={"sample": np.arange(n)})
    ds.to_zarr(path, consolidated=False)
    return path


def valid(tmp_path, **changes):
    spec = {"input": {"store": str(images_store(tmp_path / "in.zarr")), "dims": ["y", "x"]},
            "transform": {"kind": "scattering2d", "J": 2, "L": 4},
            "output": {"store": str(tmp_path / "out.zarr")}}
    for section, value in changes.items():
        spec[section] = {**spec.get(section, {}), **value}
    return spec


def test_a_valid_spec_is_accepted_with_defaults_filled(tmp_path):
    spec = check_spec(valid(tmp_path), tmp_path)
    assert spec.transform["backend"] == "auto" and spec.execution["retries"] == 2
    assert spec.cluster == {"kind": "local", "connect_timeout": 30.0, "n_workers": None,
                            "threads_per_worker": None, "memory_limit": "auto"}
    assert spec.frontend_kwargs == {"J": 2, "L": 4}


def test_every_structural_problem_is_reported_at_once_with_its_field(tmp_path):
    bad = valid(tmp_path, transform={"kind": "scattering4d", "colour": "red"},
                output={"chunks": 0, "codec": {"name": "lz77"}},
                execution={"retries": -1, "region_sise": 3},
                cluster={"kind": "moon"})
    bad["extra"] = 1
    found = fields(bad, tmp_path)
    for field in ("transform.kind", "output.chunks", "output.codec", "execution.retries",
                  "execution.region_sise", "cluster.kind", "extra"):
        assert field in found, (field, found)


def test_unknown_frontend_parameters_and_wrong_types_name_their_field(tmp_path):
    found = fields(valid(tmp_path, transform={"Q": 8, "backend": "jax", "dtype": "int8"},
                         input={"select": {"sample": [3, 1]}, "chunks": {"sample": "x"}}),
                   tmp_path)
    assert {"transform.Q", "transform.backend", "transform.dtype", "input.select.sample",
            "input.chunks.sample"} <= set(found)


def test_missing_sections_and_two_input_kinds(tmp_path):
    found = fields({"input": {"store": "a.zarr", "dataset": "digits"}}, tmp_path)
    assert {"input", "transform", "output", "transform.kind", "transform.J"} <= set(found)


def test_relative_paths_resolve_against_the_spec_folder(tmp_path):
    spec = check_spec({"input": {"store": "data/in.zarr"}, "transform": {
        "kind": "scattering1d", "J": 3}, "output": {"store": "s3://bucket/out.zarr"}}, tmp_path)
    assert spec.input["store"] == str((tmp_path / "data/in.zarr").resolve())
    assert spec.output["store"] == "s3://bucket/out.zarr"


def test_problems_found_against_the_data_are_reported_together(tmp_path):
    spec = check_spec(valid(tmp_path, input={"variables": ["img", "nope"], "dims": ["y", "z"],
                                             "chunks": {"w": 2}}), tmp_path)
    with pytest.raises(InputError) as caught:
        make_plan(spec)
    found = [p.split(":", 1)[0] for p in caught.value.problems]
    assert {"input.dims", "input.variables", "input.chunks.w"} <= set(found)


def test_J_too_large_for_the_data_is_a_transform_problem(tmp_path):
    spec = check_spec(valid(tmp_path, transform={"J": 7}), tmp_path)
    with pytest.raises(InputError, match="transform:.*J"):
        make_plan(spec)


def test_a_missing_input_store_is_reported(tmp_path):
    spec = check_spec(valid(tmp_path, input={"store": str(tmp_path / "absent.zarr")}), tmp_path)
    with pytest.raises(InputError, match="input.store: no zarr store"):
        make_plan(spec)


def test_the_identity_ignores_where_the_output_goes_and_where_it_runs(tmp_path):
    a = check_spec(valid(tmp_path), tmp_path)
    b = check_spec(valid(tmp_path, output={"store": str(tmp_path / "elsewhere.zarr")},
                         cluster={"kind": "address", "address": "tcp://1.2.3.4:8786"}), tmp_path)
    c = check_spec(valid(tmp_path, transform={"L": 6}), tmp_path)
    assert a.digest() == b.digest() != c.digest()


def test_the_cli_prints_every_problem_without_a_traceback_and_writes_nothing(tmp_path):
    bad = valid(tmp_path, transform={"J": "three", "kind": "scattering2d", "sigma": 1},
                output={"shards": 3, "chunks": 2})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    result = subprocess.run([sys.executable, "-m", "scatflow.cli", "run", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "output.shards" in result.stderr and "transform.sigma" in result.stderr
    assert not (tmp_path / "out.zarr").exists()


def test_the_cli_reports_data_problems_with_exit_2_and_writes_nothing(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(valid(tmp_path, transform={"J": 9},
                                         input={"variables": ["nope"]})))
    result = subprocess.run([sys.executable, "-m", "scatflow.cli", "run", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "input.variables" in result.stderr
    assert "transform: " in result.stderr and "J" in result.stderr
    assert not (tmp_path / "out.zarr").exists()


def test_bad_dims_do_not_hide_a_too_large_J_or_a_bad_region_dim(tmp_path):
    spec = check_spec(valid(tmp_path, input={"dims": ["y", "z"]}, transform={"J": 7},
                            execution={"region_dim": "t"}), tmp_path)
    with pytest.raises(InputError) as caught:
        make_plan(spec)
    found = [p.split(":", 1)[0] for p in caught.value.problems]
    assert found == ["input.dims", "transform", "execution.region_dim"], caught.value.problems
    assert "largest dims" in caught.value.problems[1]


def test_a_region_size_against_explicit_chunks_is_a_spec_problem(tmp_path):
    found = fields(valid(tmp_path, output={"chunks": 2}, execution={"region_size": 3}),
                   tmp_path)
    assert found == ["execution.region_size"]


def test_codec_parameters_are_checked_by_the_codec_before_anything_is_written(tmp_path):
    for codec in ({"name": "zstd", "level": 100}, {"name": "blosc", "cname": "lz77"},
                  {"name": "blosc", "clevel": 12}, {"name": "gzip", "level": 10}):
        assert fields(valid(tmp_path, output={"codec": codec}), tmp_path) == ["output.codec"]
    assert check_spec(valid(tmp_path, output={"codec": {"name": "blosc", "cname": "lz4",
                                                        "clevel": 9, "shuffle": "shuffle"}}),
                      tmp_path).output["codec"]["cname"] == "lz4"
    assert not (tmp_path / "out.zarr").exists()


def test_the_workflow_runner_takes_its_progress_bar_from_the_caller():
    import scatflow.workflow.run as run_module

    source = open(run_module.__file__).read()
    assert "import click" not in source
