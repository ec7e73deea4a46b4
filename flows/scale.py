"""Reading a chunk on a Dask cluster (GUIDEFUND_DASK_ADDRESS): the national-scale path of the
nightly flow (issue 10, item 2).

The chunk is cut into read tasks of `dask_chunk_files` files each, and a subflow whose task
runner is prefect-dask's DaskTaskRunner submits them to the scheduler at the address. Files
travel as bytes inside the task (the parent has hashed them), so the Dask workers need the
guidefund package but no access to the inbox. On each Dask worker the files are read in that
process's own one-worker reading pool (guidefund.intake.readers.read_isolated): a file that
crashes or hangs the reader costs that file, as it does locally, never the Dask worker.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from guidefund.intake.night import Night, chunk_items
from guidefund.intake.readers import Item, ReadLimits
from guidefund.records import Submission
from guidefund.reference import Reference


class Batch:
    """Files (or records) travelling to and from a Dask worker. Slots and no iteration: Prefect
    neither walks it for futures nor tries to serialise it as a parameter."""

    __slots__ = ("items", "limits", "ref", "subs")

    def __init__(
        self,
        items: list[Item],
        ref: Reference | None = None,
        limits: ReadLimits | None = None,
        subs: list[Submission] | None = None,
    ):
        self.items = items
        self.ref = ref
        self.limits = limits
        self.subs = subs or []


# No task timeout: on a Dask worker the task runs in a thread a timeout cannot interrupt; the
# reading pool stops a slow file itself (GUIDEFUND_READ_TIMEOUT_S).
@task(name="read-files", cache_policy=NO_CACHE)
def read_files(batch: Batch) -> Batch:
    """On a Dask worker: read the files in this process's isolated reading pool."""
    from guidefund.intake.readers import read_isolated

    assert batch.ref is not None and batch.limits is not None
    return Batch([], subs=read_isolated(batch.items, batch.ref, batch.limits))


def read_on_dask(night: Night, index: int) -> int:
    """Read chunk `index` of the night on the cluster; returns the number of files read."""
    from prefect_dask import DaskTaskRunner

    items, refusals, notes = chunk_items(night.plan.chunks[index], night.limits)
    night.plan.notes.update(notes)
    size = max(1, night.settings.dask_chunk_files)  # type: ignore[attr-defined]
    batches = [
        Batch(items[i : i + size], night.ref, night.limits)  # type: ignore[arg-type]
        for i in range(0, len(items), size)
    ]

    @flow(name="read-on-dask", log_prints=False)
    def read_chunk_on_dask() -> list[Submission]:
        futures = [read_files.submit(b) for b in batches]
        return [sub for future in futures for sub in future.result().subs]

    runner = DaskTaskRunner(address=night.settings.dask_address)  # type: ignore[attr-defined]
    subs = read_chunk_on_dask.with_options(task_runner=runner)() if batches else []
    night.workers = max(night.workers, 1)
    night.read[index] = refusals + subs
    return len(night.read[index])
