"""Helpers for tests that start real processes."""

import os
import signal
import subprocess


def stop_group(process, timeout=15):
    """End `process` and everything in its session (SIGTERM, then SIGKILL)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
