from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iac_ims.suggest import closest, edit_distance

ACTIONS = [
    "ims:images:list",
    "ims:images:get",
    "ims:images:update",
    "ims:serverImages:create",
    "ims:dataImages:create",
]


class TestClosest:
    def test_typo_in_operation(self):
        assert closest("ims:images:lsit", ACTIONS)[0] == "ims:images:list"

    def test_typo_in_resource_type(self):
        assert closest("ims:image:list", ACTIONS)[0] == "ims:images:list"

    def test_case_insensitive_and_returns_candidate_spelling(self):
        assert closest("IMS:SERVERIMAGE:CREATE", ACTIONS)[0] == "ims:serverImages:create"

    def test_exact_match_included_first(self):
        assert closest("ims:images:get", ACTIONS)[0] == "ims:images:get"

    def test_n_limits_the_answer(self):
        assert len(closest("ims:images:x", ACTIONS, n=2)) <= 2
        assert closest("ims:images:list", ACTIONS, n=0) == []

    def test_cutoff_drops_unrelated(self):
        assert closest("completely-different", ACTIONS) == []
        assert closest("ims:images:lsit", ACTIONS, cutoff=0.99) == []

    def test_empty_candidates(self):
        assert closest("x", []) == []

    def test_deterministic_tie_break(self):
        # both candidates are one substitution away: equal scores, alphabetical order
        assert closest("abcd", ["abcx", "abcy"]) == ["abcx", "abcy"]
        assert closest("abcd", ["abcy", "abcx"]) == ["abcx", "abcy"]

    def test_duplicate_candidates_once(self):
        assert closest("list_images", ["list_images", "list_images", "list_image"]) == ["list_images", "list_image"]

    def test_accepts_generators(self):
        assert closest("export_imag", (x for x in ["export_image", "import_image"]))[0] == "export_image"


class TestEditDistance:
    @pytest.mark.parametrize(
        "a, b, expected",
        [
            ("", "", 0),
            ("abc", "", 3),
            ("", "abc", 3),
            ("abc", "abc", 0),
            ("kitten", "sitting", 3),
            ("Tenant Adminstrator", "Tenant Administrator", 1),
            ("IMS FullAcess", "IMS FullAccess", 1),
            ("flaw", "lawn", 2),
            ("ab", "ba", 2),
            ("Abc", "abc", 1),  # case-sensitive
        ],
    )
    def test_values(self, a, b, expected):
        assert edit_distance(a, b) == expected
        assert edit_distance(b, a) == expected

    def test_bounded_returns_max_plus_one_when_exceeded(self):
        assert edit_distance("kitten", "sitting", max_distance=1) == 2
        assert edit_distance("a" * 50, "b" * 500, max_distance=3) == 4
        assert edit_distance("kitten", "sitting", max_distance=3) == 3
        assert edit_distance("same", "same", max_distance=0) == 0
        assert edit_distance("same", "sane", max_distance=0) == 1

    def test_bounded_is_fast_on_long_strings(self):
        long_a = "x" * 3000
        long_b = "y" * 3000
        assert edit_distance(long_a, long_b, max_distance=2) == 3

    @settings(max_examples=200, deadline=None)
    @given(st.text(alphabet="abc ", max_size=8), st.text(alphabet="abc ", max_size=8), st.integers(0, 5))
    def test_bounded_agrees_with_unbounded(self, a, b, bound):
        full = edit_distance(a, b)
        assert edit_distance(a, b, max_distance=bound) == (full if full <= bound else bound + 1)

    @settings(max_examples=200, deadline=None)
    @given(st.text(alphabet="ab", max_size=6), st.text(alphabet="ab", max_size=6), st.text(alphabet="ab", max_size=6))
    def test_triangle_inequality(self, a, b, c):
        assert edit_distance(a, c) <= edit_distance(a, b) + edit_distance(b, c)
