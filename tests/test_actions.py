from __future__ import annotations

import fnmatch
import subprocess
import sys

import pytest
from conftest import HANG_GUARD_S, REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from iac_ims.iam.actions import (
    ActionMatcher,
    action_matches,
    canonical_index,
    compile_pattern,
    expand,
    is_admin_wildcard,
    is_wildcard,
    primary_service,
    segment_matches,
    service_of,
    split_action,
)

KNOWN = (
    "ims:images:list",
    "ims:images:get",
    "ims:images:update",
    "ims:images:upload",
    "ims:serverImages:create",
    "ims:dataImages:create",
    "ims:quotas:get",
    "ims:imageJobs:getPercentage",
)


class TestSplitAction:
    @pytest.mark.parametrize(
        "text, expected",
        [
            ("ims:images:list", ("ims", "images", "list")),
            ("IMS:Images:List", ("IMS", "Images", "List")),
            ("ims:*:get*", ("ims", "*", "get*")),
            ("*", ("*", "*", "*")),
            ("*:*", ("*", "*", "*")),
            ("*:*:*", ("*", "*", "*")),
            ("ims:*", ("ims", "*", "*")),
            ("obs:bucket:GetBucketAcl", ("obs", "bucket", "GetBucketAcl")),
        ],
    )
    def test_well_formed(self, text, expected):
        assert split_action(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "ims",
            "ims:images",  # two segments are only valid as "service:*"
            "ims::list",
            ":images:list",
            "ims:images:",
            "ims:images:list:extra",
            " ims:images:list",
            "ims:images:list ",
            "ims: images:list",
            "ims:images:li\nst",
            "ims:images:list\t",
            "x" * 600 + ":a:b",
            123,
            None,
            ["ims:images:list"],
        ],
    )
    def test_malformed(self, text):
        assert split_action(text) is None

    def test_service_of(self):
        assert service_of("IMS:images:list") == "ims"
        assert service_of("*") == "*"
        assert service_of("bad") is None

    def test_is_wildcard(self):
        assert is_wildcard("ims:*:get*")
        assert not is_wildcard("ims:images:get")


class TestActionMatches:
    @pytest.mark.parametrize(
        "pattern, action, expected",
        [
            # exact and case
            ("ims:images:list", "ims:images:list", True),
            ("ims:images:list", "ims:images:get", False),
            ("ims:Images:LIST", "ims:images:list", True),
            ("IMS:images:list", "ims:images:list", True),  # service case: matched, IMS102 warns
            ("ims:serverimages:create", "ims:serverImages:create", True),
            ("ims:images:list", "IMS:IMAGES:LIST", True),
            # everything
            ("*", "ims:images:list", True),
            ("*:*", "obs:bucket:GetBucketAcl", True),
            ("*:*:*", "ims:serverImages:create", True),
            ("**", "ims:images:list", True),
            # whole service
            ("ims:*", "ims:images:list", True),
            ("ims:*:*", "ims:dataImages:create", True),
            ("ims:*", "obs:bucket:ListBucket", False),
            ("ims:*:*", "imss:images:list", False),
            # wildcards in segments
            ("ims:images:*", "ims:images:upload", True),
            ("ims:images:*", "ims:serverImages:create", False),
            ("ims:*:get*", "ims:images:get", True),
            ("ims:*:get*", "ims:imageJobs:getPercentage", True),
            ("ims:*:get*", "ims:images:list", False),
            ("ims:*:GET*", "ims:quotas:get", True),
            ("ims:*Images:create", "ims:serverImages:create", True),
            ("ims:s*Images:create", "ims:images:create", False),
            ("ims:*images:create", "ims:images:create", True),
            ("ims:images:l*t", "ims:images:list", True),
            ("ims:images:l*t", "ims:images:lt", True),
            ("ims:images:l*t", "ims:images:lst", True),
            ("ims:images:l*t", "ims:images:lists", False),
            ("ims:images:*p*d*", "ims:images:upload", True),
            ("ims:images:*p*d*", "ims:images:update", True),
            ("ims:images:*p*d*", "ims:images:list", False),
            ("*:images:list", "ims:images:list", True),
            ("i*:images:list", "ims:images:list", True),
            ("*:*:list", "obs:bucket:list", True),
            # segments never bleed into each other
            ("ims:*", "ims:images:list", True),
            ("ims:images*", "ims:images:list", False),  # two segments, not "svc:*": malformed
            ("ims:*:list", "ims:images:sub:list", False),
            # malformed on either side
            ("ims:images", "ims:images:list", False),
            ("ims:images:list", "ims:images", False),
            ("", "ims:images:list", False),
            ("ims:images:list", "", False),
            ("ims:images:get", "ims:images:getx", False),
            ("ims:images:getx", "ims:images:get", False),
        ],
    )
    def test_table(self, pattern, action, expected):
        assert action_matches(pattern, action) is expected

    def test_non_strings(self):
        assert action_matches(None, "ims:images:list") is False  # type: ignore[arg-type]
        assert action_matches("*", 5) is False  # type: ignore[arg-type]

    def test_no_catastrophic_backtracking(self):
        # A backtracking matcher (a regular expression, a recursive glob) would try on the order of
        # C(400, 100) placements of the stars here: it never answers, whatever the machine. The
        # linear matcher answers at once. A regex engine's work cannot be counted from Python and
        # holds the interpreter while it runs, so the match runs in a subprocess whose timeout
        # only reports that hang; nothing here times the match.
        pattern = "ims:" + "*a" * 100 + "*b:x"
        action = "ims:" + "a" * 400 + ":x"
        code = f"from iac_ims.iam.actions import action_matches; print(action_matches({pattern!r}, {action!r}))"
        try:
            result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                                    timeout=HANG_GUARD_S, stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired:
            pytest.fail(f"action_matches('ims:*a*a...*b:x' with 100 stars, 'ims:aaa...:x' with 400 a) gave no "
                        f"answer within {HANG_GUARD_S:g} s: a hang (backtracking)")
        assert (result.returncode, result.stdout.strip()) == (0, "False"), result.stderr

    def test_overlong_pattern_matches_nothing(self):
        assert compile_pattern("ims:" + "*" * 1000 + ":x") is None

    def test_segment_matches(self):
        assert segment_matches("get*", "getPercentage")
        assert segment_matches("*", "")
        assert not segment_matches("get", "GETS")

    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(st.text(alphabet="ab*", min_size=1, max_size=6), min_size=3, max_size=3),
        st.lists(st.text(alphabet="abAB", min_size=1, max_size=6), min_size=3, max_size=3),
    )
    def test_agrees_with_fnmatch_per_segment(self, pattern_parts, action_parts):
        pattern = ":".join(pattern_parts)
        action = ":".join(action_parts)
        expected = all(
            fnmatch.fnmatchcase(a.lower(), p.lower()) for p, a in zip(pattern_parts, action_parts)
        )
        assert action_matches(pattern, action) is expected


class TestExpand:
    def test_wildcard(self):
        assert expand("ims:*:get*", KNOWN) == ["ims:images:get", "ims:quotas:get", "ims:imageJobs:getPercentage"]

    def test_all(self):
        assert expand("*", KNOWN) == list(KNOWN)
        assert expand("ims:*", KNOWN) == list(KNOWN)

    def test_exact_returns_catalogue_spelling(self):
        assert expand("IMS:SERVERIMAGES:CREATE", KNOWN) == ["ims:serverImages:create"]

    def test_none(self):
        assert expand("ims:imagez:*", KNOWN) == []
        assert expand("obs:*:*", KNOWN) == []

    def test_deduplicates_and_keeps_order(self):
        assert expand("ims:images:l*", ["ims:images:list", "ims:images:list", "ims:images:lock"]) == [
            "ims:images:list",
            "ims:images:lock",
        ]


class TestAdminWildcard:
    @pytest.mark.parametrize(
        "pattern, service, expected",
        [
            ("*", "ims", True),
            ("*:*", "ims", True),
            ("*:*:*", "ims", True),
            ("ims:*:*", "ims", True),
            ("ims:*", "ims", True),
            ("IMS:*:*", "ims", True),
            ("ims:*:*", "IMS", True),
            ("ims:images:*", "ims", False),
            ("ims:*:list", "ims", False),
            ("obs:*:*", "ims", False),
            ("obs:*:*", "obs", True),
            ("ims:*:*", "", False),
            ("*:*:*", "", True),
            ("ims:images:list", "ims", False),
            ("bad", "ims", False),
        ],
    )
    def test_table(self, pattern, service, expected):
        assert is_admin_wildcard(pattern, service) is expected


class TestHelpers:
    def test_primary_service(self):
        assert primary_service(KNOWN) == "ims"
        assert primary_service(["obs:a:b", "ims:a:b", "ims:c:d"]) == "ims"
        assert primary_service([]) is None
        assert primary_service(["bad"]) is None

    def test_canonical_index(self):
        index = canonical_index(KNOWN)
        assert index["ims:serverimages:create"] == "ims:serverImages:create"

    def test_matcher(self):
        matcher = ActionMatcher(["ims:images:list", "ims:*:get*", "bad", 5])  # type: ignore[list-item]
        assert matcher
        assert matcher.matches("IMS:images:LIST")
        assert matcher.matches("ims:quotas:get")
        assert not matcher.matches("ims:images:update")
        assert not matcher.matches("malformed")
        assert ActionMatcher(["*:*"]).matches("anything:at:all")
        assert not ActionMatcher([])

    def test_matcher_agrees_with_action_matches(self):
        patterns = ["ims:images:*", "ims:*Images:create", "obs:*:*"]
        matcher = ActionMatcher(patterns)
        for action in KNOWN + ("obs:bucket:ListBucket", "ecs:servers:list"):
            assert matcher.matches(action) == any(action_matches(p, action) for p in patterns)
