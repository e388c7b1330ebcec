"""
Canonical records (reviews.Person, a person or an organisation): what a linked subject adds to
its record, and screening the record against the imported designation lists.

A record keeps the most precise data its subjects give: a full birth date over a year or a
month that agrees with it, every nationality, an original-script name, and each subject's
names as aliases. A birth date that disagrees with the record's is left for a reviewer
(the record is not overwritten by a conflicting claim).
"""

from portal import audit
from portal.models import User

from .models import Person


def more_precise(new: str, old: str) -> bool:
    """Whether partial date `new` says more than `old` and agrees with it (1970-03-05 > 1970)."""
    return bool(new) and (not old or (new.startswith(old) and len(new) > len(old)))


def absorb(person: Person, subject, *, by: User) -> Person:
    """
    Take into `person` what linked `subject` knows more precisely; audited if anything
    changed. The caller runs in a transaction and has checked that `by` may link them.
    """
    person = Person.objects.select_for_update().get(pk=person.pk)
    changed = []
    if more_precise(subject.birth_date, person.birth_date):
        person.birth_date = subject.birth_date
        changed.append("birth_date")
    if not person.name_original and subject.name_original:
        person.name_original = subject.name_original
        changed.append("name_original")
    nationalities = [str(c) for c in person.nationalities]
    added = [str(c) for c in subject.nationalities if str(c) not in nationalities]
    if added:
        person.nationalities = nationalities + added
        changed.append("nationalities")
    known = {n.casefold() for n in [person.name, person.name_original, *person.aliases] if n}
    aliases = list(person.aliases)
    for name in [subject.name, subject.name_original, *(subject.aliases or [])]:
        if isinstance(name, str) and name and name.casefold() not in known:
            aliases.append(name)
            known.add(name.casefold())
    if len(aliases) != len(person.aliases):
        person.aliases = aliases
        changed.append("aliases")
    if changed:
        person.save(update_fields=[*changed, "updated_at"])
        audit.record(
            actor=by,
            action="person.enriched",
            target=person,
            data={"from_subject": subject.pk, "fields": changed},
        )
    screen_on_commit(person)
    return person


def screen_on_commit(person: Person) -> None:
    """Screen the record against the designation lists once the transaction commits."""
    from designations import tasks

    tasks.screen_person.delay_on_commit(person.pk)
