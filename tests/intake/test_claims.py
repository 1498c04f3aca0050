"""Claims: one worker per content, take-over of dead or expired holders, on every database."""

from __future__ import annotations

import datetime as dt
import os
import socket

from sqlalchemy import update

from workbook_engine.domain import ClaimState, IntakeClaim
from workbook_engine.services.pipeline.intake import (
    Claim,
    ClaimRefused,
    claim_item,
    finish_claim,
    holder_is_dead,
    new_worker_id,
    reclaim,
    recoverable,
)

SHA = "ab" * 32


def test_one_claim_per_content_and_take_over_after_the_lease(any_ctx) -> None:  # noqa: ANN001
    host = socket.gethostname()
    alive_a = f"{host}:{os.getpid()}:aaaa"
    remote_b = "other-host:4242:bbbb"
    first = claim_item(any_ctx, sha256=SHA, original_name="K.xlsx", worker=alive_a,
                       lease_seconds=60)
    assert isinstance(first, Claim) and first.attempts == 1 and first.previous_state is None
    # Another worker elsewhere cannot take it while the lease runs, nor take it "by luck".
    refused = claim_item(any_ctx, sha256=SHA, original_name="K.xlsx", worker=remote_b,
                         lease_seconds=60, retake_done=True)
    assert isinstance(refused, ClaimRefused) and refused.claimed_by == alive_a
    assert recoverable(any_ctx, worker=remote_b, sources=("inbox",)) == []
    # The lease runs out: now it may.
    with any_ctx.unit_of_work(None) as uow:
        uow.session.execute(update(IntakeClaim).values(
            lease_until=dt.datetime(2000, 1, 1)))
        uow.commit()
    assert recoverable(any_ctx, worker=remote_b, sources=("inbox",)) == [SHA]
    taken = reclaim(any_ctx, SHA, worker=remote_b, lease_seconds=60)
    # Its holder stopped (a restart, a power cut): not the file's doing, not an attempt.
    assert isinstance(taken, Claim) and taken.attempts == 1
    assert taken.previous_state == ClaimState.CLAIMED
    # The first holder has lost it: it cannot close the claim any more.
    assert not finish_claim(any_ctx, first.id, worker=alive_a, state=ClaimState.PROCESSED)
    assert finish_claim(any_ctx, taken.id, worker=remote_b, state=ClaimState.PROCESSED,
                        submission_id=None)
    # A finished claim is only taken again as a new arrival of the same content.
    assert isinstance(reclaim(any_ctx, SHA, worker=alive_a, lease_seconds=60), ClaimRefused)
    again = claim_item(any_ctx, sha256=SHA, original_name="K copy.xlsx", worker=alive_a,
                       lease_seconds=60, retake_done=True)
    assert isinstance(again, Claim) and again.attempts == 1
    assert again.original_name == "K copy.xlsx"


def test_a_dead_holder_on_this_machine_is_taken_over_at_once(ctx) -> None:  # noqa: ANN001
    me = new_worker_id()
    host = socket.gethostname()
    earlier_life = f"{host}:{os.getpid()}:0123456789ab"
    assert holder_is_dead(earlier_life, me)
    assert not holder_is_dead(me, me)
    assert holder_is_dead(f"{host}:{2**22 + 7}:x", me)  # no such pid
    assert not holder_is_dead(f"{host}:1:x", me)          # init is alive
    assert not holder_is_dead("elsewhere:1:x", me)        # judged by its lease only
    claim_item(ctx, sha256=SHA, original_name="K.xlsx", worker=earlier_life,
               lease_seconds=3600)
    assert recoverable(ctx, worker=me, sources=("inbox",)) == [SHA]
    assert isinstance(reclaim(ctx, SHA, worker=me, lease_seconds=60), Claim)
