"""`iac-ims catalog` and `iac-ims rules`: the catalogue and the rule list, as JSON and as text."""

from __future__ import annotations

from typing import Any

from iac_ims.catalog import Catalog, Operation, RuleMeta, SystemRole

_TABLE_TITLES = {
    "image_management": "Image management",
    "tags": "Image tags",
    "schemas": "Image schemas",
    "sharing": "Image sharing",
    "replication": "Image replication",
    "quota": "Quota",
}


def operation_to_json(op: Operation) -> dict[str, Any]:
    """One operation in the documented JSON shape, then `table` and `row`."""
    return {
        "id": op.id,
        "method": op.method,
        "path": op.path,
        "title": op.title,
        "actions": list(op.actions),
        "project": op.project,
        "enterprise_project": op.enterprise_project,
        "deprecated": op.deprecated,
        "replacement": op.replacement,
        "prerequisites": [list(p.any_of) for p in op.prerequisites],
        "table": op.table,
        "row": op.row,
    }


def catalog_to_json(catalog: Catalog) -> dict[str, Any]:
    """`{"operations": [...]}` in catalogue order (image management first, then the other tables)."""
    return {"operations": [operation_to_json(op) for op in catalog.operations.values()]}


def rule_to_json(rule: RuleMeta) -> dict[str, Any]:
    return {
        "id": rule.id,
        "severity": rule.severity,
        "title": rule.title,
        "rationale": rule.rationale,
        "remediation": rule.remediation,
        "family": rule.family,
    }


def rules_to_json(catalog: Catalog) -> dict[str, Any]:
    """`{"rules": [...]}` sorted by rule ID."""
    return {"rules": [rule_to_json(catalog.rules[rid]) for rid in sorted(catalog.rules)]}


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _operation_notes(op: Operation) -> str:
    notes: list[str] = []
    if op.deprecated:
        notes.append(f"deprecated: use {op.replacement}" if op.replacement else "deprecated")
    for prereq in op.prerequisites:
        roles = " or ".join(prereq.any_of)
        notes.append(f"needs {roles} ({prereq.service.upper()})")
    if not op.actions:
        notes.append("no action needed")
    return "; ".join(notes)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    widths = [max([len(headers[i])] + [len(r[i]) for r in rows]) for i in range(len(headers) - 1)]

    def line(cells: list[str]) -> str:
        padded = [cell.ljust(widths[i]) for i, cell in enumerate(cells[:-1])] + [cells[-1]]
        return "  ".join(padded).rstrip()

    return [line(headers), line(["-" * len(h) for h in headers])] + [line(r) for r in rows]


def render_catalog_text(catalog: Catalog) -> str:
    """The catalogue as an aligned table, one section per source table.

    Columns: ID, API, actions (all required), P (grantable at IAM-project scope),
    EP (grantable at enterprise-project scope), notes (deprecation, prerequisites outside IMS).
    """
    headers = ["ID", "API", "ACTIONS", "P", "EP", "NOTES"]
    ops = list(catalog.operations.values())
    all_rows = [
        [op.id, op.api, ", ".join(op.actions) or "-", _yes_no(op.project), _yes_no(op.enterprise_project),
         _operation_notes(op)]
        for op in ops
    ]
    # One set of column widths for the whole listing, so that sections line up.
    table_lines = _table(headers, all_rows)
    head, rule, body = table_lines[0], table_lines[1], table_lines[2:]

    out: list[str] = []
    current: str | None = None
    for op, text in zip(ops, body):
        if op.table != current:
            current = op.table
            if out:
                out.append("")
            out.append(f"{_TABLE_TITLES.get(op.table, op.table.replace('_', ' ').capitalize())}:")
            out.extend([head, rule])
        out.append(text)
    out.append("")
    out.append(
        "P = grantable at IAM-project scope, EP = grantable at enterprise-project scope; "
        "every listed action is required."
    )
    return "\n".join(out) + "\n"


def render_rules_text(catalog: Catalog) -> str:
    """Every rule: ID, default severity, title, one-line rationale."""
    headers = ["ID", "SEVERITY", "TITLE", "RATIONALE"]
    rows = [[r.id, r.severity, r.title, r.rationale] for r in (catalog.rules[k] for k in sorted(catalog.rules))]
    return "\n".join(_table(headers, rows)) + "\n"


# ---- system roles (`iac-ims catalog --system-roles`)

def system_role_to_json(role: SystemRole) -> dict[str, Any]:
    return {
        "display_name": role.display_name,
        "name": role.name,
        "unstable_names": list(role.unstable_names),
        "former_names": list(role.former_names),
        "services": list(role.services),
        "kind": role.kind,
        "level": role.level,
        "ims_grants": _grants(role),
        "allow": list(role.allow),
        "deny": list(role.deny),
        "grants": role.grants,
        "depends": [{"role": d.role, "scope": d.scope} for d in role.depends],
        "sources": list(role.sources),
    }


def system_roles_to_json(catalog: Catalog) -> dict[str, Any]:
    """`{"system_roles": [...]}` in catalogue order."""
    return {"system_roles": [system_role_to_json(role) for role in catalog.system_roles]}


def _grants(role: SystemRole) -> str:
    """What a role grants in IMS, in a word: the checks read "unknown" as cannot be confirmed."""
    if not role.actions_known:
        return "unknown"
    return "some" if role.allow else "none"


def render_system_roles_text(catalog: Catalog) -> str:
    lines = [f"{'system role (internal name)':<44} {'level':<13} IMS actions it grants"]
    for role in catalog.system_roles:
        grants = ", ".join(role.allow) if role.allow else _grants(role)
        if role.deny:
            grants += f" (denies {', '.join(role.deny)})"
        if role.grants in ("documented", "inferred") and role.allow:
            grants += f" [{role.grants}]"
        names = role.display_name + (f" ({role.name})" if role.name else "")
        lines.append(f"{names:<44} {role.level or 'unconfirmed':<13} {grants}")
        if role.former_names:
            lines.append(f"{'':<4}formerly: {', '.join(role.former_names)}")
        if role.depends:
            depends = ", ".join(f"{d.role} ({d.scope.replace('_', ' ')})" for d in role.depends)
            lines.append(f"{'':<4}depends on: {depends}")
    lines.append(f"{len(catalog.system_roles)} system roles and policies "
                 f"({sum(len(r.former_names) for r in catalog.system_roles)} former names); "
                 "unknown: what it grants in IMS is unconfirmed, so intents that rely on it cannot be confirmed")
    return "\n".join(lines) + "\n"
