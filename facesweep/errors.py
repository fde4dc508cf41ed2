"""One exception family. Library code raises these; only ``facesweep.cli`` turns them into exit codes."""


class FacesweepError(Exception):
    """Base class: a problem the user can act on, printed as one line by the CLI."""

    exit_code = 1


class UsageError(FacesweepError):
    """A command-line value that cannot be used (bad flag combination, command not built yet)."""

    exit_code = 2


class ConfigError(FacesweepError):
    """An invalid model/training configuration or search space."""

    exit_code = 2


class DataError(FacesweepError):
    """A dataset that is missing, empty or malformed."""

    exit_code = 3


class CheckpointError(FacesweepError):
    """A model artifact that is missing, truncated or does not match its config."""

    exit_code = 4


class StorageError(FacesweepError):
    """An Optuna storage that cannot be reached, or a study that does not exist in it."""

    exit_code = 5


class CameraError(FacesweepError):
    """A camera, video or stream that cannot be opened."""

    exit_code = 6


class TrainingDiverged(FacesweepError):
    """The loss became NaN or infinite."""

    exit_code = 7
