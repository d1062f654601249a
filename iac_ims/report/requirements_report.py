"""`iac-ims requirements` output: text (by resource), json (schema_version 1), policy (the roles'
documents as JSON) and terraform (`huaweicloud_identity_role` blocks to paste)."""

from __future__ import annotations

import json
from typing import Any

from iac_ims import __version__
from iac_ims.findings import printable
from iac_ims.iam.model import GLOBAL_ROLE_TYPE, PROJECT_ROLE_TYPE
from iac_ims.least_privilege import DeployerPolicy, GeneratedRole
from iac_ims.requirements import ResourceNeeds

SCHEMA_VERSION = 1
CONSOLE = "dependency"  # requirements the console asks for, not an API call: JSON only


def render_requirements(fmt: str, groups: list[ResourceNeeds], policy: DeployerPolicy, phases: list[str]) -> str:
    if fmt == "json":
        return json.dumps(requirements_json(groups, policy, phases), indent=2, ensure_ascii=False) + "\n"
    if fmt == "policy":
        return json.dumps(policy_json(policy), indent=2, ensure_ascii=False) + "\n"
    if fmt == "terraform":
        return render_terraform(policy, phases)
    return render_text(groups, policy, phases)


# ---- json ------------------------------------------------------------------------------------

def requirements_json(groups: list[ResourceNeeds], policy: DeployerPolicy, phases: list[str]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "iac-ims", "version": __version__},
        "phases": phases,
        "resources": [_resource_json(group) for group in groups],
        **policy_json(policy),
    }


def _resource_json(group: ResourceNeeds) -> dict[str, Any]:
    return {
        "address": group.address,
        "type": group.type,
        "kind": group.kind,
        "file": group.instance.file,
        "line": group.instance.line,
        "instances": group.instances,
        "actions": [{"action": a.action, "service_level": a.level, "enterprise_project": a.enterprise_project,
                     "certain": a.certain, "phases": a.phases, "provider_phases": a.provider_phases,
                     "calls": a.calls, "why": a.whys} for a in group.actions],
        "prerequisites": [{"service": p.requirement.service, "actions": list(p.requirement.actions),
                           "roles": list(p.requirement.roles), "basis": p.requirement.basis,
                           "why": p.requirement.why, "certain": p.certain, "phases": p.phases,
                           "provider_phases": p.provider_phases, "calls": p.calls}
                          for p in group.prerequisites],
        "unconfirmed": [{"call": u.call, "phases": u.phases, "provider_phases": u.provider_phases,
                         "note": u.note, "certain": u.certain} for u in group.unconfirmed],
    }


def policy_json(policy: DeployerPolicy) -> dict[str, Any]:
    return {
        "roles": [{"name": r.name, "type": r.type, "service_level": r.level, "intents": r.intents,
                   "policy": r.policy} for r in policy.roles],
        "system_roles": [{"service": n.service, "any_of": list(n.roles), "why": n.why, "needed_by": n.needed_by}
                         for n in policy.system_roles],
        "unconfirmed": [{"what": u.what, "why": u.why, "needed_by": u.needed_by} for u in policy.unconfirmed],
    }


# ---- text ------------------------------------------------------------------------------------

def render_text(groups: list[ResourceNeeds], policy: DeployerPolicy, phases: list[str]) -> str:
    if not groups:
        return (f"No image resource or data source whose provider calls iac-ims knows ({', '.join(phases)}): "
                "nothing to need.\n")
    lines: list[str] = []
    for group in groups:
        count = f" ({len(group.instances)} instances)" if len(group.instances) > 1 else ""
        lines.append(f"{group.address}{count}  [{group.type}]  {group.instance.file}:{group.instance.line}")
        for need in group.actions:
            flags = []
            if need.enterprise_project == "no":
                flags.append("not through an enterprise project")
            elif need.enterprise_project == "unknown":
                flags.append("enterprise project: unconfirmed")
            if not need.certain:
                flags.append("may: " + "; ".join(need.whys))
            extra = f"  ({'; '.join(flags)})" if flags else ""
            lines.append(f"  {need.action:<26} {', '.join(need.phases):<20} {need.where()}{extra}")
        for prerequisite in group.prerequisites:
            requirement = prerequisite.requirement
            if requirement.basis == CONSOLE:
                continue
            wanted = " or ".join(filter(None, (" or ".join(requirement.roles), ", ".join(requirement.actions))))
            label = "unconfirmed" if requirement.basis == "unconfirmed" else "also needs"
            maybe = "" if prerequisite.certain else " (may)"
            what = f"{requirement.service.upper()} {wanted}" if wanted else requirement.service.upper()
            lines.append(f"  {label}{maybe}: {what} - {requirement.why} [{prerequisite.where()}]")
        for call in group.unconfirmed:
            lines.append(f"  unconfirmed: {call.where()} - no permission table lists its action")
        lines.append("")
    lines.append(_summary(policy))
    return "\n".join(printable(line) for line in lines) + "\n"


def _summary(policy: DeployerPolicy) -> str:
    parts = [f"{len(policy.roles)} role{'s' if len(policy.roles) != 1 else ''} "
             f"({', '.join(f'{r.name}: {len(r.actions)} actions' for r in policy.roles)})"]
    if policy.system_roles:
        parts.append(f"{len(policy.system_roles)} system-role prerequisite(s)")
    if policy.unconfirmed:
        parts.append(f"{len(policy.unconfirmed)} unconfirmed need(s), not in the policy")
    return "Least privilege: " + "; ".join(parts) + " (--format policy or terraform writes them)"


# ---- terraform -------------------------------------------------------------------------------

def render_terraform(policy: DeployerPolicy, phases: list[str]) -> str:
    out = [f"# Written by iac-ims {__version__} (`iac-ims requirements --format terraform`): the custom roles",
           f"# that {', '.join(phases)} of the scanned configuration need."]
    types = {role.type for role in policy.roles}
    if PROJECT_ROLE_TYPE in types:
        out.append("# Assign the XA role at project scope (project_id, or project_id = \"all\").")
    if GLOBAL_ROLE_TYPE in types:
        out.append("# Assign the AX role at global-service scope (domain_id).")
    if policy.system_roles:
        out.append("#")
        out.append("# Also needed, as system roles (assign one of each):")
        for need in policy.system_roles:
            out.append(f"#   {need.service.upper()}: {' or '.join(need.roles)} - {need.why}")
            out.append(f"#     for {', '.join(need.needed_by)}")
    if policy.unconfirmed:
        out.append("#")
        out.append("# Not in these roles: no permission table confirms what they need (check them yourself):")
        for unchecked in policy.unconfirmed:
            out.append(f"#   {unchecked.what} - {unchecked.why}")
            out.append(f"#     for {', '.join(unchecked.needed_by)}")
    for role in policy.roles:
        out.append("")
        out.extend(_role_block(role))
    return "\n".join(printable(line) for line in out) + "\n"


def _role_block(role: GeneratedRole) -> list[str]:
    resource = role.name.replace("-", "_")
    lines = []
    if role.intents:
        lines.append(f"# iac-ims:intent {', '.join(role.intents)}")
    lines += [
        f'resource "huaweicloud_identity_role" "{resource}" {{',
        f'  name        = "{role.name}"',
        f'  type        = "{role.type}"',
        f'  description = "What deploying the scanned image resources needs ({role.level}-level services)"',
        "  policy = jsonencode({",
        f'    Version = "{role.policy["Version"]}"',
        "    Statement = [{",
        '      Effect = "Allow"',
        "      Action = [",
        *(f"        {json.dumps(action)}," for action in role.actions),
        "      ]",
        "    }]",
        "  })",
        "}",
    ]
    return lines
