"""`layersmith invoke --env-vars FILE`: environment variables from a JSON file, read the way
`sam local invoke --env-vars` reads one.

The shape and precedence are SAM CLI's (samcli/commands/local/lib/local_lambda.py,
`LocalLambdaRunner._make_env_vars`, read at aws/aws-sam-cli's 2026 main):

    {"Parameters": {"VAR": "every function"}, "<function>": {"VAR": "this function only"}}

`Parameters` applies to every function; a function's own object overrides it, key by key. SAM
finds a function's object by its logical id, then its physical FunctionName (the first that is
present wins); here those are the function's name (`functions/<name>/`) and its physical name
(`<prefix>-<name>` with `--stack`, `local-<name>` without). Every top-level value must be an object
(SAM raises OverridesNotWellDefinedError otherwise). Values may be strings, numbers or booleans,
stringified as SAM does (true -> "true"); SAM turns a list, object or null into "" silently,
which hides a mistake, so here it is an error naming the key.

One deliberate difference: SAM applies the file only to variables the template declares and
drops the others silently; layersmith sets them all and `invoke` notes the ones function.toml
does not declare (they will not exist on Lambda).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from layersmith.errors import UserError

GLOBAL = "Parameters"
# Lambda's rule for environment variable keys (Environment.Variables in the CreateFunction API).
_KEY = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]+$")
# invoke's own protocol with its bootstrap (local/invoke.py): the file must not redirect it.
_INTERNAL = "LAYERSMITH_"
_SHAPE = '{"<function>": {"VAR": "value"}, "Parameters": {"VAR": "value"}}'


def _value(value: object, path: Path, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise UserError(f"{json.dumps(value)} must be a string, number or boolean", path=path, key=key)


def _variables(block: object, path: Path, key: str) -> dict[str, str]:
    if not isinstance(block, Mapping):
        raise UserError(f"must be an object of variable names to values, as in {_SHAPE}", path=path, key=key)
    out: dict[str, str] = {}
    for name, value in block.items():
        if not _KEY.match(name):
            raise UserError("is not a Lambda environment variable name (a letter, then at least one letter, "
                            "digit or '_')", path=path, key=f"{key}.{name}")
        if name.startswith(_INTERNAL):
            raise UserError(f"{_INTERNAL}* variables are layersmith's own; rename it", path=path, key=f"{key}.{name}")
        out[name] = _value(value, path, f"{key}.{name}")
    return out


def parse_env_vars(text: str, path: Path, names: Sequence[str]) -> dict[str, str]:
    """The variables for the function addressed by `names` (its name, then its physical name)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UserError(f"is not JSON ({exc}); write {_SHAPE}", path=path, key="--env-vars") from None
    if not isinstance(data, dict):
        raise UserError(f"must be a JSON object: {_SHAPE}", path=path, key="--env-vars")
    blocks = {key: _variables(block, path, key) for key, block in data.items()}  # every block, as SAM checks
    result = dict(blocks.get(GLOBAL, {}))
    own = next((blocks[n] for n in names if blocks.get(n)), None)
    result.update(own or {})
    return result


def read_env_vars(path: Path, names: Sequence[str]) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read the file ({exc.strerror or type(exc).__name__})", path=path,
                        key="--env-vars") from None
    except UnicodeDecodeError:
        raise UserError("is not UTF-8 text; write it as JSON", path=path, key="--env-vars") from None
    return parse_env_vars(text, path, names)
