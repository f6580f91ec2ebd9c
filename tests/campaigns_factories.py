"""factory_boy factories for the campaigns app's segments (shared by every area's tests)."""

from __future__ import annotations

import factory

from campaigns.models import Segment, SegmentMember


class SegmentFactory(factory.django.DjangoModelFactory):
    """A dynamic segment; its members are written by ``segment_materialise``, not by the factory."""

    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    kind = Segment.Kind.DYNAMIC
    rules = factory.LazyFunction(lambda: {"all": [{"field": "customer.stage", "op": "eq", "value": "customer"}]})


class StaticSegmentFactory(SegmentFactory):
    kind = Segment.Kind.STATIC
    source = Segment.Source.UPLOAD
    rules = factory.LazyFunction(dict)


class SegmentMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SegmentMember

    segment = factory.SubFactory(StaticSegmentFactory)
