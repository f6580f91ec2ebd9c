"""The public satisfaction survey page: a signed, single-use link from the survey email or SMS."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from channels.forms_desk import SurveyAnswerForm
from channels.services.surveys import SurveyLinkExpired, SurveyLinkInvalid, survey_answer, survey_from_token
from crm.access import public_view
from crm.errors import ApplicationError


@public_view
@never_cache
@csrf_protect
def survey_answer_view(request: HttpRequest, token: str) -> HttpResponse:
    """Show the 1-5 scale and a comment box; store the one answer. A bad token is a 404."""
    try:
        survey = survey_from_token(token)
    except SurveyLinkInvalid:
        raise Http404 from None
    except SurveyLinkExpired:
        return render(request, "channels/surveys/closed.html", {"reason": "expired"}, status=410)
    language = survey.customer.language or translation.get_language()
    with translation.override(language):
        if survey.answered_at is not None:
            return render(request, "channels/surveys/closed.html", {"reason": "answered", "survey": survey},
                          status=409 if request.method == "POST" else 200)  # fmt: skip
        form = SurveyAnswerForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                survey = survey_answer(survey=survey, **form.cleaned_data)
            except ApplicationError as error:
                if error.code == "already_answered":
                    return render(request, "channels/surveys/closed.html", {"reason": "answered", "survey": survey},
                                  status=409)  # fmt: skip
                form.add_error("score" if error.field == "score" else None, error.message)
            else:
                return render(request, "channels/surveys/thanks.html", {"survey": survey})
        return render(request, "channels/surveys/answer.html", {"form": form, "survey": survey, "case": survey.case},
                      status=400 if form.errors else 200)  # fmt: skip
