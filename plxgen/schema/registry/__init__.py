"""Name tables: every name a config may use, its arguments and 2017 defaults.

The JSON Schema is generated from these tables (`plxgen.schema.build`), and
lowering maps the same names to Keras symbols, so the two cannot drift. A
Keras symbol is only ever written into a script if it appears here.

One module per family: `common` (Entry and the argument schemas), `losses`,
`optimizers` (with their decay), `metrics` (and summaries), `initializers`
(with regularizers, constraints, activations and dtypes), `pipelines`,
`processors` and `rl` (the reinforcement-learning kinds). This package
re-exports the names the rest of plxgen reads.
"""

from __future__ import annotations

from plxgen.schema.registry import rl as rl
from plxgen.schema.registry.common import (
    END as END,
    IDENTIFIER as IDENTIFIER,
    JSON as JSON,
    LABELS as LABELS,
    MODEL_KINDS as MODEL_KINDS,
    OPERATOR_SECTIONS as OPERATOR_SECTIONS,
    Entry as Entry,
    boolean as boolean,
    enum as enum,
    integer as integer,
    number as number,
    schema_default as schema_default,
)
from plxgen.schema.registry.initializers import (
    ACTIVATIONS as ACTIVATIONS,
    CONSTRAINT_STRINGS as CONSTRAINT_STRINGS,
    CONSTRAINTS as CONSTRAINTS,
    DTYPES as DTYPES,
    INITIALIZER_STRINGS as INITIALIZER_STRINGS,
    INITIALIZERS as INITIALIZERS,
    REGULARIZER_STRINGS as REGULARIZER_STRINGS,
    REGULARIZERS as REGULARIZERS,
)
from plxgen.schema.registry.losses import LOSSES as LOSSES
from plxgen.schema.registry.metrics import METRICS as METRICS, SUMMARIES as SUMMARIES
from plxgen.schema.registry.optimizers import (
    DECAY_TYPES as DECAY_TYPES,
    DECAYS as DECAYS,
    KERAS_DEFAULTS as KERAS_DEFAULTS,
    OPTIMIZERS as OPTIMIZERS,
)
from plxgen.schema.registry.pipelines import PIPELINES as PIPELINES
from plxgen.schema.registry.processors import (
    COLOR_SPACES as COLOR_SPACES,
    FEATURE_PROCESSORS as FEATURE_PROCESSORS,
    RESIZE_METHODS as RESIZE_METHODS,
)
