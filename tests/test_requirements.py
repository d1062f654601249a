"""What applying the scanned Terraform needs (iac_ims/requirements.py, least_privilege.py), judged
on Terraform written for the purpose.

The table-driven tests take every resource type, data source and call of the shipped provider-call
map (`rules/provider_calls.yaml`), write a block whose arguments make the call's `when` hold (or
fail), and check what `needs` finds against what the map and Terraform's phases say it must.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import write_tree

from iac_ims.catalog import AttributeRef, ProviderCall, ResourceCalls, When, load_catalog

CATALOG = load_catalog(())
ENTRIES = sorted(CATALOG.provider_calls.values(), key=lambda e: e.key)

# Terraform's phases, and the provider phases each runs (the spec this module checks against):
# plan refreshes (read); apply creates, updates and refreshes; destroy refreshes and deletes; a
# data source is read in all three; `terraform import` is none of them.
TERRAFORM_PHASES_OF = {"read": {"plan", "apply", "destroy"}, "create": {"apply"}, "update": {"apply"},
                       "delete": {"destroy"}, "import": set()}
DATA_SOURCE_PHASES = {"plan", "apply", "destroy"}


class _Unset:
    def __repr__(self) -> str:
        return "<left out>"


UNSET = _Unset()  # an argument a block must leave out
REGION, OTHER_REGION = "cn-north-4", "cn-east-3"


def expected_phases(entry: ResourceCalls, call: ProviderCall) -> set[str]:
    return DATA_SOURCE_PHASES if entry.kind == "data" else TERRAFORM_PHASES_OF[call.phase]


# ---- Terraform that makes a `when` hold, or fail ---------------------------------------------

def plausible(name: str) -> Any:
    """A value a real configuration would give the argument."""
    if name == "tags":
        return {"pipeline": "golden-image"}
    if name.endswith("_ids"):
        return ["0a1b2c3d4e5f40718293a4b5c6d7e8f9"]
    if name in ("min_ram", "max_ram"):
        return 1024 if name == "min_ram" else 8192
    if name.endswith("region"):
        return REGION
    if name == "image_url":
        return "golden-images:ubuntu-22.04.qcow2"
    if name == "hw_firmware_type":
        return "uefi"
    if name.startswith("is_"):
        return True
    if name.endswith("_id"):
        return "4f9a1c2e-7b3d-4e5f-9a8b-1c2d3e4f5a6b"
    return f"golden-{name.replace('_', '-')}"


def another(value: Any) -> Any:
    """A value of the same kind, different from `value`."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    return f"{value}-other"


@dataclass(frozen=True)
class Way:
    """Arguments (name -> HCL text, or UNSET: left out) that make a `when` hold, and whether it then
    certainly holds (False when it rests on a fallback or a condition the block does not decide)."""

    arguments: tuple[tuple[str, Any], ...]
    certain: bool = True

    @staticmethod
    def of(arguments: dict[str, Any], certain: bool = True) -> Way:
        written = {name: value if value is UNSET else hcl(value) for name, value in arguments.items()}
        return Way(tuple(sorted(written.items())), certain)


def merged(ways: tuple[Way, ...]) -> Way | None:
    """All of `ways` at once, or None when two of them disagree about an argument."""
    arguments: dict[str, Any] = {}
    for way in ways:
        for name, value in way.arguments:
            if arguments.get(name, value) != value:
                return None
            arguments[name] = value
    return Way(tuple(sorted(arguments.items())), all(w.certain for w in ways))


def comparison(name: str, spec: Any, equal: bool) -> dict[str, Any]:
    """Arguments that make `name` equal (or differ from) `spec`, a literal or another argument."""
    if isinstance(spec, AttributeRef):
        return {spec.name: REGION, name: REGION if equal else OTHER_REGION}
    return {name: spec if equal else another(spec)}


def satisfying(when: When) -> list[Way]:
    """Every way this module knows to make `when` hold."""
    form = when.form
    if form == "always":
        return [Way.of({})]
    if form in ("on_error", "other"):
        return [Way.of({}, certain=False)]  # nothing in the block forces it
    if form in ("attribute_set", "attribute_changes"):
        return [Way.of({name: plausible(name)}) for name in when.attributes]
    if form == "attribute_unset":
        return [Way.of({name: UNSET for name in when.attributes})]
    if form in ("attribute_equals", "attribute_differs"):
        parts = [Way.of(comparison(n, v, form == "attribute_equals")) for n, v in zip(when.attributes, when.values)]
        way = merged(tuple(parts))
        return [way] if way is not None else []
    if form == "all_of":
        combined = (merged(ways) for ways in itertools.product(*(satisfying(c) for c in when.clauses)))
        return list(dict.fromkeys(w for w in combined if w is not None))
    if form == "any_of":
        return list(dict.fromkeys(w for clause in when.clauses for w in satisfying(clause)))
    raise AssertionError(f"a when form this test does not know: {form}")


def failing(when: When) -> list[Way]:
    """Every way this module knows to make `when` certainly not hold (none for always, a
    fallback or a condition the block does not decide)."""
    form = when.form
    if form in ("attribute_set", "attribute_changes"):
        return [Way.of({name: UNSET for name in when.attributes})]
    if form == "attribute_unset":
        return [Way.of({name: plausible(name)}) for name in when.attributes]
    if form in ("attribute_equals", "attribute_differs"):
        equal = form == "attribute_differs"  # the comparison the other way round
        ways = [Way.of(comparison(n, v, equal)) for n, v in zip(when.attributes, when.values)]
        if form == "attribute_differs":  # "set to another value": an argument left out does not differ
            ways += [Way.of({n: UNSET}) for n in when.attributes]
        return ways
    if form == "all_of":
        return list(dict.fromkeys(w for clause in when.clauses for w in failing(clause)))
    if form == "any_of":
        combined = (merged(ways) for ways in itertools.product(*(failing(c) for c in when.clauses)))
        return list(dict.fromkeys(w for w in combined if w is not None))
    return []


def hcl(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(hcl(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {hcl(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def block(entry: ResourceCalls, name: str, arguments: dict[str, Any] | tuple[tuple[str, Any], ...]) -> str:
    """A `resource` or `data` block of the entry's type with these arguments (HCL text; UNSET ones
    left out)."""
    items = dict(arguments)
    keyword = "data" if entry.kind == "data" else "resource"
    lines = [f'{keyword} "{entry.type}" "{name}" {{']
    lines += [f"  {key} = {value}" for key, value in items.items() if value is not UNSET]
    return "\n".join(lines + ["}", ""])


def load_instances(root: Path, files: dict[str, str], **options: Any) -> list[Any]:
    """The blocks of the Terraform written under root, as `iac-ims requirements` reads them."""
    from iac_ims.pipeline import ScanOptions, analyse

    write_tree(root, files)
    analysis = analyse([root], ScanOptions(relative_to=root, **options), provider_calls=True)
    analysis.load.complete_syntax_checks()
    assert not [d for d in analysis.load.diagnostics if d.rule_id == "IMS900"], "the test wrote bad Terraform"
    return analysis.load.instances


def needs_by_block(root: Path, files: dict[str, str], **options: Any) -> dict[str, list[Any]]:
    from iac_ims.requirements import needs

    found: dict[str, list[Any]] = {}
    for need in needs(load_instances(root, files, **options), CATALOG):
        found.setdefault(need.address, []).append(need)
    return found


def address(entry: ResourceCalls, name: str) -> str:
    return f"{'data.' if entry.kind == 'data' else ''}{entry.type}.{name}"


# ---- every call of the map, on a block written to make it happen (or not) -----------------

@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.key)
def test_every_call_happens_when_its_block_says_and_only_then(tmp_path: Path, entry: ResourceCalls) -> None:
    from iac_ims.requirements import by_resource

    happening: list[tuple[str, ProviderCall, Way]] = []
    not_happening: list[tuple[str, ProviderCall, Way]] = []
    for index, call in enumerate(entry.calls):
        ways = satisfying(call.when)
        assert ways, f"no block can make {call.api} ({call.when.to_data()}) happen: the test's generator is wrong"
        happening += [(f"call{index}_way{n}", call, way) for n, way in enumerate(ways)]
        not_happening += [(f"call{index}_not{n}", call, way) for n, way in enumerate(failing(call.when))]
    text = "".join(block(entry, name, way.arguments) for name, _, way in happening + not_happening)
    found = needs_by_block(tmp_path, {"main.tf": text})

    for name, call, way in happening:
        where = f"{address(entry, name)} ({call.phase} {call.api}, when {call.when.to_data()}, block {way.arguments})"
        mine = [n for n in found.get(address(entry, name), []) if n.call is call]
        assert {n.phase for n in mine} == expected_phases(entry, call), where
        assert len(mine) == len(expected_phases(entry, call)), f"{where}: one need per Terraform phase"
        assert all(n.certain == way.certain for n in mine), f"{where}: certain should be {way.certain}"
        if not mine:
            continue  # an import call: no Terraform phase runs it
        [group] = by_resource(mine, CATALOG)
        for action in call.actions:
            [need] = [a for a in group.actions if a.action == action]
            assert set(need.phases) == expected_phases(entry, call), where
            assert need.calls == [call.api] and need.certain == way.certain, where
            assert need.provider_phases[0].split(" ")[0] == call.phase, where
        if call.unconfirmed:
            assert not call.actions and [u.call for u in group.unconfirmed] == [call.api], where
        else:
            assert {a.action for a in group.actions} == set(call.actions) and not group.unconfirmed, where

    for name, call, way in not_happening:
        mine = [n for n in found.get(address(entry, name), []) if n.call is call]
        assert not mine, (f"{address(entry, name)}: {call.phase} {call.api} (when {call.when.to_data()}) needed "
                          f"although the block ({way.arguments}) says it does not happen")


# ---- how many instances, where, and which of the deprecated resource's sources ------------

GOLDEN = '''
resource "huaweicloud_ims_ecs_system_image" "golden" {
  %s
  name        = "golden-ubuntu-22.04"
  instance_id = "4f9a1c2e-7b3d-4e5f-9a8b-1c2d3e4f5a6b"
  description = "Hardened Ubuntu 22.04 built by CI"
}
'''


@pytest.mark.parametrize("count, built", [("count = 0", "count = 1"),
                                          ("count = var.build ? 1 : 0", "count = !var.build ? 1 : 0")])
def test_a_block_with_no_instance_needs_nothing(tmp_path: Path, count: str, built: str) -> None:
    def files(count: str) -> dict[str, str]:
        return {"variables.tf": 'variable "build" {\n  type    = bool\n  default = false\n}\n',
                "main.tf": GOLDEN % count + f'data "huaweicloud_images_images" "ubuntu" {{\n  {count}\n}}\n'}

    assert needs_by_block(tmp_path / "none", files(count)) == {}
    # the same blocks, with one instance each: they need their calls
    assert sorted(needs_by_block(tmp_path / "one", files(built))) == [
        "data.huaweicloud_images_images.ubuntu[0]", "huaweicloud_ims_ecs_system_image.golden[0]"]


def test_for_each_over_several_images_is_one_block_listing_every_instance(tmp_path: Path) -> None:
    from iac_ims.requirements import by_resource, needs

    instances = load_instances(tmp_path, {"main.tf": '''
        locals {
          builders = {
            ubuntu = "4f9a1c2e-7b3d-4e5f-9a8b-1c2d3e4f5a6b"
            centos = "5a0b2d3f-8c4e-4f60-8b9c-2d3e4f5a6b7c"
            debian = "6b1c3e4a-9d5f-4071-9cad-3e4f5a6b7c8d"
          }
        }

        resource "huaweicloud_ims_ecs_system_image" "golden" {
          for_each    = local.builders
          name        = "golden-${each.key}"
          instance_id = each.value
        }
        '''})
    groups = by_resource(needs(instances, CATALOG), CATALOG)
    assert [g.address for g in groups] == ["huaweicloud_ims_ecs_system_image.golden"]
    expected = {f'huaweicloud_ims_ecs_system_image.golden["{key}"]' for key in ("ubuntu", "centos", "debian")}
    assert set(groups[0].instances) == expected and len(groups[0].instances) == 3
    create = next(c for c in CATALOG.resource_calls("huaweicloud_ims_ecs_system_image").phase("create") if c.actions)
    assert all(any(a.action == action and a.certain for a in groups[0].actions) for action in create.actions)


def test_a_local_module_s_images_are_needed_at_their_module_address(tmp_path: Path) -> None:
    from iac_ims.requirements import by_resource

    found = needs_by_block(tmp_path, {
        "main.tf": '''
            module "images" {
              source      = "./modules/images"
              builder_id  = "4f9a1c2e-7b3d-4e5f-9a8b-1c2d3e4f5a6b"
            }
            ''',
        "modules/images/main.tf": '''
            variable "builder_id" {
              type = string
            }

            data "huaweicloud_images_image" "base" {
              name        = "Ubuntu 22.04 server 64bit"
              most_recent = true
            }

            resource "huaweicloud_ims_ecs_system_image" "golden" {
              name        = "golden-ubuntu-22.04"
              instance_id = var.builder_id
            }
            ''',
    })
    assert sorted(found) == ["module.images.data.huaweicloud_images_image.base",
                             "module.images.huaweicloud_ims_ecs_system_image.golden"]
    groups = by_resource([n for block_needs in found.values() for n in block_needs], CATALOG)
    assert sorted(g.address for g in groups) == sorted(found)
    # the module's variable is given a literal: the image's create is certain
    golden = next(g for g in groups if g.type == "huaweicloud_ims_ecs_system_image")
    assert golden.instance.file == "modules/images/main.tf" and all(a.certain for a in golden.actions
                                                                     if "create" in a.provider_phases)



def test_every_instance_of_a_module_is_one_block(tmp_path: Path) -> None:
    from iac_ims.requirements import by_resource, needs

    instances = load_instances(tmp_path, {
        "main.tf": '''
            module "images" {
              source     = "./modules/images"
              for_each   = toset(["ubuntu", "debian"])
              builder_id = "4f9a1c2e-7b3d-4e5f-9a8b-1c2d3e4f5a6b"
              os         = each.key
            }
            ''',
        "modules/images/main.tf": '''
            variable "builder_id" {
              type = string
            }

            variable "os" {
              type = string
            }

            resource "huaweicloud_ims_ecs_system_image" "golden" {
              name        = "golden-${var.os}"
              instance_id = var.builder_id
            }
            ''',
    })
    [group] = by_resource(needs(instances, CATALOG), CATALOG)
    assert group.address == "module.images.huaweicloud_ims_ecs_system_image.golden"
    assert sorted(group.instances) == [f'module.images["{os}"].huaweicloud_ims_ecs_system_image.golden'
                                       for os in ("debian", "ubuntu")]

DEPRECATED_SOURCES = {  # the argument the image is made from, and its value
    "instance_id": '"4f9a1c2e-7b3d-4e5f-9a8b-1c2d3e4f5a6b"',
    "image_url": '"golden-images:ubuntu-22.04.qcow2"',
    "volume_id": '"7c2d4f5b-0e6a-4182-8dbe-4f5a6b7c8d9e"',
    "backup_id": '"8d3e5a6c-1f7b-4293-9ecf-5a6b7c8d9e0f"',  # none of the other three
}
CREATED_FROM = ("instance_id", "image_url", "volume_id")


@pytest.mark.parametrize("source", sorted(DEPRECATED_SOURCES))
def test_the_deprecated_images_image_needs_the_create_call_of_its_source(tmp_path: Path, source: str) -> None:
    from iac_ims.requirements import by_resource

    found = needs_by_block(tmp_path, {"main.tf": f'''
        resource "huaweicloud_images_image" "golden" {{
          name        = "golden-{source.replace("_", "-")}"
          {source} = {DEPRECATED_SOURCES[source]}
          min_disk    = 40
        }}
        '''})
    creates = [n for n in found["huaweicloud_images_image.golden"] if n.call.phase == "create" and n.call.actions]
    [create] = creates  # exactly one of the map's create calls
    assert create.certain and create.phase == "apply"
    when = create.call.when
    if source in CREATED_FROM:
        # the call the map makes for this argument: it is the argument its `when` asks to be set
        assert source in when.names and not (set(CREATED_FROM) - {source}) & when.names
        assert create.call.actions == ("ims:serverImages:create",)
    else:
        # from a backup: the call made when none of the others is set
        assert set(CREATED_FROM) <= when.names and create.call.actions == ("ims:wholeImages:create",)
    others = {a for c in CATALOG.resource_calls("huaweicloud_images_image").phase("create") for a in c.actions}
    [group] = by_resource(found["huaweicloud_images_image.golden"], CATALOG)
    assert {a.action for a in group.actions} & others == set(create.call.actions)


# ---- an argument whose value is unknown ------------------------------------------------------

UNRESOLVED_IMAGE = '''
variable "builder_instance_id" {
  type = string
}

resource "huaweicloud_images_image" "golden" {
  name        = "golden-ubuntu-22.04"
  instance_id = var.builder_instance_id
}
'''


def test_an_argument_without_a_value_makes_its_calls_possible_not_certain(tmp_path: Path) -> None:
    from iac_ims.requirements import by_resource

    found = needs_by_block(tmp_path, {"main.tf": UNRESOLVED_IMAGE})["huaweicloud_images_image.golden"]
    creates = [n for n in found if n.call.phase == "create" and n.call.actions]
    # made from the server (instance_id set) or from a backup (it is not): either may happen
    assert {n.call.actions for n in creates} == {("ims:serverImages:create",), ("ims:wholeImages:create",)}
    assert creates and not any(n.certain for n in creates)
    assert all("cannot be resolved" in n.why for n in creates)
    [group] = by_resource(found, CATALOG)
    possible = {a.action for a in group.actions if not a.certain}
    assert {"ims:serverImages:create", "ims:wholeImages:create"} <= possible
    assert any(a.certain for a in group.actions)  # the refresh is needed all the same


def test_a_count_that_cannot_be_resolved_makes_every_need_possible(tmp_path: Path) -> None:
    unresolved = 'variable "images" {\n  type = number\n}\n' + GOLDEN % "count = var.images"
    [block_needs] = needs_by_block(tmp_path, {"main.tf": unresolved}).values()
    assert block_needs and not any(n.certain for n in block_needs)
    assert all("exists cannot be resolved" in n.why for n in block_needs)


def test_an_image_of_a_server_the_same_code_creates_is_certainly_made_from_it(tmp_path: Path) -> None:
    """The server's ID is known only after apply, but a resource's ID is never empty: the image is
    made from the server, not from a backup."""
    found = needs_by_block(tmp_path, {"main.tf": '''
        resource "huaweicloud_compute_instance" "builder" {
          name       = "image-builder"
          image_name = "Ubuntu 22.04 server 64bit"
        }

        resource "huaweicloud_images_image" "golden" {
          name        = "golden-ubuntu-22.04"
          instance_id = huaweicloud_compute_instance.builder.id
        }
        '''})
    creates = [n for n in found["huaweicloud_images_image.golden"] if n.call.phase == "create" and n.call.actions]
    assert [(n.call.actions, n.certain) for n in creates] == [(("ims:serverImages:create",), True)]


# ---- IAM's 6,144 characters ----------------------------------------------------------------

def many_needs(count: int, level: str, service: str) -> Any:
    """One image block needing `count` distinct actions of one service level."""
    from iac_ims.requirements import ActionNeed, ResourceNeeds

    actions = [ActionNeed(f"{service}:images:synthesisedAction{n:04d}", level, "yes", True, ["apply"], ["create"],
                          ["POST /v2/cloudimages/action"], ["always"]) for n in range(count)]
    return ResourceNeeds(f"huaweicloud_ims_ecs_system_image.{service}", "huaweicloud_ims_ecs_system_image",
                         "resource", [f"huaweicloud_ims_ecs_system_image.{service}"], None, actions, [], [])


def sent(actions: list[str]) -> int:
    from iac_ims.iam.policy_size import sent_length
    from iac_ims.least_privilege import POLICY_VERSION, policy_document

    return sent_length(POLICY_VERSION, policy_document(actions)["Statement"])[0]


def test_within_limit_splits_in_order_into_documents_iam_accepts() -> None:
    from iac_ims.iam.policy_size import MAX_POLICY_CHARACTERS
    from iac_ims.least_privilege import _within_limit

    actions = [need.action for need in many_needs(500, "project", "ims").actions]
    assert sent(actions) > 2 * MAX_POLICY_CHARACTERS  # one document would be refused
    chunks = _within_limit(actions)
    assert len(chunks) >= 3 and [a for chunk in chunks for a in chunk] == actions
    assert all(sent(chunk) <= MAX_POLICY_CHARACTERS for chunk in chunks)
    # as full as they can be: the next action would not have fitted
    assert all(sent(chunk + [following[0]]) > MAX_POLICY_CHARACTERS for chunk, following in itertools.pairwise(chunks))
    assert _within_limit(actions[:3]) == [actions[:3]] and _within_limit([]) == []


def test_the_deployer_roles_split_per_service_level_and_hold_every_action() -> None:
    from iac_ims.iam.policy_size import MAX_POLICY_CHARACTERS, sent_length
    from iac_ims.least_privilege import deployer_policy
    from iac_ims.report.requirements_report import render_terraform

    project, global_ = many_needs(400, "project", "ims"), many_needs(300, "global", "obs")
    policy = deployer_policy([project, global_], CATALOG)
    by_type: dict[str, list[str]] = {}
    for role in policy.roles:
        length, exact = sent_length(role.policy["Version"], role.policy["Statement"])
        assert exact and length <= MAX_POLICY_CHARACTERS, f"{role.name}: {length} characters"
        by_type.setdefault(role.type, []).extend(role.actions)
    assert sorted(by_type["XA"]) == sorted(a.action for a in project.actions)
    assert sorted(by_type["AX"]) == sorted(a.action for a in global_.actions)
    assert sum(1 for r in policy.roles if r.type == "XA") >= 2 and sum(1 for r in policy.roles if r.type == "AX") >= 2
    assert len({r.name for r in policy.roles}) == len(policy.roles)

    import hcl2

    parsed = hcl2.loads(render_terraform(policy, ["plan", "apply", "destroy"]))
    labels = [name for resource in parsed["resource"] for blocks in resource.values() for name in blocks]
    assert len(labels) == len(set(labels)) == len(policy.roles)  # Terraform refuses two blocks of one address

