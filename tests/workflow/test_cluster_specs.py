"""The deployment specs in cluster/, checked without SLURM, Kubernetes or a GPU:

* every YAML file parses;
* SLURM: dask-jobqueue renders the worker job scripts from cluster/slurm/jobqueue*.yaml (CPU and
  GPU) with the expected #SBATCH directives, worker command and resources; distributed's (and,
  where installed, dask-cuda's) worker CLI accepts the rendered command line; the launcher builds
  the right `scatflow run` command; batch.sbatch runs end to end with stand-ins for srun and
  scatflow;
* Kubernetes: each manifest validates against the CRD schema that the installed dask-kubernetes
  ships, made strict (unknown fields fail, as they do under kubectl's default field
  validation), plus the cross-references a schema cannot see; broken copies of them fail.
"""

import copy
import functools
import importlib.util
import json
import os
import posixpath
import re
import shlex
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path, PurePosixPath

import dask
import pytest
import yaml

from processes import stop_group

ROOT = Path(__file__).resolve().parents[2]  # the repository root
CLUSTER = ROOT / "cluster"
SLURM = CLUSTER / "slurm"
K8S = CLUSTER / "k8s"
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the CRDs are ~0.9 MB of YAML


def load_script(path):
    """cluster/ holds scripts, not a package: import one by its path."""
    spec = importlib.util.spec_from_file_location(path.stem.replace("-", "_"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_command(argv):
    """Parses `argv` with the click command that it would start, running nothing: raises
    click's UsageError for an unknown option or a missing argument. None where that program
    is not installed here (dask-cuda without CUDA, scatflow's CLI)."""
    if argv[:2] == ["dask", "worker"]:
        from distributed.cli.dask_worker import main as command
    elif argv[:2] == ["dask", "scheduler"]:
        from distributed.cli.dask_scheduler import main as command
    elif argv[:3] == ["dask", "cuda", "worker"]:
        try:
            from dask_cuda.cli import worker as command
        except ImportError:
            return None
        argv = argv[1:]
    elif argv[:2] == ["scatflow", "run"]:
        try:
            from scatflow.cli import run as command
        except ImportError:
            return None
    else:
        raise AssertionError(f"no parser for {argv[:3]}")
    return command.make_context(" ".join(argv[:2]), list(argv[2:]))


def test_the_cluster_folder_has_its_specs():
    expected = ["README.md", "local-gpu.py",
                "slurm/jobqueue.yaml", "slurm/jobqueue-gpu.yaml", "slurm/batch.sbatch",
                "slurm/launch.py", "k8s/daskcluster.yaml", "k8s/gpu-workergroup.yaml",
                "k8s/daskjob.yaml", "k8s/pvc.yaml", "tls/make_certs.py", "tls/tls_cluster.py",
                "tls/dask-tls.yaml"]
    assert [name for name in expected if not (CLUSTER / name).is_file()] == []


@pytest.mark.parametrize("path", sorted(CLUSTER.rglob("*.yaml")),
                         ids=lambda p: str(p.relative_to(CLUSTER)))
def test_yaml_parses(path):
    documents = list(yaml.safe_load_all(path.read_text()))
    assert documents and all(isinstance(d, dict) for d in documents)


# -- SLURM ------------------------------------------------------------------------------------
@pytest.fixture
def restore_dask_config():
    """The launcher sets Dask's `jobqueue` config for good (dask-jobqueue reads it again at
    scale time): put the test process's back afterwards."""
    saved = copy.deepcopy(dask.config.config.get("jobqueue"))
    yield
    dask.config.config.pop("jobqueue", None)
    if saved is not None:
        dask.config.config["jobqueue"] = saved


def jobqueue_block(path):
    (name, settings), = yaml.safe_load(path.read_text())["jobqueue"].items()
    return name, settings


def job_script(path):
    """The worker job script SLURMCluster renders from the jobqueue file `path` (no sbatch
    needed: the scheduler starts in this process, on loopback)."""
    from dask_jobqueue import SLURMCluster

    name, settings = jobqueue_block(path)
    with dask.config.set({f"jobqueue.{name}": settings}):
        with SLURMCluster(config_name=name, scheduler_options={
                "host": "127.0.0.1", "dashboard_address": ":0"}) as cluster:
            return cluster.job_script()


def worker_argv(script):
    """The worker's command line in a job script, split as the job's shell would (the shell
    expands ${TMPDIR:-/tmp}; here it stays a literal word)."""
    (line,) = [line for line in script.splitlines() if " -m " in line]
    return shlex.split(line)


SLURM_CASES = {
    "jobqueue.yaml": {
        "config_name": "slurm",
        "directives": ["#SBATCH -J scatflow-worker", "#SBATCH -n 1", "#SBATCH --cpus-per-task=16",
                       "#SBATCH --mem=64G", "#SBATCH -t 02:00:00"],
        "module": "distributed.cli.dask_worker",
        "options": {"--nthreads": "4", "--nworkers": "4", "--memory-limit": "16.00GiB",
                    "--death-timeout": "60", "--local-directory": "${TMPDIR:-/tmp}"},
        "absent": ["--gres", "--resources"],
    },
    "jobqueue-gpu.yaml": {
        "config_name": "slurm-gpu",
        "directives": ["#SBATCH -J scatflow-gpu-worker", "#SBATCH -n 1",
                       "#SBATCH --cpus-per-task=8", "#SBATCH --mem=64G", "#SBATCH --gres=gpu:1"],
        "module": "dask_cuda.cli",
        "options": {"--nthreads": "2", "--memory-limit": "64.00GiB", "--resources": "GPU=1",
                    "--death-timeout": "60", "--local-directory": "${TMPDIR:-/tmp}"},
        "absent": ["--nworkers", "--nanny"],  # distributed's worker flags, unknown to dask-cuda
    },
}


@pytest.mark.parametrize("filename", SLURM_CASES)
def test_slurm_job_script(filename):
    pytest.importorskip("dask_jobqueue")
    case = SLURM_CASES[filename]
    assert jobqueue_block(SLURM / filename)[0] == case["config_name"]
    script = job_script(SLURM / filename)
    lines = script.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert [d for d in case["directives"] if d not in lines] == [], script
    argv = worker_argv(script)
    # python: null -> the interpreter that submits the jobs
    assert argv[:4] == [sys.executable, "-m", case["module"], argv[3]]
    assert argv[3].startswith("tcp://127.0.0.1:")
    options = {word: argv[i + 1] if i + 1 < len(argv) and not argv[i + 1].startswith("--")
               else True for i, word in enumerate(argv) if word.startswith("--")}
    assert {k: options.get(k) for k in case["options"]} == case["options"], script
    assert [flag for flag in case["absent"] if flag in script] == []


def test_slurm_cpu_worker_command_is_accepted_by_dask_worker():
    pytest.importorskip("dask_jobqueue")
    from distributed.cli.dask_worker import main as dask_worker

    argv = worker_argv(job_script(SLURM / "jobqueue.yaml"))
    params = dask_worker.make_context("dask worker", argv[3:]).params
    assert (params["n_workers"], params["nthreads"], params["nanny"]) == ("4", 4, True)


def test_slurm_gpu_worker_command_is_accepted_by_dask_cuda_worker():
    pytest.importorskip("dask_jobqueue")
    cli = pytest.importorskip("dask_cuda.cli", exc_type=ImportError)  # needs CUDA bindings too
    argv = worker_argv(job_script(SLURM / "jobqueue-gpu.yaml"))
    params = cli.worker.make_context("dask cuda worker", argv[3:]).params
    assert (params["nthreads"], params["resources"]) == (2, "GPU=1")


@pytest.mark.parametrize("filename", SLURM_CASES)
def test_jobqueue_keys_are_exactly_dask_jobqueues(filename):
    """A mistyped key would be ignored silently, and a missing one breaks `config_name=`
    blocks, which get no defaults: the keys must be those of the package's own slurm block."""
    dask_jobqueue = pytest.importorskip("dask_jobqueue")
    packaged = yaml.safe_load(
        Path(dask_jobqueue.__file__).with_name("jobqueue.yaml").read_text())
    assert set(jobqueue_block(SLURM / filename)[1]) == set(packaged["jobqueue"]["slurm"])


def test_both_jobqueue_blocks_load_from_one_config_directory():
    """DASK_CONFIG=cluster/slurm loads both files; their block names keep them apart."""
    collected = dask.config.collect(paths=[str(SLURM)], env={})
    assert {"slurm", "slurm-gpu"} <= set(collected["jobqueue"])
    assert collected["jobqueue"]["slurm"]["worker-command"] == "distributed.cli.dask_worker"
    assert collected["jobqueue"]["slurm-gpu"]["worker-command"] == "dask_cuda.cli"


def loopback_launcher(monkeypatch):
    """cluster/slurm/launch.py, its scheduler on loopback (CI has no network)."""
    launch = load_script(SLURM / "launch.py")
    make_cluster = launch.make_cluster
    monkeypatch.setattr(launch, "make_cluster", lambda path, **options: make_cluster(
        path, scheduler_options={"host": "127.0.0.1", "dashboard_address": ":0"}, **options))
    return launch


def test_slurm_launcher_prints_the_job_script(capsys, monkeypatch, restore_dask_config):
    pytest.importorskip("dask_jobqueue")
    launch = loopback_launcher(monkeypatch)
    assert launch.main(["--config", str(SLURM / "jobqueue-gpu.yaml"), "--print-job-script"]) == 0
    script = capsys.readouterr().out
    assert "#SBATCH --gres=gpu:1" in script and "-m dask_cuda.cli" in script


def test_slurm_launcher_with_tls_gives_the_workers_certificates(tmp_path, capsys, monkeypatch,
                                                                 restore_dask_config):
    pytest.importorskip("dask_jobqueue")
    pytest.importorskip("cryptography")
    from distributed.cli.dask_worker import main as dask_worker

    load_script(CLUSTER / "tls" / "make_certs.py").make_certificates(tmp_path)
    launch = loopback_launcher(monkeypatch)
    assert launch.main(["--config", str(SLURM / "jobqueue.yaml"), "--print-job-script",
                        "--tls", str(tmp_path)]) == 0
    argv = worker_argv(capsys.readouterr().out)
    assert argv[3].startswith("tls://127.0.0.1:")
    params = dask_worker.make_context("dask worker", argv[3:]).params
    assert (params["tls_ca_file"], params["tls_cert"], params["tls_key"]) == (
        str(tmp_path / "ca.pem"), str(tmp_path / "worker.pem"), str(tmp_path / "worker-key.pem"))


def test_slurm_launcher_runs_scatflow_on_the_cluster(monkeypatch, restore_dask_config):
    """Without sbatch: scale() and the scatflow subprocess are recorded instead of run."""
    pytest.importorskip("dask_jobqueue")
    from dask_jobqueue import SLURMCluster

    launch = loopback_launcher(monkeypatch)
    calls = {"jobs": []}
    monkeypatch.setattr(SLURMCluster, "scale",
                        lambda self, n=None, jobs=0, **kwargs: calls["jobs"].append(jobs))
    monkeypatch.setattr(launch, "scatflow_command", lambda: "scatflow")

    def call(command, env):
        calls.update(command=command, env=env)
        return 3

    monkeypatch.setattr(launch.subprocess, "call", call)
    status = launch.main(["wf.yaml", "--config", str(SLURM / "jobqueue.yaml"), "--jobs", "3",
                          "--", "--resume"])
    assert status == 3 and 3 in calls["jobs"]
    command = calls["command"]
    assert command[:3] == ["scatflow", "run", "wf.yaml"] and command[-1] == "--resume"
    assert command[3] == "--scheduler-address" and command[4].startswith("tcp://127.0.0.1:")
    assert "DASK_DISTRIBUTED__COMM__TLS__CA_FILE" not in calls["env"]
    parse_command(command)
    with pytest.raises(SystemExit):
        launch.main(["--config", str(SLURM / "jobqueue.yaml")])  # no workflow


@pytest.mark.cluster
def test_batch_sbatch_runs_scheduler_workers_and_scatflow(tmp_path):
    """batch.sbatch under bash, with `srun` run as one node and a stand-in `scatflow` that
    connects through the scheduler file, computes on the worker and exits 7: the job's status
    must be 7, and no scheduler, worker or scheduler file may be left behind."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "scratch").mkdir()
    report = tmp_path / "scatflow.json"
    (bin_dir / "srun").write_text(textwrap.dedent("""\
        #!/usr/bin/env bash
        # srun on one node: drop srun's own options, run the command
        while [[ "$1" == --* ]]; do shift; done
        exec "$@"
        """))
    (bin_dir / "scatflow").write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, sys
        from distributed import Client
        args = sys.argv[1:]
        with Client(scheduler_file=args[args.index("--scheduler-file") + 1], timeout=60) as c:
            c.wait_for_workers(1, timeout=60)
            workers = c.scheduler_info()["workers"].values()
            result = {{"argv": args, "nthreads": [w["nthreads"] for w in workers],
                       "total": c.submit(sum, range(10)).result()}}
        with open({str(report)!r}, "w") as f:
            json.dump(result, f)
        sys.exit(7)
        """))
    for script in bin_dir.iterdir():
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, SLURM_JOB_ID="4242", SLURM_CPUS_PER_TASK="2",
               TMPDIR=str(tmp_path / "scratch"), PYTHONUNBUFFERED="1",
               PATH=os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent),
                                     os.environ.get("PATH", "")]))
    log = open(tmp_path / "job.log", "w")
    job = subprocess.Popen(["bash", str(SLURM / "batch.sbatch"), "wf.yaml", "--resume"],
                           cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                           start_new_session=True)
    try:
        status = job.wait(120)
    finally:
        stop_group(job)
        log.close()
    output = (tmp_path / "job.log").read_text()
    assert status == 7, output
    scheduler_file = tmp_path / "scatflow-scheduler-4242.json"
    report = json.loads(report.read_text())
    assert report == {
        "argv": ["run", "wf.yaml", "--scheduler-file", str(scheduler_file), "--resume"],
        "nthreads": [2], "total": 45}
    parse_command(["scatflow"] + report["argv"])  # what the real `scatflow run` accepts
    assert not scheduler_file.exists()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.killpg(job.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"processes of the job are still running\n{output}")


# -- Kubernetes (dask-kubernetes operator) ------------------------------------------------------
OPERATOR_ENV = {"DASK_SCHEDULER_ADDRESS", "DASK_WORKER_NAME"}  # what the operator injects


def closed(schema):
    """`schema` with additionalProperties: false on every object that lists its properties and
    keeps no unknown ones: the API server rejects unknown fields under kubectl's default
    `--validate=strict` (or silently drops them: dask/dask-kubernetes#650)."""
    schema = dict(schema)
    if "properties" in schema:
        schema["properties"] = {name: closed(sub) for name, sub in schema["properties"].items()}
        if not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema.setdefault("additionalProperties", False)
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            schema[key] = closed(schema[key])
    for key in ("anyOf", "allOf", "oneOf"):
        if key in schema:
            schema[key] = [closed(sub) for sub in schema[key]]
    return schema


@functools.cache
def crd_validators():
    """{kind: jsonschema validator} from the CRDs (fully resolved, as the operator's Helm chart
    installs them) inside the installed dask-kubernetes."""
    dask_kubernetes = pytest.importorskip("dask_kubernetes")
    jsonschema = pytest.importorskip("jsonschema")
    crd_dir = (Path(dask_kubernetes.__file__).parent
               / "operator/deployment/helm/dask-kubernetes-operator/crds")
    validators = {}
    for path in sorted(crd_dir.glob("*.yaml")):
        crd = yaml.load(path.read_text(), Loader=Loader)
        (version,) = [v for v in crd["spec"]["versions"] if v["served"] and v["storage"]]
        schema = closed(version["schema"]["openAPIV3Schema"])
        schema["properties"] |= {
            "apiVersion": {"const": f"{crd['spec']['group']}/{version['name']}"},
            "kind": {"const": crd["spec"]["names"]["kind"]},
            "metadata": {"type": "object", "required": ["name"]},
        }
        schema["required"] = sorted({*schema.get("required", ()), "apiVersion", "kind",
                                     "metadata", "spec"})
        validators[crd["spec"]["names"]["kind"]] = jsonschema.Draft202012Validator(schema)
    assert {"DaskCluster", "DaskWorkerGroup", "DaskJob"} <= set(validators)
    return validators


def schema_errors(manifest):
    validator = crd_validators().get(manifest.get("kind"))
    if validator is None:
        return [f"no CRD for kind {manifest.get('kind')!r}"]
    return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in validator.iter_errors(manifest)]


def pod_specs(manifest):
    """(role, pod spec, the environment variables the operator injects) of a manifest."""
    spec = manifest["spec"]
    if manifest["kind"] == "DaskWorkerGroup":
        return [("worker", spec["worker"]["spec"], OPERATOR_ENV)]
    if manifest["kind"] == "DaskJob":
        return ([("job", spec["job"]["spec"], {"DASK_SCHEDULER_ADDRESS"})]
                + pod_specs({"kind": "DaskCluster", "spec": spec["cluster"]["spec"]}))
    return [("worker", spec["worker"]["spec"], OPERATOR_ENV),
            ("scheduler", spec["scheduler"]["spec"], set())]


def reference_errors(manifest):
    """What the schema cannot see: names the operator accepts, $(VAR) in args that resolve
    (Kubernetes leaves a misspelled one as literal text), mounts of declared volumes, the
    scheduler Service selecting this cluster's scheduler, one image per cluster (scheduler,
    workers and client must have the same dask and scatflow versions)."""
    from dask_kubernetes.exceptions import ValidationError
    from dask_kubernetes.operator.validation import validate_cluster_name

    errors = []
    name = manifest["metadata"]["name"]
    cluster = manifest["spec"]["cluster"] if manifest["kind"] == "DaskWorkerGroup" else name
    try:
        validate_cluster_name(cluster)
    except ValidationError as error:
        errors.append(error.message)
    images = set()
    for role, pod, injected in pod_specs(manifest):
        volumes = {volume["name"] for volume in pod.get("volumes", [])}
        for container in pod["containers"]:
            images.add(container["image"])
            defined = injected | {env["name"] for env in container.get("env", [])}
            words = container.get("command", []) + container.get("args", [])
            for variable in re.findall(r"\$\((\w+)\)", " ".join(words)):
                if variable not in defined:
                    errors.append(f"{role}: $({variable}) is not defined in the container")
            for mount in container.get("volumeMounts", []):
                if mount["name"] not in volumes:
                    errors.append(f"{role}: volumeMount {mount['name']!r} has no volume")
    if manifest["kind"] != "DaskWorkerGroup":
        spec = manifest["spec"]["cluster"]["spec"] if manifest["kind"] == "DaskJob" \
            else manifest["spec"]
        selected = spec["scheduler"]["service"]["selector"].get("dask.org/cluster-name")
        if selected != cluster:
            errors.append(f"the scheduler Service selects cluster {selected!r}, not {cluster!r}")
        if len(images) > 1:
            errors.append(f"several images in one cluster: {sorted(images)}")
    return errors


def manifest(filename):
    return yaml.safe_load((K8S / filename).read_text())


def container(pod, name):
    (found,) = [c for c in pod["containers"] if c["name"] == name]
    return found


@pytest.mark.parametrize("filename", ["daskcluster.yaml", "gpu-workergroup.yaml",
                                      "daskjob.yaml"])
def test_k8s_manifest_validates_against_the_operators_crd(filename):
    m = manifest(filename)
    assert schema_errors(m) == []
    assert reference_errors(m) == []


@pytest.mark.parametrize("filename", ["daskcluster.yaml", "gpu-workergroup.yaml",
                                      "daskjob.yaml"])
def test_k8s_container_commands_parse(filename):
    """Each container's command line is one its program accepts (the operator's variables
    stand in for what Kubernetes substitutes)."""
    values = {"DASK_SCHEDULER_ADDRESS": "tcp://scatflow-scheduler:8786",
              "DASK_WORKER_NAME": "scatflow-default-worker-0"}
    for _, pod, _ in pod_specs(manifest(filename)):
        for c in pod["containers"]:
            argv = [re.sub(r"\$\((\w+)\)", lambda m: values[m[1]], word) for word in c["args"]]
            parse_command(argv)


def test_k8s_upstream_examples_pass_the_strict_validation():
    """The operator's own test manifests (shipped in the package) are valid: the strictness
    added by `closed` rejects nothing that the operator accepts."""
    import dask_kubernetes

    examples = sorted((Path(dask_kubernetes.__file__).parent
                       / "operator/controller/tests/resources").glob("*.yaml"))
    assert examples, "the installed dask-kubernetes ships no operator test manifests"
    for path in examples:
        assert schema_errors(yaml.safe_load(path.read_text())) == [], path.name


def test_k8s_gpu_worker_group_joins_the_cluster_with_one_gpu():
    group, cluster = manifest("gpu-workergroup.yaml"), manifest("daskcluster.yaml")
    assert group["spec"]["cluster"] == cluster["metadata"]["name"]
    worker = container(group["spec"]["worker"]["spec"], "worker")
    assert worker["args"][:3] == ["dask", "cuda", "worker"]
    args = worker["args"]
    assert args[args.index("--resources") + 1] == "GPU=1"
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_k8s_daskjob_runs_scatflow_against_its_scheduler():
    job = manifest("daskjob.yaml")
    runner = container(job["spec"]["job"]["spec"], "job")
    args = runner["args"]
    assert args[:2] == ["scatflow", "run"]
    assert args[args.index("--scheduler-address") + 1] == "$(DASK_SCHEDULER_ADDRESS)"
    assert "--resume" in args  # the runner is restarted on failure
    assert job["spec"]["job"]["spec"]["restartPolicy"] == "OnFailure"
    workflow = PurePosixPath(args[2])
    mounts = {m["mountPath"]: m["name"] for m in runner["volumeMounts"]}
    assert mounts[str(workflow.parent)] == "workflows"  # the ConfigMap made from workflows/
    spec_file = ROOT / "workflows" / workflow.name
    assert spec_file.is_file(), f"workflows/{workflow.name}"
    # Its stores (relative to its folder) must be on the volume the workers mount too.
    spec = yaml.safe_load(spec_file.read_text())
    worker = container(job["spec"]["cluster"]["spec"]["worker"]["spec"], "worker")
    shared = [m["mountPath"] for m in worker["volumeMounts"] if mounts.get(m["mountPath"])]
    for section in ("input", "output"):
        store = spec[section].get("store")
        if store is not None and "://" not in store:
            path = posixpath.normpath(posixpath.join(workflow.parent, store))
            assert any(path.startswith(f"{mount}/") for mount in shared), (section, path)


def _set(path, value):
    def mutate(m):
        *parents, last = path
        for key in parents:
            m = m[key]
        m[last] = value
    return mutate


def _delete(path):
    def mutate(m):
        *parents, last = path
        for key in parents:
            m = m[key]
        del m[last]
    return mutate


def _rename(path, new):
    def mutate(m):
        *parents, last = path
        for key in parents:
            m = m[key]
        m[new] = m.pop(last)
    return mutate


CPU_WORKER = ("spec", "worker", "spec", "containers", 0)
GPU_WORKER = ("spec", "worker", "spec", "containers", 0)
RUNNER = ("spec", "job", "spec", "containers", 0)
BROKEN = {
    "GPU limit as an integer": (
        "gpu-workergroup.yaml",
        _set(GPU_WORKER + ("resources", "limits", "nvidia.com/gpu"), 1), "is not of type"),
    "misspelled `resources`": (
        "daskcluster.yaml", _rename(CPU_WORKER + ("resources",), "resource"),
        "Additional properties are not allowed"),
    "misspelled `limits`": (
        "gpu-workergroup.yaml", _rename(GPU_WORKER + ("resources", "limits"), "limit"),
        "Additional properties are not allowed"),
    "worker group without its cluster": (
        "gpu-workergroup.yaml", _delete(("spec", "cluster")), "'cluster' is a required"),
    "DaskJob without a job": ("daskjob.yaml", _delete(("spec", "job")), "'job' is a required"),
    "replicas as a string": (
        "daskcluster.yaml", _set(("spec", "worker", "replicas"), "4"), "is not of type"),
    "another API version": (
        "daskjob.yaml", _set(("apiVersion",), "kubernetes.dask.org/v2"), "was expected"),
    "misspelled $(DASK_SCHEDULER_ADDRESS)": (
        "daskjob.yaml", _set(RUNNER + ("args", 4), "$(DASK_SCHEDULER_ADRESS)"),
        "$(DASK_SCHEDULER_ADRESS) is not defined"),
    "Service selecting another cluster": (
        "daskcluster.yaml",
        _set(("spec", "scheduler", "service", "selector", "dask.org/cluster-name"), "other"),
        "selects cluster 'other'"),
    "mount of an undeclared volume": (
        "daskjob.yaml", _delete(("spec", "job", "spec", "volumes", 0)),
        "volumeMount 'workflows' has no volume"),
    "invalid cluster name": (
        "daskcluster.yaml", _set(("metadata", "name"), "Scatflow_Cluster"), "is invalid"),
    "two images in one cluster": (
        "daskjob.yaml", _set(RUNNER + ("image",), "other:1"), "several images"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_k8s_broken_manifest_fails(case):
    filename, mutate, expected = BROKEN[case]
    m = manifest(filename)
    mutate(m)
    errors = schema_errors(m) or reference_errors(m)
    assert any(expected in error for error in errors), errors


# -- local GPU ---------------------------------------------------------------------------------
def test_local_gpu_script_imports_dask_cuda_only_when_run():
    result = subprocess.run([sys.executable, str(CLUSTER / "local-gpu.py"), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "LocalCUDACluster" in result.stdout


@pytest.mark.gpu
@pytest.mark.cluster
def test_local_gpu_cluster_runs_scattering_on_the_gpu(tmp_path, cupy_gpu):
    pytest.importorskip("dask_cuda", exc_type=ImportError)
    import dask.array as da
    import numpy as np
    from distributed import Client

    import scatflow.dask as sd
    import scatflow.numpy as snp

    scheduler_file = tmp_path / "scheduler.json"
    log = open(tmp_path / "cluster.log", "w")
    process = subprocess.Popen(
        [sys.executable, str(CLUSTER / "local-gpu.py"), "--devices", "0", "--port", "0",
         "--dashboard-address", ":0", "--scheduler-file", str(scheduler_file)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not scheduler_file.exists():
            assert process.poll() is None, (tmp_path / "cluster.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "cluster.log").read_text()
            time.sleep(0.5)
        x = np.random.default_rng(0).random((4, 64, 64))
        with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            client.wait_for_workers(1, timeout=120)
            (info,) = client.scheduler_info()["workers"].values()
            assert info["resources"] == {"GPU": 1}
            y = sd.scattering2d(da.from_array(cupy_gpu.asarray(x), chunks=(2, 64, 64)), J=2, L=4)
            (out,) = sd.compute(y, client=client)
    finally:
        stop_group(process)
        log.close()
    expected = snp.Scattering2D(J=2, shape=(64, 64), L=4)(x)
    np.testing.assert_allclose(cupy_gpu.asnumpy(out), expected, rtol=1e-6, atol=1e-9)
