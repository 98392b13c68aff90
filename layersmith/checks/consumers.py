"""What a publishing stack's `check` says about the committed stacks that consume it
(`layersmith:consume.stack: <org>/<project>/<this stack>`), beyond their pins (`config.consumer_pins`).

- A consumer whose functions run in a region this stack does not publish to cannot attach its
  layers there (Lambda attaches only a layer version of the function's own region): the consumer's
  own plan fails, and the publisher is where the fix usually is (`layersmith:regions`).
- A committed stack file that cannot even be read may or may not consume this stack: that is a
  warning, never this stack's error (its own commands report the file).
"""

from __future__ import annotations

from layersmith.errors import UserError
from layersmith.model import StackConfig
from layersmith.project.checkout import Project
from layersmith.project.consumer_pins import may_consume


def unreadable_stacks(project: Project, cfg: StackConfig) -> list[str]:
    """One line per other committed stack file that does not read (syntax, duplicate key, …)."""
    out = []
    for name in project.committed_stacks():
        if name == cfg.stack or may_consume(project, name, cfg):
            continue  # a consumer that does not read is an error of consumer_pins
        try:
            project.stack_raw(name)
        except UserError as exc:
            out.append(f"{exc.render()} (cannot tell whether it consumes stack {cfg.stack}; if it does, the "
                       "versions it pins are not granted by this stack)")
    return out


def consumers_outside_regions(project: Project, cfg: StackConfig) -> list[str]:
    """One line per valid consumer whose functions run where this stack does not publish."""
    out = []
    for name in project.committed_stacks():
        if not may_consume(project, name, cfg):
            continue
        try:
            other = project.stack_config(name)
        except UserError:
            continue  # reported by consumer_pins, as this stack's error
        if other.region not in cfg.publish_regions:
            out.append(f"{other.path.name} consumes stack {cfg.stack} in {other.region}, where this stack does "
                       f"not publish (it publishes in {', '.join(cfg.publish_regions)}): its functions cannot "
                       f"attach these layers there; add {other.region} to layersmith:regions of "
                       f"{cfg.path.name}")
    return out
