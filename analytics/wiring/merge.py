"""A merge keeps one score row per customer and per month: the survivor's own rows win (the next
nightly run recomputes them on the merged history); the duplicate's rows fill only what the survivor
lacks. Offers shown move with the generic rule."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from customers.services.merge import merge_handler_register


def _scores_merge(survivor, duplicate) -> None:
    from analytics.models import CustomerScore

    if CustomerScore.objects.filter(customer=survivor).exists():
        CustomerScore.objects.filter(customer=duplicate).delete()
    else:
        CustomerScore.objects.filter(customer=duplicate).update(customer=survivor)


def _months_merge(survivor, duplicate) -> None:
    from analytics.models import CustomerScoreMonth

    taken = CustomerScoreMonth.objects.filter(customer=survivor, month=OuterRef("month"))
    rows = CustomerScoreMonth.objects.filter(customer=duplicate)
    rows.filter(Exists(taken)).delete()
    rows.update(customer=survivor)


merge_handler_register("analytics.CustomerScore", _scores_merge)
merge_handler_register("analytics.CustomerScoreMonth", _months_merge)
