"""`lsecheck numeric`: not yet written."""

COMMANDS = ()
