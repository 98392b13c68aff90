"""What "this project's layers" means for a scan: stacks in scope, their prefixes, pins, regions.

Config is read once, here at the edge (docs/architecture.md#config-is-read-once-at-the-edge), from
the committed `Pulumi.<stack>.yaml` files; everything downstream takes plain `StackConfig`s so unit
tests build them directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from layersmith.aws.inventory import LayerMatcher
from layersmith.aws.records import PinRecord
from layersmith.errors import UserError
from layersmith.model import FunctionSpec, StackConfig, Variant
from layersmith.project.checkout import Project
from layersmith.project.naming import default_prefix


@dataclass(frozen=True)
class Scope:
    stacks: tuple[StackConfig, ...]  # the stacks whose layers are listed (`--stack`, or all)
    all_stacks: tuple[StackConfig, ...]  # every committed stack: all their pins protect
    layers: tuple[str, ...]
    functions: tuple[FunctionSpec, ...] = ()

    def matcher(self) -> LayerMatcher:
        prefixes: dict[str, tuple[str, ...]] = {}
        for stack in self.stacks:
            prefixes[stack.name_prefix] = (*prefixes.get(stack.name_prefix, ()), stack.stack)
        return LayerMatcher(prefixes, self.layers)

    def pins(self) -> tuple[PinRecord, ...]:
        return pins_of(self.all_stacks, self.functions)

    def regions(self) -> list[str]:
        """Where the stacks in scope deploy (`aws:region`) and publish (`layersmith:regions`)."""
        return sorted({r for s in self.stacks for r in (s.region, *s.publish_regions) if r})


def pin_prefix(stack: StackConfig, layer: str, stacks: Sequence[StackConfig]) -> str:
    """The name prefix of the stack that *publishes* what this pin points at: the stack itself, or
    the one its `layersmith:consume.stack` references (a consumer's pins protect the publisher's
    versions — matching them against the consumer's own prefix would protect nothing)."""
    if layer in stack.publish or layer in dict(stack.consume.arns) or not stack.consume.stack:
        return stack.name_prefix
    org_project, _, remote = stack.consume.stack.rpartition("/")
    referenced = next((s for s in stacks if s.stack == remote), None)
    return referenced.name_prefix if referenced else default_prefix(org_project.rpartition("/")[2], remote)


def pins_of(stacks: Sequence[StackConfig], functions: Sequence[FunctionSpec] = ()) -> tuple[PinRecord, ...]:
    """Every `function -> layer: pin`, once per region it names, with the variant the function's
    runtime/arch selects (if known)."""
    variant = {f.name: Variant(f.name, (f.runtime,), (f.architecture,), portable=False).key for f in functions}
    return tuple(PinRecord(s.stack, pin_prefix(s, layer, stacks), function, layer, pin, variant.get(function), region)
                 for s in stacks for function, layer, region, pin in s.pins_by_region())


def load_scope(project: Project, stack: str | None) -> Scope:
    names = project.committed_stacks()
    if not names:
        raise UserError("no committed Pulumi.<stack>.yaml; create a stack (pulumi stack init) first",
                        path=project.root)
    if stack is not None and stack not in names:
        raise UserError(f"no Pulumi.{stack}.yaml; committed stacks: {', '.join(names)}", key="--stack")
    everything = tuple(project.stack_config(name) for name in names)
    in_scope = tuple(s for s in everything if stack is None or s.stack == stack)
    layers = tuple(project.layer_names())
    if not layers:
        raise UserError("the project has no layers/ directories; nothing to inventory", path=project.root)
    return Scope(in_scope, everything, layers, tuple(project.function_specs().values()))
