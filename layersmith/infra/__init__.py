"""Pulumi components. The ONLY package that imports pulumi / pulumi_aws (DESIGN.md §2).

It consumes build artifacts and validated config; it never shells out and never builds.
"""
