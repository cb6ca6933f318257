"""What pure decision functions share: no I/O here, importable from any ``domain.py``."""


class CommandRejected(Exception):
    """The aggregate's state does not allow the command (HTTP 409)."""
