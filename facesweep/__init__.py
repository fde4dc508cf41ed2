"""facesweep: sweep depth and epochs of small Flax CNNs for facial expression and gender.

Library layout (imports flow one way): ``io`` -> ``model`` -> ``sweep`` -> ``report`` / ``live`` -> ``cli``.
"""

__version__ = "0.1.0"
