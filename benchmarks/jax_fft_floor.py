"""How fast can a 2D scattering be on XLA? The Fourier transforms that Kymatio's algorithm needs,
timed alone, against Kymatio's and scatflow's jitted JAX forward in the same process.

Issue 17 asked for scatflow's JAX forward >= 3x Kymatio's. Both run as one XLA program and both
are dominated by their FFTs, so the FFTs of the 2D cascade bound what any implementation of it
can reach: per signal one FFT of the padded input; per first-order wavelet (j1, l1) an inverse
FFT at the padded size / 2^j1, an FFT of its modulus and the low-pass's inverse FFT at / 2^J;
the same per second-order path (j1 < j2) at / 2^j2; and order 0's low-pass. Two floors:

* complex: every transform complex, as both libraries call them;
* real: the FFTs of real inputs (the signal, the moduli) and the inverse FFTs of real outputs
  (the low-passes) as real FFTs, half the work; the wavelet products stay complex.

    .venv-bench/bin/python benchmarks/jax_fft_floor.py [--only "224"]

Needs Kymatio 0.3.0 and JAX (`.venv-bench`). Prints one row per configuration (seconds, medians
of 5 calls after a compiling one, float32).
"""

import argparse
import time
from collections import Counter

import jax
import jax.numpy as jnp
import numpy as np

CONFIGURATIONS = {  # name: (shape, J, L, batch), compare_kymatio.py's 2D rows
    "2D 32x32 J=2 L=8 [32x3]": ((32, 32), 2, 8, (32, 3)),
    "2D 64x64 J=6 L=2 [4x3]": ((64, 64), 6, 2, (4, 3)),
    "2D 224x224 J=3 L=8 [32x3]": ((224, 224), 3, 8, (32, 3)),
    "2D 256x256 J=3 L=8 [32x3]": ((256, 256), 3, 8, (32, 3)),
}
MAX_ELEMENTS = 2**25  # a timed FFT call transforms at most this many points (memory)


def median_seconds(f, *args, repeats=5):
    jax.block_until_ready(f(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(f(*args))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def cascade_transforms(padded, J, L):
    """Counter of (kind, decimation) for one signal: kind "fft" (real input), "ifft" (complex
    output) or "ifft_real" (real output, the low-passes)."""
    needed = Counter({("fft", 0): 1, ("ifft_real", J): 1})
    for j1 in range(J):
        needed.update({("ifft", j1): L, ("fft", j1): L, ("ifft_real", J): L})
        for j2 in range(j1 + 1, J):
            needed.update({("ifft", j2): L * L, ("fft", j2): L * L, ("ifft_real", J): L * L})
    return needed


def transform_seconds(kind, shape, count, real):
    """Seconds for `count` transforms of `kind` on `shape` (float32), timed in calls of at most
    MAX_ELEMENTS points."""
    per_call = max(1, min(count, MAX_ELEMENTS // int(np.prod(shape))))
    calls = count / per_call
    rng = np.random.default_rng(0)
    if kind == "fft" and real:
        x, f = rng.standard_normal((per_call, *shape)).astype("float32"), jnp.fft.rfft2
    elif kind == "ifft_real" and real:
        half = (shape[0], shape[1] // 2 + 1)
        x = (rng.standard_normal((per_call, *half)) + 0j).astype("complex64")
        f = jax.jit(lambda a: jnp.fft.irfft2(a, s=shape))
    else:
        x = (rng.standard_normal((per_call, *shape)) + 0j).astype("complex64")
        f = jnp.fft.fft2 if kind == "fft" else jnp.fft.ifft2
    return calls * median_seconds(jax.jit(f), jnp.asarray(x))


def floor_seconds(padded, J, L, batch, real):
    signals = int(np.prod(batch))
    return sum(
        transform_seconds(kind, (padded[0] >> j, padded[1] >> j), count * signals, real)
        for (kind, j), count in cascade_transforms(padded, J, L).items())


def forward_seconds(module, shape, J, L, batch):
    S = module.Scattering2D(J=J, shape=shape, L=L)
    x = jnp.asarray(np.random.default_rng(0).standard_normal((*batch, *shape)).astype("float32"))
    return median_seconds(jax.jit(S), x), S


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="configurations whose name contains this")
    args = parser.parse_args()
    import kymatio.jax
    import scatflow.jax

    print("| configuration | Kymatio JAX (s) | scatflow JAX (s) | complex FFT floor (s) "
          "| real FFT floor (s) | Kymatio / scatflow | Kymatio / real floor |")
    print("|---|---|---|---|---|---|---|")
    for name, (shape, J, L, batch) in CONFIGURATIONS.items():
        if args.only not in name:
            continue
        kymatio_s, _ = forward_seconds(kymatio.jax, shape, J, L, batch)
        scatflow_s, S = forward_seconds(scatflow.jax, shape, J, L, batch)
        padded = (S.M_padded, S.N_padded)
        complex_s = floor_seconds(padded, J, L, batch, real=False)
        real_s = floor_seconds(padded, J, L, batch, real=True)
        print(f"| {name} | {kymatio_s:.3g} | {scatflow_s:.3g} | {complex_s:.3g} | {real_s:.3g} "
              f"| {kymatio_s / scatflow_s:.2f}x | {kymatio_s / real_s:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
