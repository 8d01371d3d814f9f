"""The GPU check's report (gpu_check.py writes it at the end): gpu.md with the device, the
versions and every section's checks and tables, gpu.csv, gpu-times.png and results.json."""

import csv
import json
import sys
import time

from gpu_timing import GUIDE, H100_TARGET_S, KYMATIO, RATIO_TARGET, V100_SEED, ratio

RESULT_FIELDS = ("name", "status", "reason", "wall_s", "checks", "data", "rows")


def write_reports(run, env, sections, budgets):
    """gpu.md, gpu.csv, gpu-times.png and results.json in the output folder."""
    plotted = plot(run.out / "gpu-times.png", sections)
    lines = [f"# GPU check{' (dry run on the CPU: no GPU figures)' if run.args.dry_run else ''}",
             "", f"Device: {env['device']}  ",
             f"Driver: {env.get('driver', '-')}; CUDA runtime (torch): "
             f"{env.get('cuda_runtime', '-')}  ",
             f"Host: {env['host']['cores']} cores ({env['host']['cpu']}), "
             f"{env['host']['ram_gib']} GiB; {env['platform']}  ",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v) + "  ",
             f"scatflow commit: {env['commit']} (imported from {env['scatflow_path']})  ",
             f"Date: {env['date']}; command: `{' '.join(sys.argv)}`; "
             f"{time.monotonic() - run.started:.0f} s in all", "",
             "| section | status | wall (s) | budget on an H100 (s) | summary |",
             "|---|---|---|---|---|"]
    lines += [f"| {s.name} | {s.status} | {s.wall_s:.1f} | {budgets[s.name]} | "
              f"{s.summary()} |" for s in sections]
    if plotted:
        lines += ["", "![forward times and Dask throughput](gpu-times.png)"]
    for s in sections:
        lines += ["", f"## {s.name}", ""]
        if s.status == "skip":
            lines.append(f"Skipped: {s.reason}")
            continue
        lines += s.markdown
        if "timing" in s.data:
            lines += timing_table(run, s.data["timing"])
        if s.checks:
            lines += ["", "| check | result | detail |", "|---|---|---|"]
            lines += [f"| {label} | {'pass' if passed else '**FAIL**'} | {detail} |"
                      for label, passed, detail in s.checks]
    (run.out / "gpu.md").write_text("\n".join(lines) + "\n")

    rows = [row for s in sections
            for row in timing_csv_rows(s.name, s.data.get("timing", [])) + s.rows]
    if rows:
        columns = list(dict.fromkeys(key for row in rows for key in row))
        with open(run.out / "gpu.csv", "w", newline="") as f:
            f.write(f"# {env['device']}; {env['date']}; commit {env['commit']}\n")
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            writer.writerows(rows)
    results = {"environment": env, "sections": [
        {name: getattr(s, name) for name in RESULT_FIELDS} for s in sections]}
    (run.out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")


# -- the timing table ---------------------------------------------------------------------------
def _mib(value):
    return "-" if value is None else f"{value:.0f}"


def targets(run, rows):
    """Lines on the issue's targets, each met or missed, with both figures."""
    lines = []
    for row in rows:
        config = row["config"]
        for library in ("scatflow torch", "scatflow CuPy"):
            value = ratio(row, library)
            if value is not None:
                lines.append(f"{'met' if value >= RATIO_TARGET else '**missed**'}: "
                             f"{config.name} {library} {value:.2f}x Kymatio's torch "
                             f"(target >= {RATIO_TARGET:g}x)")
            median = row["results"].get(library, {}).get("median_s")
            target = H100_TARGET_S.get(config.transform)
            if median and target and config.source == GUIDE and not run.accelerator.dry_run:
                lines.append(f"{'met' if median <= target else '**missed**'}: {config.name} "
                             f"{library} {median:.3g} s per batch (H100 target <= {target:g} s;"
                             f" seed, V100: {V100_SEED[config.transform]})")
    return lines


def timing_table(run, rows):
    """The timing rows as markdown: the table, the targets met and missed, the profiles."""
    names = list(dict.fromkeys(name for row in rows for name in row["results"]))
    ours = [name for name in names if name != KYMATIO]
    lines = [
        f"float32, on {run.accelerator.label}; each figure the median of {run.sizes.repeats} "
        f"calls after a warm-up ({run.sizes.long_repeats} where the warm-up took over "
        f"{run.sizes.long_s:g} s), the device synchronised around each call; peak memory: "
        "torch's max_memory_allocated, CuPy's pool after its calls (MiB). Ratios: Kymatio / "
        "scatflow (above 1: scatflow faster).", "",
        "| configuration | source | " + " | ".join(f"{n} (s)" for n in names)
        + "".join(f" | Kymatio / {n}" for n in ours if KYMATIO in names)
        + " | peak MiB (" + " / ".join(names) + ") | runs |",
        "|---" * (4 + len(names) + (len(ours) if KYMATIO in names else 0)) + "|"]
    for row in rows:
        results = [row["results"].get(name, {}) for name in names]
        cells = [row["config"].name, row["config"].source]
        cells += ["failed" if "error" in r else f"{r['median_s']:.4g}" for r in results]
        if KYMATIO in names:
            cells += ["-" if ratio(row, n) is None else f"{ratio(row, n):.2f}x" for n in ours]
        cells.append(" / ".join(_mib(r.get("peak_mib")) for r in results))
        cells.append(" / ".join(str(r.get("runs", "-")) for r in results))
        lines.append("| " + " | ".join(cells) + " |")
    goals = targets(run, rows)
    if goals:
        lines += ["", "Targets (ratios from this run):", "", *[f"* {line}" for line in goals]]
    for row in rows:
        for name, result in row["results"].items():
            if "profile" in result:
                lines += ["", f"Profile of one call, {row['config'].name}, {name} (own "
                          f"{'device' if not run.accelerator.dry_run else 'CPU'} time):", "",
                          "| operation or kernel | calls | ms | share |", "|---|---|---|---|"]
                lines += [f"| `{p['name']}` | {p['calls']} | {p['ms']:.3f} | "
                          f"{p['share']:.0%} |" for p in result["profile"]]
    return lines


def timing_csv_rows(section_name, rows):
    found = []
    for row in rows:
        config = row["config"]
        for name, result in row["results"].items():
            found.append(dict(
                section=section_name, configuration=config.name, source=config.source,
                input_shape="x".join(map(str, config.input_shape)), dtype="float32",
                library=name, median_s=result.get("median_s"), runs=result.get("runs"),
                times_s=" ".join(f"{t:.5f}" for t in result.get("times_s", [])),
                warmup_s=result.get("warmup_s"), peak_gpu_mib=result.get("peak_mib"),
                output_dtype=result.get("output_dtype"),
                kymatio_over_this=ratio(row, name) if name != KYMATIO else None,
                h100_target_s=H100_TARGET_S.get(config.transform)
                if config.source == GUIDE else None, error=result.get("error")))
    return found


# -- the plot -------------------------------------------------------------------------------------
def plot(path, sections):
    """Forward time per configuration and library (log scale, the H100 targets marked), and
    the Dask paths' MB/s; nothing where neither section ran."""
    rows = [row for s in sections for row in s.data.get("timing", [])]
    flows = [s.data["throughput"] for s in sections if "throughput" in s.data]
    if not rows and not flows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (1 if rows else 0) + (1 if flows else 0)
    fig, axes = plt.subplots(1, panels, figsize=(8 * panels, 5.5), squeeze=False)
    axes = list(axes[0])
    if rows:
        ax = axes.pop(0)
        names = list(dict.fromkeys(n for row in rows for n in row["results"]))
        width = 0.8 / len(names)
        for i, name in enumerate(names):
            points = [(x, row["results"][name]["median_s"]) for x, row in enumerate(rows)
                      if row["results"].get(name, {}).get("median_s")]
            if points:
                xs, heights = zip(*points)
                ax.bar([x - 0.4 + (i + 0.5) * width for x in xs], heights, width, label=name)
        for x, row in enumerate(rows):
            target = H100_TARGET_S.get(row["config"].transform)
            if target and row["config"].source == GUIDE:
                ax.hlines(target, x - 0.45, x + 0.45, colors="black", linestyles="dashed")
        ax.set_yscale("log")
        ax.set_xticks(range(len(rows)), [row["config"].name for row in rows], rotation=30,
                      ha="right", fontsize=8)
        ax.set_ylabel("forward, seconds (median)")
        ax.set_title("forward time (dashed: H100 target)")
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    if flows:
        ax = axes.pop(0)
        paths = flows[0]["paths"].values()
        ax.bar(range(len(paths)), [p["mb_per_s"] for p in paths],
               color=["tab:green", "tab:olive", "tab:gray"][:len(paths)])
        ax.set_xticks(range(len(paths)), [f"{p['label']}\n{p['workers']}" for p in paths],
                      fontsize=7)
        ax.set_ylabel("MB/s of float32 input")
        ax.set_title("Dask, zarr to zarr")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
