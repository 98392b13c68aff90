"""boto3-facing code: inventory of this project's layer versions and who uses them, and pruning.

Every AWS call goes through a `ClientFactory` (clients.py), so tests can point the real boto3 at
moto on loopback or swap in a fake that throttles or refuses a role.
"""
