"""Screen photos before a school trust publishes them."""
import os as _os

__version__ = "0.14.0"

# onnxruntime (1.32) otherwise writes a device id and a database under ~/.cache/Microsoft/ when
# a model loads: nothing outside the folders the product is given, and its own cache, is written
# (RT11b-27). Set before onnxruntime is imported; inherited by the forkserver and every worker.
_os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
