"""The labelled identity benchmark, small: a change to the identity rule that merges people fails here.

The same generator, load and evaluation as ``python -m bench --only identity_resolution``
(``bench/bench_identity.py``), at 2,000 existing customers and 1,000 incoming rows.
"""

from __future__ import annotations

import pytest

from bench.bench_identity import PRECISION_TARGET, RECALL_TARGET, evaluate, generate, load, wrong_text

pytestmark = pytest.mark.django_db


def test_the_identity_rule_keeps_precision_and_recall_on_labelled_french_people():
    dataset = generate(2_000, 1_000, seed=7)
    ids = load(dataset)

    evaluation = evaluate(dataset, ids)

    report = evaluation.table() + "\n" + wrong_text(evaluation, dataset, ids)
    for confusion in (evaluation.database, evaluation.final):
        assert confusion.precision >= PRECISION_TARGET, report
        assert confusion.recall >= RECALL_TARGET, report
    # The hard cases are there: namesakes of known people and relatives sharing their mailbox were decided.
    variants = evaluation.final.per_variant
    assert sum(variants["namesake in the same town"].values()) >= 50
    assert sum(variants["relative sharing the family mailbox"].values()) >= 20
