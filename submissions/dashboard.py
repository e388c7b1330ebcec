"""
The NGO dashboard's page of dossiers, kept in the shared cache (Redis) per organisation.

A page (its dossiers, regimes, open questions and completeness meters) changes only when one of
the organisation's dossiers, or something the meters read, changes: each such save or delete
moves the organisation's version (signals below, and services._touch), and a page is cached
under the versions of the organisations it shows. A request then reads the versions and the
page in one round trip to Redis and makes no query for them.

Only with a cache that every process shares (settings.VERSIONED_CACHE, on when REDIS_URL is
set): with one cache per process, a change made in another process would not be seen.
"""

import time

from django.conf import settings
from django.core.cache import caches
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import get_language

from .checklist import completeness_for
from .models import (
    ChecklistAnswer,
    ChecklistVersion,
    Criterion,
    Dossier,
    Evidence,
    Regime,
    RegimeCriterion,
    Subject,
)

PAGE_SIZE = 50
# A cached page lives at most this long (seconds), even if nothing moves its versions.
PAGE_SECONDS = 60 * 60
GLOBAL = "all"  # the version of what every meter reads: regimes and their checklists


def _cache():
    return caches[settings.VERSIONED_CACHE_ALIAS]


def _version_key(organisation_id) -> str:
    return f"dashboard:version:{organisation_id}"


def changed(organisation_id) -> None:
    """Say that a page of `organisation_id`'s dossiers may have changed (GLOBAL: every page)."""
    if not settings.VERSIONED_CACHE:
        return

    def move():
        _cache().set(_version_key(organisation_id), time.time_ns(), None)

    move()
    # Again after the commit: a page another request built before it is stale too.
    transaction.on_commit(move)


def _versions(organisation_ids) -> dict:
    """The current version of each of `organisation_ids` (and GLOBAL): one round trip."""
    cache = _cache()
    keys = {_version_key(pk): pk for pk in {GLOBAL, *organisation_ids}}
    found = cache.get_many(list(keys))
    missing = {key: time.time_ns() for key in keys if not found.get(key)}
    if missing:  # never set, or evicted: start afresh
        cache.set_many(missing, None)
    return {pk: found.get(key) or missing[key] for key, pk in keys.items()}


def versioned(name: str, compute, *, organisation_id=GLOBAL, seconds: int = PAGE_SECONDS):
    """Return compute(), kept until GLOBAL (or `organisation_id`'s version) moves."""
    if not settings.VERSIONED_CACHE:
        return compute()
    cache = _cache()
    versions = _versions([organisation_id])
    key = f"versioned:{name}:{get_language()}:{versions[GLOBAL]}:{versions[organisation_id]}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value


def cached_completeness_for(dossiers) -> dict:
    """checklist.completeness_for(dossiers), each dossier's rows kept under its versions."""
    if not settings.VERSIONED_CACHE or not dossiers:
        return completeness_for(dossiers)
    cache = _cache()
    versions = _versions({dossier.organisation_id for dossier in dossiers})
    keys = {
        dossier.pk: f"completeness:{dossier.pk}:{get_language()}:{versions[GLOBAL]}:"
        f"{versions[dossier.organisation_id]}"
        for dossier in dossiers
    }
    found = cache.get_many(list(keys.values()))
    rows = {pk: found[key] for pk, key in keys.items() if key in found}
    missing = [dossier for dossier in dossiers if dossier.pk not in rows]
    if missing:
        computed = completeness_for(missing)
        cache.set_many({keys[pk]: value for pk, value in computed.items()}, PAGE_SECONDS)
        rows.update(computed)
    return rows


def page_of_dossiers(user, organisation_ids: list[int], number):
    """Return (page, dossiers) of `user`'s dashboard, each dossier with its `meter`."""
    queryset = (
        Dossier.objects.visible_to(user, through="organisation")
        .select_related("organisation")
        .prefetch_related("target_regimes")
        .annotate(
            open_questions=Count(
                "information_requests",
                filter=Q(information_requests__answered_at__isnull=True),
            )
        )
        .order_by("-updated_at", "-pk")
    )
    paginator = Paginator(queryset, PAGE_SIZE)
    if not settings.VERSIONED_CACHE or not organisation_ids:
        return _compute(paginator, number)
    cache = _cache()
    version_keys = [_version_key(pk) for pk in [GLOBAL, *sorted(organisation_ids)]]
    page_key = f"dashboard:page:{':'.join(version_keys)}:{get_language()}:{number}"
    found = cache.get_many([*version_keys, page_key])
    versions = [found.get(key) for key in version_keys]
    missing = {key: time.time_ns() for key, v in zip(version_keys, versions, strict=True) if not v}
    if missing:  # never set, or evicted: start afresh
        cache.set_many(missing, None)
        versions = [found.get(key) or missing[key] for key in version_keys]
    stamped = f"{page_key}:{':'.join(map(str, versions))}"
    cached = found.get(page_key)
    if cached is not None and cached[0] == stamped:
        count, dossiers = cached[1], cached[2]
        paginator.__dict__["count"] = count  # Paginator.count is a cached_property
        page = paginator.get_page(number)
        page.object_list = dossiers
        return page, dossiers
    page, dossiers = _compute(paginator, number)
    cache.set(page_key, (stamped, paginator.count, dossiers), PAGE_SECONDS)
    return page, dossiers


def _compute(paginator: Paginator, number):
    page = paginator.get_page(number)
    dossiers = list(page.object_list)
    rows = completeness_for(dossiers)
    for dossier in dossiers:
        dossier.meter = rows[dossier.pk]
        # Plain values for the template: a related manager and a reverse() per row and per
        # use cost more than the rest of the row.
        dossier.regime_keys = [regime.key for regime in dossier.target_regimes.all()]
        dossier.url = dossier.get_absolute_url()
    page.object_list = dossiers
    return page, dossiers


# What moves the versions. Signals, as the style guide keeps them for cache invalidation.


def _dossier_saved(sender, instance, **kwargs):
    changed(instance.organisation_id)


def _child_saved(sender, instance, **kwargs):
    if not settings.VERSIONED_CACHE:
        return
    if sender.dossier.is_cached(instance):
        organisation_id = instance.dossier.organisation_id
    else:
        organisation_id = (
            Dossier.objects.filter(pk=instance.dossier_id)
            .values_list("organisation_id", flat=True)
            .first()
        )
    if organisation_id is not None:
        changed(organisation_id)


def _organisation_saved(sender, instance, **kwargs):
    changed(instance.pk)


def _regimes_changed(sender, instance, **kwargs):
    if isinstance(instance, Dossier):
        changed(instance.organisation_id)
    else:
        changed(GLOBAL)


def _checklist_saved(sender, **kwargs):
    changed(GLOBAL)


def connect() -> None:
    from portal.models import Organisation
    from reviews.models import InformationRequest

    for signal in (post_save, post_delete):
        signal.connect(_dossier_saved, sender=Dossier, dispatch_uid=f"dashboard-dossier-{signal}")
        for model in (Subject, Evidence, ChecklistAnswer, InformationRequest):
            signal.connect(
                _child_saved, sender=model, dispatch_uid=f"dashboard-{model.__name__}-{signal}"
            )
        signal.connect(
            _organisation_saved, sender=Organisation, dispatch_uid=f"dashboard-org-{signal}"
        )
        for model in (Regime, RegimeCriterion, Criterion, ChecklistVersion):
            signal.connect(
                _checklist_saved, sender=model, dispatch_uid=f"dashboard-{model.__name__}-{signal}"
            )
    m2m_changed.connect(
        _regimes_changed, sender=Dossier.target_regimes.through, dispatch_uid="dashboard-regimes"
    )
