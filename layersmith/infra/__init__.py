"""Everything that imports pulumi, pulumi_aws or pulumi_policy — and nothing else does.

- the components a stack is made of: `layer.SharedLayer`, `function.LayeredFunction`,
  `sharing.LayerSharing`, `artifacts.ArtifactStore`, `grants.LayerGrants` (a dynamic resource);
- `program`: what `__main__.py` (so `pulumi up`) runs; `stack`: the composition per stack;
- `preview`: the same program under Pulumi's mocks (`layersmith plan`, `layersmith check`);
- `crossguard`: the policy rules wrapped for the CrossGuard analyzer (`policies/__main__.py`).

It consumes build results and validated config; it never shells out and never builds itself
(`program` asks the builder, through its public entry point, for the zips). Modules outside this
package must not import pulumi: `tests/unit/test_import_boundaries.py` fails when one does.
"""
