"""The results of bench.py as markdown rows, a markdown page, CSV files and PNG plots."""

import csv
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from compare_kymatio import DTYPES, FRONTENDS, LIBRARIES, REFERENCES  # noqa: E402

COLORS = {"kymatio": "tab:orange", "scatflow": "tab:blue"}
MARKERS = {"numpy": "o", "torch": "s", "jax": "^"}
LINESTYLES = {"float32": "-", "float64": "--"}

KYMATIO_HEADER = (
    "| configuration | source | frontend | dtype | constructor Kymatio (s) | scatflow (s) | ratio "
    "| forward Kymatio (s) | scatflow (s) | ratio | peak RSS Kymatio (MiB) | scatflow (MiB) "
    "| ratio |\n" + "|---" * 13 + "|")
DASK_HEADER = "| path | data | runs (s) | MB/s of input |\n|---|---|---|---|"


# -- figures of one row ---------------------------------------------------------------------------
def figure(row, library, name):
    return row[library].get(name)


def ratio(row, name):
    """Kymatio's figure over scatflow's (above 1: scatflow is faster, or smaller)."""
    kymatio, scatflow = figure(row, "kymatio", name), figure(row, "scatflow", name)
    return kymatio / scatflow if kymatio and scatflow else None


def _seconds(value):
    if value is None:
        return "failed"
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def _ratio(value):
    return "-" if value is None else f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def _mib(value):
    return "failed" if value is None else f"{value:.0f}"


def kymatio_row(row):
    """One markdown table row (KYMATIO_HEADER's columns)."""
    config = row["config"]
    source = config.source + (f" ({config.scaling})" if config.scaling else "")
    if config.reference != "0.3.0":
        source += f"; against {REFERENCES[config.reference]}"
    cells = [config.name, source, frontend_cell(row), row["dtype"]]
    for name, formatted in (("constructor_s", _seconds), ("forward_s", _seconds),
                            ("peak_mib", _mib)):
        cells += [formatted(figure(row, library, name)) for library in LIBRARIES]
        cells.append(_ratio(ratio(row, name)))
    return "| " + " | ".join(cells) + " |"


def frontend_cell(row):
    """The frontend; on JAX how each library was called (`jax.jit` or eagerly)."""
    modes = {library: figure(row, library, "call_mode") for library in LIBRARIES}
    if not any(modes.values()):
        return row["frontend"]
    return f"{row['frontend']} ({', '.join(f'{k} {m}' for k, m in modes.items() if m)})"


def compile_rows(rows):
    """The JAX compile-time table (the warm-up call less the median later call), or []."""
    jax_rows = [row for row in rows if any(figure(row, library, "compile_s")
                                           for library in LIBRARIES)]
    if not jax_rows:
        return []
    lines = ["JAX compile time: the first (warm-up) call less the median of the later ones, "
             "each library as called in the table above.", "",
             "| configuration | dtype | Kymatio (s) | scatflow (s) |", "|---|---|---|---|"]
    for row in jax_rows:
        cells = [_seconds(figure(row, library, "compile_s")) for library in LIBRARIES]
        lines.append(f"| {row['config'].name} | {row['dtype']} | {' | '.join(cells)} |")
    return lines + [""]


def dask_row(row):
    return (f"| {row['path']} | {row['data']} | {', '.join(f'{t:.1f}' for t in row['times'])} | "
            f"{row['mbps']:.1f} |")


def observations(rows, tolerance=0.95):
    """Lines on what a reader should not miss: failures; rows where scatflow is slower or larger
    than Kymatio (ratio under `tolerance`); outputs of different dtypes."""
    def label(row):
        return f"{row['config'].name} {row['frontend']} {row['dtype']}"

    lines = [f"{label(row)}: {library} {error}" for row in rows for library in LIBRARIES
             for error in figure(row, library, "errors") or []]
    for name, what in (("forward_s", "forward slower"), ("constructor_s", "constructor slower"),
                       ("peak_mib", "peak RSS larger")):
        worse = [(label(row), ratio(row, name)) for row in rows
                 if ratio(row, name) is not None and ratio(row, name) < tolerance]
        if len(worse) == len(rows):
            values = [value for _, value in worse]
            lines.append(f"scatflow's {what} than Kymatio's in every row "
                         f"({_ratio(min(values))} to {_ratio(max(values))})")
        elif worse:
            lines.append(f"scatflow's {what} than Kymatio's (ratio under {tolerance:g}) in "
                         f"{len(worse)} of {len(rows)} rows: "
                         + "; ".join(f"{row_label} ({_ratio(value)})"
                                     for row_label, value in worse))
    for frontend in FRONTENDS:
        imported = {library: [figure(row, library, "imported_mib") for row in rows
                              if row["frontend"] == frontend and figure(row, library,
                                                                        "imported_mib")]
                    for library in LIBRARIES}
        if all(imported.values()):
            lines.append(f"{frontend} frontend: RSS once its module is imported, before anything "
                         "is built: " + ", ".join(f"{library} {min(v):.0f}-{max(v):.0f} MiB"
                                                  for library, v in imported.items()))
    for row in rows:
        dtypes = {library: figure(row, library, "output_dtype") for library in LIBRARIES}
        if None not in dtypes.values() and len(set(dtypes.values())) > 1:
            lines.append(f"{label(row)}: output dtypes differ: Kymatio {dtypes['kymatio']}, "
                         f"scatflow {dtypes['scatflow']}")
    return lines


def targets(all_rows):
    """The targets (issue 6's against Kymatio 0.3.0, issue 15's for JTFS against Kymatio
    main), each with the rows that meet it and those that miss it (with both figures), all
    ratios Kymatio / scatflow from this run."""
    def label(row):
        return f"{row['config'].name} {row['frontend']} {row['dtype']}"

    def same_frontend(name):
        return lambda row: (figure(row, "kymatio", name), figure(row, "scatflow", name))

    def against_kymatio(frontend):
        def pair(row):
            twin = next((other for other in all_rows if other["config"] is row["config"]
                         and other["frontend"] == frontend and other["dtype"] == row["dtype"]),
                        None)
            return (figure(twin, "kymatio", "forward_s") if twin else None,
                    figure(row, "scatflow", "forward_s"))
        return pair

    rows = [row for row in all_rows if row["config"].reference == "0.3.0"]
    jtfs = [row for row in all_rows if row["config"].reference == "main"]
    numpy_rows = [row for row in rows if row["frontend"] == "numpy"]
    seconds, mib = same_frontend("forward_s"), same_frontend("peak_mib")
    checks = [
        ("NumPy forward >= 3x Kymatio's NumPy (1D, 2D)",
         [row for row in numpy_rows if row["config"].dim < 3], seconds, 3.0, "s"),
        ("NumPy forward >= 2x Kymatio's NumPy (3D)",
         [row for row in numpy_rows if row["config"].dim == 3], seconds, 2.0, "s"),
        ("NumPy forward >= 1.5x Kymatio's torch CPU", numpy_rows, against_kymatio("torch"), 1.5,
         "s"),
        ("torch forward >= 2x Kymatio's torch CPU",
         [row for row in rows if row["frontend"] == "torch"], seconds, 2.0, "s"),
        ("JAX jitted forward >= 3x Kymatio's JAX (1D, 2D)",
         [row for row in rows if row["frontend"] == "jax" and row["config"].dim < 3], seconds,
         3.0, "s"),
        ("JAX jitted forward >= 2x Kymatio's JAX (3D)",
         [row for row in rows if row["frontend"] == "jax" and row["config"].dim == 3], seconds,
         2.0, "s"),
        ("constructor >= 10x Kymatio's (same frontend)", rows, same_frontend("constructor_s"),
         10.0, "s"),
        ("peak RSS <= Kymatio's (same frontend)", rows, mib, 1.0, "MiB"),
        ("JTFS: forward (NumPy and torch) >= 3x Kymatio main's NumPy", jtfs,
         against_kymatio("numpy"), 3.0, "s"),
        ("JTFS: constructor >= 10x Kymatio main's (same frontend)", jtfs,
         same_frontend("constructor_s"), 10.0, "s"),
        ("JTFS: peak RSS <= Kymatio main's (same frontend)", jtfs, mib, 1.0, "MiB"),
    ]
    lines = []
    for title, chosen, pair, goal, unit in checks:
        measured = [(row, *pair(row)) for row in chosen]
        measured = [(row, k / s, k, s) for row, k, s in measured if k and s]
        if not measured:
            continue
        missed = [m for m in measured if m[1] < goal]
        line = (f"**{title}**: met in {len(measured) - len(missed)} of {len(measured)} rows "
                f"(lowest {_ratio(min(m[1] for m in measured))})")
        if missed:
            line += "; missed: " + "; ".join(
                f"{label(row)} ({value:.3g}x: Kymatio {k:.3g} {unit}, scatflow {s:.3g} {unit})"
                for row, value, k, s in missed)
        lines.append(line)
    return lines


# -- files ----------------------------------------------------------------------------------------
def write_csv(path, rows, header_lines):
    """One line per row: every figure, its run count, the ratios; `header_lines` as `#` comments
    first (read with `pandas.read_csv(path, comment="#")`)."""
    columns = ["transform", "configuration", "source", "source_batch", "input_shape", "frontend",
               "dtype"]
    for name in ("constructor_s", "constructor_n", "forward_s", "forward_n", "peak_mib",
                 "imported_mib", "output_dtype", "call_mode", "compile_s", "errors"):
        columns += [f"{library}_{name}" for library in LIBRARIES]
    columns += ["constructor_ratio", "forward_ratio", "peak_ratio"]
    with open(path, "w", newline="") as f:
        f.writelines(f"# {line}\n" for line in header_lines)
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for row in rows:
            config = row["config"]
            line = dict(transform=config.transform, configuration=config.name,
                        source=config.source,
                        source_batch="x".join(map(str, config.source_batch or config.batch)),
                        input_shape="x".join(map(str, config.input_shape)),
                        frontend=row["frontend"], dtype=row["dtype"],
                        constructor_ratio=ratio(row, "constructor_s"),
                        forward_ratio=ratio(row, "forward_s"), peak_ratio=ratio(row, "peak_mib"))
            for library in LIBRARIES:
                for name, value in row[library].items():
                    line[f"{library}_{name}"] = "; ".join(value) if name == "errors" else value
            writer.writerow(line)


def dask_summary(dask):
    """The speed-up of 2 worker processes over 1 (issue 6's target: at least 1.8x), and the
    in-memory path against each."""
    mbps = {row["workers"]: row["mbps"] for row in dask["rows"]}
    one, two, in_memory = mbps[1], mbps[2], mbps[None]
    return (f"2 worker processes / 1: {two / one:.2f}x (issue 6's target: >= 1.8x). In memory / "
            f"1 worker: {in_memory / one:.2f}x; in memory / 2 workers: {in_memory / two:.2f}x.")


def write_dask_csv(path, dask):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "data", "input_mb", "runs_s", "median_mb_per_s"])
        for row in dask["rows"]:
            writer.writerow([row["path"].replace("`", ""), row["data"], dask["nbytes"] / 1e6,
                             " ".join(f"{t:.3f}" for t in row["times"]), row["mbps"]])


def plot_times(path, rows):
    """Grouped bars, log scale: forward (per dtype) and constructor time of each configuration,
    both libraries, one column per frontend."""
    names = list(dict.fromkeys(row["config"].name for row in rows))
    frontends = [f for f in FRONTENDS if any(row["frontend"] == f for row in rows)]
    fig, axes = plt.subplots(2, len(frontends), figsize=(7 * len(frontends), 9), squeeze=False,
                             sharey="row")
    for column, frontend in enumerate(frontends):
        ours = [row for row in rows if row["frontend"] == frontend]
        forward_bars = [(dtype, library) for dtype in DTYPES for library in LIBRARIES]
        _bars(axes[0, column], names, ours, forward_bars, "forward_s")
        _bars(axes[1, column], names, ours, [(None, library) for library in LIBRARIES],
              "constructor_s")
        axes[0, column].set_title(f"{frontend} frontend: forward")
        axes[1, column].set_title(f"{frontend} frontend: constructor (cold)")
    for ax in axes[:, 0]:
        ax.set_ylabel("seconds (median)")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _bars(ax, names, rows, bars, name):
    width = 0.8 / len(bars)
    for i, (dtype, library) in enumerate(bars):
        xs, heights = [], []
        for x, config_name in enumerate(names):
            match = [row for row in rows if row["config"].name == config_name
                     and (dtype is None or row["dtype"] == dtype)]
            value = figure(match[0], library, name) if match else None
            if value:
                xs.append(x - 0.4 + (i + 0.5) * width)
                heights.append(value)
        ax.bar(xs, heights, width, color=COLORS[library],
               hatch="//" if dtype == "float64" else None, edgecolor="white",
               label=f"{library} {dtype}" if dtype else library)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.grid(axis="y", which="major", alpha=0.3)


def plot_scaling(path, rows):
    """Forward time against the number of input samples, one panel per kind, a line per
    (library, frontend, dtype; float64 dashed, hollow markers)."""
    kinds = sorted({row["config"].kind for row in rows})
    fig, axes = plt.subplots(1, len(kinds), figsize=(6 * len(kinds), 5), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        ours = [row for row in rows if row["config"].kind == kind]
        for library in LIBRARIES:
            for frontend in FRONTENDS:
                for dtype in DTYPES:
                    points = sorted(
                        (math.prod(row["config"].input_shape), figure(row, library, "forward_s"))
                        for row in ours if row["frontend"] == frontend and row["dtype"] == dtype
                        and figure(row, library, "forward_s"))
                    if points:
                        ax.plot(*zip(*points), color=COLORS[library], marker=MARKERS[frontend],
                                linestyle=LINESTYLES[dtype],
                                markerfacecolor="none" if dtype == "float64" else COLORS[library],
                                label=f"{library} {frontend} {dtype}")
        for size, label in sorted({(math.prod(r["config"].input_shape), r["config"].name)
                                   for r in ours}):
            ax.annotate(label, (size, 0), xycoords=("data", "axes fraction"), rotation=90,
                        fontsize=7, va="bottom", ha="right", alpha=0.7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("input samples (batch x signal)")
        ax.set_title(f"{kind}: forward time")
        ax.grid(which="major", alpha=0.3)
    axes[0, 0].set_ylabel("seconds (median)")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(title, context, rows, dask, policy, command, stem):
    """The results page: `context` lines (machine, versions, date), the method, both tables,
    the observations and the plots (`stem`-times.png, `stem`-scaling.png beside it)."""
    lines = [f"# {title}", "", *[f"{line}  " for line in context], "",
             f"Regenerate: `{command}`. The timings need a quiet machine: mind the load average.",
             ""]
    if rows:
        one_dtype = sorted({row["config"].name for row in rows if len(row["config"].dtypes) == 1})
        lines += [
            "## scatflow against Kymatio", "",
            "Against Kymatio 0.3.0 (PyPI), except the JTFS rows: joint time-frequency "
            "scattering exists only on Kymatio's main branch, measured in its own Python "
            "(`make bench KYMATIO_MAIN=path`).", "",
            f"Each figure is the median of {policy.repeats} runs after a warm-up call "
            f"({policy.long_repeats} where they take over {policy.long_s:g} s), each library in "
            "fresh processes, the two alternating, on the same input (standard normal, one seed). "
            "Constructor: cold (a fresh process, filter caches empty), the median over every "
            "process of that filter bank (a configuration's dtypes and batch sizes share one). "
            "Forward: one process, a warm-up call, then the runs. Peak RSS: another process that "
            "constructs and runs one forward call (imports and input included). Ratios are "
            "Kymatio / scatflow: above 1, scatflow is faster or smaller. The configuration's "
            "`[...]` is the input's batch dims; the source is Kymatio's asv benchmarks or its "
            "user guide, with the guide's batch where ours is smaller."
            + (f" float32 only (time budget): {', '.join(one_dtype)}." if one_dtype else ""), "",
            "Threads: Kymatio 0.3.0's NumPy backend calls scipy.fft with one worker and its "
            "torch frontend uses torch's intra-op threads; scatflow's NumPy and torch frontends "
            "split a batch over one single-threaded worker per core, except a batch of under "
            "2^15 (torch: 2^16) padded samples per core, which runs whole (NumPy: in one thread; "
            "torch: on its intra-op threads). scatflow's 1D default is Kymatio's main-branch "
            "filter normalisation (the same work as 0.3.0's). JAX: both libraries' calls "
            "compiled by XLA (`jax.jit`, or eagerly where Kymatio's does not trace: the frontend "
            "column says), on XLA's CPU threads, the whole batch as one program.", "",
            KYMATIO_HEADER, *map(kymatio_row, rows), "", *compile_rows(rows)]
        lines += ["Targets (issue 6's, issue 17's for JAX, and issue 15's for JTFS; ratios "
                  "Kymatio / scatflow from this run):", "",
                  *[f"* {line}" for line in targets(rows)], "",
                  "Observations:", "", *[f"* {note}" for note in observations(rows)], ""]
    if dask:
        lines += ["## Dask: the `ds.scat` accessor, zarr to zarr", "",
                  f"`ds.scat.scattering2d(J={dask['J']}, L={dask['L']})` of {dask['n']} random "
                  f"float32 images {dask['image']}x{dask['image']} ({dask['nbytes'] / 1e6:.0f} "
                  f"MB, MB = 1e6 bytes), read from an uncompressed zarr store (chunks of "
                  f"{dask['chunk']} images, the dask chunks) and written to another: the whole "
                  "chunk-wise pipeline, I/O included; against `scatflow.numpy.Scattering2D` on "
                  f"the same images in memory. {policy.repeats} runs ({policy.long_repeats} where "
                  f"they take over {policy.long_s:g} s) after a warm-up: a 4-chunk run on each "
                  "fresh cluster, one call in memory.", "",
                  DASK_HEADER, *map(dask_row, dask["rows"]), "", dask_summary(dask), ""]
    if rows:
        lines += [f"![forward and constructor times]({stem}-times.png)", "",
                  f"![forward time against input size]({stem}-scaling.png)", ""]
    return "\n".join(lines)
