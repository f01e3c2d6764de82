"""The one project exception type."""


class LseError(Exception):
    """Bad input or an unusable environment, said in one line.

    The message names the culprit and the fix, e.g.
    ``--max-n: must be a whole number from 1 to 512 (got 0)``.  The command
    line prints it on stderr and exits with :attr:`exit_code` (2: usage or
    input error).
    """

    exit_code = 2

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code
