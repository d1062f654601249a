"""What applying the scanned configuration needs: the provider calls each image resource and data
source makes in each Terraform phase, and the IAM actions those calls need.

The facts are data (`rules/provider_calls.yaml`, `Catalog.provider_calls`): for each resource
type, the calls of each provider phase (read, create, update, delete, import) with their actions
and when they happen. Here they meet the Terraform blocks: a call happens or not as the block's
arguments say (`When`), and Terraform's phases run provider phases:

- plan: every data source is read, and every resource refreshed (read);
- apply: resources are created (then read), updated (then read), and refreshed;
- destroy: resources are refreshed, then deleted.

A call's need is `True` (it happens), or `None` when it may happen but the scan cannot tell (an
argument whose value is unknown, a fallback after an error, a condition the block does not
decide): never dropped, never invented.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from iac_ims.catalog import AttributeRef, CallRequirement, Catalog, ProviderCall, ResourceCalls, When
from iac_ims.terraform.values import Reference, Unknown

TERRAFORM_PHASES = ("plan", "apply", "destroy")
# the provider phases each Terraform phase runs
PROVIDER_PHASES = {
    "plan": ("read",),
    "apply": ("create", "update", "read"),
    "destroy": ("read", "delete"),
}
DATA_PHASES = {"plan": ("read",), "apply": ("read",), "destroy": ("read",)}


@dataclass(frozen=True)
class Need:
    """One provider call a block makes in one Terraform phase."""

    instance: Any  # the ResourceInstance
    calls: ResourceCalls
    call: ProviderCall
    phase: str  # plan | apply | destroy
    certain: bool  # False: it may happen, the scan cannot tell (see `why`)
    why: str  # what makes it happen (or may)
    # actions of this call that are certainly needed all the same: it is one of alternatives
    # one of which certainly happens (see certain_together)
    certain_actions: frozenset[str] = frozenset()

    @property
    def address(self) -> str:
        return self.instance.address

    @property
    def actions(self) -> tuple[str, ...]:
        return self.call.actions


def resource_calls_of(instance: Any, catalog: Catalog) -> ResourceCalls | None:
    return catalog.resource_calls(instance.type, "data" if instance.mode == "data" else "resource")


def needs(instances: Iterable[Any], catalog: Catalog, phases: Iterable[str] = TERRAFORM_PHASES) -> list[Need]:
    """Every call the blocks make in the phases asked for, in block and source order."""
    found: list[Need] = []
    wanted = tuple(phases)
    for instance in instances:
        calls = resource_calls_of(instance, catalog)
        if calls is None:
            continue
        found.extend(_needs_of(instance, calls, wanted))
    return found


def _needs_of(instance: Any, calls: ResourceCalls, phases: tuple[str, ...]) -> Iterator[Need]:
    table = DATA_PHASES if calls.kind == "data" else PROVIDER_PHASES
    exists = instance.count_unknown is None  # else its count / for_each cannot be resolved: it may not exist
    for phase in phases:
        for provider_phase in table[phase]:
            found: list[tuple[ProviderCall, bool | None, str]] = []
            for call in calls.phase(provider_phase):
                happens, why = happens_when(call.when, instance, provider_phase)
                if happens is not False:
                    found.append((call, happens, why))
            joint = _jointly_certain(found, instance, provider_phase) if exists else frozenset()
            for call, happens, why in found:
                if not exists:
                    why = f"{why}; whether {instance.address} exists cannot be resolved statically"
                yield Need(instance, calls, call, phase, happens is True and exists, why,
                           joint & frozenset(call.actions))


def _jointly_certain(found: list[tuple[ProviderCall, bool | None, str]], instance: Any,
                     provider_phase: str) -> frozenset[str]:
    """The actions no single call certainly needs, but alternatives of which one certainly happens do."""
    certain = {a for call, happens, _ in found if happens for a in call.actions}
    possible: dict[str, list[ProviderCall]] = {}
    for call, happens, _ in found:
        if happens is None:
            for action in call.actions:
                if action not in certain:
                    possible.setdefault(action, []).append(call)
    return frozenset(action for action, alternatives in possible.items()
                     if len(alternatives) > 1 and certain_together(alternatives, instance, provider_phase))


def prerequisites_of(need: Need) -> Iterator[tuple[CallRequirement, bool]]:
    """The permissions outside its actions a need's call asks for, each with whether it is certain
    (the requirement's own `when`, on top of the call's)."""
    for requirement in need.call.requires:
        happens, _why = happens_when(requirement.when, need.instance, need.call.phase)
        if happens is not False:
            yield requirement, bool(happens) and need.certain


Comparison = tuple[str, str]  # (argument, the value it is compared with, as written in the data)


def happens_when(when: When, instance: Any, provider_phase: str,
                 assume: dict[Comparison, bool] | None = None) -> tuple[bool | None, str]:
    """(True: the call happens, False: it does not, None: it may), and why, for one block.
    `assume`: outcomes taken for comparisons the block leaves unknown (argument equals value)."""
    form = when.form
    if form == "always":
        return True, "always"
    if form in ("on_error", "other"):
        return None, when.text
    if form in ("attribute_set", "attribute_unset", "attribute_changes"):
        states = [_is_set(instance, name) for name in when.attributes]
        names = ", ".join(when.attributes)
        set_now = ", ".join(n for n, state in zip(when.attributes, states) if state)
        if form == "attribute_unset":  # none of them is set
            if set_now:
                return False, f"{set_now} is set"
            if None in states:
                return None, f"whether {names} is set cannot be resolved statically"
            return True, f"{names} is not set"
        if set_now:
            return True, f"{set_now} is set" if form == "attribute_set" else f"when {set_now} changes"
        if None in states:
            return None, f"whether {names} is set cannot be resolved statically"
        return False, f"{names} is not set"
    if form in ("attribute_equals", "attribute_differs"):
        return _compare(when, instance, assume or {})
    if form in ("all_of", "any_of"):
        results = [happens_when(clause, instance, provider_phase, assume) for clause in when.clauses]
        outcomes = [r for r, _ in results]
        if form == "all_of":
            state: bool | None = False if False in outcomes else (None if None in outcomes else True)
        else:
            state = True if True in outcomes else (None if None in outcomes else False)
        return state, "; ".join(why for _, why in results)
    return None, f"a condition iac-ims cannot evaluate ({form})"


# Arguments the provider merges with an argument of its own configuration (the provider-call map
# says `tags` includes the provider's `default_tags`).
PROVIDER_DEFAULTS = {"tags": "default_tags"}


def _value(instance: Any, name: str) -> Any:
    if instance.has(name):
        return instance.attr(name)
    owner = instance.module_instance
    if name in PROVIDER_DEFAULTS and owner is not None:
        return owner.provider_argument(instance.type.split("_", 1)[0], PROVIDER_DEFAULTS[name],
                                       aliased=instance.has("provider"))
    return None


def _is_set(instance: Any, name: str) -> bool | None:
    """The provider's GetOk: not null, not empty. None when the value cannot be resolved."""
    value = _value(instance, name)
    if isinstance(value, Reference) and value.attribute == ("id",) and value.instance_keys_known:
        return True  # the ID of one resource or data-source instance: unknown until apply, never empty
    if isinstance(value, Unknown):
        return None
    return value not in (None, "", [], {}) and value is not False


def _compare(when: When, instance: Any, assume: dict[Comparison, bool]) -> tuple[bool | None, str]:
    results: list[bool | None] = []
    for name, spec in zip(when.attributes, when.values):
        equal = _equal(instance, name, spec)
        if equal is None:
            equal = assume.get(_comparison(name, spec))
        if when.form == "attribute_differs" and _is_set(instance, name) is False:
            results.append(False)  # differs means set to another value: an unset argument does not differ
            continue
        results.append(None if equal is None else equal if when.form == "attribute_equals" else not equal)
    state: bool | None = False if False in results else (None if None in results else True)
    names = ", ".join(when.attributes)
    return state, f"{names} {'equals' if when.form == 'attribute_equals' else 'differs from'} the value named"


def _equal(instance: Any, name: str, spec: Any) -> bool | None:
    """Whether the argument is set to that value (False when it is not set); None: unknown."""
    actual = _value(instance, name)
    expected = spec
    if isinstance(spec, AttributeRef):
        expected = _value(instance, spec.name)
        if expected is None:
            expected = Unknown(f"the provider's {spec.name}")  # an unset argument is the provider's
    if isinstance(actual, Unknown):
        return None
    if actual is None:
        return False
    return None if isinstance(expected, Unknown) else actual == expected


def _comparison(name: str, spec: Any) -> Comparison:
    return name, repr(spec)


def _unknown_comparisons(when: When, instance: Any) -> set[Comparison]:
    found: set[Comparison] = set()
    if when.form in ("attribute_equals", "attribute_differs"):
        found.update(_comparison(n, v) for n, v in zip(when.attributes, when.values) if _equal(instance, n, v) is None)
    for clause in when.clauses:
        found |= _unknown_comparisons(clause, instance)
    return found


MAX_ALTERNATIVES = 4  # unknown comparisons case-split when deciding whether alternatives cover every case


def certain_together(calls: list[ProviderCall], instance: Any, provider_phase: str) -> bool:
    """Whether one of these calls certainly happens although none does alone: the provider picks
    one by comparing arguments the scan cannot resolve (copy within the region, or across it),
    and every outcome of those comparisons makes one of them happen."""
    atoms = sorted(set().union(*(_unknown_comparisons(c.when, instance) for c in calls))) if calls else []
    if not atoms or len(atoms) > MAX_ALTERNATIVES:
        return False
    for outcome in itertools.product((True, False), repeat=len(atoms)):
        assume = dict(zip(atoms, outcome))
        if not any(happens_when(c.when, instance, provider_phase, assume)[0] is True for c in calls):
            return False
    return True


# ---- what the needs come to, per resource block --------------------------------------------

_EP_STRICTNESS = {"yes": 0, "unknown": 1, "no": 2}


@dataclass
class ActionNeed:
    """One IAM action a resource block needs, over all its calls that need it."""

    action: str
    level: str  # the level of its service: project | global
    enterprise_project: str  # yes | no | unknown: the strictest of its calls'
    certain: bool  # some call that needs it certainly happens
    phases: list[str]  # Terraform phases, in order
    provider_phases: list[str]  # read, create, update, delete, in order
    calls: list[str]  # "GET /v2/cloudimages", in order
    whys: list[str]
    # the strictest enterprise_project of the calls that certainly happen ("yes" when none does
    # alone): "no" here means a grant through an enterprise project certainly fails
    certain_enterprise_project: str = "yes"

    def where(self) -> str:
        return where(self.provider_phases, self.calls)


@dataclass
class UnconfirmedCall:
    """A call whose IAM action no permission table lists: it cannot be checked."""

    phases: list[str]
    provider_phases: list[str]
    call: str
    note: str
    certain: bool

    def where(self) -> str:
        return where(self.provider_phases, [self.call])


@dataclass
class PrerequisiteNeed:
    """A permission outside the calls' actions (another service's, or a system role)."""

    requirement: CallRequirement
    certain: bool
    phases: list[str]
    provider_phases: list[str]
    calls: list[str]

    def where(self) -> str:
        return where(self.provider_phases, self.calls)


@dataclass
class ResourceNeeds:
    """Everything one resource block (all its instances) needs."""

    address: str  # the block's address (without an instance key)
    type: str
    kind: str  # resource | data
    instances: list[str]
    instance: Any  # the first instance (its file and line)
    actions: list[ActionNeed]
    unconfirmed: list[UnconfirmedCall]
    prerequisites: list[PrerequisiteNeed]


def resource_block_address(instance: Any) -> str:
    """The address of an instance's block: without its `count` / `for_each` key, nor those of the
    module calls it is in (every instance of a module is the same block)."""
    modules = "".join(f"module.{call.labels[0]}." for call in instance.module_calls)
    return f"{modules}{'data.' if instance.mode == 'data' else ''}{instance.type}.{instance.name}"


def service_level(action: str, catalog: Catalog) -> str:
    service = catalog.services.get(action.split(":", 1)[0].strip().lower())
    return service.level if service is not None else "project"


def by_resource(found: Iterable[Need], catalog: Catalog) -> list[ResourceNeeds]:
    """The needs grouped per resource block, in the order the blocks were found."""
    groups: dict[tuple[str, str], ResourceNeeds] = {}
    for need in found:
        owner = need.instance.module_instance
        key = (str(owner.root_dir if owner is not None else need.instance.scan_root),
               resource_block_address(need.instance))
        group = groups.get(key)
        if group is None:
            group = groups[key] = ResourceNeeds(key[1], need.calls.type, need.calls.kind, [], need.instance, [], [], [])
        if need.address not in group.instances:
            group.instances.append(need.address)
        _add_need(group, need, catalog)
    return list(groups.values())


def _add_need(group: ResourceNeeds, need: Need, catalog: Catalog) -> None:
    call = need.call
    # an update call happens when an argument changes: which one is part of when it is needed
    phase = call.phase if call.phase != "update" or need.why == "always" else f"update ({need.why})"
    if call.unconfirmed:
        unconfirmed = next((u for u in group.unconfirmed if u.call == call.api), None)
        if unconfirmed is None:
            unconfirmed = UnconfirmedCall([], [], call.api, call.unconfirmed_note or call.prerequisite_note, False)
            group.unconfirmed.append(unconfirmed)
        unconfirmed.certain = unconfirmed.certain or need.certain
        _extend(unconfirmed.phases, need.phase, TERRAFORM_PHASES)
        _extend(unconfirmed.provider_phases, phase, PROVIDER_PHASE_ORDER)
    for action in call.actions:
        entry = next((a for a in group.actions if a.action == action), None)
        if entry is None:
            entry = ActionNeed(action, service_level(action, catalog), call.enterprise_project, False,
                               [], [], [], [])
            group.actions.append(entry)
        elif _EP_STRICTNESS[call.enterprise_project] > _EP_STRICTNESS[entry.enterprise_project]:
            entry.enterprise_project = call.enterprise_project
        entry.certain = entry.certain or need.certain or action in need.certain_actions
        if need.certain and _EP_STRICTNESS[call.enterprise_project] > _EP_STRICTNESS[entry.certain_enterprise_project]:
            entry.certain_enterprise_project = call.enterprise_project
        _extend(entry.phases, need.phase, TERRAFORM_PHASES)
        _extend(entry.provider_phases, phase, PROVIDER_PHASE_ORDER)
        _extend(entry.calls, call.api)
        _extend(entry.whys, need.why)
    for requirement, certain in prerequisites_of(need):
        prerequisite = next((p for p in group.prerequisites if p.requirement == requirement), None)
        if prerequisite is None:
            prerequisite = PrerequisiteNeed(requirement, False, [], [], [])
            group.prerequisites.append(prerequisite)
        prerequisite.certain = prerequisite.certain or certain
        _extend(prerequisite.phases, need.phase, TERRAFORM_PHASES)
        _extend(prerequisite.provider_phases, phase, PROVIDER_PHASE_ORDER)
        _extend(prerequisite.calls, call.api)


PROVIDER_PHASE_ORDER = ("read", "create", "update", "delete", "import")


def _extend(items: list[str], item: str, order: tuple[str, ...] | None = None) -> None:
    """Add `item` once; with `order`, keep the items ordered by their first word's place in it."""
    if item not in items:
        items.append(item)
        if order is not None:
            items.sort(key=lambda text: order.index(text.split(" ", 1)[0]))


def where(provider_phases: list[str], calls: list[str]) -> str:
    """`read (every plan), update: GET /v2/cloudimages, PATCH /v2/cloudimages/{image_id}`."""
    verbs = ", ".join("read (every plan)" if p == "read" else p for p in provider_phases)
    return f"{verbs}: {', '.join(calls)}"
