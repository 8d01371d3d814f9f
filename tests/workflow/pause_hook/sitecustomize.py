"""Test hook for kill tests: a process started with this folder on PYTHONPATH and
SCATFLOW_TEST_PAUSE="<announce file>|<key>,<key>,..." stops for good just before it writes the
last of the listed zarr keys to a local store (so the others are written, that one is not),
after creating the announce file. A test waits for that file, then kills the run: a kill at an
exact point of a template's or a region's writes, with no clock involved.

Python imports `sitecustomize` at start-up, so the run's driver and its worker processes (which
inherit the environment) all carry the hook; each counts the keys it writes itself."""

import os


def _pause_before_last(announce, keys):
    import asyncio

    from zarr.storage import LocalStore

    waiting = set(keys)
    write = LocalStore.set

    async def set_or_pause(self, key, value, *args, **kwargs):
        if waiting == {key}:
            with open(announce, "w") as file:
                file.write(f"{os.getpid()} paused before {key}\n")
            await asyncio.get_running_loop().create_future()  # never done: killed here
        waiting.discard(key)
        return await write(self, key, value, *args, **kwargs)

    LocalStore.set = set_or_pause


_setting = os.environ.get("SCATFLOW_TEST_PAUSE")
if _setting:
    _announce, _keys = _setting.split("|")
    _pause_before_last(_announce, _keys.split(","))
