"""
The emails of the review workflow. Called from tasks (after commit), never inside a transaction.

Each person gets their email in the language they chose in the portal (User.language).
Emails name the dossier by its reference and say what happened; what the NGO filed stays in
the portal. The one exception is a decision's reason, which is written for the organisation.
Each email ends with the absolute link to the page it concerns (the NGO's dossier page, or the
dossier on the review site), which asks the reader to sign in.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from portal import links
from portal.models import LEAD_REVIEWERS_GROUP, User
from submissions.i18n_data import localized
from submissions.models import Dossier

from .models import Assignment

# A reminder goes out at most this often per assignment, however often the task runs.
REMIND_EVERY = timedelta(hours=20)


def _send(compose, recipients) -> int:
    """
    Send one message to each recipient, in the language they chose in the portal.

    `compose()` returns (subject, body) and is called once per language, with that language
    active; `recipients` are (email, language) pairs.
    """
    by_language: dict[str, list[str]] = defaultdict(list)
    for email, language in recipients:
        by_language[language or settings.LANGUAGE_CODE].append(email)
    messages = []
    for language, emails in sorted(by_language.items()):
        with translation.override(language):
            subject, body = compose()
        messages += [(subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in emails]
    return send_mass_mail(messages, fail_silently=False) if messages else 0


def _for_members(dossier: Dossier) -> str:
    """The closing lines of an email to the organisation: where to read more."""
    return _("Read more on the dossier's page (you will be asked to sign in):") + (
        f"\n{links.dossier_for_members(dossier)}\n"
    )


def _for_reviewers(dossier: Dossier) -> str:
    """The closing lines of an email to reviewers: the dossier on the review site."""
    return _("Open the dossier on the review site:") + f"\n{links.dossier_for_reviewers(dossier)}\n"


def _due(assignment: Assignment) -> str:
    """The due date in the active language's date format."""
    if not assignment.due_at:
        return _("no date")
    return formats.date_format(timezone.localdate(assignment.due_at), "SHORT_DATE_FORMAT")


def _recipients(users) -> list[tuple[str, str]]:
    return list(users.order_by("email").values_list("email", "language").distinct())


def _organisation_members(dossier: Dossier) -> list[tuple[str, str]]:
    return _recipients(
        User.objects.filter(is_active=True, memberships__organisation=dossier.organisation_id)
    )


def _lead_reviewers() -> list[tuple[str, str]]:
    return _recipients(
        User.objects.filter(is_active=True).filter(
            Q(groups__name=LEAD_REVIEWERS_GROUP) | Q(is_superuser=True)
        )
    )


def email_organisation(dossier: Dossier, event: str) -> int:
    """Tell the organisation's members about a status change or a question from reviewers."""
    if event not in ("in_review", "information_requested", "approved", "rejected"):
        raise ValueError(f"Unknown event {event!r}")
    context = {"reference": dossier.reference}
    decision = getattr(dossier, "decision", None)

    def compose():
        sign_in = _for_members(dossier)
        if event == "in_review":
            subject = _("Dossier %(reference)s is in review") % context
            body = _("Reviewers have started to review dossier %(reference)s.") % context
        elif event == "information_requested":
            subject = _("Reviewers have a question about dossier %(reference)s") % context
            body = (
                _(
                    "Reviewers asked a question about dossier %(reference)s. The review "
                    "continues once you have answered it on the dossier's page."
                )
                % context
            )
        else:
            subject = (
                _("Dossier %(reference)s was approved")
                if event == "approved"
                else _("Dossier %(reference)s was not approved")
            ) % context
            body = (
                _("The reviewers' decision on dossier %(reference)s, with its reason:") % context
                + "\n\n"
                + (decision.reason if decision else "")
            )
            for item in decision.regimes.select_related("regime") if decision else []:
                line = f"{localized(item.regime, 'name')}: {item.get_outcome_display()}"
                body += f"\n- {line}" + (f" ({item.reason})" if item.reason else "")
        return subject, f"{body}\n\n{sign_in}"

    return _send(compose, _organisation_members(dossier))


def email_assigned_reviewer(assignment: Assignment) -> int:
    """Tell a reviewer that a dossier was assigned to them, and by when it is due."""
    reviewer = assignment.reviewer
    if not reviewer.is_active:
        return 0

    def compose():
        context = {
            "reference": assignment.dossier.reference,
            "due": _due(assignment),
        }
        subject = _("Dossier %(reference)s was assigned to you") % context
        body = (
            _(
                "Dossier %(reference)s was assigned to you for review, due %(due)s.\n"
                "Sign in to the review site to read it. If you have a conflict of interest, "
                "recuse yourself there with a reason."
            )
            % context
        )
        return subject, f"{body}\n\n{_for_reviewers(assignment.dossier)}"

    return _send(compose, [(reviewer.email, reviewer.language)])


def email_submitted(dossier: Dossier) -> int:
    """Tell the lead reviewers that a dossier was submitted (reference only, no content)."""
    context = {"reference": dossier.reference, "organisation": dossier.organisation.name}

    def compose():
        subject = _("Dossier %(reference)s was submitted") % context
        body = (
            _(
                "Dossier %(reference)s from %(organisation)s is waiting in the review queue.\n"
                "Sign in to the review site to assign it."
            )
            % context
        )
        return subject, f"{body}\n\n{_for_reviewers(dossier)}"

    recipients = User.objects.filter(is_active=True, groups__name=LEAD_REVIEWERS_GROUP)
    return _send(compose, _recipients(recipients))


def email_lead_reviewers(dossier: Dossier, event: str) -> int:
    """Tell the lead reviewers that a dossier has its reviews, or lost a reviewer."""
    if event not in ("reviews_complete", "recused", "claimed"):
        raise ValueError(f"Unknown event {event!r}")
    context = {"reference": dossier.reference}

    def compose():
        if event == "reviews_complete":
            subject = _("Dossier %(reference)s has its reviews") % context
            body = (
                _("Dossier %(reference)s has the reviews it needs and awaits a decision.") % context
            )
        elif event == "claimed":
            reviewers = ", ".join(
                a.reviewer.get_full_name()
                for a in dossier.assignments.active().select_related("reviewer")
            )
            subject = _("A reviewer took dossier %(reference)s from triage") % context
            body = _(
                "A reviewer took dossier %(reference)s from triage. Its reviewers now: "
                "%(reviewers)s."
            ) % {**context, "reviewers": reviewers}
        else:
            subject = _("A reviewer recused from dossier %(reference)s") % context
            body = _("A reviewer recused from dossier %(reference)s: assign another.") % context
        return subject, f"{body}\n\n{_for_reviewers(dossier)}"

    return _send(compose, _lead_reviewers())


def email_reviewers_answered(dossier: Dossier) -> int:
    """Tell the dossier's active reviewers, and whoever asked, that the NGO has answered."""
    asked = dossier.information_requests.values("asked_by")
    reviewers = User.objects.filter(is_active=True).filter(
        Q(pk__in=asked) | Q(assignments__dossier=dossier, assignments__recused_at__isnull=True)
    )
    context = {"reference": dossier.reference}

    def compose():
        subject = _("The organisation answered about dossier %(reference)s") % context
        body = (
            _(
                "The organisation answered the reviewers' question about dossier %(reference)s; "
                "the dossier is back in review once every question is answered. Sign in to the "
                "review site to read the answer."
            )
            % context
        )
        return subject, f"{body}\n\n{_for_reviewers(dossier)}"

    return _send(compose, _recipients(reviewers))


def remind_overdue(now=None) -> int:
    """Email each reviewer with an overdue review, at most once per REMIND_EVERY."""
    now = now or timezone.now()
    sent = 0
    overdue = (
        Assignment.objects.overdue(now)
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=now - REMIND_EVERY))
        .filter(reviewer__is_active=True)
        .select_related("dossier", "reviewer")
        .order_by("pk")
    )
    for assignment in overdue.iterator(chunk_size=500):
        # Claim the reminder first: a second run (or a re-delivered task) finds it taken.
        claimed = (
            Assignment.objects.filter(pk=assignment.pk)
            .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=now - REMIND_EVERY))
            .update(reminded_at=now)
        )
        if not claimed:
            continue

        def compose(assignment=assignment):
            context = {"reference": assignment.dossier.reference, "due": _due(assignment)}
            subject = _("Reminder: your review of dossier %(reference)s is overdue") % context
            body = (
                _(
                    "Your review of dossier %(reference)s was due %(due)s. Sign in to the review "
                    "site to finish it, or recuse yourself there if you cannot."
                )
                % context
            )
            return subject, f"{body}\n\n{_for_reviewers(assignment.dossier)}"

        reviewer = assignment.reviewer
        try:
            sent += _send(compose, [(reviewer.email, reviewer.language)])
        except OSError:
            # Give the claim back, so that the retried task sends this reminder.
            Assignment.objects.filter(pk=assignment.pk, reminded_at=now).update(
                reminded_at=assignment.reminded_at
            )
            raise
    return sent
