"""`make bench`: scatflow against Kymatio 0.3.0 (constructor, forward, peak memory; NumPy and
torch CPU frontends; float32 and float64 input) on Kymatio's own benchmark configurations, and
the Dask rows (the `ds.scat` accessor, zarr to zarr, 1 and 2 worker processes, against in
memory). Prints each row as it completes; writes results/bench.md, bench.csv, bench-dask.csv,
bench-times.png and bench-scaling.png.

    make bench                                  # everything (see README.md for its time)
    make bench BENCH_ARGS=--quick               # the small configurations: results/bench-quick.*
    .venv-bench/bin/python benchmarks/bench.py --only "2D 224" --no-dask   # results/bench-partial.*
    make bench KYMATIO_MAIN=/path/to/kymatio    # also the JTFS rows, against Kymatio's main branch

Needs both libraries in one Python: the venv `make bench` builds (Kymatio 0.3.0 needs
scipy<1.17). The JTFS rows need Kymatio's main branch (never released), in a Python of its own
(`--kymatio-main`; `make bench KYMATIO_MAIN=checkout` builds `.venv-kymatio-main` from a
checkout, e.g. `git clone https://github.com/kymatio/kymatio`); without it they are skipped,
with a message. How each figure is measured: compare_kymatio.py.
"""

import argparse
import datetime
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import report
from compare_kymatio import CONFIGS, FRONTENDS, Policy, banks, measure_bank
from dask_throughput import accessor_throughput
from environment import machine, versions

RESULTS = Path(__file__).resolve().parent / "results"
PACKAGES = ["numpy", "scipy", "torch", "jax", "jaxlib", "kymatio", "scatflow", "dask",
            "distributed", "xarray", "zarr"]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="the small configurations and a small Dask input (about 10 minutes)")
    parser.add_argument("--only", nargs="+", metavar="TEXT",
                        help="configurations whose name contains any of these (e.g. '2D 224')")
    parser.add_argument("--frontends", nargs="+", choices=FRONTENDS, default=list(FRONTENDS))
    parser.add_argument("--no-dask", action="store_true", help="leave out the Dask rows")
    parser.add_argument("--no-kymatio", action="store_true",
                        help="leave out the comparison with Kymatio (the Dask rows only)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure")
    parser.add_argument("--long-repeats", type=int, default=3,
                        help="runs per figure where a run takes over --long-s seconds")
    parser.add_argument("--long-s", type=float, default=10.0)
    parser.add_argument("--dask-mb", type=float, default=None,
                        help="MB of images for the Dask rows (default 64, --quick 16)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the files")
    parser.add_argument("--name", default=None,
                        help="stem of the files written (default: bench, bench-quick or "
                             "bench-partial)")
    parser.add_argument("--kymatio-main", metavar="PYTHON", default=None,
                        help="a Python with Kymatio's main branch installed, for the JTFS rows "
                             "(without it they are skipped)")
    return parser.parse_args(argv)


def selected_configs(args):
    configs = [c for c in CONFIGS if c.quick or not args.quick]
    if args.only:
        configs = [c for c in configs if any(text in c.name for text in args.only)]
    if not args.kymatio_main:
        skipped = [c.name for c in configs if c.reference == "main"]
        if skipped:
            print(f"Skipped (no Kymatio main: make bench KYMATIO_MAIN=path-to-a-kymatio-checkout): "
                  f"{', '.join(skipped)}", file=sys.stderr, flush=True)
        configs = [c for c in configs if c.reference != "main"]
    return [] if args.no_kymatio else configs


def file_stem(args):
    """bench, bench-quick, or bench-partial where rows were left out: a partial run never
    overwrites the files of a whole one."""
    if args.name:
        return args.name
    partial = args.only or args.no_dask or args.no_kymatio or len(args.frontends) < len(FRONTENDS)
    return "bench-partial" if partial else "bench-quick" if args.quick else "bench"


def setup_lines(kymatio_main=None):
    """The machine and the versions, for the printout and the files."""
    m = machine()
    listed = ", ".join(f"{name} {v}" for name, v in versions(PACKAGES).items() if v)
    lines = [f"Machine: {m['cpu']}, {m['cores']} logical cores, {m['ram_gib']} GiB RAM",
             f"Versions: {listed}"]
    if kymatio_main:
        code = ("import kymatio, numpy, scipy; print(f'kymatio {kymatio.__version__} (main), "
                "numpy {numpy.__version__}, scipy {scipy.__version__}')")
        done = subprocess.run([kymatio_main, "-c", code], capture_output=True, text=True)
        lines.append(f"Kymatio main's Python ({kymatio_main}): "
                     + (done.stdout.strip() or done.stderr.strip().splitlines()[-1]))
    return lines


def main(argv=None):
    args = parse_args(argv)
    policy = Policy(args.repeats, args.long_repeats, args.long_s,
                    kymatio_main_python=args.kymatio_main)
    started, clock = datetime.datetime.now(), time.perf_counter()
    load_before = os.getloadavg()[0]

    def log(line):
        print(f"[{(time.perf_counter() - clock) / 60:5.1f} min] {line}", file=sys.stderr,
              flush=True)

    configs = selected_configs(args)
    print(*setup_lines(args.kymatio_main), "", sep="\n", flush=True)
    rows = []
    if configs:
        print(report.KYMATIO_HEADER, flush=True)
    for bank in banks(configs):
        for frontend in (f for f in args.frontends if f in bank[0].frontends):
            for row in measure_bank(bank, frontend, policy, log):
                rows.append(row)
                print(report.kymatio_row(row), flush=True)

    dask = None
    if not args.no_dask:
        size_mb = args.dask_mb or (16 if args.quick else 64)
        log(f"Dask rows: {size_mb:g} MB of images")
        tmp = tempfile.mkdtemp(prefix="scatflow-bench-")
        try:
            dask = accessor_throughput(tmp, size_mb, repeats=policy.repeats,
                                       long_repeats=policy.long_repeats, long_s=policy.long_s,
                                       log=log)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"\n{report.DASK_HEADER}", *map(report.dask_row, dask["rows"]),
              report.dask_summary(dask), sep="\n", flush=True)

    context = [f"Date: {started:%Y-%m-%d %H:%M} (local), "
               f"{(time.perf_counter() - clock) / 60:.0f} min in all; load average (1 min) "
               f"{load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end",
               *setup_lines(args.kymatio_main)]
    write(args, rows, dask, policy, context)


def write(args, rows, dask, policy, context):
    """The markdown page, the CSV files and the plots, named by `file_stem`."""
    stem = file_stem(args)
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / stem
    command = "make bench" + (" BENCH_ARGS=--quick" if args.quick else "")
    titles = {"bench": "Benchmarks", "bench-quick": "Benchmarks (--quick: the small configurations)"}
    if stem not in titles:  # a partial run, or one given a --name
        command = ".venv-bench/bin/python benchmarks/bench.py " + shlex.join(sys.argv[1:])
    title = titles.get(stem, f"Benchmarks (a partial run: {stem})")
    written = [out.with_suffix(".md")]
    out.with_suffix(".md").write_text(
        report.markdown(title, context, rows, dask, policy, command, stem))
    if rows:
        report.write_csv(out.with_suffix(".csv"), rows, context)
        report.plot_times(f"{out}-times.png", rows)
        report.plot_scaling(f"{out}-scaling.png", rows)
        written += [out.with_suffix(".csv"), f"{out}-times.png", f"{out}-scaling.png"]
    if dask:
        report.write_dask_csv(f"{out}-dask.csv", dask)
        written.append(f"{out}-dask.csv")
    print("\nWrote " + ", ".join(map(str, written)), flush=True)


if __name__ == "__main__":
    main()
