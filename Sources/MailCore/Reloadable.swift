import Synchronization

/// A value the server replaces in place when its configuration is reloaded (SIGHUP): every
/// holder of the box (each listener, each connection's copy of an environment) reads the new
/// value from then on, without a restart and without dropping a connection.
public final class Reloadable<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    public init(_ value: Value) { self.value = Mutex(value) }

    public var current: Value { value.withLock { $0 } }

    public func replace(_ new: Value) { value.withLock { $0 = new } }

    public func update(_ change: (inout Value) -> Void) { value.withLock { change(&$0) } }
}
