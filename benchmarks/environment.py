"""The machine and the package versions a benchmark ran with, for its report."""

import os
import platform
from importlib.metadata import PackageNotFoundError, version

import psutil


def cpu_model():
    """The CPU's model name (from /proc/cpuinfo on Linux), else what `platform` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine():
    """CPU model, logical cores and RAM of this machine."""
    return dict(cpu=cpu_model(), cores=os.cpu_count(),
                ram_gib=round(psutil.virtual_memory().total / 2**30))


def versions(packages):
    """Python's version and each installed package's (None where it is not installed), read from
    the package metadata, so nothing is imported."""
    found = {"python": platform.python_version()}
    for name in packages:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def describe(packages):
    """One line: machine, Python and `packages` versions."""
    m = machine()
    listed = ", ".join(f"{name} {v}" for name, v in versions(packages).items() if v)
    return f"{m['cores']} cores ({m['cpu']}), {m['ram_gib']} GiB; {listed}"
