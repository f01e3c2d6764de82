"""`lsecheck prove`: not yet written."""

COMMANDS = ()
