"""Preparing articles on a Ray cluster (`rag build --ray auto|ADDRESS`): batches of files go to
Ray tasks that read, clean, chunk, tokenize and embed, exactly as the local worker processes do;
the build collects the results in order into segments.

Workers read the files by their paths and the resume cache by its path: on a cluster both must
be on a filesystem every node sees (a worker that cannot see the cache embeds all it is sent).
"""

from __future__ import annotations

from collections.abc import Iterator

from rag.errors import ConfigError
from rag.index.prepare import Job, PrepareConfig, PrepareResult, in_order, prepare_in_worker


def on_ray(batches: list[list[Job]], config: PrepareConfig) -> Iterator[list[PrepareResult]]:
    """Results batch by batch, in order, from Ray tasks (one CPU each, two batches per CPU ahead).

    "auto" starts a Ray instance on this machine for the build and stops it afterwards; an
    address ("ray://head:10001", "head:6379") joins that cluster.

    Raises:
        ConfigError: ray is not installed, or the cluster cannot be reached.
    """
    try:
        import ray
    except ImportError:
        raise ConfigError("rag build --ray needs ray: pip install -e '.[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(address=None if config.ray_address == "auto" else config.ray_address,
                     include_dashboard=False, log_to_driver=False, configure_logging=False)  # fmt: skip
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(f"--ray {config.ray_address}: cannot start or reach Ray ({exc})") from None
    try:
        task = ray.remote(num_cpus=1)(prepare_in_worker)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        yield from in_order(lambda batch: task.remote(config, batch).future(), batches, 2 * cpus + 1)
    finally:
        if started_here:
            ray.shutdown()
