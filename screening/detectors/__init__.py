"""Detectors report findings; they never decide. One module per check.

Each detector is a class built once per worker process (models load in __init__, never at
import) with one method:

    detect(picture: imaging.Picture, earlier: dict[Check, CheckResult]) -> list[Finding]

`earlier` holds the results of the checks that ran before it on the same image (faces run
before uniforms, so the uniform check can look below every face). A detector that cannot
finish raises; the pipeline records the check as not run, and decide() refuses to clear.
"""
