"""An example iac-ims plugin: a site rule, written as a third party would ship it.

Install it as a package whose metadata declares the entry point
    [iac_ims.checks]
    role_prefix = acme_iam_rules:RULES
and `iac-ims scan` runs it beside the built-in rules (`--only-rule ACME001` runs it alone).
"""

from __future__ import annotations

from iac_ims.catalog import RuleMeta
from iac_ims.checks import Rule


def role_name_prefix(ctx):
    """ACME001: custom role names start with "img-", so that the console groups them."""
    for role in ctx.visit(ctx.model.custom_roles()):
        name = role.display_name
        if isinstance(name, str) and not name.startswith("img-"):
            yield ctx.finding("ACME001", role.instance, f"role name {name!r} lacks the img- prefix",
                              fix=f"rename it to 'img-{name}'", value_of=(role.instance, ("name",)))


RULES = [
    Rule(RuleMeta(id="ACME001", severity="warning", title="Image role name without the img- prefix",
                  rationale="ACME's console views group image roles by their img- prefix.",
                  remediation="Start the role name with img-.", family="policy"),
         role_name_prefix),
]
