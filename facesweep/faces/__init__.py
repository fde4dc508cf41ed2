"""The face layer under io, model and live: detection (bundled YuNet, Haar), landmark alignment, one crop path.

Imports flow one way: ``errors`` -> ``faces`` -> ``io`` -> ``model`` -> ... ; nothing here imports io or above.
"""
