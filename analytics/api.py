"""The analytics API: a customer's scores (staff), and the personalisation answer for web sites.

``GET /api/v1/customers/<pk>/scores/`` needs ``customers.view_customer`` like the customer record.
``GET /api/v1/personalise/`` answers a site (its public key, as the web events API) for a browser
``visitor``, or a server holding an API token with ``customers.view_customer`` for a ``customer``
account number: a public site key must not open any customer's profile by account number.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.models import CustomerScore, CustomerScoreMonth, OfferPlacement
from analytics.personalisation import NEUTRAL, customer_for_visitor, personalise
from analytics.selectors import customer_score, customer_score_history, next_best_offers
from analytics.services.recommendations import offers_log
from channels.api.web import HasActiveSite, SiteKeyAuthentication, SiteKeyRateThrottle
from channels.models import Site
from crm.api.authentication import ApiTokenAuthentication
from crm.api.permissions import HasPermission
from crm.api.serializers import ErrorSerializer
from crm.errors import ApplicationError
from customers.api.customers import MERGED, CustomerApiMixin

TAGS = ["analytics"]
MAX_OFFERS = 10


class OfferSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    is_exploration = serializers.BooleanField(help_text="Drawn from a category the customer never bought.")


class ScoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerScore
        fields = ["computed_at", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
                  "rfm_cell", "expected_purchases_90", "expected_purchases_365", "p_alive", "expected_order_value",
                  "clv_12m", "value_band", "churn_risk", "churn_band", "responsiveness",
                  "preferred_purchase_channel"]  # fmt: skip


class ScoreMonthSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerScoreMonth
        fields = ["month", "rfm_cell", "frequency", "monetary", "clv_12m", "p_alive", "churn_risk", "value_band"]


class ScoredCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account_number = serializers.CharField()


class CustomerScoresSerializer(serializers.Serializer):
    customer = ScoredCustomerSerializer()
    score = ScoreSerializer(allow_null=True, help_text="Null until the first nightly run scored the customer.")
    history = ScoreMonthSerializer(many=True, help_text="The last 12 monthly snapshots, oldest first.")
    next_offers = OfferSerializer(many=True)


class CustomerScoresApi(CustomerApiMixin, APIView):
    permission_classes = [HasPermission("customers.view_customer")]

    @extend_schema(
        summary=_("A customer's scores"),
        description=_("RFM, BG/NBD and Gamma-Gamma forecasts, 12-month value, churn risk and responsiveness per "
                      "channel (latest nightly run), the monthly history and the next best offers."),
        responses={200: CustomerScoresSerializer, 308: MERGED},
        tags=TAGS,
    )  # fmt: skip
    def get(self, request: Request, pk: int) -> Response:
        customer = self.customer(pk)
        body = {"customer": customer, "score": customer_score(customer.pk),
                "history": customer_score_history(customer.pk),
                "next_offers": next_best_offers(customer.pk, n=3)}  # fmt: skip
        return Response(CustomerScoresSerializer(body).data)


class PersonaliseInputSerializer(serializers.Serializer):
    visitor = serializers.CharField(required=False, max_length=64, help_text="The browser's visitor id (track.js).")
    customer = serializers.CharField(required=False, max_length=16, help_text="An account number (API token only).")
    offers = serializers.IntegerField(required=False, min_value=0, max_value=MAX_OFFERS, default=3)

    def validate(self, attrs):
        if bool(attrs.get("visitor")) == bool(attrs.get("customer")):
            raise serializers.ValidationError({"visitor": [_("Give either visitor or customer, not both.")]})
        return attrs


class PersonaliseOutputSerializer(serializers.Serializer):
    personalised = serializers.BooleanField(help_text="False: the neutral answer (unknown visitor or no consent).")
    stage = serializers.CharField(allow_null=True)
    segments = serializers.ListField(child=serializers.DictField(), help_text="[{id, name}] of live segments.")
    scores = serializers.DictField(allow_null=True, help_text="rfm_cell, value_band, churn_band.")
    offers = OfferSerializer(many=True)


class SiteOrStaffToken(BasePermission):
    """A site (active, allowed origin) for ``visitor=``; a staff API token or session for ``customer=``."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, Site):
            return HasActiveSite().has_permission(request, view)
        return HasPermission("customers.view_customer").has_permission(request, view)


class PersonaliseApi(APIView):
    authentication_classes = [SiteKeyAuthentication, ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [SiteOrStaffToken]
    throttle_classes = [SiteKeyRateThrottle]

    @extend_schema(
        summary=_("Personalise a web page"),
        description=_(
            "The visitor's life-cycle stage, segments, score bands and next offers, in one answer, for a site "
            "(its public key in X-Relais-Site-Key) asking about a browser (visitor), or a server with an API "
            "token asking about an account number (customer). Customers without a granted web personalisation "
            "consent, and unknown visitors, get the same neutral answer. The offers returned are logged as "
            "shown; a later click or view of the product (web events) is credited to them."
        ),
        parameters=[PersonaliseInputSerializer],
        responses={200: PersonaliseOutputSerializer,
                   400: OpenApiResponse(ErrorSerializer, description="Neither or both of visitor and customer."),
                   401: OpenApiResponse(ErrorSerializer, description="No site key or token."),
                   403: OpenApiResponse(ErrorSerializer, description="Inactive site, origin or permission.")},
        tags=TAGS,
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        query = PersonaliseInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        site = request.auth if isinstance(request.auth, Site) else None
        if site is not None and data.get("customer"):
            raise ApplicationError("customer_needs_token",
                                   str(_("A site key may only ask about a visitor; use an API token for customer.")),
                                   field="customer", status_code=403)  # fmt: skip
        if site is None and data.get("visitor"):
            raise exceptions.ValidationError({"visitor": [_("visitor needs the site key of the site it visits.")]})
        if site is not None:
            customer_id = customer_for_visitor(site_id=site.pk, visitor_id=data["visitor"])
            answer = personalise(customer_id=customer_id, offers=data["offers"]) if customer_id else NEUTRAL
        else:
            answer = personalise(account_number=data["customer"], offers=data["offers"])
        if answer.personalised and answer.offers:
            offers_log(customer_id=answer.customer_id, offers=answer.offers, placement=OfferPlacement.WEB,
                       site_id=site.pk if site else None, visitor_id=data.get("visitor", ""))  # fmt: skip
        body = {"personalised": answer.personalised, "stage": answer.stage, "segments": answer.segments,
                "scores": answer.scores, "offers": answer.offers}  # fmt: skip
        return Response(PersonaliseOutputSerializer(body).data)


