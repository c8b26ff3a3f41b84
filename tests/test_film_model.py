"""The per-film model: scouts span the film's difficulty, predictions stay in range, are the same for the
same inputs whatever their order, and a film of one curve is predicted as that curve."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from drapto.core.filmmodel import Features, Point, choose_scouts, chunk_features, measured_point, predict
from drapto.core.search import SearchSettings, Trial, snap

SETTINGS = SearchSettings(target=93.0)
features = st.builds(
    Features,
    bits_per_pixel=st.floats(min_value=0.001, max_value=20.0, allow_nan=False),
    change=st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
)
points = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=10_000),
        st.builds(
            Point,
            features=features,
            crf=st.floats(min_value=10.0, max_value=55.0, allow_nan=False),
            slope=st.floats(min_value=0.15, max_value=4.0, allow_nan=False),
        ),
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda item: item[0],
)


@given(features, points)
def test_predictions_stay_in_the_crf_range_and_the_band(chunk, known):
    prediction = predict(chunk, known, SETTINGS)
    assert prediction is not None
    assert SETTINGS.crf_min <= prediction.crf <= SETTINGS.crf_max
    assert 0.0 <= prediction.vmaf <= 100.0
    assert set(prediction.scouts) <= {index for index, _ in known}


@given(features, points, st.randoms(use_true_random=False))
def test_the_same_inputs_give_the_same_prediction_in_any_order(chunk, known, random):
    shuffled = list(known)
    random.shuffle(shuffled)
    assert predict(chunk, known, SETTINGS) == predict(chunk, shuffled, SETTINGS)


@given(
    features,
    st.lists(features, min_size=1, max_size=10),
    st.floats(min_value=12, max_value=50),
    st.floats(min_value=0.2, max_value=3),
)
def test_a_film_of_one_curve_is_predicted_as_that_curve(chunk, scouts, crf, slope):
    known = [(i, Point(features=f, crf=crf, slope=slope)) for i, f in enumerate(scouts)]
    prediction = predict(chunk, known, SETTINGS)
    assert prediction is not None
    assert prediction.crf == snap(crf, SETTINGS) and math.isclose(prediction.slope, slope)


@given(st.lists(features, min_size=1, max_size=200))
def test_scouts_span_the_difficulty_and_number_a_fifth(chunks):
    scouts = choose_scouts(chunks)
    assert list(scouts) == sorted(set(scouts)) and all(0 <= i < len(chunks) for i in scouts)
    assert len(scouts) == min(len(chunks), max(3, math.ceil(len(chunks) * 0.2))) or len(scouts) == len(chunks)
    rates = [f.bits_per_pixel for f in chunks]
    assert min(rates) in {rates[i] for i in scouts} and max(rates) in {rates[i] for i in scouts}


def test_without_packet_sizes_every_chunk_scouts():
    assert choose_scouts([None, None, None, None]) == (0, 1, 2, 3)
    assert chunk_features((), (0.0,) * 10, 0, 10, 100) is None


def test_features_are_bits_per_pixel_and_mean_change():
    found = chunk_features([1000, 200, 200, 200], [50.0, 2.0, 2.0, 2.0], 0, 4, 100)
    assert found == Features(bits_per_pixel=1600 * 8 / 400, change=14.0)


def test_a_scout_on_a_straight_curve_gives_its_crf_at_the_aim_and_its_slope():
    curve = [Trial(crf=c, vmaf=100 - 0.5 * (c - 10)) for c in (20.0, 30.0)]
    point = measured_point(Features(bits_per_pixel=0.1, change=1.0), curve, [], SETTINGS)
    assert point is not None and math.isclose(point.slope, 0.5)
    assert math.isclose(point.crf, 10 + (100 - SETTINGS.aim) / 0.5)


def test_near_agreeing_scouts_make_it_sure_far_ones_do_not():
    near = [(0, Point(features=Features(bits_per_pixel=0.10, change=1), crf=30, slope=0.5)),
            (1, Point(features=Features(bits_per_pixel=0.11, change=1), crf=31, slope=0.5))]  # fmt: skip
    assert predict(Features(bits_per_pixel=0.105, change=1), near, SETTINGS).sure
    assert not predict(Features(bits_per_pixel=0.5, change=1), near, SETTINGS).sure
