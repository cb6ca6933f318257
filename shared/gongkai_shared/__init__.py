"""Gongkai's shared library: what every service needs and no single service owns.

Event envelope and schemas, the event store client (JetStream), the projection runner,
working-day calendar, staff tokens, logging and settings. No business rule of one service lives here.
"""
