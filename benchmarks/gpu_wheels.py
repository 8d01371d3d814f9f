"""The wheels that the GPU check carries to the device tool's GPU machine (`make gpu-wheels`).

    python benchmarks/gpu_wheels.py [--dest .gpu-wheels] [--check-only]

Downloads every wheel pinned in benchmarks/gpu-wheels.txt for that machine (CPython 3.12,
manylinux x86-64) into `--dest` (an ignored folder), removes wheels there that the list no longer
pins, checks that every requirement of every wheel is met by another wheel there or by a package
the machine's image already has (IMAGE_PACKAGES), and prints the sizes: the wheels and the
working tree travel together, 64 MiB at most per call. Exits 1 where a requirement is unmet.
`benchmarks/gpu_check.sh` installs them there with `pip install --no-index --no-deps --target`.
"""

import argparse
import subprocess
import sys
from pathlib import Path
from zipfile import ZipFile

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = Path(__file__).with_name("gpu-wheels.txt")
PYTHON_VERSION = "3.12"
PYTHON_TAG = "cp" + PYTHON_VERSION.replace(".", "")  # what gpu_check.sh compares
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64")
# The environment markers of that machine's Python (3.12.3 on 2026-11, KINDS.md).
MARKERS = {"python_version": PYTHON_VERSION, "python_full_version": "3.12.3",
           "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
           "os_name": "posix", "implementation_name": "cpython",
           "platform_python_implementation": "CPython", "extra": ""}
TRAVEL_LIMIT_MIB = 64  # the device tool's limit on what one call carries
TARGET_MB = 60  # the issue's: wheels and working tree together

# The Python packages of the GPU machine's image, as the device tool's KINDS.md lists them
# (read on 2026-11-17); their versions are unknown here.
IMAGE_PACKAGES = frozenset(canonicalize_name(name) for name in """
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch
build certifi charset-normalizer chex click cloudpickle cmake colorama contourpy coverage
cuda-bindings cuda-core cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn
einops equinox etils execnet filelock flatbuffers flax fonttools formulaic frozenlist fsspec
gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize hypothesis idna imageio
iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib
kiwisolver lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml
markdown markdown-it-py markupsafe matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack
multidict multipledispatch mypy-extensions nanobind narwhals networkx ninja numba numba-cuda
numpy numpyro nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime
nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse
nvidia-cusparselt-cu13 nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13
nvidia-nvtx onnx onnx-ir onnxruntime onnxscript opencv-python-headless optax opt-einsum
opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy peft pillow pip pluggy
portalocker prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments
pyparsing pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock
pytest-timeout pytest-xdist python-dateutil pytorch-lightning pyyaml regex requests rich
sacrebleu safetensors scikit-build-core scikit-image scikit-learn scipy seaborn sentencepiece
sentence-transformers setuptools shellingham simplejson six sortedcontainers statsmodels sympy
tabulate tensorboard tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm
tokenizers toolz torch torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm
transformers treescope triton typer typing-extensions typing-inspect urllib3 uvloop
wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp
""".split())

# Requirements of the wheels that are met otherwise, so not carried.
NOT_CARRIED = {
    "rapids-dask-dependency": "dask-cuda's pin of dask and distributed (==2026.7.1 for 26.10), "
                              "met by the wheels here; the rest is a .pth import hook, which "
                              "folders on PYTHONPATH never run",
    "configparser": "Kymatio's, a backport of the standard library's module on Python 3",
}


def pinned(path=REQUIREMENTS):
    """{canonical name: Requirement} of the list (one `name==version` a line, # comments)."""
    requirements = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            requirements[canonicalize_name(requirement.name)] = requirement
    return requirements


def download(dest, requirements=REQUIREMENTS):
    """pip download of the list for the GPU machine's Python and platform, no dependencies."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--python-version", PYTHON_VERSION,
               "--implementation", "cp", "--dest", str(dest), "--requirement", str(requirements)]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    subprocess.run(command, check=True)


def wheels(dest):
    """{canonical name: (version, path)} of the wheels in `dest`."""
    found = {}
    for path in sorted(Path(dest).glob("*.whl")):
        name, version, _, _ = parse_wheel_filename(path.name)
        found[name] = (version, path)
    return found


def remove_unpinned(dest, requirements):
    """Delete wheels of `dest` that the list does not pin (older versions, dropped packages):
    pip refuses an install holding two versions of one package."""
    removed = []
    for path in sorted(Path(dest).glob("*.whl")):
        name, version, _, _ = parse_wheel_filename(path.name)
        if name not in requirements or version not in requirements[name].specifier:
            path.unlink()
            removed.append(path.name)
    return removed


def requires(path):
    """The Requires-Dist lines of a wheel's METADATA that apply on the GPU machine."""
    with ZipFile(path) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    found = []
    for line in lines:
        if line.startswith("Requires-Dist:"):
            requirement = Requirement(line.split(":", 1)[1].strip())
            if requirement.marker is None or requirement.marker.evaluate(MARKERS):
                found.append(requirement)
    return found


def unmet(dest):
    """Lines naming each requirement of a wheel in `dest` that neither another wheel there nor
    the image meets (an image package's version is unknown, so only its presence counts)."""
    have = wheels(dest)
    problems = []
    for name, (version, path) in have.items():
        for requirement in requires(path):
            wanted = canonicalize_name(requirement.name)
            if wanted in have:
                if have[wanted][0] not in requirement.specifier:
                    problems.append(f"{name} {version} requires {requirement}; "
                                    f"the wheel is {have[wanted][0]}")
            elif wanted not in IMAGE_PACKAGES and wanted not in NOT_CARRIED:
                problems.append(f"{name} {version} requires {requirement}: neither a wheel "
                                f"here nor in the image")
    return problems


def working_tree_bytes():
    """Bytes of what the device tool sends besides carried paths: tracked files and untracked
    files that git does not ignore."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True, check=True).stdout
    paths = {ROOT / name for name in listed.decode().split("\0") if name}
    return sum(path.stat().st_size for path in paths if path.is_file())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=ROOT / ".gpu-wheels")
    parser.add_argument("--check-only", action="store_true",
                        help="check and measure the wheels already there; download nothing")
    args = parser.parse_args(argv)

    requirements = pinned()
    args.dest.mkdir(parents=True, exist_ok=True)
    if not args.check_only:
        download(args.dest)
        for name in remove_unpinned(args.dest, requirements):
            print(f"removed {name} (not in {REQUIREMENTS.name})")
    (args.dest / "TARGET").write_text(PYTHON_TAG + "\n")  # read by gpu_check.sh
    have = wheels(args.dest)
    missing = sorted(set(requirements) - set(have))
    problems = [f"{name}: pinned in {REQUIREMENTS.name} but not downloaded" for name in missing]
    problems += unmet(args.dest)

    total = 0
    for name, (version, path) in have.items():
        size = path.stat().st_size
        total += size
        print(f"{size / 1e6:8.2f} MB  {path.name}")
    tree = working_tree_bytes()
    together = total + tree
    print(f"{total / 1e6:8.2f} MB  {len(have)} wheels in {args.dest}")
    print(f"{tree / 1e6:8.2f} MB  working tree (tracked and untracked, not ignored)")
    print(f"{together / 1e6:8.2f} MB  together ({together / 2**20:.1f} MiB; the device tool "
          f"carries at most {TRAVEL_LIMIT_MIB} MiB, the issue allows ~{TARGET_MB} MB)")
    if together > TARGET_MB * 1e6:
        problems.append(f"wheels and working tree are {together / 1e6:.1f} MB, over "
                        f"{TARGET_MB} MB")
    for name, reason in NOT_CARRIED.items():
        print(f"not carried: {name} ({reason})")
    for line in problems:
        print(f"PROBLEM: {line}")
    if not problems:
        print("every requirement of every wheel is met by a wheel here or by the GPU image")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
