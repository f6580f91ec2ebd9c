"""Writes of the channels app: every state change goes through a function of this package.

``interactions`` (the timeline: ``interaction_record``) is the one entry point every adapter uses;
the other modules are the adapters (calls, email, SMS, web, chat and call-backs, visits, postal mail)
and the service desk (cases, SLAs, queues, surveys).
"""
