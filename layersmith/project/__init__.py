"""The checkout's model: stack files, layer and function specs, overrides, the lock file, naming, discovery."""
