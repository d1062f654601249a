"""The rules about a policy document itself (IMS100-IMS102, IMS104-IMS107), for one document at a
time: what `iam.policy_parse` parsed, judged against the catalogue. (IMS103 depends on where the role is
assigned: checks/policy.py.) No IMS action names live here: they come from the catalogue."""

from __future__ import annotations

from typing import Any, Iterable

from iac_ims.catalog import Catalog
from iac_ims.iam.actions import is_admin_wildcard, is_wildcard, split_action, segment_matches
from iac_ims.iam.policy_decide import ALLOWED, DENIED, Decision, decide
from iac_ims.iam.policy_model import ALLOW, ActionEntry, PolicyDocument, PolicyProblem, Statement
from iac_ims.iam.policy_queries import ims_actions_named, ims_service
from iac_ims.iam.model import is_global_role_type
from iac_ims.suggest import closest, edit_distance

DOCUMENT_RULES = ("IMS100", "IMS101", "IMS102", "IMS104", "IMS105", "IMS106", "IMS107")


def _quote(items: Iterable[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)


def _where(path: str) -> str:
    return f"at {path}" if path else "at the top level of the policy"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _wildcard_suggestions(parts: tuple[str, str, str], known_actions: Iterable[str], pattern: str) -> list[str]:
    """Patterns close to `pattern` that do match catalogue actions: each segment that matches a
    known action's segment is kept as written, the others are replaced by the known ones."""
    candidates: list[str] = []
    for action in known_actions:
        known = split_action(action)
        if known is None:
            continue
        candidate = ":".join(
            written if segment_matches(written, real) else real for written, real in zip(parts, known)
        )
        if candidate not in candidates:
            candidates.append(candidate)
    return closest(pattern, candidates)


def _action_suggestions(parts: tuple[str, str, str], known_actions: Iterable[str], text: str) -> list[str]:
    """Known actions close to the unknown action `text`. Where one segment is right, only the
    other is compared (`ims:images:lsit` -> operations of `images`; `ims:image:list` -> resource
    types having `list`), which keeps the suggestions few and relevant."""
    known = [(a, p) for a in known_actions if (p := split_action(a)) is not None]
    service, resource, operation = (x.lower() for x in parts)
    same_service = [(a, p) for a, p in known if p[0].lower() == service]
    by_resource = [(a, p) for a, p in same_service if p[1].lower() == resource]
    if by_resource:
        ops = closest(operation, [p[2] for _, p in by_resource])
        return list(dict.fromkeys(a for op in ops for a, p in by_resource if p[2] == op))
    by_operation = [(a, p) for a, p in same_service if p[2].lower() == operation]
    if by_operation:
        resources = closest(resource, [p[1] for _, p in by_operation])
        return list(dict.fromkeys(a for r in resources for a, p in by_operation if p[1] == r))
    return closest(text, [a for a, _ in known])


class PolicyChecker:
    """The rules about a policy document itself, for one document: `problems(rules)` runs only
    the rules asked for (IMS100 is what parsing found)."""

    def __init__(self, doc: PolicyDocument, catalog: Catalog, role_type: Any, custom: bool):
        self.doc = doc
        self.catalog = catalog
        self.role_type = role_type
        self.custom = custom
        self.known = tuple(catalog.actions)
        self.service = ims_service(catalog)
        self.problems_found: list[PolicyProblem] = []

    def add(self, rule_id: str, message: str, path: str, fix: str | None, **extra: Any) -> None:
        self.problems_found.append(PolicyProblem(rule_id, message, path, fix, **extra))

    def is_ims(self, parts: tuple[str, str, str]) -> bool:
        return self.service is not None and parts[0].lower() == self.service

    def problems(self, rules: Iterable[str] = DOCUMENT_RULES) -> list[PolicyProblem]:
        wanted = set(rules)
        self.problems_found = [p for p in self.doc.problems if "IMS100" in wanted]
        if self.doc.unknown is not None:
            return self.problems_found
        for statement in self.doc.statements:
            miscased: list[ActionEntry] = []
            for entry in statement.actions:
                parts = split_action(entry.text)
                if parts is None:
                    continue  # IMS100 already
                if "IMS101" in wanted:
                    self.check_unknown_action(entry, parts)
                if self.is_ims(parts) and parts[0] != parts[0].lower():
                    miscased.append(entry)
                if self.custom and statement.effect == ALLOW and "IMS106" in wanted:
                    self.check_admin_wildcard(entry)
            if "IMS102" in wanted:
                self.check_service_case(statement, miscased)
            if "IMS105" in wanted:
                self.check_resource(statement)
        if "IMS104" in wanted:
            self.check_role_type()
        if self.custom and "IMS107" in wanted:
            self.check_partial_operations()
        return self.problems_found

    # IMS101
    def check_unknown_action(self, entry: ActionEntry, parts: tuple[str, str, str]) -> None:
        if self.service is None:
            return
        text, path = entry.text, entry.json_path
        if self.is_ims(parts):
            if is_wildcard(text):
                if self.catalog.actions_matching(text):
                    return
                suggestions = _wildcard_suggestions(parts, self.known, text)
                message = f'"{text}" {_where(path)} matches no known IMS action, so it grants nothing'
            else:
                if self.catalog.is_ims_action(text):
                    return
                suggestions = _action_suggestions(parts, self.known, text)
                message = f'"{text}" {_where(path)} is not a known IMS action, so it grants nothing'
            if suggestions:
                alternatives = " or ".join(f'"{s}"' for s in suggestions)
                message += f"; did you mean {alternatives}?"
                fix = f'replace "{text}" with "{suggestions[0]}"'
            else:
                fix = f'replace "{text}" with an action from `iac-ims catalog`'
            self.add("IMS101", message, path, fix, actions=(text,))
            return
        # a misspelt service: not a service the catalogue knows, one edit away from IMS's, and the
        # rest of the action names a real IMS action
        service = parts[0].lower()
        if "*" in service or self.catalog.service_level(service) is not None:
            return
        if edit_distance(service, self.service, max_distance=1) > 1:
            return
        corrected = f"{self.service}:{parts[1]}:{parts[2]}"
        if not self.catalog.actions_matching(corrected):
            return
        canonical = self.catalog.canonical_action(corrected) or corrected
        self.add(
            "IMS101",
            f'"{text}" {_where(path)} names the service "{parts[0]}", which does not exist; '
            f'did you mean "{canonical}"?',
            path,
            f'replace "{text}" with "{canonical}"',
            actions=(text,),
        )

    # IMS102
    def check_service_case(self, statement: Statement, miscased: list[ActionEntry]) -> None:
        """Once per statement, naming every IMS action whose service is not written lowercase."""
        if not miscased:
            return
        first = miscased[0]
        fixed = [self.service + e.text[len(split_action(e.text)[0]):] for e in miscased]  # type: ignore[index,operator]
        shown = _quote(e.text for e in miscased[:5]) + (f" and {len(miscased) - 5} more" if len(miscased) > 5 else "")
        self.add(
            "IMS102",
            f"{shown} {_where(first.json_path)}: the service of an IMS action is written \"{self.service}\" "
            "(lowercase); IAM may reject or ignore another spelling (it is matched case-insensitively here)",
            first.json_path,
            f"write {_quote(fixed[:5])}",
            actions=tuple(e.text for e in miscased),
        )

    # IMS106
    def check_admin_wildcard(self, entry: ActionEntry) -> None:
        if not is_admin_wildcard(entry.text, self.service or ""):
            return
        service = split_action(entry.text)[0]  # type: ignore[index]
        scope = "every action of every service" if service.strip("*") == "" else f"every {service.upper()} action"
        self.add(
            "IMS106",
            f'"{entry.text}" {_where(entry.json_path)} is an admin wildcard: this Allow grants {scope}, '
            f"far more than a custom role usually needs",
            entry.json_path,
            f'replace "{entry.text}" with the specific actions the role needs',
            actions=(entry.text,),
        )

    # IMS105
    def check_resource(self, statement: Statement) -> None:
        if not statement.has_resource:
            return
        ims = [e.text for e in statement.actions if (p := split_action(e.text)) and self.is_ims(p)]
        if not ims:
            return
        path = _join(statement.json_path, "Resource")
        self.add(
            "IMS105",
            f'{statement.json_path} has "Resource" and IMS actions ({_quote(ims)}); IMS does not support '
            f"resource-level authorization, so these actions may not take effect as written",
            path,
            f'remove "Resource" from {statement.json_path}, or move the IMS actions to a statement without "Resource"',
            actions=tuple(ims),
        )

    # IMS104
    def check_role_type(self) -> None:
        if not is_global_role_type(self.role_type):
            return
        named = ims_actions_named(self.doc, self.catalog)
        if not named:
            return
        first = named[0]
        why = "IMS is a project-level service"
        self.add(
            "IMS104",
            f'the role has type "{self.role_type}" (global services), but its policy names IMS actions '
            f'(e.g. "{first.text}" at {first.json_path}); {why}, so an AX role cannot grant them',
            "",
            'use type "XA" (region-specific projects)',
            actions=tuple(dict.fromkeys(e.text for e in named)),
        )

    # IMS107
    def check_partial_operations(self) -> None:
        if not self.catalog.operations:
            return
        # "reader" actions: the single action of a read-only (GET/HEAD) operation. An operation
        # whose granted part is only such actions is the normal shape of a read-only role, not a
        # half-granted write: not reported.
        readers = self.catalog.read_only_actions
        cache: dict[str, Decision] = {}

        def decision(action: str) -> Decision:
            key = action.lower()
            if key not in cache:
                cache[key] = decide(action, self.doc.statements)
            return cache[key]

        # a variant's extra action is situational (moving between enterprise projects): a role
        # for the base call is not half-granted; intents (IMS300) cover the variant itself
        for op, required in self.catalog.multi_action_operations:
            granted = [a for a in required if decision(a).state == ALLOWED]
            if not granted:
                continue
            missing = [a for a in required if decision(a).state == DENIED]
            if not missing:
                continue
            if all(a.lower() in readers for a in granted):
                continue
            denied = [a for a in missing if decision(a).explicitly_denied]
            path = ""
            for statement in decision(granted[0]).allow:
                entry = statement.matching_entry(granted[0])
                if entry is not None:
                    path = entry.json_path
                    break
            api = f" ({op.method} {op.path})" if op.method and op.path else ""
            message = (
                f"the role grants {_quote(granted)} but not {_quote(missing)}, which operation "
                f'"{op.id}"{api} also needs: that operation fails with this role alone'
            )
            if denied:
                first_deny = decision(denied[0]).deny[0]
                message += f" ({_quote(denied)} denied by {first_deny.describe()})"
                fix = f"remove {_quote(denied)} from the Deny in {first_deny.json_path}"
                not_denied = [a for a in missing if a not in denied]
                if not_denied:
                    fix += f" and add {_quote(not_denied)} to the Allow statement"
            else:
                fix = f"add {_quote(missing)} to the Allow statement"
            self.add("IMS107", message, path, fix, operation=op.id, actions=tuple(missing))


def check_policy(doc: PolicyDocument, catalog: Catalog, *, role_type: str | None, custom: bool = True,
                 rules: Iterable[str] = DOCUMENT_RULES) -> list[PolicyProblem]:
    """Every problem of the policy itself: IMS100 (from parsing), IMS101, IMS102, IMS104-IMS107.

    `role_type`: the role's `type` ("AX"/"XA", any case; None or an Unknown when not known).
    `custom`: False for a system role's policy: IMS106 and IMS107 are about how a custom role is
    written and do not apply. An unreadable document (`doc.unknown`) yields only its parse problems.
    """
    return PolicyChecker(doc, catalog, role_type, custom).problems(rules)
