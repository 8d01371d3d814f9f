"""`padding_mode=`: the boundary conditions of 1D, 2D and JTFS's time axis.

"reflect", "symmetric" and "zero" are, by definition, the periodic transform of the signal
padded by `np.pad` in that mode, unpadded: checked against exactly that. "periodic" is
checked by its shift-equivariance along periodic axes; the default by the Kymatio fixture
tests (unchanged)."""

import numpy as np
import pytest

from scatflow.numpy import Scattering1D, Scattering2D, TimeFrequencyScattering

NP_MODES = {"reflect": "reflect", "symmetric": "symmetric", "zero": "constant"}
rng = np.random.default_rng(18)


def relative(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.mark.parametrize("mode", sorted(NP_MODES))
@pytest.mark.parametrize("params", [dict(J=5, Q=4), dict(J=5, Q=4, T=16, stride=4)])
def test_1d_padded_modes_are_the_periodic_transform_of_the_np_padded_signal(mode, params):
    x = rng.standard_normal((2, 300))
    S = Scattering1D(shape=300, padding_mode=mode, **params)
    padded = np.pad(x, [(0, 0), (S.pad_left, S.pad_right)], NP_MODES[mode])
    P = Scattering1D(shape=padded.shape[-1], padding_mode="periodic", **params)
    r = S.log2_stride
    expected = P(padded)[..., S.ind_start[r]:S.ind_end[r]]
    assert relative(S(x), expected) < 1e-12
    if mode != "reflect":
        assert relative(S(x), Scattering1D(shape=300, **params)(x)) > 1e-6  # it changes numbers


@pytest.mark.parametrize("mode", sorted(NP_MODES))
def test_2d_padded_modes_are_the_periodic_transform_of_the_np_padded_image(mode):
    x = rng.standard_normal((2, 28, 37))
    S = Scattering2D(J=2, shape=(28, 37), L=4, padding_mode=mode)
    padded = np.pad(x, ((0, 0),) + S.core.pads, NP_MODES[mode])
    P = Scattering2D(J=2, shape=padded.shape[-2:], L=4, padding_mode="periodic")
    assert relative(S(x), P(padded)[..., 1:-1, 1:-1]) < 1e-12


def test_2d_one_mode_per_axis():
    """A pair pads each axis in its own mode: ("zero", "symmetric") is the periodic transform
    of the image zero-padded along rows and symmetric-padded along columns."""
    x = rng.standard_normal((24, 40))
    S = Scattering2D(J=2, shape=(24, 40), L=4, padding_mode=("zero", "symmetric"))
    (top, bottom), (left, right) = S.core.pads
    padded = np.pad(np.pad(x, ((top, bottom), (0, 0))), ((0, 0), (left, right)), "symmetric")
    P = Scattering2D(J=2, shape=padded.shape, L=4, padding_mode="periodic")
    assert relative(S(x), P(padded)[..., 1:-1, 1:-1]) < 1e-12
    mixed = Scattering2D(J=2, shape=(24, 40), L=4, padding_mode=("reflect", "periodic"))
    assert mixed.core.padded_shape == (S.core.padded_shape[0], 40)
    assert mixed(x).shape == S(x).shape == (1 + 2 * 4 + 16, 6, 10)


@pytest.mark.parametrize("mode", sorted(NP_MODES))
def test_jtfs_time_axis_padded_modes_are_the_periodic_transform_of_the_padded_signal(mode):
    x = rng.standard_normal(500)
    params = dict(J=5, J_fr=2, Q=4, format="time")
    S = TimeFrequencyScattering(shape=500, padding_mode=mode, **params)
    padded = np.pad(x, (S.pad_left, S.pad_right), NP_MODES[mode])
    P = TimeFrequencyScattering(shape=padded.size, padding_mode="periodic", **params)
    s = S.log2_stride
    assert relative(S(x), P(padded)[..., S.ind_start[s]:S.ind_end[s]]) < 1e-12


def rolled(y, k):
    return np.roll(y, k, axis=-1)


@pytest.mark.parametrize("params, step", [(dict(J=6, Q=8), 64), (dict(J=6, Q=8, T=32), 32),
                                          (dict(J=6, Q=8, stride=8), 8),
                                          (dict(J=5, Q=2, oversampling=1), 16),
                                          (dict(J=5, Q=2, oversampling=1, kymatio_compat="0.3"),
                                           16)])
def test_1d_periodic_is_shift_equivariant(params, step):
    """Rolling the input by k output steps rolls the output by k."""
    x = rng.standard_normal((2, 512))
    S = Scattering1D(shape=512, padding_mode="periodic", **params)
    y = S(x)
    assert y.shape[-1] * step == 512 and S.N_padded == 512 and S.pad_left == 0
    for k in (1, 3, -2):
        assert relative(S(rolled(x, k * step)), rolled(y, k)) < 1e-12
    reflect = Scattering1D(shape=512, **params)
    assert relative(reflect(rolled(x, step)), rolled(reflect(x), 1)) > 1e-3  # reflect is not


def test_1d_periodic_unaveraged_paths_roll_by_their_own_step():
    """T=0: path of step s (decimated by s) rolls by k * step / s, step = the coarsest one."""
    x = rng.standard_normal(512)
    S = Scattering1D(J=5, shape=512, Q=2, T=0, out_type="list", padding_mode="periodic")
    out = S(x)
    steps = [512 // item["coef"].shape[-1] for item in out]
    step = max(steps)
    assert step == 16 and min(steps) == 1
    for k in (1, -3):
        for item, own, shifted in zip(out, steps, S(rolled(x, k * step))):
            assert relative(shifted["coef"], rolled(item["coef"], k * step // own)) < 1e-12


def test_1d_periodic_global_average_is_shift_invariant():
    """Invariant to shifts by multiples of the coarsest decimation (2**3 for J=4, Q=4)."""
    x = rng.standard_normal(256)
    S = Scattering1D(J=4, shape=256, Q=4, T="global", padding_mode="periodic")
    for shift in (8, 8 * 13):
        assert relative(S(rolled(x, shift)), S(x)) < 1e-12


@pytest.mark.parametrize("mode, shift, axes", [
    ("periodic", (2, -3), (-2, -1)), (("reflect", "periodic"), (0, 3), (-2, -1)),
    (("periodic", "zero"), (-1, 0), (-2, -1))])
def test_2d_periodic_axes_are_shift_equivariant(mode, shift, axes):
    """Rolling by k * 2**J along periodic axes rolls the output by k there."""
    J = 3
    x = rng.standard_normal((40, 64))
    S = Scattering2D(J=J, shape=(40, 64), L=4, padding_mode=mode)
    y = S(x)
    shifted = S(np.roll(x, tuple(k * 2**J for k in shift), axis=axes))
    assert relative(shifted, np.roll(y, shift, axis=axes)) < 1e-12


def test_2d_periodic_unaveraged_maps_roll_by_their_own_step():
    """average=False: the map of a path at resolution 2^-j rolls by k * 2**J / 2**j."""
    J = 3
    x = rng.standard_normal((32, 48))
    S = Scattering2D(J=J, shape=(32, 48), L=2, padding_mode="periodic", average=False,
                     out_type="list")
    shift = (1, -2)
    out = S(x)
    moved = S(np.roll(x, tuple(k * 2**J for k in shift), axis=(-2, -1)))
    assert len(out) == 1 + 2 * J + 4 * 3 and {item["decimation"] for item in out} == {1, 2, 4}
    for item, shifted in zip(out, moved):
        steps = tuple(k * 2**J // item["decimation"] for k in shift)
        assert relative(shifted["coef"], np.roll(item["coef"], steps, axis=(-2, -1))) < 1e-12


def test_jtfs_periodic_time_axis_is_shift_equivariant():
    x = rng.standard_normal(512)
    for params, step in [(dict(format="time"), 32), (dict(format="joint", stride=8), 8)]:
        S = TimeFrequencyScattering(J=5, J_fr=2, Q=4, shape=512, padding_mode="periodic",
                                    **params)
        y = S(x)
        assert y.shape[-1] * step == 512
        for k in (1, -2):
            assert relative(S(rolled(x, k * step)), rolled(y, k)) < 1e-12


@pytest.mark.parametrize("make, message", [
    (lambda: Scattering1D(J=6, shape=1000, padding_mode="periodic"),
     r"signal length \(shape\[0\]\) must be a multiple of 64 .*got 1000: use a size such as "
     r"960 or 1024"),
    (lambda: Scattering2D(J=3, shape=(32, 60), padding_mode=("reflect", "periodic")),
     r"shape\[1\] must be a multiple of 8 \(2\*\*J.*got 60: use a size such as 56 or 64"),
    (lambda: TimeFrequencyScattering(J=5, J_fr=2, Q=4, shape=500, padding_mode="periodic"),
     r"signal length \(shape\[0\]\) must be a multiple of 32 .*480 or 512"),
])
def test_periodic_sizes_that_do_not_subsample_exactly_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_periodic_size_follows_the_output_step():
    """1000 samples are not a multiple of 2**J = 64 but are of the stride 8."""
    S = Scattering1D(J=6, shape=1000, stride=8, padding_mode="periodic")
    assert S(rng.standard_normal(1000)).shape[-1] == 125


@pytest.mark.parametrize("make", [
    lambda mode: Scattering1D(J=3, shape=64, padding_mode=mode),
    lambda mode: Scattering2D(J=2, shape=(16, 16), padding_mode=mode),
    lambda mode: TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=64, padding_mode=mode)])
@pytest.mark.parametrize("mode", ["circular", "wrap", None, ("reflect", "bad"), ["zero"] * 3])
def test_bad_padding_modes_name_the_parameter_and_the_choices(make, mode):
    with pytest.raises((ValueError, TypeError), match=r"padding_mode must be one of \['reflect', "
                                                      r"'symmetric', 'zero', 'periodic'\]"):
        make(mode)


def test_a_pair_of_modes_is_2d_only_and_pre_pad_takes_reflect_only():
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        Scattering1D(J=3, shape=64, padding_mode=("reflect", "periodic"))
    with pytest.raises(ValueError, match="pre_pad=True takes an input padded already"):
        Scattering2D(J=2, shape=(16, 16), pre_pad=True, padding_mode="zero")
    S = Scattering2D(J=2, shape=(16, 16), padding_mode=["reflect", "periodic"])  # YAML: a list
    assert S.core.padding_modes == ("reflect", "periodic")
