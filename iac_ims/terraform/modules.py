"""Module instances: a root module or one instance of a module call, with its variables, locals,
outputs, child modules and resources evaluated lazily; the evaluation context of its blocks
(`ModuleContext`); what an expression sees of a resource or a module call (the handles); and the
count/for_each expansion of a resource or module block into instances."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, NamedTuple

from iac_ims.terraform.attribute_eval import NO_CONTEXT, eval_attribute, eval_expr
from iac_ims.terraform.context import MISSING
from iac_ims.terraform.instances import (MAX_INSTANCES, NestedBlock, ResourceInstance, block_address,
                                         iteration_items, some_element)
from iac_ims.terraform.parse import Block, JsonExpr
from iac_ims.terraform.sources import ModuleSource
from iac_ims.terraform.values import Invalid, Reference, Unknown, instance_suffix


# ---- the evaluation context of one module instance ------------------------------------


class ModuleContext:
    """EvalContext for the blocks of one module instance (and one count/for_each instance).
    `uncertain`: the instance may not exist in a real run, or its each/count values may differ
    (its count/for_each is unknown or read something uncertain; see certainty.py)."""

    __slots__ = ("owner", "each_key", "each_value", "count_index", "origin", "iterators", "_uncertain",
                 "path_module", "path_root", "path_cwd")

    def __init__(self, module: "ModuleInstance", each_key: Any = MISSING, each_value: Any = MISSING,
                 count_index: Any = MISSING, origin: Block | None = None,
                 iterators: dict[str, dict[str, Any]] | None = None, uncertain: bool = False):
        self.owner = module
        self.each_key = each_key
        self.each_value = each_value
        self.count_index = count_index
        self.origin = origin
        self.iterators = iterators or {}
        self._uncertain = uncertain
        self.path_module = module.path_module
        # Terraform runs in the root module's directory: both name it (relative, as path.root renders)
        self.path_root = "."
        self.path_cwd = "."

    @property
    def uncertain(self) -> bool:
        return self._uncertain or self.owner.uncertain

    def derive(self, **changes: Any) -> "ModuleContext":
        values = dict(each_key=self.each_key, each_value=self.each_value, count_index=self.count_index,
                      origin=self.origin, iterators=self.iterators, uncertain=self._uncertain)
        values.update(changes)
        return ModuleContext(self.owner, **values)

    def with_iterator(self, name: str, key: Any, value: Any, uncertain: bool = False) -> "ModuleContext":
        iterators = dict(self.iterators)
        iterators[name] = {"key": key, "value": value}
        return self.derive(iterators=iterators, uncertain=self._uncertain or uncertain)

    def note_uncertain(self) -> None:
        self.owner.loader.certainty.note()

    def reject(self, invalid: Invalid) -> None:
        self.owner.loader.certainty.reject(invalid)

    # EvalContext
    def variable(self, name: str) -> Any:
        return self.owner.variable(name)

    def local(self, name: str) -> Any:
        return self.owner.local(name)

    def module(self, name: str) -> Any:
        return self.owner.child_reference(name)

    def resource(self, type_: str, name: str) -> Any:
        if type_ in self.iterators:
            iterator = self.iterators[type_]
            if name in iterator:
                return iterator[name]
            return Unknown(f"{type_}.{name}: a dynamic iterator has only key and value")
        return self.owner.resource_reference("managed", type_, name)

    def data(self, type_: str, name: str) -> Any:
        return self.owner.resource_reference("data", type_, name)

    def read_file(self, path: str) -> Any:
        self.note_uncertain()  # the file may be generated or changed before a real run
        return self.owner.loader.read_file(path, self.owner, self.origin)



# ---- references to resources and modules --------------------------------------------------


class ResourceHandle:
    """`type.name` seen from an expression: known arguments are values, the rest references.

    A resource with count/for_each (`expanded`) is a collection: `collection()` gives its
    instances' handles as Terraform sees them (a list for count, a map for for_each), or, when its
    keys are unknown, a Reference naming it, and `some_instance()` a handle standing for any one
    of its instances (`some`): what every instance has in common, references for the rest."""

    def __init__(self, module: "ModuleInstance", mode: str, type_: str, name: str, block: Block, key: Any = None,
                 expanded: bool = False, some: bool = False):
        self.module = module
        self.mode = mode
        self.type = type_
        self.name = name
        self.block = block
        self.key = key
        self.expanded = expanded  # has count/for_each and no instance chosen yet
        self.some = some  # any one instance of a resource whose instance keys are unknown

    @property
    def address(self) -> str:
        prefix = "data." if self.mode == "data" else ""
        return f"{self.module.address_prefix}{prefix}{self.type}.{self.name}{instance_suffix(self.key)}"

    def _reference(self, attribute: tuple[str, ...]) -> Reference:
        what = "read at plan time" if self.mode == "data" else "known only after apply"
        dotted = ".".join((self.address, *attribute))
        return Reference(f"{dotted} is {what}", (self.address,), address=self.address, attribute=attribute,
                         instance_keys_known=not (self.expanded or self.some))

    def traverse_attr(self, name: str) -> Any:
        if self.expanded:
            return self._reference((name,))
        if name in self.block.attributes and name not in ("count", "for_each", "depends_on", "provider"):
            instance = self.module.instance_of(self.mode, self.type, self.name, self.block, self.key)
            if instance is not None:
                value = instance.attr(name)
                if not isinstance(value, Unknown):
                    return value
        return self._reference((name,))

    def traverse_index(self, key: Any) -> Any:
        if not self.expanded:
            return Unknown(f"{self.address} has no count or for_each to index")
        if isinstance(key, float) and key.is_integer():
            key = int(key)
        return ResourceHandle(self.module, self.mode, self.type, self.name, self.block, key, expanded=False)

    def collection(self) -> Any:
        """The instances as a list (count) or map (for_each) of handles; a Reference to the
        resource (`instance_keys_known=False`) when its keys are unknown; None when the
        resource has neither count nor for_each (it is one object, not a collection).  Built
        once per resource: a hostile file may ask for it in nested loops."""
        if not self.expanded:
            return None
        return self.module.resource_collection(self.mode, self.type, self.name, self._new_collection)

    def _new_collection(self) -> Any:
        unknown, instances = self.module.instance_keys(self.mode, self.type, self.name, self.block)
        if unknown is not None:
            return Reference(f"the instances of {self.address} are not known: {unknown.reason}",
                             (self.address, *(d for d in unknown.depends_on if d != self.address)),
                             address=self.address, instance_keys_known=False)
        handles = [(key, ResourceHandle(self.module, self.mode, self.type, self.name, self.block, key))
                   for key in instances]
        if "count" in self.block.attributes:
            return [handle for _, handle in handles]
        return dict(handles)

    def some_instance(self) -> "ResourceHandle":
        return ResourceHandle(self.module, self.mode, self.type, self.name, self.block, None, some=True)

    def splat(self) -> Any:
        """`r[*]`: the instances of a resource with count; anything else is wrapped, as Terraform
        wraps a value that is not a list."""
        collection = self.collection()
        return collection if isinstance(collection, (list, Unknown)) else [self]


class ModuleHandle:
    """`module.name` seen from an expression: its outputs, evaluated in the child instance.
    A call with count/for_each is a collection of its instances (`collection()`)."""

    def __init__(self, parent: "ModuleInstance", name: str, instances: dict[Any, "ModuleInstance"], expanded: bool):
        self.parent = parent
        self.name = name
        self.instances = instances
        self.expanded = expanded

    def traverse_attr(self, name: str) -> Any:
        if self.expanded:
            return Unknown(f"module.{self.name} has count/for_each: index it first", (f"module.{self.name}",))
        child = self.instances.get(None)
        if child is None:
            return Unknown(f"module.{self.name} was not loaded", (f"module.{self.name}",))
        return child.output(name)

    def traverse_index(self, key: Any) -> Any:
        if isinstance(key, float) and key.is_integer():
            key = int(key)
        child = self.instances.get(key)
        if child is None:
            return Unknown(f"module.{self.name}[{key!r}] does not exist", (f"module.{self.name}",))
        return ModuleHandle(self.parent, self.name, {None: child}, expanded=False)

    def collection(self) -> Any:
        """The instances of a call with count (a list) or for_each (a map); None otherwise."""
        if not self.expanded:
            return None
        self.parent.loader.certainty.note(self.parent.children_uncertain.get(self.name, True))
        return self.parent.child_collection(self.name, self._new_collection)

    def _new_collection(self) -> Any:
        handles = {key: ModuleHandle(self.parent, self.name, {None: child}, expanded=False)
                   for key, child in self.instances.items()}
        block = self.parent.source.module_calls.get(self.name)
        if block is not None and "count" in block.attributes:
            return [handles[key] for key in sorted(handles)]
        return {key: handles[key] for key in sorted(handles)}


# ---- module instances ----------------------------------------------------------------


class ModuleInstance:
    """One instance of a module: a root module (`is_root`: no caller; its variables come from
    defaults, tfvars and --var/--var-file) or a module call's instance (variables from the
    call's arguments).  `uncertain`: the instance may not exist in a real run (see certainty.py).
    `loader`: the loader.Loader that loads it (typed Any: loader.py builds on this module)."""

    def __init__(self, loader: Any, source: ModuleSource, scan_root: Path, root_dir: Path,
                 address_prefix: str, inputs: dict[str, Callable[[], Any]], calls: tuple[Block, ...],
                 ancestors: tuple[Path, ...], uncertain: bool = False):
        self.loader = loader
        self.source = source
        self.scan_root = scan_root
        self.root_dir = root_dir
        self.address_prefix = address_prefix
        self.inputs = inputs
        self.calls = calls
        self.ancestors = ancestors
        self.is_root = not calls
        self.uncertain = uncertain
        rel = os.path.relpath(source.directory, root_dir)
        self.path_module = "." if rel == "." else rel.replace(os.sep, "/")
        self.base_ctx = ModuleContext(self)
        self._variables: dict[str, tuple[Any, bool]] = {}
        self._locals: dict[str, tuple[Any, bool]] = {}
        self._outputs: dict[str, tuple[Any, bool]] = {}
        self._in_progress: set[str] = set()
        self.children: dict[str, dict[Any, ModuleInstance]] = {}
        self.children_uncertain: dict[str, bool] = {}  # module call -> whether its instances may differ
        self.child_unknown: dict[str, Unknown] = {}
        self.instances: dict[tuple[str, str, str], list[ResourceInstance]] = {}
        self._expansions_uncertain: dict[tuple[str, str, str], bool] = {}
        self._collections: dict[tuple[str, str, str], Any] = {}
        self._expanding: set[tuple[str, str, str]] = set()

    # values
    def _guarded(self, key: str, cache: dict[str, tuple[Any, bool]], compute: Callable[[], Any]) -> Any:
        if key in cache:
            value, uncertain = cache[key]
            self.loader.certainty.note(uncertain)
            return value
        if key in self._in_progress:
            return Unknown(f"{key} refers to itself", (key,))
        if len(self._in_progress) > 200:
            return Unknown(f"{key}: references nested too deeply", (key,))
        self._in_progress.add(key)
        try:
            value, frame = self.loader.certainty.measure(compute)
            cache[key] = (value, frame.uncertain)
        finally:
            self._in_progress.discard(key)
        return cache[key][0]

    def variable(self, name: str) -> Any:
        value = self._guarded(f"var.{name}", self._variables, lambda: self._variable_value(name))
        if self.is_root:  # -var, -var-file, TF_VAR_ or an unseen tfvars file may set it
            self.loader.certainty.note()
        return value

    def _variable_value(self, name: str) -> Any:
        block = self.source.variable(name)
        dependency = f"{self.address_prefix}var.{name}"
        if block is None and self.source.certainly_lacks("variable", name):
            return Invalid(f'reference to undeclared input variable "{name}"', (dependency,), static=True)
        if name in self.inputs:
            value = self.inputs[name]()
            if block is None:
                return value
            if value is not None:
                return _typed(value, block)
        if block is None:
            return Unknown(f"variable \"{name}\" is not declared", (dependency,))
        default = block.attributes.get("default")
        if default is not None:
            return _typed(eval_expr(default.expr, NO_CONTEXT), block)
        return Unknown(f"variable \"{name}\" has no value", (dependency,))

    def local(self, name: str) -> Any:
        def compute() -> Any:
            attribute = self.source.local(name)
            dependency = f"{self.address_prefix}local.{name}"
            if attribute is None:
                if self.source.certainly_lacks("local", name):
                    return Invalid(f'reference to undeclared local value "{name}"', (dependency,), static=True)
                return Unknown(f"local.{name} is not declared", (dependency,))
            return eval_attribute(attribute, self.base_ctx, self.source.local_files.get(name), None)[0]

        return self._guarded(f"local.{name}", self._locals, compute)

    def output(self, name: str) -> Any:
        def compute() -> Any:
            block = self.source.output(name)
            if block is None or "value" not in block.attributes:
                return Unknown(f"{self.address_prefix}output {name} is not declared",
                               (f"{self.address_prefix.rstrip('.')}.{name}",))
            return eval_attribute(block.attributes["value"], self.base_ctx.derive(origin=block), block.file, None)[0]

        return self._guarded(f"output.{name}", self._outputs, compute)

    def child_reference(self, name: str) -> Any:
        if name in self.child_unknown:
            return self.child_unknown[name]
        instances = self.children.get(name)
        if instances is None:
            dependency = f"{self.address_prefix}module.{name}"
            if name not in self.source.module_calls and self.source.certainly_lacks("module", name):
                return Invalid(f'reference to undeclared module "{name}"', (dependency,), static=True)
            return Unknown(f"module.{name} is not declared or not loaded yet", (dependency,))
        expanded = not (len(instances) == 1 and None in instances)
        return ModuleHandle(self, name, instances, expanded)

    def child_collection(self, name: str, build: Callable[[], Any]) -> Any:
        """A module call's instances as a collection (see ModuleHandle.collection), built once."""
        key = ("module", "", name)
        if key not in self._collections:
            self._collections[key] = build()
        return self._collections[key]

    def resource_reference(self, mode: str, type_: str, name: str) -> Any:
        block = self.source.resource(mode, type_, name)
        prefix = "data." if mode == "data" else ""
        if block is None:
            dependency = f"{self.address_prefix}{prefix}{type_}.{name}"
            if self.source.certainly_lacks("data" if mode == "data" else "resource", (type_, name)):
                what = "data source" if mode == "data" else "resource"
                return Invalid(f'reference to undeclared {what} "{prefix}{type_}.{name}"', (dependency,), static=True)
            return Unknown(f"{dependency} is not declared", (dependency,))
        expanded = "count" in block.attributes or "for_each" in block.attributes
        return ResourceHandle(self, mode, type_, name, block, expanded=expanded)

    # root-module inputs, for the IAM layer
    def unset_variable(self, name: str) -> Block | None:
        """The `variable` block of a root-module variable that has no value from anywhere: no
        default, and not set by a tfvars file Terraform loads, --var-file or --var.  None for a
        variable with a value, an undeclared one, or in a called module (its caller sets it)."""
        block = self._root_variable_block(name)
        return block if block is not None and "default" not in block.attributes else None

    def nullable_unset_variable(self, name: str) -> Block | None:
        """The `variable` block of a root-module variable whose only value is `default = null`
        (nothing sets it); None otherwise (see `unset_variable`)."""
        block = self._root_variable_block(name)
        if block is None or "default" not in block.attributes:
            return None
        return block if eval_expr(block.attributes["default"].expr, NO_CONTEXT) is None else None

    def _root_variable_block(self, name: str) -> Block | None:
        """A variable of this root module that no tfvars file, --var-file or --var sets."""
        if not self.is_root or name in self.inputs:
            return None
        return self.source.variable(name)

    # instances
    def provider_argument(self, provider: str, name: str, aliased: bool) -> Any:
        """An argument of the root module's `provider` block its resources use (the one without
        `alias`; `aliased`: a resource that names another configuration, which is not resolved:
        unknown when some block sets the argument). None when no block sets it."""
        root = next((m for m in self.loader.root_modules if m.source.directory == self.root_dir), None)
        if root is None:
            return None
        blocks = [b for b in root.source.provider_blocks(provider) if name in b.attributes]
        if aliased:
            return Unknown(f"the {name} of the provider configuration it names", ()) if blocks else None
        for block in blocks:
            if "alias" not in block.attributes:
                return NestedBlock("provider", block, root.base_ctx.derive(origin=block)).attr(name)
        return None

    def instances_of(self, mode: str, type_: str, name: str, block: Block) -> list[ResourceInstance]:
        """The instances of a resource block, expanded once (when first needed)."""
        key = (mode, type_, name)
        if key not in self.instances:
            if key in self._expanding:  # count/for_each that refers to the resource itself
                return []
            self._expanding.add(key)
            try:
                self.instances[key] = self.expand(block, mode)
            finally:
                self._expanding.discard(key)
        return self.instances[key]

    def instance_of(self, mode: str, type_: str, name: str, block: Block, key: Any) -> ResourceInstance | None:
        for instance in self.instances_of(mode, type_, name, block):
            if instance.key == key or instance.count_unknown is not None:
                return instance
        return None

    def instance_keys(self, mode: str, type_: str, name: str, block: Block) -> tuple[Unknown | None, list[Any]]:
        """(why the keys are unknown, or None; the instance keys, in Terraform's order)."""
        key = (mode, type_, name)
        if key in self._expanding:
            return Unknown(f"the count or for_each of {type_}.{name} refers to itself"), []
        instances = self.instances_of(mode, type_, name, block)
        unknown = next((i.count_unknown for i in instances if i.count_unknown is not None), None)
        return unknown, [i.key for i in instances]

    def resource_collection(self, mode: str, type_: str, name: str, build: Callable[[], Any]) -> Any:
        """A resource's instances as a collection (see ResourceHandle.collection), built once;
        the reader inherits the uncertainty of its count/for_each."""
        key = (mode, type_, name)
        collection = self._collections.get(key)
        if collection is None:
            collection = build()
            if key not in self._expanding:  # while it expands, its instances are not known yet
                self._collections[key] = collection
        self.loader.certainty.note(self._expansions_uncertain.get(key, True))
        return collection

    def expand(self, block: Block, mode: str) -> list[ResourceInstance]:
        type_, name = block.labels[0], block.labels[1]
        result = expansion(block, self.base_ctx.derive(origin=block))
        self._expansions_uncertain[(mode, type_, name)] = result.uncertain
        return [ResourceInstance(mode, type_, name, self.address_prefix, key, block, key_ctx, self.scan_root,
                                 self.calls, result.unknown) for key, key_ctx in result.keys]


class Expansion(NamedTuple):
    keys: list[tuple[Any, ModuleContext]]  # (instance key, its context)
    unknown: Unknown | None  # why the count/for_each cannot be resolved (one instance, no key)
    uncertain: bool  # the instances could differ in a real run (certainty.py)


def expansion(block: Block, ctx: ModuleContext) -> Expansion:
    """The instances of a resource or module block.  When the count / for_each cannot be resolved,
    or would exceed the scan's instance budget, the block is one instance without a key, and the
    Unknown says why; a for_each over a resource whose keys are unknown still gives `each.value`
    the handle of its instances."""
    address = block_address(ctx.owner.address_prefix, block)
    if "count" in block.attributes:
        return _count_expansion(block, ctx, address)
    if "for_each" in block.attributes:
        return _for_each_expansion(block, ctx, address)
    return Expansion([(None, ctx)], None, False)


def _count_expansion(block: Block, ctx: ModuleContext, address: str | None) -> Expansion:
    count, uncertain = eval_attribute(block.attributes["count"], ctx, block.file, address)
    if isinstance(count, Unknown):
        unknown = count
    elif isinstance(count, bool) or not isinstance(count, (int, float)) or count < 0 or count != int(count):
        unknown = Unknown(f"count is not a whole number: {count!r}")
    elif count > MAX_INSTANCES or not ctx.owner.loader.take_instances(int(count)):
        unknown = Unknown(f"count {int(count)} is more than the scan can expand")
    else:
        return Expansion([(i, ctx.derive(count_index=i, uncertain=uncertain)) for i in range(int(count))], None,
                         uncertain)
    index = Unknown("count.index of an unknown count", unknown.depends_on)
    return Expansion([(None, ctx.derive(count_index=index, uncertain=True))], unknown, True)


def _for_each_expansion(block: Block, ctx: ModuleContext, address: str | None) -> Expansion:
    collection, uncertain = eval_attribute(block.attributes["for_each"], ctx, block.file, address)
    items = iteration_items(collection)
    if not isinstance(items, Unknown) and not ctx.owner.loader.take_instances(len(items)):
        items = Unknown(f"for_each has {len(items)} elements, more than the scan can expand")
    if isinstance(items, Unknown):
        each = Unknown("each of an unknown for_each", items.depends_on)
        key_ctx = ctx.derive(each_key=each, each_value=some_element(collection, each), uncertain=True)
        return Expansion([(None, key_ctx)], items, True)
    return Expansion([(k, ctx.derive(each_key=k, each_value=v, uncertain=uncertain)) for k, v in items], None,
                     uncertain)


def _typed(value: Any, block: Block) -> Any:
    """A variable's value converted to its declared type (optional attributes filled in)."""
    type_attribute = block.attributes.get("type")
    if type_attribute is None or isinstance(type_attribute.expr, JsonExpr):
        return value
    from iac_ims.terraform.types import conform

    return conform(value, type_attribute.expr, lambda expr: eval_expr(expr, NO_CONTEXT))
