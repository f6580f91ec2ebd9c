"""Celery tasks of the customer record (thin: each calls one service). Celery autodiscovers this
package; each topic module registers its tasks when imported below."""
