"""The vocabulary of the access map: visitors, expected statuses, ``row(...)``."""

from crm.roles import ADMIN, AGENT, MARKETER, SUPERVISOR

VISITORS = ["anonymous", "norole", AGENT, SUPERVISOR, MARKETER, ADMIN]
LOGIN = 302  # anonymous visitors are sent to the sign-in page
PUBLIC = {200, 503}  # /health/ answers 503 in the test run: no beat process is ticking


def row(anonymous, norole, agent, supervisor, marketer, admin):
    return dict(zip(VISITORS, [anonymous, norole, agent, supervisor, marketer, admin], strict=True))


EVERY_STAFF = row(LOGIN, 200, 200, 200, 200, 200)
