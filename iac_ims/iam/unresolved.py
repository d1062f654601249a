"""What the IAM layer could not resolve statically (IMS901), said once per block and cause.

The same cause shows up many times: in every attribute that depends on it, and in every instance
of a module called several times. A reader needs it once, where it can be fixed:
- one finding per block (file and line, whatever the module instance) and cause, naming the
  attributes it affects and, for literal role IDs, every ID the block is given;
- inputs of a module that nothing scanned calls (scanned on its own, its variables unset) are
  named once for the module, at its first such variable, not at every value that depends on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from iac_ims.terraform.values import Diagnostic, Invalid, Unknown

LITERAL_ROLE_ID = "literal role ID"
MAX_LISTED = 8  # IDs / inputs named in one message before "and N more"


def describe_unknown(value: Unknown) -> str:
    deps = ", ".join(value.depends_on)
    return f"{value.reason}" + (f" (depends on {deps})" if deps and deps not in value.reason else "")


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


@dataclass
class _BlockCause:
    """One cause met in one block, over all the instances and attributes where it was met."""

    file: str
    block_line: int
    end_line: int
    cause: Any
    unknown: Unknown | None
    whats: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    literal_ids: list[str] = field(default_factory=list)


@dataclass
class _ModuleInputs:
    """Unset inputs of a module scanned on its own, and how many values depend on them."""

    directory: str
    variables: dict[str, Any] = field(default_factory=dict)  # name -> its `variable` block
    blocks: set[tuple[str, int]] = field(default_factory=set)


class UnresolvedLog:
    """Collects what could not be resolved; `diagnostics()` says each cause once.

    `unset_inputs(instance, unknown)`: the names of the variables of an uncalled module that the
    unknown depends on, when it depends on nothing else (else None); with their blocks.
    """

    def __init__(self, unset_inputs: Callable[[Any, Unknown], dict[str, Any] | None]):
        self._unset_inputs = unset_inputs
        self._causes: dict[tuple, _BlockCause] = {}
        self._modules: dict[str, _ModuleInputs] = {}

    def add(self, instance: Any, what: str, value: Unknown, line: int | None = None) -> None:
        if isinstance(value, Invalid) and value.reported:
            return  # Terraform rejects it, and IMS903 has said so where it is written
        inputs = self._unset_inputs(instance, value)
        if inputs:
            self._module_input(instance, inputs)
            return
        self._entry(instance, (value.reason, value.depends_on), value, what, line)

    def add_literal_role_id(self, instance: Any, what: str, role_id: str, line: int | None = None) -> None:
        entry = self._entry(instance, LITERAL_ROLE_ID, None, what, line)
        if role_id not in entry.literal_ids:
            entry.literal_ids.append(role_id)

    def _entry(self, instance: Any, cause: Any, value: Unknown | None, what: str, line: int | None) -> _BlockCause:
        key = (instance.file, instance.line, cause)
        entry = self._causes.get(key)
        if entry is None:
            entry = self._causes[key] = _BlockCause(instance.file, instance.line, instance.end_line, cause, value)
        if what not in entry.whats:
            entry.whats.append(what)
        entry.lines.append(line or instance.line)
        if instance.address not in entry.addresses:
            entry.addresses.append(instance.address)
        return entry

    def _module_input(self, instance: Any, inputs: dict[str, Any]) -> None:
        directory = str(instance.ctx.owner.source.directory)
        module = self._modules.setdefault(directory, _ModuleInputs(directory))
        for name, block in inputs.items():
            module.variables.setdefault(name, block)
        module.blocks.add((instance.file, instance.line))

    def diagnostics(self) -> list[Diagnostic]:
        found = [self._block_diagnostic(entry) for entry in self._causes.values()]
        found.extend(self._module_diagnostic(module) for module in self._modules.values())
        return found

    @staticmethod
    def _block_diagnostic(entry: _BlockCause) -> Diagnostic:
        whats = " and ".join(entry.whats)
        if entry.cause == LITERAL_ROLE_ID:
            ids = _listed([repr(i) for i in entry.literal_ids])
            plural = "IDs" if len(entry.literal_ids) > 1 else "ID"
            message = (f"{whats} cannot be resolved statically: literal role {plural} {ids}, which only the cloud "
                       "can tell; name the role in the config (role_ids: {ID: system-role display name}) "
                       "or refer to a role resource or data source")
            depends = [f"role_id={i}" for i in entry.literal_ids]
        else:
            assert entry.unknown is not None
            message = f"{whats} cannot be resolved statically: {describe_unknown(entry.unknown)}"
            depends = list(entry.unknown.depends_on)
        addresses = sorted(entry.addresses)
        if len(addresses) > 1:
            message += f" (in {len(addresses)} instances of this block)"
        return Diagnostic("IMS901", message, file=entry.file, line=min(entry.lines), end_line=entry.end_line,
                          address=addresses[0], details={"depends_on": depends})

    @staticmethod
    def _module_diagnostic(module: _ModuleInputs) -> Diagnostic:
        names = list(module.variables)
        first = min(module.variables.values(), key=lambda block: (block.file, block.line))
        count = len(module.blocks)
        blocks = f"{count} IAM blocks grant" if count > 1 else "an IAM block grants"
        message = (f"input{'s' if len(names) > 1 else ''} {_listed(['var.' + n for n in names])} of this module "
                   f"{'have' if len(names) > 1 else 'has'} no value in the scanned code (no default, no tfvars, no "
                   f"calling module sets {'them' if len(names) > 1 else 'it'}): what {blocks} or where they "
                   "apply cannot be resolved statically; pass --var / --var-file, or scan the configuration that "
                   "calls this module")
        return Diagnostic("IMS901", message, file=first.file, line=first.line, end_line=first.end_line,
                          address=None, details={"depends_on": [f"var.{n}" for n in names]})
