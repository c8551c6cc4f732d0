"""Runs from the frameworks people train with: each module turns one framework's training into an
upstack run, with the options of ``upstack.run`` (name, under, tags, goals, home ...).

- ``upstack.integrations.transformers.UpstackCallback``: a Hugging Face ``TrainerCallback``.
- ``upstack.integrations.lightning.UpstackLogger``: a Lightning ``Logger``.
- ``upstack.integrations.keras.UpstackCallback``: a Keras 3 callback.
- ``upstack.integrations.optuna.UpstackCallback``: each finished Optuna trial a run under the study's node.

Nothing here imports a framework until its module is imported: ``import upstack.integrations``
stays as light as ``import upstack``.
"""

from __future__ import annotations

__all__: list[str] = []
