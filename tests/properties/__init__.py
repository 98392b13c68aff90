"""A package, so that its conftest is imported as `properties.conftest`: the functional tests
`from conftest import …` their own conftest, which a second top-level `conftest` module would shadow
when both directories are collected in one run."""
