"""cloudce's DIRAC CE plugin, as a DIRAC extension (entry-point group ``dirac``).

The CE itself is ``Resources/Computing/CloudceComputingElement.py``; see
docs/dirac.md for installing it on sys.path instead, which avoids the pilot
extension side effect of an installed extension.
"""


def extension_metadata():
    """What DIRAC's extension discovery reads: not a primary extension, and ranked just above DIRAC."""
    return {"primary_extension": False, "priority": 1, "setups": {}}
