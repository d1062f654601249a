"""Whether a policy allows an action: `decide` answers, for one action and the statements of all
roles a principal holds, allowed / denied / unknown, with the statements that decided and the
unresolved values the answer depends on (Deny wins; a Condition, a Resource or an unknown part
makes the answer unknown rather than a guess).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from iac_ims.iam.policy_model import ALLOW, DENY, Statement
from iac_ims.terraform.values import Unknown

ALLOWED = "allowed"
DENIED = "denied"
UNKNOWN = "unknown"


@dataclass
class Decision:
    state: str  # "allowed" | "denied" | "unknown"
    allow: list[Statement] = field(default_factory=list)  # matching Allow statements
    deny: list[Statement] = field(default_factory=list)  # matching (or possibly matching) Deny statements
    reason: str = ""
    unknowns: list[Unknown] = field(default_factory=list)  # unresolved values the answer depends on

    @property
    def allowed(self) -> bool:
        return self.state == ALLOWED

    @property
    def denied(self) -> bool:
        return self.state == DENIED

    @property
    def explicitly_denied(self) -> bool:
        """Denied by an unconditional Deny (as opposed to: no Allow)."""
        return self.state == DENIED and any(st.effect == DENY and not st.restricted for st in self.deny)


def _restriction(statement: Statement) -> str:
    if statement.has_condition and statement.has_resource:
        return "under a Condition and for specific resources only"
    if statement.has_condition:
        return "under a Condition only"
    return "for specific resources only (Resource)"


def decide(action: str, statements: Iterable[Statement]) -> Decision:
    """Is `action` allowed by these statements (those of every role the principal holds)?

    - an unconditional matching Deny: denied (Deny wins);
    - else an unconditional matching Allow: allowed, unless a conditional Deny (or a Deny that may
      match through an unresolved action, or a statement of unknown Effect) could match: unknown;
    - else a conditional matching Allow (Condition or Resource): unknown;
    - else an Allow with an unresolved action entry (or a statement of unknown Effect) that could
      match: unknown;
    - else denied (no Allow).
    """
    hard_deny: list[Statement] = []
    soft_deny: list[Statement] = []  # conditional, or may match through an unknown
    hard_allow: list[Statement] = []
    cond_allow: list[Statement] = []
    maybe_allow: list[Statement] = []
    unknowns: list[Unknown] = []

    def note(statement: Statement, definite: bool) -> None:
        if not definite:
            unknowns.extend(u for _, u in statement.unknown_actions if u not in unknowns)
        if isinstance(statement.condition, Unknown) and statement.condition not in unknowns:
            unknowns.append(statement.condition)
        if isinstance(statement.effect, Unknown) and statement.effect not in unknowns:
            unknowns.append(statement.effect)

    for statement in statements:
        definite = statement.matches(action)
        possible = definite or bool(statement.unknown_actions)
        if not possible:
            continue
        effect = statement.effect
        if effect == DENY:
            if definite and not statement.restricted:
                hard_deny.append(statement)
            else:
                soft_deny.append(statement)
                note(statement, definite)
        elif effect == ALLOW:
            if definite and not statement.restricted:
                hard_allow.append(statement)
            elif definite:
                cond_allow.append(statement)
                note(statement, definite)
            else:
                maybe_allow.append(statement)
                note(statement, definite)
        elif isinstance(effect, Unknown):
            soft_deny.append(statement)
            maybe_allow.append(statement)
            note(statement, definite)
        # a statement without a valid Effect neither allows nor denies

    allow = hard_allow + cond_allow + [s for s in maybe_allow if s not in cond_allow and s not in hard_allow]

    def entry_text(statement: Statement) -> str:
        entry = statement.matching_entry(action)
        return f' ("{entry.text}")' if entry else ""

    if hard_deny:
        first = hard_deny[0]
        return Decision(
            DENIED,
            allow,
            hard_deny + soft_deny,
            f'"{action}" is denied by the Deny in {first.describe()}{entry_text(first)}',
            unknowns,
        )
    if hard_allow:
        first = hard_allow[0]
        granted = f'"{action}" is allowed by {first.describe()}{entry_text(first)}'
        if soft_deny:
            other = soft_deny[0]
            if isinstance(other.effect, Unknown):
                why = f"{other.describe()}, whose Effect cannot be resolved ({other.effect.reason}), may deny it"
            elif other.matches(action):
                why = f"the Deny in {other.describe()}{entry_text(other)} applies {_restriction(other)}"
            else:
                why = f"the Deny in {other.describe()} has an action that cannot be resolved and may deny it"
            return Decision(UNKNOWN, allow, soft_deny, f"{granted}, but {why}", unknowns)
        return Decision(ALLOWED, allow, [], granted, unknowns)
    if cond_allow:
        first = cond_allow[0]
        return Decision(
            UNKNOWN,
            allow,
            soft_deny,
            f'"{action}" is allowed by {first.describe()}{entry_text(first)} {_restriction(first)}: '
            f"it cannot be confirmed statically",
            unknowns,
        )
    if maybe_allow:
        first = maybe_allow[0]
        if isinstance(first.effect, Unknown):
            why = f"its Effect cannot be resolved ({first.effect.reason})"
        else:
            reasons = "; ".join(dict.fromkeys(u.reason for _, u in first.unknown_actions))
            why = f"it has an action that cannot be resolved statically ({reasons})"
        return Decision(
            UNKNOWN,
            allow,
            soft_deny,
            f'{first.describe()} may allow "{action}": {why}',
            unknowns,
        )
    return Decision(DENIED, [], soft_deny, f'no Allow statement grants "{action}"', unknowns)
