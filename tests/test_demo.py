"""`make demo` end to end: real bundled digits, a classifier, a PNG."""

import subprocess
import sys


def test_demo_runs_and_scattering_beats_raw_pixels(tmp_path):
    done = subprocess.run([sys.executable, "-m", "scatflow.demo", "--output", str(tmp_path)],
                          capture_output=True, text=True, check=True)
    line = next(l for l in done.stdout.splitlines() if "accuracy" in l)
    raw, scat = (float(part.split()[-1].rstrip("%")) for part in line.split(":")[1].split(","))
    assert scat > raw > 90
    png = tmp_path / "digits_scattering2d.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
