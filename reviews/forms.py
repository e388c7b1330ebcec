"""The review site's forms: shape and input only; every rule is checked again in services.py."""

from django import forms
from django.contrib.admin.helpers import ActionForm
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import LEAD_REVIEWERS_GROUP, REVIEWERS_GROUP, User
from submissions.i18n_data import localized

from . import rubric
from .models import Decision, Recommendation, Verification


def reviewer_choices(exclude_organisation_id: int | None = None) -> list[tuple[str, str]]:
    """Reviewers and lead reviewers, as choices; members of `exclude_organisation_id` left out."""
    from .admin_filters import REVIEWERS, versioned

    return versioned(
        f"reviewer-choices-{exclude_organisation_id}",
        lambda: _reviewer_choices(exclude_organisation_id),
        organisation_id=REVIEWERS,
    )


def _reviewer_choices(exclude_organisation_id: int | None) -> list[tuple[str, str]]:
    reviewers = User.objects.filter(is_active=True).filter(
        Q(groups__name__in=[REVIEWERS_GROUP, LEAD_REVIEWERS_GROUP]) | Q(is_superuser=True)
    )
    if exclude_organisation_id is not None:
        reviewers = reviewers.exclude(memberships__organisation_id=exclude_organisation_id)
    rows = (
        reviewers.distinct().order_by("full_name", "email").values_list("pk", "full_name", "email")
    )
    return [(str(pk), f"{name} <{email}>" if name else email) for pk, name, email in rows]


class QueueActionForm(ActionForm):
    """The changelist's action bar, with the reviewer to assign for "Assign reviewer"."""

    reviewer = forms.ChoiceField(label=_("Reviewer"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].choices = [("", "---------"), *reviewer_choices()]


class AssignForm(forms.Form):
    reviewer = forms.ChoiceField(label=_("Reviewer"))
    due_at = forms.DateTimeField(label=_("Due"), required=False)

    def __init__(self, *args, dossier, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].choices = reviewer_choices(dossier.organisation_id)


class RecuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for recusal"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class InformationRequestForm(forms.Form):
    question = forms.CharField(
        label=_("Question to the organisation"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text=_("The organisation sees it on its dashboard and is emailed that it exists."),
    )


class DecisionForm(forms.Form):
    """An outcome per target regime (outcome-<id>, reason-<id>) and the general reason."""

    reason = forms.CharField(
        label=_("Reason (the organisation receives it)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10000,
    )

    def __init__(self, *args, regimes, **kwargs):
        super().__init__(*args, **kwargs)
        self.regimes = list(regimes)
        for regime in self.regimes:
            self.fields[f"outcome-{regime.pk}"] = forms.ChoiceField(
                label=str(regime), choices=Decision.Outcome.choices, widget=forms.RadioSelect
            )
            self.fields[f"reason-{regime.pk}"] = forms.CharField(
                label=_("Reason for this government (sent to the organisation; needed to reject)"),
                required=False,
                max_length=10000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def rows(self):
        return [
            (regime, self[f"outcome-{regime.pk}"], self[f"reason-{regime.pk}"])
            for regime in self.regimes
        ]

    def outcomes(self) -> dict[int, dict]:
        return {
            regime.pk: {
                "outcome": self.cleaned_data[f"outcome-{regime.pk}"],
                "reason": self.cleaned_data[f"reason-{regime.pk}"],
            }
            for regime in self.regimes
        }


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need to see this identity?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text=_("Recorded in the audit log with your name."),
    )


class VerificationForm(forms.Form):
    """One status and note per checklist answer (fields status-<id> and note-<id>)."""

    def __init__(self, *args, answers, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.answers = list(answers)
        for answer in self.answers:
            # The fields show the user's own check, never the settled one nor another's.
            current = next(
                (
                    check
                    for check in getattr(answer, "reviewer_verification_list", [])
                    if user is not None and check.reviewer_id == user.pk
                ),
                None,
            )
            self.fields[f"status-{answer.pk}"] = forms.ChoiceField(
                label=_("Verification"),
                choices=[("", _("Not checked")), *Verification.Status.choices],
                required=False,
                initial=current.status if current else "",
            )
            self.fields[f"note-{answer.pk}"] = forms.CharField(
                label=_("Note"),
                required=False,
                max_length=5000,
                initial=current.note if current else "",
                widget=forms.TextInput(attrs={"size": 40}),
            )

    def verifications(self) -> list[dict]:
        return [
            {
                "answer": answer,
                "status": self.cleaned_data.get(f"status-{answer.pk}", ""),
                "note": self.cleaned_data.get(f"note-{answer.pk}", ""),
            }
            for answer in self.answers
        ]

    def rows(self, answer):
        return self[f"status-{answer.pk}"], self[f"note-{answer.pk}"]


SCORE_CHOICES = [("", "–"), *((str(n), str(n)) for n in range(rubric.MAX_SCORE + 1))]


class ReviewForm(forms.Form):
    """A score (0-5) and a note per rubric line, a recommendation and a summary."""

    recommendation = forms.ChoiceField(
        label=_("Recommendation"),
        choices=[("", "---------"), *Recommendation.choices],
        required=False,
    )
    summary = forms.CharField(
        label=_("Summary for the lead reviewer"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=10000,
    )

    def __init__(self, *args, review=None, **kwargs):
        super().__init__(*args, **kwargs)
        existing = {s.line: s for s in review.scores.all()} if review else {}
        if review is not None:
            self.fields["recommendation"].initial = review.recommendation
            self.fields["summary"].initial = review.summary
        for line in rubric.lines():
            score = existing.get(line.code)
            self.fields[f"score-{line.code}"] = forms.ChoiceField(
                label=localized(line, "name"),
                choices=SCORE_CHOICES,
                required=False,
                initial=str(score.score) if score else "",
                help_text=localized(line, "guidance"),
            )
            self.fields[f"note-{line.code}"] = forms.CharField(
                label=_("Note"),
                required=False,
                max_length=5000,
                initial=score.note if score else "",
                widget=forms.Textarea(attrs={"rows": 1, "cols": 50}),
            )

    def scores(self) -> dict[str, dict]:
        return {
            line.code: {
                "score": self.cleaned_data.get(f"score-{line.code}", ""),
                "note": self.cleaned_data.get(f"note-{line.code}", ""),
            }
            for line in rubric.lines()
        }

    def lines(self):
        for line in rubric.lines():
            yield line, self[f"score-{line.code}"], self[f"note-{line.code}"]
