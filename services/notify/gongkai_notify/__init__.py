"""Notify (期限与通知): the statutory clock of every case and the notices it sends.

Where things are:

- ``domain/`` — the decisions, pure: ``rules.py`` the law's time limits (答复期限, 补正, 征求意见,
  延期, fees, proactive publication, with the 条例's articles), ``deadlines.py`` a case's
  deadlines from its events, ``recording.py`` the events that record them, ``calendar_year.py``
  what a year's holiday schedule means and when it is refused.
- ``projection.py`` — the events notify reacts to and what each does (its table ``REACTIONS``):
  a case's clock, the calendar, the notice outbox (``outbox.py``, rendered by ``notices.py``).
- Background loops (``app.py`` spawns them; each raises on failure):
  ``dispatcher.py`` records deadlines, warnings and breaches as events (every ``tick_seconds``);
  ``delivery.py`` sends notices (``channels.py``: e-mail, webhooks), each attempt an event;
  ``recompute.py`` recomputes, in chunks, the cases a loaded calendar year touches.
- Routes: ``api.py`` (staff) ``GET /api/v1/deadlines?case_id=``,
  ``GET /api/v1/deadlines/{id}/explain``, ``GET /api/v1/notices?case_id=``;
  ``calendar_api.py`` ``GET /api/v1/calendar``, ``GET /api/v1/calendar/add-working-days`` (public),
  ``POST /api/v1/calendar/years`` (admin; ``gongkai calendar load``).
- ``deadline_store.py`` — the deadline and calendar tables; ``migrations/`` — the schema.

Events notify writes: ``deadline-set``, ``deadline-suspended``, ``deadline-warning``,
``deadline-breached`` and ``notice-delivery-attempted`` (on the case), ``calendar-loaded``
(on ``calendar-<year>``).
"""
