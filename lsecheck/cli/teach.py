"""`lsecheck teach`: not yet written."""

COMMANDS = ()
