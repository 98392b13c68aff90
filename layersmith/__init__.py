"""layersmith: own your shared AWS Lambda layers.

The public API is `__all__` below: what a Pulumi program or a script may import from `layersmith`
itself. Every module under the package (`layersmith.builder.*`, `layersmith.project.stacks`, ...) is
internal, after pypa/build's model: it may change in any release without notice.

The Pulumi components are imported on first use, so `import layersmith` (and every CLI command that
does not deploy) never pays for importing pulumi.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from layersmith.errors import (
    AwsError,
    BuildError,
    ConfigError,
    EnvironmentProblem,
    LayersmithError,
    SpecError,
    UserError,
    VerificationError,
)

if TYPE_CHECKING:  # the lazy names below, for type checkers and IDEs
    from layersmith.builder.factory import build_layers
    from layersmith.infra.function import LayeredFunction, LayeredFunctionArgs
    from layersmith.infra.grants import LayerGrants
    from layersmith.infra.layer import SharedLayer, SharedLayerArgs
    from layersmith.infra.program import main as deploy_program
    from layersmith.project.checkout import Project, load_project

__version__ = "0.1.0"

# name -> the internal module that defines it; resolved by __getattr__ on first access.
_LAZY = {
    "build_layers": "layersmith.builder.factory",
    "LayeredFunction": "layersmith.infra.function",
    "LayeredFunctionArgs": "layersmith.infra.function",
    "LayerGrants": "layersmith.infra.grants",
    "SharedLayer": "layersmith.infra.layer",
    "SharedLayerArgs": "layersmith.infra.layer",
    "deploy_program": "layersmith.infra.program",
    "Project": "layersmith.project.checkout",
    "load_project": "layersmith.project.checkout",
}
_RENAMED = {"deploy_program": "main"}

__all__ = [
    "AwsError",
    "BuildError",
    "ConfigError",
    "EnvironmentProblem",
    "LayerGrants",
    "LayeredFunction",
    "LayeredFunctionArgs",
    "LayersmithError",
    "Project",
    "SharedLayer",
    "SharedLayerArgs",
    "SpecError",
    "UserError",
    "VerificationError",
    "__version__",
    "build_layers",
    "deploy_program",
    "load_project",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'layersmith' has no attribute {name!r}")
    value = getattr(import_module(module), _RENAMED.get(name, name))
    globals()[name] = value  # once resolved, a plain module attribute
    return value
