"""Resources and data sources with count/for_each as collections (for-expressions, splats,
functions, a whole resource as a for_each), and partly known lists (PartialList): evaluated as
Terraform does where the instance keys are known, and still naming the resource where not."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ev, findings_of, scan_tree, write_tree
from iac_ims.terraform.context import Budget, SimpleContext
from iac_ims.terraform.loader import Loader, LoadResult
from iac_ims.terraform.modules import ModuleInstance
from iac_ims.terraform.values import PartialList, Reference, Unknown

USERS = '''
resource "huaweicloud_identity_user" "devs" {
  for_each = toset(["alice", "bob"])
  name     = "dev-${each.key}"
}

resource "huaweicloud_identity_user" "ops" {
  count = 2
  name  = "ops-${count.index}"
}

variable "later" {
  type = set(string)
}

resource "huaweicloud_identity_user" "later" {
  for_each = var.later
  name     = each.key
  enabled  = true
}
'''

DEVS = 'huaweicloud_identity_user.devs'
LATER = 'huaweicloud_identity_user.later'


def load(root: Path, files: dict[str, str], **options) -> LoadResult:
    write_tree(root, files)
    return Loader(**options).load([root])


def root_module(result: LoadResult) -> ModuleInstance:
    (module,) = result.root_modules
    return module


def locals_of(tmp_path: Path, text: str, extra: str = USERS) -> ModuleInstance:
    return root_module(load(tmp_path, {"main.tf": extra + "\nlocals {\n" + text + "\n}\n"}))


def ref(address: str, attribute: tuple[str, ...] = ("id",)) -> tuple:
    return (address, attribute, True)


def described(value) -> tuple:
    assert isinstance(value, Reference), value
    return (value.address, value.attribute, value.instance_keys_known)


# ---- keys known: exactly what Terraform computes ---------------------------------------------

def test_for_over_a_for_each_resource_gives_each_instance(tmp_path: Path) -> None:
    module = locals_of(tmp_path, f'''
      ids     = [for u in {DEVS} : u.id]
      by_key  = {{ for k, u in {DEVS} : k => u.name }}
      filtered = [for u in {DEVS} : u.id if u.name != "dev-bob"]
      ops_ids = [for i, u in huaweicloud_identity_user.ops : "${{i}}:${{u.name}}"]
    ''')
    assert [described(v) for v in module.local("ids")] == [ref(f'{DEVS}["alice"]'), ref(f'{DEVS}["bob"]')]
    assert module.local("by_key") == {"alice": "dev-alice", "bob": "dev-bob"}
    assert [described(v) for v in module.local("filtered")] == [ref(f'{DEVS}["alice"]')]
    assert module.local("ops_ids") == ["0:ops-0", "1:ops-1"]


def test_functions_and_splats_over_resource_instances(tmp_path: Path) -> None:
    module = locals_of(tmp_path, f'''
      values_ids = values({DEVS})[*].id
      keys       = keys({DEVS})
      length_map = length({DEVS})
      length_list = length(huaweicloud_identity_user.ops)
      splat      = huaweicloud_identity_user.ops[*].name
      as_list    = tolist(huaweicloud_identity_user.ops)[1].name
      as_set     = length(toset(huaweicloud_identity_user.ops))
      looked_up  = lookup({DEVS}, "bob").name
    ''')
    assert [described(v) for v in module.local("values_ids")] == [ref(f'{DEVS}["alice"]'), ref(f'{DEVS}["bob"]')]
    assert module.local("keys") == ["alice", "bob"]
    assert module.local("length_map") == 2 and module.local("length_list") == 2
    assert module.local("splat") == ["ops-0", "ops-1"]
    assert module.local("as_list") == "ops-1"
    assert module.local("as_set") == 2
    assert module.local("looked_up") == "dev-bob"


def test_zero_instances_is_an_empty_collection(tmp_path: Path) -> None:
    module = locals_of(tmp_path, '''
      none   = [for r in huaweicloud_identity_role.off : r.id]
      length = length(huaweicloud_identity_role.off)
    ''', extra='''
      resource "huaweicloud_identity_role" "off" {
        count = 0
        name  = "off"
      }
    ''')
    assert module.local("none") == [] and module.local("length") == 0


def test_tolist_of_a_for_each_resource_is_an_error_as_in_terraform(tmp_path: Path) -> None:
    module = locals_of(tmp_path, f"bad = tolist({DEVS})")
    value = module.local("bad")
    assert isinstance(value, Unknown) and value.reason.startswith("error:")


def test_whole_resource_as_for_each(tmp_path: Path) -> None:
    result = load(tmp_path, {"main.tf": '''
        resource "huaweicloud_identity_role" "r" {
          for_each = { reader = "ims:images:list", exporter = "ims:images:export" }
          name     = "ims-${each.key}"
          type     = "XA"
          policy   = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = [each.value] }] })
        }

        resource "huaweicloud_identity_group" "per_role" {
          for_each    = huaweicloud_identity_role.r
          name        = "holders-${each.key}"
          description = each.value.name
        }

        resource "huaweicloud_identity_group_role_assignment" "a" {
          for_each   = huaweicloud_identity_role.r
          group_id   = huaweicloud_identity_group.per_role[each.key].id
          role_id    = each.value.id
          project_id = "all"
        }
    '''})
    groups = {i.address: i for i in result.instances if i.type == "huaweicloud_identity_group"}
    assert sorted(groups) == ['huaweicloud_identity_group.per_role["exporter"]',
                              'huaweicloud_identity_group.per_role["reader"]']
    assert groups['huaweicloud_identity_group.per_role["reader"]'].attr("description") == "ims-reader"
    assignment = next(i for i in result.instances if i.address.endswith('a["exporter"]'))
    assert described(assignment.attr("role_id")) == ref('huaweicloud_identity_role.r["exporter"]')
    assert described(assignment.attr("group_id")) == ref('huaweicloud_identity_group.per_role["exporter"]')


def test_data_source_and_module_call_over_a_whole_resource(tmp_path: Path) -> None:
    result = load(tmp_path, {
        "main.tf": '''
            resource "huaweicloud_identity_group" "teams" {
              for_each = toset(["ops", "dev"])
              name     = each.key
            }

            data "huaweicloud_identity_role" "admin" {
              for_each     = huaweicloud_identity_group.teams
              display_name = "IMS Administrator"
            }

            module "grants" {
              for_each = huaweicloud_identity_group.teams
              source   = "./grants"
              group_id = each.value.id
              team     = each.value.name
            }
        ''',
        "grants/main.tf": '''
            variable "group_id" {}
            variable "team" {}

            resource "huaweicloud_identity_group_role_assignment" "a" {
              group_id    = var.group_id
              role_id     = "r-${var.team}"
              project_id  = "all"
            }
        ''',
    })
    data = sorted(i.address for i in result.instances if i.mode == "data")
    assert data == ['data.huaweicloud_identity_role.admin["dev"]', 'data.huaweicloud_identity_role.admin["ops"]']
    assignments = {i.address: i for i in result.instances if i.type.endswith("assignment")}
    ops = assignments['module.grants["ops"].huaweicloud_identity_group_role_assignment.a']
    assert described(ops.attr("group_id")) == ref('huaweicloud_identity_group.teams["ops"]')
    assert ops.attr("role_id") == "r-ops"


def test_dynamic_block_over_a_whole_resource(tmp_path: Path) -> None:
    result = load(tmp_path, {"main.tf": '''
        resource "huaweicloud_identity_role" "r" {
          for_each = toset(["reader", "exporter"])
          name     = "ims-${each.key}"
          type     = "XA"
        }

        resource "huaweicloud_identity_agency" "ecs" {
          name                   = "ecs"
          delegated_service_name = "op_svc_ecs"
          dynamic "project_role" {
            for_each = huaweicloud_identity_role.r
            content {
              project = "eu-west-101"
              roles   = [project_role.value.name]
            }
          }
        }
    '''})
    agency = next(i for i in result.instances if i.type == "huaweicloud_identity_agency")
    assert [b.attr("roles") for b in agency.nested("project_role")] == [["ims-exporter"], ["ims-reader"]]


def test_module_with_for_each_is_a_collection_of_its_instances(tmp_path: Path) -> None:
    module = root_module(load(tmp_path, {
        "main.tf": '''
            module "team" {
              for_each = toset(["ops", "dev"])
              source   = "./team"
              name     = each.key
            }

            resource "huaweicloud_identity_user" "anchor" {
              name = "anchor"
            }

            locals {
              names = [for m in module.team : m.group_name]
            }
        ''',
        "team/main.tf": '''
            variable "name" {}
            output "group_name" {
              value = "team-${var.name}"
            }
        ''',
    }))
    assert module.local("names") == ["team-dev", "team-ops"]


# ---- keys unknown: the result still names the resource ------------------------------------------

def test_unknown_keys_still_name_the_resource(tmp_path: Path) -> None:
    module = locals_of(tmp_path, f'''
      ids      = [for u in {LATER} : u.id]
      by_key   = {{ for k, u in {LATER} : k => u.id }}
      splat    = values({LATER})[*].id
      values   = values({LATER})
      filtered = [for u in {LATER} : u.id if u.enabled]
      dropped  = [for u in {LATER} : u.id if !u.enabled]
      length   = length({LATER})
    ''')
    unknown_ids = (LATER, ("id",), False)
    assert described(module.local("ids")) == unknown_ids
    assert described(module.local("by_key")) == unknown_ids
    assert described(module.local("splat")) == unknown_ids
    assert described(module.local("values")) == (LATER, (), False)
    assert described(module.local("filtered")) == unknown_ids
    assert module.local("dropped") == []  # `enabled` is true for every instance
    length = module.local("length")
    assert isinstance(length, Unknown) and not isinstance(length, Reference)
    assert "var.later" in length.depends_on


def test_for_each_over_a_resource_with_unknown_keys(tmp_path: Path) -> None:
    result = load(tmp_path, {"main.tf": USERS + f'''
        resource "huaweicloud_identity_group_membership" "m" {{
          for_each = {LATER}
          group    = "g"
          users    = [each.value.id]
          note     = each.value.enabled
        }}
    '''})
    membership = next(i for i in result.instances if i.type == "huaweicloud_identity_group_membership")
    assert membership.key is None and membership.count_unknown is not None
    assert "var.later" in membership.count_unknown.depends_on
    assert [described(u) for u in membership.attr("users")] == [(LATER, ("id",), False)]
    assert membership.attr("note") is True  # what every instance has in common is known


def test_a_reference_to_another_resource_in_the_body_is_not_kept(tmp_path: Path) -> None:
    """Zero instances are possible: a reference not drawn from the elements is no member."""
    module = locals_of(tmp_path, f'''
      other = [for u in {LATER} : huaweicloud_identity_user.ops[0].id]
    ''')
    value = module.local("other")
    assert isinstance(value, Unknown) and not isinstance(value, Reference)


def test_count_index_over_itself_stays_unknown(tmp_path: Path) -> None:
    module = locals_of(tmp_path, "n = length(huaweicloud_identity_user.loop)", extra='''
      resource "huaweicloud_identity_user" "loop" {
        count = length(huaweicloud_identity_user.loop)
        name  = "x"
      }
    ''')
    assert isinstance(module.local("n"), Unknown)


# ---- partly known lists ----------------------------------------------------------------------------

def test_concat_with_an_unset_variable_keeps_the_known_members() -> None:
    ctx = SimpleContext(variables={"extra": Unknown('variable "extra" has no value', ("var.extra",))})
    value = ev("concat([huaweicloud_identity_user.alice.id], var.extra)", ctx)
    assert isinstance(value, PartialList)
    assert [described(v) for v in value.known] == [ref("huaweicloud_identity_user.alice")]
    assert value.depends_on == ("var.extra",)


@pytest.mark.parametrize("expression, known", [
    ('setunion(["a"], var.x)', ["a"]),
    ('toset(concat(["b", "a", "b"], var.x))', ["b", "a"]),
    ('tolist(concat(["a"], var.x))', ["a"]),
    ('distinct(concat(["a", "a"], var.x))', ["a"]),
    ('compact(concat(["", "a", null], var.x))', ["a"]),
    ('flatten([["a", ["b"]], var.x])', ["a", "b"]),
    ('[for s in concat(["a"], var.x) : upper(s)]', ["A"]),
    ('[for s in concat(["a", "bb"], var.x) : s if length(s) > 1]', ["bb"]),
    ('concat([{ n = "a" }], var.x)[*].n', ["a"]),
])
def test_functions_keep_what_is_known_of_a_list(expression: str, known: list) -> None:
    value = ev(expression)
    assert isinstance(value, PartialList) and list(value.known) == known
    assert "var.x" in value.depends_on


def test_a_partly_known_list_is_unknown_everywhere_else() -> None:
    partial = 'concat(["a"], var.x)'
    assert ev(f'contains({partial}, "a")') is True
    for expression in (f'contains({partial}, "b")', f"length({partial})", f"{partial}[0]",
                       f"join(\",\", {partial})", f'{{ for s in {partial} : s => s }}'):
        value = ev(expression)
        assert isinstance(value, Unknown) and not isinstance(value, PartialList), expression


def test_a_member_that_may_be_dropped_is_never_claimed() -> None:
    ctx = SimpleContext(variables={"name": Unknown("no value", ("var.name",))})
    assert ev('compact(["a", var.name])', ctx).known == ("a",)  # var.name may be ""
    assert ev('flatten([["a"], var.name])', ctx).known == ("a",)  # var.name may be a list
    assert isinstance(ev('[for s in ["a", var.name] : s if s != "b"]', ctx), Unknown)  # var.name may be "b"


def test_flatten_keeps_instance_ids_which_are_never_lists() -> None:
    value = ev("flatten([[huaweicloud_identity_user.a.id], huaweicloud_identity_user.b.id, var.x])")
    assert [described(v) for v in value.known] == [ref("huaweicloud_identity_user.a"), ref("huaweicloud_identity_user.b")]
    assert isinstance(ev("flatten([huaweicloud_identity_user.a.groups])"), Unknown)  # may be a list


def test_a_set_of_references_keeps_every_member() -> None:
    value = ev("toset([huaweicloud_identity_user.a.id, huaweicloud_identity_user.b.id])")
    assert isinstance(value, PartialList) and not value.unknown_parts
    assert [described(v)[0] for v in value.known] == ["huaweicloud_identity_user.a", "huaweicloud_identity_user.b"]


def test_unknown_instances_in_a_partly_known_list_are_still_named(tmp_path: Path) -> None:
    module = locals_of(tmp_path, f'''
      members = concat([huaweicloud_identity_user.ops[0].id], values({LATER})[*].id)
      mapped  = [for id in concat([huaweicloud_identity_user.ops[0].id], values({LATER})[*].id) : id]
    ''')
    for name in ("members", "mapped"):
        value = module.local(name)
        assert isinstance(value, PartialList)
        assert [described(v) for v in value.known] == [ref("huaweicloud_identity_user.ops[0]")]
        assert [described(p) for p in value.unknown_parts] == [(LATER, ("id",), False)]


def test_fully_known_lists_are_unchanged() -> None:
    assert ev('concat(["a"], ["b"])') == ["a", "b"]
    assert ev('toset(["b", "a", "b"])') == ["a", "b"]
    assert ev('flatten([["a"], [["b"]]])') == ["a", "b"]


# ---- bounds ---------------------------------------------------------------------------------------

def test_a_chain_of_whole_resources_as_for_each_is_bounded(tmp_path: Path) -> None:
    """Each resource iterates the previous one: the instance budget, not time, bounds it."""
    blocks = ['resource "huaweicloud_identity_user" "u0" {\n  count = 10000\n  name = "u"\n}\n']
    for i in range(1, 6):
        blocks.append(f'resource "huaweicloud_identity_user" "u{i}" {{\n'
                      f'  for_each = {{ for k, u in huaweicloud_identity_user.u{i - 1} : k => u }}\n'
                      f'  name = "u"\n}}\n')
    result = load(tmp_path, {"main.tf": "".join(blocks)})
    assert len(result.instances) <= 20_000 + 5
    assert any(i.count_unknown is not None for i in result.instances)


def test_a_resource_collection_is_built_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nested loops asking for a big resource's instances do not list them again each time."""
    from iac_ims.terraform import modules

    built = []
    original = modules.ResourceHandle._new_collection
    monkeypatch.setattr(modules.ResourceHandle, "_new_collection", lambda self: built.append(1) or original(self))
    module = locals_of(tmp_path, '''
      n = [for i in range(1000) : [for j in range(1000) : length(huaweicloud_identity_user.many)]]
    ''', extra='''
      resource "huaweicloud_identity_user" "many" {
        count = 10000
        name  = "u"
      }
    ''')
    assert isinstance(module.local("n"), Unknown)  # the step budget ends it
    assert len(built) == 1


def test_for_over_resource_instances_spends_the_step_budget() -> None:
    class Many:
        def traverse_attr(self, name):
            return Reference("x", address="r", attribute=(name,))

        def traverse_index(self, key):
            return self

        def collection(self):
            return [Many() for _ in range(1000)]

    ctx = SimpleContext(resources={"huaweicloud_identity_user.r": Many()})
    from conftest import attr_expr
    from iac_ims.terraform.evaluate import evaluate

    tree = attr_expr("locals {\n  v = [for a in huaweicloud_identity_user.r : [for b in huaweicloud_identity_user.r : b.id]]\n}\n", "v")
    value = evaluate(tree, ctx, Budget(steps=50_000))
    assert isinstance(value, Unknown) and "budget" in value.reason


# ---- end to end -------------------------------------------------------------------------------------

def test_membership_over_a_resource_collection_is_resolved(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": USERS.replace("var.later", "toset([\"carol\"])") + f'''
        resource "huaweicloud_identity_group" "devs" {{
          name = "devs"
        }}

        resource "huaweicloud_identity_group_membership" "devs" {{
          group = huaweicloud_identity_group.devs.id
          users = [for u in {DEVS} : u.id]
        }}
    '''})
    assert not [f for f in findings_of(report, "IMS901") if "membership" in (f.resource or "")]
