"""What runs where: the supported Lambda runtimes, the interpreters of this machine, Debian sysroots."""
