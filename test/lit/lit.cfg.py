"""lit configuration: runs perf-opt and the Python `filecheck` from the active environment."""

import os

import lit.formats

config.name = "perf-opt"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.test_source_root, "Output")
config.environment["PATH"] = os.environ.get("PATH", "")
config.environment["PYTHONDONTWRITEBYTECODE"] = "1"
repo = os.path.dirname(os.path.dirname(config.test_source_root))
config.substitutions.append(("%repo", repo))
