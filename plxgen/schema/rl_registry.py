"""The reinforcement-learning tables, under their former name: see plxgen.schema.registry.rl."""

from __future__ import annotations

from plxgen.schema.registry.rl import (
    CONTINUOUS_EXPLORATIONS as CONTINUOUS_EXPLORATIONS,
    DISCRETE_EXPLORATIONS as DISCRETE_EXPLORATIONS,
    ENVIRONMENTS as ENVIRONMENTS,
    EXPLORATIONS as EXPLORATIONS,
    KINDS as KINDS,
    MEMORIES as MEMORIES,
    PG_KINDS as PG_KINDS,
    Q_KINDS as Q_KINDS,
    Q_LOSSES as Q_LOSSES,
    eval_section as eval_section,
    model_kinds as model_kinds,
    train_section as train_section,
)
