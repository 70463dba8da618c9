"""The parts of the experiment-file schema, which `plxgen.schema.build` assembles.

`shapes` holds what every part is made of; `environment` the run's settings,
`model` the model kinds and their graphs, `train` the train and eval sections
(data pipelines, or for RL models an environment and a memory).
"""
