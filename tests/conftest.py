"""Shared fixtures and the GPU gates, applied at collection: a test marked `gpu` is skipped
where no CUDA device is visible (to CuPy or to PyTorch); a test that takes the `cupy_gpu`
fixture is skipped where CuPy or a CUDA device is missing; `cuda_devices(n)` asks for n devices.
`s3_server`: a local S3 server for the object-store tests."""

import functools
import importlib.util

import pytest


@functools.cache
def cupy_device_count():
    """CUDA devices CuPy sees (0 without CuPy or a driver)."""
    if importlib.util.find_spec("cupy") is None:
        return 0
    import cupy

    try:
        return cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError:
        return 0


@functools.cache
def cuda_visible():
    """Whether CuPy or PyTorch sees a CUDA device (each imported only where installed)."""
    if cupy_device_count() > 0:
        return True
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("gpu") and not cuda_visible():
            item.add_marker(pytest.mark.skip(reason="gpu: no CUDA device visible"))
        if "cupy_gpu" not in item.fixturenames:
            continue
        marker = item.get_closest_marker("cuda_devices")
        needed = marker.args[0] if marker else 1
        if cupy_device_count() < needed:
            item.add_marker(pytest.mark.skip(
                reason=f"needs CuPy and {needed} CUDA device(s); found {cupy_device_count()}"))


@pytest.fixture
def cupy_gpu():
    """CuPy (the collection gate above guarantees it and a CUDA device)."""
    import cupy

    return cupy


@pytest.fixture
def s3_server():
    """A local S3 server (moto) on 127.0.0.1 with an empty bucket `scatflow-test`; yields the
    fsspec storage options that reach it."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    options = {"endpoint_url": f"http://{host}:{port}", "key": "testing", "secret": "testing",
               "client_kwargs": {"region_name": "us-east-1"}}
    boto3.client("s3", endpoint_url=options["endpoint_url"], aws_access_key_id="testing",
                 aws_secret_access_key="testing", region_name="us-east-1").create_bucket(
        Bucket="scatflow-test")
    yield options
    server.stop()
