"""Huawei Cloud IAM (v3) policy documents: parsing and validation.

`parse_policy` turns the `policy` argument of a custom role (JSON text, an already decoded object,
or a partly unknown `jsonencode()` result) into a `PolicyDocument`, recording every structural
problem as an IMS100 `PolicyProblem` and keeping unknown parts as `Unknown` (the rules about a
document live in checks/policy_document.py).

The provider decodes the policy with Go's `encoding/json`, so object keys are matched
case-insensitively (an exact match preferred) and, for duplicate keys, the last one wins; the
parser follows that and reports the duplicates.
"""

from __future__ import annotations

import json
from typing import Any

from iac_ims.iam.actions import split_action
from iac_ims.iam.policy_model import ALLOW, DENY, EFFECTS, ActionEntry, PolicyDocument, PolicyProblem, Statement
from iac_ims.iam.policy_size import MAX_POLICY_CHARACTERS, sent_length
from iac_ims.terraform.values import PartialJson, PartialString, Unknown, decode_partial_json

SUPPORTED_VERSION = "1.1"  # custom policies
SYSTEM_VERSIONS = ("1.0", "1.1")  # "1.0" is the RBAC form of system roles


class _JsonObject(dict):
    """A decoded JSON object that remembers the keys it saw more than once."""

    duplicates: tuple[str, ...] = ()


def _pairs_hook(pairs: list[tuple[str, Any]]) -> _JsonObject:
    obj = _JsonObject()
    duplicates: list[str] = []
    for key, value in pairs:
        if key in obj and key not in duplicates:
            duplicates.append(key)
        obj[key] = value
    if duplicates:
        obj.duplicates = tuple(duplicates)
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _loads(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_pairs_hook, parse_constant=_reject_constant)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _where(path: str) -> str:
    return f"at {path}" if path else "at the top level of the policy"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Parser:
    def __init__(self, custom: bool, source: str | None):
        self.custom = custom
        self.source = source
        self.doc = PolicyDocument(version=None)

    def problem(self, message: str, path: str, fix: str | None = None) -> None:
        self.doc.problems.append(PolicyProblem("IMS100", message, path, fix))

    # -- keys, the way Go's encoding/json finds struct fields
    def get(self, obj: dict, name: str, path: str) -> tuple[bool, Any]:
        matching = [key for key in obj if isinstance(key, str) and key.lower() == name.lower()]
        if not matching:
            return False, None
        if len(matching) > 1:
            self.problem(
                f"duplicate key {_where(path)}: {', '.join(json.dumps(k) for k in matching)} all set "
                f'"{name}" (keys are matched case-insensitively when the provider decodes the policy); '
                f"only the last one takes effect and the others are silently dropped",
                _join(path, name),
                f'keep a single "{name}" key and merge the values into it',
            )
        return True, obj[matching[-1]]

    def scan_duplicates(self, value: Any, path: str, depth: int = 0) -> None:
        if depth > 100:
            return
        if isinstance(value, dict):
            for key in getattr(value, "duplicates", ()):
                self.problem(
                    f'duplicate key "{key}" {_where(path)}: only the last one takes effect and the '
                    f"earlier values are silently dropped",
                    _join(path, key),
                    f'keep a single "{key}" key and merge the values into it',
                )
            for key, item in value.items():
                self.scan_duplicates(item, _join(path, str(key)), depth + 1)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.scan_duplicates(item, f"{path}[{i}]", depth + 1)

    # -- entry point
    def parse(self, value: Any) -> PolicyDocument:
        doc = self.doc
        if isinstance(value, PartialString):
            value = decode_partial_json(value)
        if isinstance(value, PartialJson):
            inner = value.value
            if isinstance(inner, Unknown):
                doc.unknown = inner
                return doc
            if inner is None:
                doc.unknown = value
                return doc
            self.top(inner)
            return doc
        if isinstance(value, Unknown):
            doc.unknown = value
            return doc
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                self.problem("the policy is not UTF-8 text", "", "save the policy file as UTF-8")
                return doc
        if value is None:
            self.problem(
                "the role has no policy document",
                "",
                f'set policy = jsonencode({{ Version = "{SUPPORTED_VERSION}", Statement = [...] }})',
            )
            return doc
        if isinstance(value, str):
            data = self.load_text(value, "")
            if data is _FAILED:
                return doc
            self.scan_duplicates(data, "")
            self.top(data)
            return doc
        self.top(value)
        return doc

    def load_text(self, text: str, path: str) -> Any:
        if not text.strip():
            self.problem(
                "the policy is empty: it must be a JSON object",
                path,
                f'write {{"Version": "{SUPPORTED_VERSION}", "Statement": [...]}} (or use jsonencode())',
            )
            return _FAILED
        try:
            return _loads(text)
        except json.JSONDecodeError as exc:
            self.problem(
                f"the policy is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}); "
                f"the provider rejects it",
                path,
                "fix the JSON syntax, or build the policy with jsonencode() so Terraform writes the JSON",
            )
        except ValueError as exc:  # NaN / Infinity
            self.problem(f"the policy is not valid JSON: {exc}", path, "use plain JSON numbers and strings")
        except RecursionError:
            self.problem("the policy is nested too deeply to be read", path, "simplify the policy")
        return _FAILED

    def top(self, data: Any) -> None:
        if isinstance(data, dict):
            self.document(data)
            return
        if isinstance(data, str):
            inner: Any = _FAILED
            try:
                inner = _loads(data)
            except (ValueError, RecursionError):
                pass
            if isinstance(inner, dict):
                self.doc.double_encoded = True
                self.problem(
                    "the policy is JSON-encoded twice: it is a JSON string whose content is the policy "
                    "object, so the provider cannot decode it into a policy and the role fails at apply",
                    "",
                    "encode the policy once: remove the extra jsonencode() (or do not jsonencode() a "
                    "string that already holds JSON, e.g. file(...))",
                )
                self.scan_duplicates(inner, "")
                self.document(inner)
                return
            self.problem(
                f"the policy is a JSON string ({_short(data)}), not an object",
                "",
                f'write {{"Version": "{SUPPORTED_VERSION}", "Statement": [...]}}',
            )
            return
        if isinstance(data, Unknown):
            self.doc.unknown = data
            return
        hint = ""
        if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
            hint = ' (it looks like a Statement list: wrap it as {"Version": "1.1", "Statement": [...]})'
        self.problem(
            f"the policy is {_kind(data)}, not a JSON object{hint}",
            "",
            f'write {{"Version": "{SUPPORTED_VERSION}", "Statement": [...]}}',
        )

    def document(self, data: dict) -> None:
        doc = self.doc
        present, version = self.get(data, "Version", "")
        if not present or version is None:
            self.problem(
                'the policy has no "Version"',
                "Version",
                f'add "Version": "{SUPPORTED_VERSION}"',
            )
        elif isinstance(version, Unknown):
            doc.version = version
        elif not isinstance(version, str):
            doc.version = version
            self.problem(
                f'"Version" is {_kind(version)} ({_short(version)}); it must be the string "{SUPPORTED_VERSION}"',
                "Version",
                f'write "Version": "{SUPPORTED_VERSION}" (quoted)',
            )
        else:
            doc.version = version
            if self.custom and version != SUPPORTED_VERSION:
                self.problem(
                    f'"Version" is "{version}"; a custom policy must use "{SUPPORTED_VERSION}" '
                    f'("1.0" is the RBAC form used only by system roles)',
                    "Version",
                    f'write "Version": "{SUPPORTED_VERSION}"',
                )
            elif not self.custom and version not in SYSTEM_VERSIONS:
                self.problem(
                    f'"Version" is "{version}"; IAM policies use "1.0" or "1.1"',
                    "Version",
                    f'write "Version": "{SUPPORTED_VERSION}"',
                )

        present, statements = self.get(data, "Statement", "")
        if not present or statements is None:
            self.problem(
                'the policy has no "Statement": it grants nothing',
                "Statement",
                'add "Statement": [{"Effect": "Allow", "Action": [...]}]',
            )
            return
        if isinstance(statements, Unknown):
            doc.unknown = statements
            return
        if isinstance(statements, dict):
            self.problem(
                '"Statement" is an object; it must be a list of statements (the provider fails at apply)',
                "Statement",
                'wrap it in a list: "Statement": [{...}]',
            )
            statements = [statements]
            single = True
        elif not isinstance(statements, (list, tuple)):
            self.problem(
                f'"Statement" is {_kind(statements)}; it must be a list of statements',
                "Statement",
                'write "Statement": [{"Effect": "Allow", "Action": [...]}]',
            )
            return
        else:
            single = False
        if not statements:
            self.problem(
                '"Statement" is empty: the policy grants nothing',
                "Statement",
                'add a statement: {"Effect": "Allow", "Action": [...]}',
            )
        for index, raw in enumerate(statements):
            path = "Statement" if single else f"Statement[{index}]"
            statement = self.statement(index, raw, path)
            if statement is not None:
                doc.statements.append(statement)
        if self.custom:
            self.check_length(version, statements)

    def check_length(self, version: Any, statements: list) -> None:
        """IAM's 6,144 characters, on the document as the provider re-sends it. With unknown parts
        only a lower bound is known: reported only when even that is over the limit."""
        length, exact = sent_length(version, statements)
        if length <= MAX_POLICY_CHARACTERS:
            return
        counted = f"{length:,}" if exact else f"at least {length:,}"
        self.problem(
            f"the policy is {counted} characters long as the provider sends it (compact JSON); IAM allows at "
            f"most {MAX_POLICY_CHARACTERS:,} in one custom policy",
            "",
            "split it into several roles, or use wildcards (e.g. service:resourceType:*) for long action lists",
        )

    def statement(self, index: int, raw: Any, path: str) -> Statement | None:
        if isinstance(raw, Unknown):
            return Statement(index, raw, [], json_path=path, unknown_actions=[(path, raw)], source=self.source)
        if not isinstance(raw, dict):
            self.problem(
                f"{path} is {_kind(raw)}; each statement must be an object with Effect and Action",
                path,
                'write {"Effect": "Allow", "Action": [...]}',
            )
            return None
        statement = Statement(index, None, [], json_path=path, source=self.source)

        # Effect
        present, effect = self.get(raw, "Effect", path)
        effect_path = _join(path, "Effect")
        if not present or effect is None:
            self.problem(
                f'{path} has no "Effect"; it must be "Allow" or "Deny"',
                effect_path,
                f'add "Effect": "Allow" to {path}',
            )
        elif isinstance(effect, Unknown):
            statement.effect = effect
        elif isinstance(effect, str) and effect in EFFECTS:
            statement.effect = effect
        elif isinstance(effect, str) and effect.strip().lower() in ("allow", "deny"):
            canonical = ALLOW if effect.strip().lower() == "allow" else DENY
            statement.effect = canonical  # analysed as meant; the problem is reported
            self.problem(
                f'{effect_path} is "{effect}"; IAM accepts exactly "Allow" or "Deny"',
                effect_path,
                f'write "Effect": "{canonical}"',
            )
        else:
            self.problem(
                f'{effect_path} is {_short(effect)}; it must be "Allow" or "Deny"',
                effect_path,
                'write "Effect": "Allow" or "Effect": "Deny"',
            )

        # Action
        present, action = self.get(raw, "Action", path)
        action_path = _join(path, "Action")
        if not present or action is None:
            has_not_action, _ = self.get(raw, "NotAction", path)
            extra = (
                ' ("NotAction" is not supported by Huawei IAM v3 and the provider drops it)'
                if has_not_action
                else ""
            )
            self.problem(
                f'{path} has no "Action"{extra}; a statement must list its actions',
                action_path,
                f'add "Action": ["service:resourceType:operation", ...] to {path}',
            )
        elif isinstance(action, Unknown):
            statement.unknown_actions.append((action_path, action))
        elif isinstance(action, str):
            statement.actions.append(ActionEntry(action, action_path))
            self.problem(
                f'{action_path} is a string ("{action}"); it must be a list of strings: the provider '
                f"fails at apply",
                action_path,
                f'write "Action": [{json.dumps(action)}]',
            )
            self.action_syntax(action, action_path)
        elif isinstance(action, (list, tuple)):
            if not action:
                self.problem(
                    f"{action_path} is empty: the statement grants or denies nothing",
                    action_path,
                    f"list the actions in {action_path}, or remove {path}",
                )
            for j, item in enumerate(action):
                item_path = f"{action_path}[{j}]"
                if isinstance(item, Unknown):
                    statement.unknown_actions.append((item_path, item))
                elif isinstance(item, str):
                    statement.actions.append(ActionEntry(item, item_path))
                    self.action_syntax(item, item_path)
                else:
                    self.problem(
                        f"{item_path} is {_kind(item)} ({_short(item)}); actions must be strings "
                        f'such as "service:resourceType:operation"',
                        item_path,
                        f"quote the action or remove {item_path}",
                    )
        else:
            self.problem(
                f"{action_path} is {_kind(action)}; it must be a list of strings",
                action_path,
                'write "Action": ["service:resourceType:operation", ...]',
            )

        # Condition
        present, condition = self.get(raw, "Condition", path)
        if present and condition is not None:
            statement.condition = condition
            if isinstance(condition, Unknown):
                statement.has_condition = True
            elif isinstance(condition, dict):
                statement.has_condition = bool(condition)
            else:
                statement.has_condition = True
                self.problem(
                    f'{_join(path, "Condition")} is {_kind(condition)}; it must be an object '
                    f'{{"Operator": {{"key": ["value", ...]}}}}',
                    _join(path, "Condition"),
                    'write "Condition": {"StringEquals": {"g:ProjectName": ["..."]}} or remove it',
                )

        # Resource
        present, resource = self.get(raw, "Resource", path)
        if present and resource is not None:
            statement.resource = resource
            if isinstance(resource, (list, dict, str)):
                statement.has_resource = bool(resource)
            else:
                statement.has_resource = True
        return statement

    def action_syntax(self, text: str, path: str) -> None:
        if split_action(text) is None:
            self.problem(
                f'"{text}" {_where(path)} is not an action: expected "service:resourceType:operation" '
                f'(each part may use "*"), or "*"',
                path,
                f'write the action as "service:resourceType:operation", or remove {path}',
            )


_FAILED = object()


def parse_policy(value: Any, *, custom: bool = True, source: str | None = None) -> PolicyDocument:
    """Parse a role's `policy` value.

    `value`: JSON text, an already decoded object, a `PartialJson` (its `.value` is read, unknown
    leaves kept), or an `Unknown` (the document then has `unknown` set and no statements). `custom`:
    a custom role (Version must be "1.1"). `source`: set on every statement (e.g. the role's address)
    so that decisions over several roles can say whose statement decided.
    Problems found are IMS100 `PolicyProblem`s in `problems`; what can still be read is kept
    (a bare-string Action counts as that one action, a double-encoded policy is read through).
    """
    return _Parser(custom, source).parse(value)
