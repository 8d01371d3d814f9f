"""The bundled real datasets: they load offline with the documented layout, come from the pinned
providers' exact files, reject bad inputs with every problem named, and the G2 densities and
energies agree with ase."""

import hashlib
import importlib.metadata
import importlib.resources
import inspect
import subprocess
import sys

import numpy as np
import pytest

from scatflow.workflow import datasets
from scatflow.workflow.datasets import DATASETS, check_dataset, load_dataset

PINNED = {"PyWavelets": "1.9.0", "iris-sample-data": "2.5.2", "nibabel": "5.4.2", "ase": "3.29.0",
          "amfm-decompy": "1.0.12.2"}

# Full sha256 of every bundled file read (data.md lists their 16-hex prefixes).
SHA256 = {
    ("iris_sample_data", "sample_data/A1B_north_america.nc"):
        "5f728a78bfc2d2503e26ab6faab82c23313eefd56bfae244ccc04b9d41b71816",
    ("iris_sample_data", "sample_data/E1_north_america.nc"):
        "f6124a1a745dfc016a383cb1b95b74378f078664edc86cd2a67672c2b49e9567",
    ("iris_sample_data", "sample_data/SOI_Darwin.nc"):
        "96376abb38655223749ea333230cf0c1a057a4716c2e343eaa3d5498a1b744b1",
    ("iris_sample_data", "sample_data/ostia_monthly.nc"):
        "e40d33fef22eabae985dae0fcee7643e127394195cef55a2e40e1f5416d57f98",
    ("pywt", "data/ecg.npz"): "ea720476139341eabecf3e44cc602cd75576aff1e4156b1c069f7b33e86a9e6b",
    ("pywt", "data/camera.npz"): "2be8195e9680ccb3c804fee19ca0b69a097eae9c9b2ab97474c7f1438171f074",
    ("sklearn", "datasets/data/digits.csv.gz"):
        "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22",
    ("nibabel", "tests/data/anatomical.nii"):
        "1c089f37b6597a38bb4157a1e1b3f7f13f1bc9d4e7a8cfdfaf91d85cd8f66594",
    ("ase", "data/g2_1.py"): "02e84ba66a4f47888a012b084a9ccc49a835edb205bf1a52112f2552fc792045",
    ("ase", "data/g2_2.py"): "8478de37de8e1e738bf238f5ee06eb4198059f78ef4c141ba5278565e2642841",
    ("amfm_decompy", "sample.wav"):
        "949d0f2206aee12b44fd428ba2d0b54a3e74df5f7546911897db36753d48fc08",
}

# name -> {variable: (dims, shape, dtype)} with default options.
LAYOUT = {
    "hadcm3_air_temperature": {
        "air_temperature": (("time", "latitude", "longitude"), (240, 37, 49), np.float32)},
    "soi_darwin": {"SOI_Darwin": (("time",), (1776,), np.float32)},
    "ostia_sst": {"surface_temperature": (("time", "latitude", "longitude"), (54, 18, 432),
                                          np.float32)},
    "ecg": {"ecg": (("time",), (1024,), np.float64)},
    "ecg_windows": {"ecg": (("window", "time"), (13, 256), np.float64)},
    "speech": {"speech": (("time",), (14259,), np.float64)},
    "speech_windows": {"speech": (("window", "time"), (10, 4096), np.float64)},
    "camera": {"image": (("y", "x"), (512, 512), np.float64)},
    "image_patches": {"patches": (("patch", "y", "x"), (64, 64, 64), np.float64)},
    "digits": {"images": (("sample", "y", "x"), (1797, 8, 8), np.float64),
               "label": (("sample",), (1797,), np.int64)},
    "g2_densities": {"density": (("molecule", "z", "y", "x"), (148, 32, 32, 32), np.float64),
                     "n_atoms": (("molecule",), (148,), np.int64),
                     "atomization_energy": (("molecule",), (148,), np.float64)},
    "brain_t1": {"t1": (("z", "y", "x"), (25, 41, 33), np.float64)},
}


@pytest.fixture(scope="module")
def loaded():
    """Every dataset with its default options, loaded once."""
    return {name: load_dataset(name) for name in DATASETS}


def test_every_dataset_is_described():
    assert set(LAYOUT) == set(DATASETS)


@pytest.mark.parametrize("name", sorted(LAYOUT))
def test_layout_and_attrs(loaded, name):
    ds = loaded[name]
    assert set(ds.data_vars) == set(LAYOUT[name])
    for variable, (dims, shape, dtype) in LAYOUT[name].items():
        array = ds[variable]
        assert (array.dims, array.shape, array.dtype) == (dims, shape, dtype), variable
        assert isinstance(array.variable._data, np.ndarray), "must be NumPy-backed, in memory"
    assert {"source", "licence", "provider", "description"} <= set(ds.attrs)
    distribution, version = ds.attrs["provider"].split("==")
    assert importlib.metadata.version(distribution) == version


@pytest.mark.parametrize("distribution", sorted(PINNED))
def test_providers_are_the_pinned_releases(distribution):
    assert importlib.metadata.version(distribution) == PINNED[distribution]


@pytest.mark.parametrize(("package", "path"), sorted(SHA256))
def test_bundled_files_are_unchanged(package, path):
    content = (importlib.resources.files(package) / path).read_bytes()
    assert hashlib.sha256(content).hexdigest() == SHA256[package, path]


def test_import_loads_no_provider():
    providers = ["pywt", "sklearn", "ase", "nibabel", "iris_sample_data", "h5netcdf", "h5py",
                 "amfm_decompy"]
    code = ("import sys, scatflow.workflow.datasets; "
            f"print([m for m in {providers!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_options_match_loader_signatures():
    for name, loader in DATASETS.items():
        _, validators, _ = datasets._SPECS[name]
        assert list(validators) == list(inspect.signature(loader).parameters), name


def test_hadcm3(loaded):
    a1b = loaded["hadcm3_air_temperature"]
    e1 = load_dataset("hadcm3_air_temperature", scenario="E1")
    assert a1b.time.values.tolist() == list(range(1860, 2100))
    assert not any("bnds" in name for name in a1b.variables)
    temperature = a1b.air_temperature
    assert temperature.attrs["units"] == "K" and not temperature.isnull().any()
    assert 250 < float(temperature.min()) < float(temperature.max()) < 310
    same = (a1b.air_temperature == e1.air_temperature).all(("latitude", "longitude"))
    assert a1b.time.values[same.values].max() == 1999 and not same.sel(time=slice(2000, None)).any()


def test_soi_keeps_the_missing_year_2013(loaded):
    soi = loaded["soi_darwin"].SOI_Darwin
    missing = soi.time[soi.isnull()].dt
    assert missing.year.values.tolist() == [2013] * 12
    assert missing.month.values.tolist() == list(range(1, 13))
    assert str(soi.time.values[0])[:10] == "1866-01-01"


def test_ostia_keeps_land_as_nan(loaded):
    sst = loaded["ostia_sst"].surface_temperature
    land = sst.isnull()
    assert int(land.sum()) == 110970 and (land == land.isel(time=0)).all()  # the same coast
    assert sst.attrs["units"] == "K" and 285 < float(sst.min()) < float(sst.max()) < 310
    assert str(sst.time.values[0])[:7] == "2006-04" and str(sst.time.values[-1])[:7] == "2010-09"
    assert sst.longitude.size * float(sst.longitude.diff("longitude")[0]) == pytest.approx(360)


def test_ecg_and_its_windows(loaded):
    signal = loaded["ecg"].ecg.values
    assert signal.min() == -112 and signal.max() == 250
    windows = load_dataset("ecg_windows", size=100, step=300)
    assert windows.ecg.shape == (4, 100) and windows.start.values.tolist() == [0, 300, 600, 900]
    for start, window in zip(windows.start.values, windows.ecg.values):
        np.testing.assert_array_equal(window, signal[start:start + 100])


def test_patches_tile_the_camera_image(loaded):
    image = loaded["camera"].image
    patches = loaded["image_patches"]
    for k in (0, 9, 63):
        corner = patches.isel(patch=k)
        y0, x0 = int(corner.y0), int(corner.x0)
        np.testing.assert_array_equal(corner.patches, image[y0:y0 + 64, x0:x0 + 64])
    assert load_dataset("image_patches", size=100).patches.shape == (25, 100, 100)


def test_digits_labels(loaded):
    counts = np.bincount(loaded["digits"].label.values)
    assert len(counts) == 10 and counts.min() >= 170
    assert loaded["digits"].images.max() == 16


def test_brain_t1_is_the_nifti_volume(loaded):
    import nibabel

    path = importlib.resources.files("nibabel") / "tests/data/anatomical.nii"
    image = nibabel.load(path)
    assert image.get_data_dtype() == np.dtype(">i2")
    t1 = loaded["brain_t1"]
    np.testing.assert_array_equal(t1.t1.values, np.asarray(image.dataobj).transpose(2, 1, 0))
    rotation = image.affine[:3, :3]
    assert not (rotation - np.diag(np.diag(rotation))).any(), "the loader assumes no rotation"
    assert [t1[axis].values[1] - t1[axis].values[0] for axis in "xyz"] == [-2.0, 2.0, 2.0]


def test_g2_densities_integrate_to_the_nuclear_charge(loaded):
    from ase.build import molecule

    g2 = loaded["g2_densities"]
    spacing = float(g2.x[1] - g2.x[0])
    integrals = g2.density.sum(("z", "y", "x")).values * spacing ** 3
    charges = np.array([molecule(str(name)).numbers.sum() for name in g2.name.values])
    np.testing.assert_allclose(integrals, charges, rtol=1e-2)
    assert g2.name.dtype == object and all(isinstance(name, str) for name in g2.name.values)
    assert g2.n_atoms.values.tolist() == [len(molecule(str(name))) for name in g2.name.values]
    small = load_dataset("g2_densities", grid=16, sigma=0.4, molecules=3)
    small_spacing = float(small.x[1] - small.x[0])
    np.testing.assert_allclose(small.density.sum(("z", "y", "x")) * small_spacing ** 3,
                               charges[:3], rtol=1e-2)


def test_g2_geometry_extent_and_energies(loaded):
    from ase.build import molecule
    from ase.data import g2_1

    g2 = loaded["g2_densities"]
    water = g2.isel(molecule=int(np.flatnonzero(g2.name.values == "H2O")[0]))
    assert float(water.atomization_energy) == g2_1.get_atomization_energy("H2O")
    first = g2.atomization_energy.values[:len(g2_1.molecule_names)]
    np.testing.assert_array_equal(first, [g2_1.get_atomization_energy(n)
                                          for n in g2_1.molecule_names])
    energies = g2.atomization_energy.values
    assert np.isfinite(energies).all()
    assert 16.9 < energies.min() < energies.max() < 1368  # Na2 to C6H6 (kcal/mol)
    widest = max(np.ptp(molecule(str(n)).positions, axis=0).max() for n in g2.name.values)
    assert widest == pytest.approx(datasets._G2_MAX_EXTENT, abs=1e-5)
    # the densest voxel of H2O is the one nearest its oxygen, once the molecule is centred
    xyz = molecule("H2O").positions
    assert molecule("H2O").get_chemical_symbols()[0] == "O"
    oxygen = xyz[0] - (xyz.min(axis=0) + xyz.max(axis=0)) / 2
    peak = water.density.argmax(dim=["z", "y", "x"])
    for axis, coordinate in zip("xyz", oxygen):
        assert abs(float(water[axis][peak[axis]]) - coordinate) <= float(g2.x[1] - g2.x[0])


def test_check_reports_every_problem_with_its_field():
    problems = check_dataset("g2_densities", {"grid": 15, "sigma": -1, "molecules": 0,
                                              "spacing": True, "colour": "red"})
    fields = [message.split(":")[0] for message in problems]
    assert fields == ["input.options.grid", "input.options.sigma", "input.options.molecules",
                      "input.options.spacing", "input.options.colour"]
    assert "even integer in [16, 128], got 15" in problems[0]
    assert "allowed: grid, spacing, sigma, molecules" in problems[4]


def test_check_unknown_name_and_options_not_a_mapping():
    problems = check_dataset("mnist", ["grid"])
    assert problems[0].startswith("input.dataset: unknown dataset 'mnist'; allowed: ")
    assert all(name in problems[0] for name in DATASETS)
    assert problems[1] == "input.options: must be a mapping of option names to values, got list"
    assert check_dataset("ecg", {"size": 8}) == [
        "input.options.size: unknown option of dataset 'ecg'; it takes no options"]


@pytest.mark.parametrize(("name", "options", "field", "text"), [
    ("hadcm3_air_temperature", {"scenario": "a1b"}, "scenario", "one of ['A1B', 'E1']"),
    ("ecg_windows", {"size": 2048}, "size", "integer in [16, 1024]"),
    ("ecg_windows", {"step": 1.5}, "step", "integer in [1, 1024]"),
    ("image_patches", {"size": True}, "size", "integer in [4, 512]"),
    ("g2_densities", {"spacing": 0.1}, "spacing", "spacing must be >= 0.28"),
    ("g2_densities", {"grid": 16, "sigma": 0.2}, "sigma", "must be >= 0.334"),
    ("g2_densities", {"spacing": 0.5, "sigma": 0.3}, "sigma", "must be >= 0.35"),
])
def test_check_bad_values(name, options, field, text):
    problems = check_dataset(name, options)
    assert len(problems) == 1 and problems[0].startswith(f"input.options.{field}: ")
    assert text in problems[0]
    with pytest.raises(ValueError, match=f"input.options.{field}"):
        load_dataset(name, **options)


def test_check_accepts_valid_inputs():
    assert check_dataset("hadcm3_air_temperature", None) == []
    assert check_dataset("g2_densities", {"grid": 16, "spacing": None, "molecules": None}) == []
    assert check_dataset("g2_densities", {"grid": 64, "spacing": 0.2, "sigma": 0.3}) == []


def test_check_names_a_missing_provider(monkeypatch):
    real = datasets.importlib.util.find_spec
    monkeypatch.setattr(datasets.importlib.util, "find_spec",
                        lambda module, package=None: None if module == "ase" else real(module))
    assert check_dataset("g2_densities", {"grid": 7}) == [
        "input.dataset: dataset 'g2_densities' needs package 'ase' (pip install 'scatflow[data]')",
        "input.options.grid: must be an even integer in [16, 128], got 7"]
