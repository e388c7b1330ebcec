"""The cost of a request: hashcash on a signed one-time challenge, or the portal's question."""

import re

from django.core import signing

from intake import challenge

from .conftest import solve


def _answer(question: str) -> str:
    a, b = (int(n) for n in re.findall(r"\d+", question)[:2])
    return str(a + b)


def test_work_found_by_the_browser_meets_the_challenge(db):
    issued = challenge.issue()
    assert challenge.verify(issued.token, counter=solve(issued.token, issued.bits))


def test_a_counter_that_does_no_work_is_refused(db, settings):
    settings.INTAKE_POW_BITS = 20
    issued = challenge.issue()
    assert not challenge.verify(issued.token, counter="0")
    assert not challenge.verify(issued.token, counter="")


def test_the_question_is_enough_without_javascript_and_a_wrong_answer_is_not(db):
    issued = challenge.issue()
    wrong = str(int(_answer(issued.question)) + 1)
    assert not challenge.verify(issued.token, answer=wrong)
    assert challenge.verify(issued.token, answer=_answer(issued.question))


def test_a_challenge_is_used_once(db):
    issued = challenge.issue()
    counter = solve(issued.token, issued.bits)
    assert challenge.verify(issued.token, counter=counter)
    assert not challenge.verify(issued.token, counter=counter)


def test_an_old_or_forged_challenge_is_refused(db, settings):
    issued = challenge.issue()
    forged = signing.dumps({"n": "x", "b": 0, "q": ""}, salt="another.salt")
    assert not challenge.verify(forged, counter="0")
    settings.INTAKE_CHALLENGE_MAX_AGE = -1  # every token is already too old
    assert not challenge.verify(issued.token, counter=solve(issued.token, issued.bits))
