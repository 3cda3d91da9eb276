"""converter's Slurm launcher: Hydra's submitit launcher, but a job that Slurm ends (scancel, its
time limit, a failed node) is a result, not an exception that ends the sweep before its summary.

Hydra instantiates launchers from the hydra_plugins namespace only, hence this package; the
record itself is written by converter.sweep.isolation.slurm. Selected by conf/hydra/launcher/submitit_slurm.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher as _StockSlurmLauncher

from converter.sweep.isolation.slurm_limits import register_preset_support

register_preset_support()  # the job's process unpickles this launcher: its config names the resolvers too


class SlurmLauncher(_StockSlurmLauncher):
    """The stock launcher, but a job Slurm ended is a result, not an exception that ends the sweep."""

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[Any]:
        import submitit

        original = submitit.Job.results
        waited: List[Tuple[Any, Optional[BaseException]]] = []  # in job order, as the stock launch waits

        def results_or_none(job: Any) -> List[Any]:
            try:
                outcome = original(job)
            except Exception as exc:  # noqa: BLE001 (UncompletedJobError, FailedJobError: Slurm ended it)
                waited.append((job, exc))
                return [None]
            waited.append((job, None))
            return outcome

        submitit.Job.results = results_or_none
        try:
            returns = list(super().launch(job_overrides, initial_job_idx))
        finally:
            submitit.Job.results = original
        for index, (job, error) in enumerate(waited):
            if error is not None:
                returns[index] = self._record_ended(list(job_overrides[index]), initial_job_idx + index, job, error)
        return returns

    def _record_ended(self, overrides: List[str], job_num: int, job: Any, error: BaseException) -> Any:
        """The JobReturn (and result.json, MLflow run) of a job whose Slurm job was ended from outside."""
        from hydra.core.utils import JobReturn, JobStatus
        from omegaconf import OmegaConf, open_dict

        sweep_config = self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
        with open_dict(sweep_config.hydra.job):
            sweep_config.hydra.job.num = job_num
            sweep_config.hydra.job.id = str(job.job_id)
        run_dir = Path(str(sweep_config.hydra.sweep.dir)) / str(sweep_config.hydra.sweep.subdir)
        from converter.sweep.isolation.slurm import slurm_state
        from converter.sweep.task import record_slurm_end

        status = record_slurm_end(sweep_config, run_dir, slurm_state(job), error)
        return JobReturn(
            overrides=overrides,
            cfg=OmegaConf.masked_copy(sweep_config, [k for k in sweep_config if k != "hydra"]),
            hydra_cfg=sweep_config,
            working_dir=str(run_dir),
            task_name=str(sweep_config.hydra.job.name),
            status=JobStatus.COMPLETED,
            _return_value=status,
        )
