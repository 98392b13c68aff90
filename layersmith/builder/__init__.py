"""Layer builds: plan -> hash -> install (host | docker) -> slim -> bytecode -> verify -> zip.

`builder.build_layers` is the entry point; everything with a side effect sits behind a seam
(`Runner` for subprocesses, `Installer` for pip/uv/docker, the cache directory) that tests replace.
"""
