"""`lsecheck check`: not yet written."""

COMMANDS = ()
