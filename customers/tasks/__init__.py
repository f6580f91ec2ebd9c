"""Celery tasks of the customer record (thin: each calls one service). Celery autodiscovers this
package; each topic module registers its tasks when imported below."""

from customers.tasks import (
    duplicates,  # noqa: F401
    gdpr,  # noqa: F401
    imports,  # noqa: F401
)
