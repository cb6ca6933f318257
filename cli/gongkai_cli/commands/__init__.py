"""One module per command group; ``gongkai_cli.main`` lists every command and its arguments.

A command is ``(settings, args) -> int`` (or a coroutine of it): the exit status."""
