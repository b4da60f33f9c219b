"""The workflow engine, exercised on a small workflow declared over ImportJob.status."""

from __future__ import annotations

import pytest

from branchcare.core.errors import DomainError
from branchcare.core.models import AuditLog, ImportJob, TransitionLog
from branchcare.core.workflow import SlaEffect, Transition, Workflow, history, transition

FLOW = Workflow(
    name="demo",
    states={"pending": "排队中", "running": "处理中", "done": "已完成", "failed": "失败"},
    initial="pending",
    state_field="status",
    transitions=[
        Transition(
            "start", {"pending"}, "running", capability="data.import", label="开始", sla=SlaEffect.START
        ),
        Transition("finish", {"running"}, "done", capability="data.import", label="完成", sla=SlaEffect.STOP),
        Transition("fail", {"running"}, "failed", label="失败", requires_note=True),
    ],
)


@pytest.fixture
def job(world):
    return ImportJob.objects.create(
        kind="clients", branch=world.b1, file_name="a.csv", file_path="/tmp/a.csv"
    )


def test_transition_moves_state_logs_and_audits(world, job):
    director = world["director"]
    transition(workflow=FLOW, obj=job, name="start", actor=director, holder=director)
    transition(workflow=FLOW, obj=job, name="finish", actor=director)
    job.refresh_from_db()
    assert job.status == "done"
    steps = list(history(job).values_list("transition", "from_state", "to_state", "actor__username", "sla"))
    assert steps == [
        ("start", "pending", "running", "director", "start"),
        ("finish", "running", "done", "director", "stop"),
    ]
    assert (
        AuditLog.objects.filter(action__in=["demo.start", "demo.finish"], object_id=str(job.pk)).count() == 2
    )


def test_illegal_transition_is_refused_and_nothing_changes(world, job):
    with pytest.raises(DomainError) as exc:
        transition(workflow=FLOW, obj=job, name="finish", actor=world["director"])
    assert "排队中" in exc.value.message
    job.refresh_from_db()
    assert job.status == "pending"
    assert not TransitionLog.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="demo.").exists()


def test_capability_is_checked(world, job):
    with pytest.raises(DomainError) as exc:
        transition(workflow=FLOW, obj=job, name="start", actor=world["manager1"])
    assert exc.value.code == "forbidden"
    job.refresh_from_db()
    assert job.status == "pending"


def test_required_note(world, job):
    transition(workflow=FLOW, obj=job, name="start", actor=world["director"])
    with pytest.raises(DomainError) as exc:
        transition(workflow=FLOW, obj=job, name="fail", actor=world["director"], note="  ")
    assert exc.value.field == "note"
    transition(workflow=FLOW, obj=job, name="fail", actor=world["director"], note="文件损坏")
    assert history(job).last().note == "文件损坏"


def test_guards_and_available(world, job):
    def only_creator(obj, actor, t):
        if actor.username != "director":
            raise DomainError("只有创建人可以操作")

    flow = Workflow(
        name="g",
        states=FLOW.states,
        initial="pending",
        state_field="status",
        transitions=FLOW.transitions,
        guards=[only_creator],
    )
    assert [t.name for t in flow.available(job, world["director"])] == ["start"]
    assert flow.available(job, world["admin"]) == []  # admin holds data.import but fails the guard
    with pytest.raises(DomainError):
        transition(workflow=flow, obj=job, name="start", actor=world["admin"])


def test_hooks_run_after_commit(world, job, django_capture_on_commit_callbacks):
    seen = []
    flow = Workflow(
        name="h", states=FLOW.states, initial="pending", state_field="status", transitions=FLOW.transitions
    )
    flow.on_transition(lambda obj, actor, t, src: seen.append((t.name, src, obj.status)))
    with django_capture_on_commit_callbacks(execute=True):
        transition(workflow=flow, obj=job, name="start", actor=world["director"])
    assert seen == [("start", "pending", "running")]


def test_workflow_rejects_unknown_states():
    with pytest.raises(ValueError):
        Workflow(name="x", states={"a": "A"}, initial="a", transitions=[Transition("go", {"a"}, "b")])
