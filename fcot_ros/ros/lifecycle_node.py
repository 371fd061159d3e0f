"""tracker_node as a managed (lifecycle) node: a second wiring of the same parts as node.py.

    unconfigured --configure--> inactive: parameters read, publishers made, tracker built (parts),
                                          tracking thread started (idle: no frames come in)
    inactive     --activate-->  active:   image subscription, track/init, track/stop, diagnostics
                                          timer; publishers on
    active       --deactivate-> inactive: tracking stopped (one IDLE TrackedTarget), inputs removed
    inactive     --cleanup-->   unconfigured: tracking thread stopped, parts and publishers dropped

Parameters are declared at construction (read-only, as in the plain node) and read at configure.
Executable: lib/fcot_ros/tracker_lifecycle_node (`ros2 launch fcot_ros tracker.launch.py
lifecycle:=true`), driven with `ros2 lifecycle set /tracker configure|activate|deactivate|cleanup|shutdown`.
"""
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn

from fcot_ros.msg import TrackedTarget
from fcot_ros.ros.node import close_parts, create_inputs, create_outputs, image_input, log_ready, run
from fcot_ros.ros.params import declare, read
from fcot_ros.ros.parts import build_parts


class LifecycleTrackerNode(LifecycleNode):
    """tracker_node as a lifecycle node: parts built at configure, inputs made at activate (see the module
    docstring)."""

    def __init__(self, node_name: str = "tracker", **kwargs):
        super().__init__(node_name, **kwargs)
        declare(self)
        self.parts = None
        self._pubs = None
        self._inputs = []

    def on_configure(self, state) -> TransitionCallbackReturn:
        """Read the parameters, make the lifecycle publishers, build the parts and start the tracking thread."""
        self.p = read(self)
        _, _, self.image_topic = image_input(self, self.p)
        self._pubs = create_outputs(self, self.create_lifecycle_publisher, event_handlers=False)
        self.parts = build_parts(self, self.p, self.image_topic, self._pubs)
        self.parts.loop.start()
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state) -> TransitionCallbackReturn:
        """Activate the publishers and create the image subscription, services and diagnostics timer."""
        result = super().on_activate(state)          # the lifecycle publishers
        self._inputs = create_inputs(self, self.parts, self._pubs.diagnostics, event_handlers=False)
        log_ready(self, self.parts, self.image_topic)
        return result

    def on_deactivate(self, state) -> TransitionCallbackReturn:
        """Remove the inputs and stop any tracking in progress (publishing one IDLE target)."""
        self._destroy_inputs()
        session = self.parts.session
        with session.lock:
            if session.state != TrackedTarget.IDLE:
                session.stop_locked("deactivated")
        return super().on_deactivate(state)

    def on_cleanup(self, state) -> TransitionCallbackReturn:
        """Stop the tracking thread and drop the parts and publishers."""
        self._drop_parts()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state) -> TransitionCallbackReturn:
        """Remove the inputs, stop the tracking thread and drop the parts and publishers."""
        self._destroy_inputs()
        self._drop_parts()
        return TransitionCallbackReturn.SUCCESS

    def close(self, timeout: float = 60.0):
        """Stop the tracking thread if the node is configured (waits up to ``timeout`` s for a step in progress)."""
        if self.parts is not None:
            close_parts(self, self.parts, timeout)

    def _destroy_inputs(self):
        if self._inputs:
            sub, init_srv, stop_srv, timer, info_sub = self._inputs
            self.destroy_subscription(sub)
            self.destroy_service(init_srv)
            self.destroy_service(stop_srv)
            self.destroy_timer(timer)
            self.destroy_subscription(info_sub)
        self._inputs = []

    def _drop_parts(self):
        self.close()
        for pub in (self._pubs.all() if self._pubs is not None else []):
            self.destroy_lifecycle_publisher(pub)
        self._pubs, self.parts = None, None


def main(args=None):
    """Entry point of tracker_lifecycle_node: the managed node, unconfigured until told otherwise."""
    run(LifecycleTrackerNode, args)
