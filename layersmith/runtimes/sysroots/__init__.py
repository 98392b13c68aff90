"""Stand-ins for Lambda's Python runtimes that this machine's own Python cannot be: Debian's CPython
for another version or CPU, unpacked from Debian packages into folders, arm64 run under qemu-user.
`layersmith runtimes fetch` prepares them; `invoke` and the variant tests run layers on them."""

from layersmith.runtimes.sysroots.catalog import SYSROOTS, SysrootSpec, by_name, sysroot_for
from layersmith.runtimes.sysroots.manager import SysrootPython, Sysroots, sysroots_dir

__all__ = ["SYSROOTS", "SysrootPython", "SysrootSpec", "Sysroots", "by_name", "sysroot_for", "sysroots_dir"]
