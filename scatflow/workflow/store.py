"""The output store: a zarr group with scatflow's bookkeeping under `_scatflow/`.

    _scatflow/template.json           written once the template (metadata, coords) is complete
    _scatflow/regions/<start>-<stop>  one marker per region, written after its chunks
    _scatflow/lock.json               held while a run writes; removed when it ends

`_scatflow` is itself an (empty) zarr group, so that zarr and xarray pass over it quietly.

Everything goes through fsspec, so the same code runs on local disk and object stores (S3, GCS),
which have no rename and no file lock: markers are whole objects written after the data, and the
lock is a lease (run id, host, pid, heartbeat) that a run reads back after writing it. Markers
hold no time, so a completed store has the same bytes however many runs it took.
"""

import json
import os
import socket
import threading
import time
import uuid

BOOKKEEPING = "_scatflow"
GROUP_METADATA = b'{"attributes": {}, "node_type": "group", "zarr_format": 3}'
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 30.0  # a lock from another host without a heartbeat for this long is abandoned


class LockError(RuntimeError):
    """The store is being written by another run."""


class StorageError(ValueError):
    """A store that cannot be reached, read or written: one line naming its field and the
    cause."""


def reach_store(location, storage_options, where, writable=False):
    """`(store, exists)`: the OutputStore at `location` and whether a store is there, as its
    filesystem answers.

    Raises StorageError naming `where` (`input.store`, `output.store`) where the filesystem
    cannot be made (an unknown protocol, a missing fsspec backend, options it does not take)
    or does not answer (no credentials, an endpoint that does not answer, a bucket that does
    not exist, permissions). Every filesystem library raises its own exception types
    (botocore, google-auth, aiohttp, ...), which scatflow cannot list: any failure of these
    calls, which only ask, is that cause. With `writable`, also where a new store could not be
    made: a local folder that cannot be created or written, an object store's missing bucket.
    """
    try:
        store = OutputStore(location, storage_options)
        exists = store.exists()
        if writable and not exists:
            _check_creatable(store)
    except StorageError as error:
        raise StorageError(f"{where}: {location!r}: {error}") from None
    except Exception as error:  # noqa: BLE001 -- see the docstring
        raise StorageError(f"{where}: cannot reach {location!r}: {describe_error(error)}"
                           ) from None
    return store, exists


def describe_error(error):
    """`Type: the message's first line`: a library's error as one line of a scatflow message."""
    lines = str(error).strip().splitlines()
    return type(error).__name__ + (f": {lines[0]}" if lines else "")


def _check_creatable(store):
    """Raise StorageError where a store cannot be made at `store.root`: the nearest local
    folder that exists is not a writable folder, or the object store's bucket is missing."""
    if "file" in _protocols(store.fs):
        parent = store.root
        while not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
            raise StorageError(f"cannot create a store under {parent!r} (not a writable folder)")
        return
    bucket = store.fs._strip_protocol(store.root).lstrip("/").split("/", 1)[0]
    if "memory" not in _protocols(store.fs) and bucket and not store.fs.exists(bucket):
        raise StorageError(f"the bucket {bucket!r} does not exist")


def _protocols(fs):
    return {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)


class OutputStore:
    """Where the output goes: existence, the template marker, region markers, the lock."""

    def __init__(self, location, storage_options=None):
        from fsspec.core import url_to_fs

        self.location = location
        self.storage_options = dict(storage_options or {})
        self.fs, self.root = url_to_fs(location, **self.storage_options)
        self.root = self.root.rstrip("/")
        self._lock = None

    def _path(self, *parts):
        return "/".join((self.root,) + parts)

    def exists(self):
        return (self.fs.exists(self._path("zarr.json"))
                or self.fs.exists(self._path(BOOKKEEPING)))

    # -- template and regions ------------------------------------------------------------------
    def template(self):
        """The template marker's content, or None where no complete template is there."""
        return self._read_json(self._path(BOOKKEEPING, "template.json"))

    def mark_template(self, content):
        self._write_json(self._path(BOOKKEEPING, "template.json"), content)

    def done_regions(self):
        """The names ("<start>-<stop>") of the regions whose markers are there."""
        folder = self._path(BOOKKEEPING, "regions")
        try:
            return {p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(folder, detail=False)}
        except FileNotFoundError:
            return set()

    def mark_done(self, name):
        self._write_json(self._path(BOOKKEEPING, "regions", name), {"region": name})

    def clear(self):
        """Remove everything but the lock (a template that a killed run left half-written, or
        an output to overwrite)."""
        if not self.fs.exists(self.root):
            return
        keep = {self._path(BOOKKEEPING, "lock.json"), self._path(BOOKKEEPING, "zarr.json")}
        for path in self.fs.ls(self.root, detail=False):
            if path.rstrip("/") != self._path(BOOKKEEPING):
                self.fs.rm(path, recursive=True)
        for path in self.fs.ls(self._path(BOOKKEEPING), detail=False):
            if path.rstrip("/") not in keep:
                self.fs.rm(path, recursive=True)
        self.fs.invalidate_cache()

    def size_bytes(self):
        """Bytes stored (compressed chunks and metadata)."""
        if not self.fs.exists(self.root):
            return 0
        return int(self.fs.du(self.root, total=True))

    # -- the lock ------------------------------------------------------------------------------
    def acquire(self):
        """Take the lock or raise LockError naming its holder. A lock whose process is gone
        (same host) or whose heartbeat stopped (another host) is taken over."""
        path = self._path(BOOKKEEPING, "lock.json")
        held = self._read_json(path)
        if held is not None and _alive(held):
            raise LockError(_describe_holder(self.location, held))
        mine = _lock_content()
        self.fs.makedirs(self._path(BOOKKEEPING), exist_ok=True)
        self.fs.pipe_file(self._path(BOOKKEEPING, "zarr.json"), GROUP_METADATA)
        self._write_json(path, mine)
        time.sleep(0.2)  # two runs that wrote at once: the last write wins, the other sees it
        held = self._read_json(path)
        if held is None or held.get("run_id") != mine["run_id"]:
            raise LockError(_describe_holder(self.location, held or {}))
        stop = threading.Event()
        thread = threading.Thread(target=self._beat, args=(path, mine, stop), daemon=True,
                                  name="scatflow-lock-heartbeat")
        thread.start()
        self._lock = (stop, thread)

    def _beat(self, path, content, stop):
        while not stop.wait(HEARTBEAT_SECONDS):
            content["heartbeat"] = time.time()
            try:
                self._write_json(path, content)
            except OSError:
                pass  # a missed beat only ages the lease; the next one retries

    def release(self):
        if self._lock is None:
            return
        stop, thread = self._lock
        stop.set()
        thread.join()
        self._lock = None
        path = self._path(BOOKKEEPING, "lock.json")
        if self.fs.exists(path):
            self.fs.rm_file(path)
        self.fs.invalidate_cache()

    def lock_holder(self):
        """The lock's content where a live run holds it, else None."""
        held = self._read_json(self._path(BOOKKEEPING, "lock.json"))
        return held if held is not None and _alive(held) else None

    # -- json objects --------------------------------------------------------------------------
    def _read_json(self, path):
        self.fs.invalidate_cache()
        try:
            with self.fs.open(path, "rb") as handle:
                return json.loads(handle.read())
        except FileNotFoundError:
            return None
        except ValueError:
            return {}  # torn by a kill while written: present, but naming no live holder

    def _write_json(self, path, content):
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(path, json.dumps(content, sort_keys=True).encode())


def _lock_content():
    import psutil

    now = time.time()
    return {"run_id": uuid.uuid4().hex, "host": socket.gethostname(), "pid": os.getpid(),
            "pid_started": psutil.Process().create_time(), "started": now, "heartbeat": now}


def _alive(held):
    """Whether the run that wrote this lock content still runs."""
    import psutil

    if held.get("host") == socket.gethostname():
        try:
            process = psutil.Process(held.get("pid", -1))
            return abs(process.create_time() - held.get("pid_started", 0)) < 1.0
        except (psutil.Error, ValueError, TypeError):
            return False
    return time.time() - held.get("heartbeat", 0) < STALE_SECONDS


def _describe_holder(location, held):
    if not held:
        return f"{location}: another run took the lock at the same moment; try again"
    age = time.time() - held.get("heartbeat", 0)
    return (f"{location}: another run is writing it (host {held.get('host')}, pid "
            f"{held.get('pid')}, last heartbeat {age:.0f} s ago); wait for it to end, or, if it "
            f"died on another host, for its lock to go stale ({STALE_SECONDS:.0f} s)")
