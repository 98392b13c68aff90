"""What `check` and `plan` print."""
