"""Draw the live view at a fixed rate from its own thread, from snapshots of the loop's state.

    refresher = ViewRefresher(lambda state: live.update(render_view(state), refresh=True), hz=10)
    refresher.start()
    run_live(..., on_frame=refresher.publish)   # cheap: a snapshot only when the drawer asks for one
    refresher.stop()                            # then draw the final state once more, in this thread

Why a thread: drawing is pure Python (rich lays out and writes the text), and it used to run inside the frame
loop, adding its cost to every frame it fell on. Here the frame loop only copies the state when the drawer is
ready for a new one (``LiveState.snapshot``, a few microseconds); the drawer renders that copy with the pure
``render_view`` while the next frame's model and detector calls, which release the GIL, run on. A terminal
cannot show more than ~10-15 updates a second anyway, so drawing is decoupled from the processing rate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from facesweep.live.loop import LiveState

VIEW_HZ = 10.0  # view redraws per second; what a terminal shows smoothly, and each costs ~2 ms of CPU


class ViewRefresher:
    """Calls ``draw(snapshot)`` at most ``hz`` times a second, in a daemon thread, with the newest published state."""

    def __init__(
        self, draw: Callable[[LiveState], None], *, hz: float = VIEW_HZ, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if hz <= 0:
            raise ValueError(f"view refresh rate must be > 0 per second, got {hz}")
        self.draw = draw
        self.period = 1.0 / hz
        self.clock = clock
        self.draws = 0  # snapshots drawn by the thread
        self.error: BaseException | None = None  # what stopped the thread, re-raised by stop()
        self._want = threading.Event()  # the drawer is ready for a new snapshot
        self._fresh = threading.Event()  # a snapshot was published since the last draw
        self._stop = threading.Event()
        self._latest: LiveState | None = None
        self._thread = threading.Thread(target=self._run, name="view", daemon=True)

    def publish(self, state: LiveState) -> None:
        """Called by the frame loop after each frame: hand over a snapshot if the drawer wants one."""
        if self._want.is_set():
            self._want.clear()
            self._latest = state.snapshot()
            self._fresh.set()

    def start(self) -> ViewRefresher:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                started = self.clock()
                self._want.set()
                if not self._fresh.wait(timeout=0.5):
                    continue  # no frame came (a slow source, or the end): ask again
                self._fresh.clear()
                if self._stop.is_set():
                    break
                self.draw(self._latest)  # type: ignore[arg-type]
                self.draws += 1
                self._stop.wait(max(0.0, self.period - (self.clock() - started)))
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread by stop()
            self.error = exc

    def stop(self) -> None:
        """Stop the thread (after a draw in progress finishes); re-raise what stopped it early, if anything."""
        self._stop.set()
        self._fresh.set()
        if self._thread.is_alive():
            self._thread.join()
        error, self.error = self.error, None
        if error is not None:
            raise error
