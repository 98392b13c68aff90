"""Pinned layer versions and their moves: pin sites, stack edits, promote, content checks, preflight."""
