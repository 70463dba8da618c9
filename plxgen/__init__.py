"""plxgen: compile Polyaxon-style experiment files into TensorFlow training scripts.

From Python (docs/contract.md): `compile_file`, `compile_string`,
`validate_file` and `validate_string`; a bad config raises `CompileError`,
whose `diagnostics` are `Diagnostic` objects.
"""

__version__ = "0.1.0"

from plxgen.api import (  # noqa: E402 - after __version__, which the compiler reads
    CompileError,
    compile_file,
    compile_string,
    validate_file,
    validate_string,
)
from plxgen.errors import Diagnostic  # noqa: E402

__all__ = [
    "CompileError",
    "Diagnostic",
    "__version__",
    "compile_file",
    "compile_string",
    "validate_file",
    "validate_string",
]
