"""Notify's decisions, pure (no I/O; import-linter forbids infrastructure here).

- ``rules``: the law's time limits (条例 articles in each docstring): answer, correction,
  consultation, extension, fees, proactive publication, annual reports, warnings.
- ``deadlines``: every deadline of a case from its events (``compute_case``) and its explanation.
- ``recording``: the event (``deadline-set``/``-suspended``/``-warning``/``-breached``) that brings
  the log up to a computed deadline.
- ``calendar_year``: what a year's holiday schedule (the ``calendar load`` file) means and when
  it is refused.
"""
