"""Physical units of the xarray results (scatflow.xarray.units): frequencies in 1D and JTFS,
wavelengths in 2D, the averaging scale, and T as a duration, on real data's coordinates."""

import logging
import os

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import scatflow  # noqa: F401  registers the accessor
from scatflow.workflow.datasets import load_dataset

RATE = 16000  # Hz, amfm-decompy's sample.wav


@pytest.fixture(scope="module")
def hadcm3():
    """HadCM3 air temperature, 4 years: latitude every 1.25, longitude every 1.875 degrees."""
    return load_dataset("hadcm3_air_temperature").air_temperature.isel(time=slice(0, 4))


@pytest.fixture(scope="module")
def speech():
    """4096 samples of real speech recorded at 16 kHz, on a datetime64 time coordinate."""
    signal = load_dataset("speech").speech.isel(time=slice(0, 4096))
    step = pd.Timedelta(seconds=1 / RATE)
    return signal.assign_coords(time=pd.date_range("2024-05-01", periods=4096, freq=step))


# -- 2D: wavelengths -------------------------------------------------------------------------
def _by_hand(j, direction, dlat=1.25, dlon=1.875):
    """Wavelength of a Morlet of scale j (3/8 / 2^j cycles per sample) pointing along rows,
    columns or the diagonal between them."""
    cycles = 3 / 8 / 2**j
    along_rows, along_cols = {"rows": (1, 0), "cols": (0, 1),
                              "diagonal": (2**-0.5, 2**-0.5)}[direction]
    return 1 / np.hypot(cycles * along_rows / dlat, cycles * along_cols / dlon)


def test_2d_wavelengths_on_a_latitude_longitude_grid(hadcm3):
    out = hadcm3.scat.scattering2d(J=3, L=8)
    assert out.wavelength1.attrs["units"] == out.wavelength2.attrs["units"] == "degrees"
    first = out.isel(coeff=(out.order == 1).values)
    # L=8: theta 3 points along the rows (latitude), 7 along the columns, 1 on the diagonal
    for theta, direction in ((3, "rows"), (7, "cols"), (1, "diagonal"), (5, "diagonal")):
        for j in range(3):
            path = first.isel(coeff=((first.j1 == j) & (first.theta1 == theta)).values)
            np.testing.assert_allclose(path.wavelength1.values, [_by_hand(j, direction)],
                                       rtol=1e-6)
    assert _by_hand(0, "rows") == pytest.approx(1.25 * 8 / 3)  # 3.33 degrees
    # the spacings differ (1.25 against 1.875): the wavelength depends on the orientation
    assert np.unique(first.wavelength1.values[first.j1.values == 0].round(9)).size > 2
    second = out.isel(coeff=(out.order == 2).values)
    expected = [_by_hand(j, "rows") for j in second.j2.values[second.theta2.values == 3]]
    np.testing.assert_allclose(second.wavelength2.values[second.theta2.values == 3], expected,
                               rtol=1e-6)
    assert np.isnan(out.wavelength1.values[0]) and np.isnan(out.wavelength2.values[0])
    assert np.isnan(first.wavelength2.values).all() and np.isfinite(second.wavelength2).all()
    assert out.attrs["scatflow_averaging_scale"] == [8 * 1.25, 8 * 1.875]
    assert out.attrs["scatflow_averaging_scale_units"] == ["degrees", "degrees"]


def test_2d_wavelengths_read_the_filter_banks_centre_frequencies(hadcm3):
    """On an even grid of step 1 the wavelength is 1 / |centre frequency| of each wavelet,
    and the peak of each filter's Fourier transform lies at that frequency."""
    from scatflow.filters.morlet2d import filter_bank_2d, wavelet_frequency

    even = hadcm3.assign_coords(latitude=np.arange(37.0), longitude=np.arange(49.0))
    out = even.scat.scattering2d(J=2, L=4)
    first = out.isel(coeff=(out.order == 1).values)
    expected = [1 / np.hypot(*wavelet_frequency(j, t, 4))
                for j, t in zip(first.j1.values, first.theta1.values)]
    np.testing.assert_allclose(first.wavelength1.values, expected, rtol=1e-12)
    np.testing.assert_allclose(first.wavelength1.values, 8 / 3 * 2.0**first.j1.values)
    M, N = 128, 96
    _, psi = filter_bank_2d(M, N, 3, 8)
    for j in range(3):
        for theta in range(8):
            spectrum = np.abs(psi[j][0][theta])
            peak = np.unravel_index(spectrum.argmax(), spectrum.shape)
            for bin_, frequency, size in zip(peak, wavelet_frequency(j, theta, 8), (M, N)):
                assert abs((bin_ - frequency * size + size / 2) % size - size / 2) <= 1.5


def test_2d_dims_in_different_units_give_no_wavelengths_and_a_note(hadcm3, caplog):
    km = hadcm3.assign_coords(latitude=("latitude", 139.0 * np.arange(37), {"units": "km"}))
    with caplog.at_level(logging.INFO, logger="scatflow.xarray.units"):
        out = km.scat.scattering2d(J=2, L=4)
    assert "wavelength1" not in out.coords and "wavelength2" not in out.coords
    assert "different units ['km', 'degrees']" in caplog.text
    assert out.attrs["scatflow_averaging_scale"] == [4 * 139.0, 4 * 1.875]
    assert out.attrs["scatflow_averaging_scale_units"] == ["km", "degrees"]


def test_irregular_or_missing_coordinates_give_no_scales_and_no_error(hadcm3):
    lat, lon = hadcm3.latitude.values.copy(), hadcm3.longitude.values.copy()
    lat[5] += 0.3
    lon[20] = np.nan
    for field in (hadcm3.assign_coords(latitude=lat), hadcm3.assign_coords(longitude=lon),
                  hadcm3.drop_vars("longitude")):
        out = field.scat.scattering2d(J=2, L=4)
        assert "wavelength1" not in out.coords
        assert "scatflow_averaging_scale" not in out.attrs


# -- 1D and JTFS: frequencies ------------------------------------------------------------------
def test_1d_frequencies_on_a_simple_regular_coordinate():
    signal = load_dataset("ecg").ecg
    days = signal.assign_coords(time=("time", 0.5 * np.arange(1024), {"units": "days"}))
    out = days.scat.scattering1d(J=5, Q=4, T=16)
    np.testing.assert_array_equal(out.frequency1.values, out.xi1.values / 0.5)
    np.testing.assert_array_equal(out.frequency2.values, out.xi2.values / 0.5)
    assert out.frequency1.attrs["units"] == "1/days"
    assert np.isnan(out.frequency1.values[0]) and np.isnan(out.frequency2.values[0])
    assert np.isnan(out.frequency2.values[out.order.values == 1]).all()
    xi_max = max(1 / (1 + 2 ** (3 / 4)), 0.35)  # Kymatio's first centre frequency, Q=4
    assert out.frequency1.values[1] == pytest.approx(xi_max / 0.5, rel=1e-12)
    assert out.attrs["scatflow_averaging_scale"] == [8.0]
    assert out.attrs["scatflow_averaging_scale_units"] == ["days"]
    plain = signal.assign_coords(time=10 + 2 * np.arange(1024)).scat.scattering1d(J=5, Q=4)
    np.testing.assert_array_equal(plain.frequency1.values, plain.xi1.values / 2)
    assert "units" not in plain.frequency1.attrs
    assert plain.attrs["scatflow_averaging_scale_units"] == [""]


def test_1d_frequencies_in_hz_and_a_duration_T_on_real_speech(speech):
    out = speech.scat.scattering1d(J=6, Q=8, T="16ms")
    assert out.attrs["scatflow_T"] == 256
    assert out.frequency1.attrs["units"] == out.frequency2.attrs["units"] == "Hz"
    np.testing.assert_allclose(out.frequency1.values, out.xi1.values * RATE, rtol=1e-12)
    np.testing.assert_allclose(out.frequency2.values, out.xi2.values * RATE, rtol=1e-12)
    assert out.attrs["scatflow_averaging_scale"] == [pytest.approx(0.016)]
    assert out.attrs["scatflow_averaging_scale_units"] == ["s"]
    in_samples = speech.scat.scattering1d(J=6, Q=8, T=256)
    np.testing.assert_array_equal(out.values, in_samples.values)
    for duration in (pd.Timedelta("16ms"), np.timedelta64(16, "ms"),
                     np.timedelta64(16000, "us")):
        assert speech.scat.scattering1d(J=6, Q=8, T=duration).attrs["scatflow_T"] == 256
    # the same samples on a timedelta64 coordinate and on the dataset's own seconds
    elapsed = speech.assign_coords(time=speech.time.values - speech.time.values[0])
    seconds = load_dataset("speech").speech.isel(time=slice(0, 4096))
    assert seconds.time.attrs["units"] == "s"
    for other in (elapsed, seconds):
        again = other.scat.scattering1d(J=6, Q=8, T="16ms")
        assert again.attrs["scatflow_T"] == 256 and again.frequency1.attrs["units"] == "Hz"
        np.testing.assert_allclose(again.frequency1.values, out.frequency1.values, rtol=1e-9)


def test_hours_since_a_date_on_the_raw_hadcm3_file():
    """The file's own time coordinate, undecoded: 'hours since 1970-01-01', one year of a
    360-day calendar (8640 hours) apart."""
    import iris_sample_data

    path = os.path.join(iris_sample_data.path, "A1B_north_america.nc")
    with xr.open_dataset(path, engine="h5netcdf", decode_times=False) as raw:
        series = raw.air_temperature.isel(latitude=10, longitude=20).load()
    assert series.time.attrs["units"].startswith("hours since 1970-01-01")
    out = series.scat.scattering1d(J=3, Q=2, dims="time")
    np.testing.assert_allclose(out.frequency1.values, out.xi1.values / 8640, rtol=1e-12)
    assert out.frequency1.attrs["units"] == "1/hours"
    assert out.attrs["scatflow_averaging_scale"] == [8 * 8640.0]


def test_time_frequency_frequencies_in_time_and_joint_formats(speech):
    time = speech.scat.time_frequency_scattering(J=6, J_fr=3, Q=(4, 1), T="8ms")
    assert time.attrs["scatflow_T"] == 128 and time.frequency1.dims == ("coeff",)
    np.testing.assert_allclose(time.frequency1.values, time.xi1.values * RATE, rtol=1e-12)
    np.testing.assert_allclose(time.frequency2.values, time.xi2.values * RATE, rtol=1e-12)
    assert time.attrs["scatflow_averaging_scale"] == [pytest.approx(0.008)]
    joint = speech.scat.time_frequency_scattering(J=6, J_fr=3, Q=(4, 1), format="joint")
    assert joint.frequency1.dims == ("frequency",) and joint.frequency2.dims == ("coeff",)
    np.testing.assert_allclose(joint.frequency1.values, joint.xi1.values * RATE, rtol=1e-12)
    assert joint.frequency1.attrs["units"] == "Hz"


def test_a_global_average_keeps_frequencies_but_has_no_averaging_scale(speech):
    out = speech.scat.scattering1d(J=6, Q=8, T="global")
    assert out.frequency1.attrs["units"] == "Hz"
    assert "scatflow_averaging_scale" not in out.attrs


# -- T as a duration: errors -------------------------------------------------------------------
def test_a_duration_T_on_the_irregular_monthly_soi_is_refused():
    soi = load_dataset("soi_darwin").SOI_Darwin.fillna(0)
    plain = soi.scat.scattering1d(J=5, Q=2)  # calendar months: no scales, no error
    assert "frequency1" not in plain.coords and "scatflow_averaging_scale" not in plain.attrs
    with pytest.raises(ValueError, match=r"T='730D' is a duration, which needs the coordinate "
                                         r"of dim 'time' to be regularly spaced; its steps vary "
                                         r"\(from 28 days 00:00:00 to 31 days 00:00:00\)"):
        soi.scat.scattering1d(J=5, Q=2, T="730D")


@pytest.mark.parametrize("T, match", [
    ("16.01ms", r"T='16.01ms' is not a whole number of samples of dim 'time', whose step is "
                r"0 days 00:00:00.000062500: it is 256.16 samples"),
    ("31.25us", r"is not a whole number of samples .* it is 0.5 samples"),
    ("2s", r"T must be .* got 32000"),  # a whole number of samples, too many for 4096
    ("fortnight", r"T must be None, an int, 'global' or a duration such as '6h'"),
    (np.timedelta64("NaT"), r"T must be a finite duration"),
])
def test_bad_duration_T(speech, T, match):
    with pytest.raises(ValueError, match=match):
        speech.scat.scattering1d(J=6, Q=8, T=T)


def test_a_duration_T_needs_a_time_coordinate(speech):
    with pytest.raises(ValueError, match=r"needs a datetime64 or timedelta64 coordinate along "
                                         r"dim 'time' \(or a numeric one with units 's'\); it "
                                         r"has no coordinate"):
        speech.drop_vars("time").scat.scattering1d(J=6, Q=8, T="16ms")
    days = speech.assign_coords(time=("time", np.arange(4096.0), {"units": "days"}))
    with pytest.raises(ValueError, match="it has a float64 coordinate"):
        days.scat.scattering1d(J=6, Q=8, T="16ms")
