import HessianLR

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Every live handle. A handle is not an address but a 64-bit id that is never reused (a
/// counter under the write lock), cast to the opaque pointer type. Looking ids up here instead of
/// dereferencing them turns a NULL, freed, foreign or garbage handle into
/// `HLR_ERR_INVALID_HANDLE` instead of a crash — also after a later create, since a freed id is
/// never handed out again — and keeps a box alive while a call on another thread still uses it
/// after `hlr_tuner_free`.
///
/// Lookups take a shared read lock (a pthread rwlock), so calls on different handles from many
/// threads do not serialise on the registry.
enum Registry {
    /// First id handed out; ids count up from here (odd-looking, never a small integer).
    private static let firstID: UInt = 0x4C52_0001

    private final class Table: @unchecked Sendable {
        // Guarded by `lock`: readers share it, insert/remove take it exclusively.
        var boxes: [UInt: AnyObject & Sendable] = [:]
        var nextID: UInt = Registry.firstID
        let lock: UnsafeMutablePointer<pthread_rwlock_t> = {
            let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
            lock.initialize(to: pthread_rwlock_t())
            pthread_rwlock_init(lock, nil)
            return lock
        }()
    }

    /// The process-wide table; allocated once, never freed.
    private static let table = Table()

    static func insert(_ box: AnyObject & Sendable) throws(ABIError) -> OpaquePointer {
        pthread_rwlock_wrlock(table.lock)
        defer { pthread_rwlock_unlock(table.lock) }
        let id = table.nextID
        guard id != UInt.max, let handle = OpaquePointer(bitPattern: id) else {
            throw ABIError(Status.invalidArgument, "handle ids are exhausted")
        }
        table.nextID = id + 1
        table.boxes[id] = box
        return handle
    }

    /// The live tuner behind `handle`.
    static func lookup(_ handle: OpaquePointer?) throws(ABIError) -> TunerBox {
        try object(handle, as: TunerBox.self)
    }

    /// The live schedule behind `handle`.
    static func lookupSchedule(_ handle: OpaquePointer?) throws(ABIError) -> ScheduleBox {
        try object(handle, as: ScheduleBox.self)
    }

    /// The live estimator behind `handle`.
    static func lookupEstimator(_ handle: OpaquePointer?) throws(ABIError) -> EstimatorBox {
        try object(handle, as: EstimatorBox.self)
    }

    static func object<Box: HandleBox>(_ handle: OpaquePointer?, as type: Box.Type) throws(ABIError) -> Box {
        guard let handle else { throw ABIError(Status.invalidHandle, "\(Box.kind) handle is NULL") }
        let id = UInt(bitPattern: UnsafeRawPointer(handle))
        pthread_rwlock_rdlock(table.lock)
        let object = table.boxes[id]
        pthread_rwlock_unlock(table.lock)
        guard let object else {
            throw ABIError(
                Status.invalidHandle,
                "handle \(hex(id)) is not a live \(Box.kind) (freed or never created)")
        }
        guard let box = object as? Box else {
            throw ABIError(Status.invalidHandle, "handle \(hex(id)) is not \(Box.article) \(Box.kind)")
        }
        return box
    }

    /// Removes a live handle of the given kind; throws `HLR_ERR_INVALID_HANDLE` naming it
    /// otherwise (a handle of another kind stays live).
    static func remove<Box: HandleBox>(_ handle: OpaquePointer, as type: Box.Type) throws(ABIError) {
        let id = UInt(bitPattern: UnsafeRawPointer(handle))
        pthread_rwlock_wrlock(table.lock)
        defer { pthread_rwlock_unlock(table.lock) }
        guard let object = table.boxes[id] else {
            throw ABIError(
                Status.invalidHandle,
                "handle \(hex(id)) is not a live \(Box.kind) (already freed or never created)")
        }
        guard object is Box else {
            throw ABIError(Status.invalidHandle, "handle \(hex(id)) is not \(Box.article) \(Box.kind)")
        }
        table.boxes.removeValue(forKey: id)
    }

    private static func hex(_ value: UInt) -> String { "0x" + String(value, radix: 16) }
}
