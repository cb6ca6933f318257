"""The operator's and auditors' tools: the ``gongkai`` command line (``main.py``), the embedded
installation's credentials, the operator's setup of the broker and the audit of the log.

No service imports this package (import-linter); it speaks to the system through the event
contract in ``gongkai_shared`` and the services' HTTP APIs.
"""
