"""The model of a Huawei Cloud IAM (v3) policy document: its statements, their action entries, and
the problems found reading it. policy_parse builds it; policy_decide and policy_queries read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iac_ims.iam.actions import ActionMatcher, action_matches
from iac_ims.terraform.values import Unknown

EFFECTS = ("Allow", "Deny")
ALLOW, DENY = EFFECTS


@dataclass(frozen=True, slots=True)
class ActionEntry:
    """One entry of a statement's `Action`, as written, and where it is (`Statement[0].Action[2]`)."""

    text: str
    json_path: str


@dataclass(slots=True)
class PolicyProblem:
    """A problem with a policy document: the rule, a sentence a person can act on, where it is
    (a JSON path such as `Statement[1].Action[0]`; "" for the document itself), and a fix."""

    rule_id: str
    message: str
    json_path: str
    fix: str | None = None
    operation: str | None = None  # IMS107: the operation concerned
    actions: tuple[str, ...] = ()  # the actions concerned (IMS101: the unknown one; IMS107: missing)


@dataclass(slots=True)
class Statement:
    index: int
    effect: Any  # "Allow" | "Deny" | Unknown | None (missing or invalid: neither allows nor denies)
    actions: list[ActionEntry] = field(default_factory=list)
    has_condition: bool = False
    condition: Any = None
    has_resource: bool = False
    resource: Any = None
    json_path: str = ""
    unknown_actions: list[tuple[str, Unknown]] = field(default_factory=list)
    source: str | None = None  # who this statement belongs to (a role address), for messages
    _matcher: ActionMatcher | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def restricted(self) -> bool:
        """Applies only under a Condition or to specific resources: cannot be confirmed statically."""
        return self.has_condition or self.has_resource

    @property
    def matcher(self) -> ActionMatcher:
        if self._matcher is None:
            self._matcher = ActionMatcher(entry.text for entry in self.actions)
        return self._matcher

    def matches(self, action: str) -> bool:
        """A known entry of this statement covers `action` (wildcards included)."""
        return self.matcher.matches(action)

    def matching_entry(self, action: str) -> ActionEntry | None:
        for entry in self.actions:
            if action_matches(entry.text, action):
                return entry
        return None

    def describe(self) -> str:
        where = self.json_path or f"Statement[{self.index}]"
        return f"{where} of {self.source}" if self.source else where


@dataclass(slots=True)
class PolicyDocument:
    version: Any
    statements: list[Statement] = field(default_factory=list)
    problems: list[PolicyProblem] = field(default_factory=list)
    unknown: Unknown | None = None  # the whole policy (or its statement list) cannot be read
    double_encoded: bool = False

    @property
    def entries(self) -> list[tuple[Statement, ActionEntry]]:
        return [(st, entry) for st in self.statements for entry in st.actions]

