import HessianLR

// Schedules: values of closed-form lr(step), composed and attached to tuners.

private func scheduleKind(_ value: Int32) throws(ABIError) -> ScheduleKind {
    try Arguments.id(value)
}

private func scheduleParameter(_ value: Int32) throws(ABIError) -> ScheduleParameter {
    try Arguments.id(value)
}

private func newSchedule(_ schedule: Schedule, _ out: UnsafeMutablePointer<OpaquePointer?>) throws {
    out.pointee = try Registry.insert(ScheduleBox(schedule))
}

@_cdecl("hlr_schedule_create")
public func hlr_schedule_create(_ kind: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    exported("hlr_schedule_create") {
        let out = try Arguments.pointer(out, "out")
        out.pointee = nil
        try newSchedule(try Schedule(try scheduleKind(kind)), out)
    }
}

@_cdecl("hlr_schedule_free")
public func hlr_schedule_free(_ handle: OpaquePointer?) -> Int32 {
    exported("hlr_schedule_free") {
        guard let handle else { return }
        try Registry.remove(handle, as: ScheduleBox.self)
    }
}

@_cdecl("hlr_schedule_kind")
public func hlr_schedule_kind(_ handle: OpaquePointer?, _ kind: UnsafeMutablePointer<Int32>?) -> Int32 {
    exported("hlr_schedule_kind") {
        let box = try Registry.lookupSchedule(handle)
        let out = try Arguments.pointer(kind, "kind")
        out.pointee = Int32(box.read { $0.kind.rawValue })
    }
}

@_cdecl("hlr_schedule_param_bounds")
public func hlr_schedule_param_bounds(
    _ kind: Int32, _ key: Int32, _ minimum: UnsafeMutablePointer<Double>?,
    _ maximum: UnsafeMutablePointer<Double>?, _ defaultValue: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_schedule_param_bounds") {
        try Arguments.writeBounds(
            scheduleKind(kind).spec(for: scheduleParameter(key)), minimum, maximum, defaultValue)
    }
}

@_cdecl("hlr_schedule_set_param")
public func hlr_schedule_set_param(_ handle: OpaquePointer?, _ key: Int32, _ value: Double) -> Int32 {
    exported("hlr_schedule_set_param") {
        let box = try Registry.lookupSchedule(handle)
        let key = try scheduleParameter(key)
        try box.mutate { (schedule) throws(HLRError) in try schedule.set(key, value) }
    }
}

@_cdecl("hlr_schedule_set_params")
public func hlr_schedule_set_params(
    _ handle: OpaquePointer?, _ keys: UnsafePointer<Int32>?, _ values: UnsafePointer<Double>?,
    _ n: UInt
) -> Int32 {
    exported("hlr_schedule_set_params") {
        let box = try Registry.lookupSchedule(handle)
        let count = try Arguments.count(n, "n", limit: ScheduleParameter.allCases.count)
        var settings: [ScheduleParameter: Double] = [:]
        if count > 0 {
            let keys = try Arguments.pointer(keys, "keys")
            let values = try Arguments.pointer(values, "values")
            for index in 0..<count {
                let key = try scheduleParameter(keys[index])
                guard settings[key] == nil else {
                    throw ABIError.invalid("key \(key.name) appears twice in keys")
                }
                settings[key] = values[index]
            }
        }
        try box.mutate { (schedule) throws(HLRError) in try schedule.set(settings) }
    }
}

@_cdecl("hlr_schedule_get_param")
public func hlr_schedule_get_param(
    _ handle: OpaquePointer?, _ key: Int32, _ value: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_schedule_get_param") {
        let box = try Registry.lookupSchedule(handle)
        let key = try scheduleParameter(key)
        let out = try Arguments.pointer(value, "value")
        out.pointee = try box.read { (schedule) throws(HLRError) in try schedule.parameter(key) }
    }
}

@_cdecl("hlr_schedule_set_milestones")
public func hlr_schedule_set_milestones(
    _ handle: OpaquePointer?, _ milestones: UnsafePointer<UInt64>?, _ n: UInt
) -> Int32 {
    exported("hlr_schedule_set_milestones") {
        let box = try Registry.lookupSchedule(handle)
        let count = try Arguments.count(n, "n", limit: Schedule.maxMilestones)
        let values = count == 0
            ? [] : Array(UnsafeBufferPointer(start: try Arguments.pointer(milestones, "milestones"), count: count))
        try box.mutate { (schedule) throws(HLRError) in try schedule.setMilestones(values) }
    }
}

@_cdecl("hlr_schedule_join")
public func hlr_schedule_join(
    _ pieces: UnsafePointer<OpaquePointer?>?, _ nPieces: UInt, _ boundaries: UnsafePointer<UInt64>?,
    _ nBoundaries: UInt, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    exported("hlr_schedule_join") {
        let out = try Arguments.pointer(out, "out")
        out.pointee = nil
        let count = try Arguments.count(nPieces, "n_pieces", limit: Schedule.maxNodes)
        let boundaryCount = try Arguments.count(nBoundaries, "n_boundaries", limit: Schedule.maxNodes)
        var children: [Schedule] = []
        if count > 0 {
            let pieces = try Arguments.pointer(pieces, "pieces")
            for index in 0..<count {
                children.append(try Registry.lookupSchedule(pieces[index]).read { $0 })
            }
        }
        let bounds = boundaryCount == 0
            ? [] : Array(UnsafeBufferPointer(start: try Arguments.pointer(boundaries, "boundaries"), count: boundaryCount))
        try newSchedule(try Schedule.join(children, boundaries: bounds), out)
    }
}

@_cdecl("hlr_schedule_warmup")
public func hlr_schedule_warmup(
    _ child: OpaquePointer?, _ steps: UInt64, _ startLR: Double, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    exported("hlr_schedule_warmup") {
        let out = try Arguments.pointer(out, "out")
        out.pointee = nil
        let inner = try Registry.lookupSchedule(child).read { $0 }
        try newSchedule(try Schedule.warmup(inner, steps: steps, startValue: startLR), out)
    }
}

@_cdecl("hlr_schedule_rescale")
public func hlr_schedule_rescale(
    _ handle: OpaquePointer?, _ nominal: Double, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    exported("hlr_schedule_rescale") {
        let out = try Arguments.pointer(out, "out")
        out.pointee = nil
        let schedule = try Registry.lookupSchedule(handle).read { $0 }
        try newSchedule(try schedule.rescaled(toNominal: nominal), out)
    }
}

@_cdecl("hlr_schedule_value")
public func hlr_schedule_value(
    _ handle: OpaquePointer?, _ step: UInt64, _ value: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_schedule_value") {
        let box = try Registry.lookupSchedule(handle)
        let out = try Arguments.pointer(value, "value")
        out.pointee = box.read { $0.value(at: step) }
    }
}

@_cdecl("hlr_schedule_values")
public func hlr_schedule_values(
    _ handle: OpaquePointer?, _ firstStep: UInt64, _ values: UnsafeMutablePointer<Double>?, _ n: UInt
) -> Int32 {
    exported("hlr_schedule_values") {
        let box = try Registry.lookupSchedule(handle)
        let count = try Arguments.count(n, "n")
        try Arguments.indexRange(firstStep, count, "first_step", "n")
        guard count > 0 else { return }
        let out = try Arguments.pointer(values, "values")
        let schedule = box.read { $0 }
        for index in 0..<count {
            out[index] = schedule.value(at: firstStep &+ UInt64(index))
        }
    }
}

@_cdecl("hlr_schedule_nominal")
public func hlr_schedule_nominal(_ handle: OpaquePointer?, _ rate: UnsafeMutablePointer<Double>?) -> Int32 {
    exported("hlr_schedule_nominal") {
        let box = try Registry.lookupSchedule(handle)
        let out = try Arguments.pointer(rate, "rate")
        out.pointee = box.read { $0.nominalRate }
    }
}

@_cdecl("hlr_schedule_factor")
public func hlr_schedule_factor(
    _ handle: OpaquePointer?, _ step: UInt64, _ factor: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_schedule_factor") {
        let box = try Registry.lookupSchedule(handle)
        let out = try Arguments.pointer(factor, "factor")
        out.pointee = box.read { $0.factor(at: step) }
    }
}

@_cdecl("hlr_schedule_snapshot_size")
public func hlr_schedule_snapshot_size(_ handle: OpaquePointer?, _ size: UnsafeMutablePointer<UInt>?) -> Int32 {
    exported("hlr_schedule_snapshot_size") {
        let box = try Registry.lookupSchedule(handle)
        try Arguments.pointer(size, "size").pointee = UInt(box.read { $0.snapshot().count })
    }
}

@_cdecl("hlr_schedule_save")
public func hlr_schedule_save(
    _ handle: OpaquePointer?, _ buffer: UnsafeMutableRawPointer?, _ capacity: UInt,
    _ written: UnsafeMutablePointer<UInt>?
) -> Int32 {
    exported("hlr_schedule_save") {
        let box = try Registry.lookupSchedule(handle)
        try writeBlob(box.read { $0.snapshot() }, into: buffer, capacity: capacity, written: written)
    }
}

@_cdecl("hlr_schedule_load")
public func hlr_schedule_load(
    _ buffer: UnsafeRawPointer?, _ size: UInt, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    exported("hlr_schedule_load") {
        let out = try Arguments.pointer(out, "out")
        out.pointee = nil
        let bytes = try readScheduleBlob(buffer, size)
        try newSchedule(try Schedule(snapshot: bytes), out)
    }
}

@_cdecl("hlr_tuner_set_schedule")
public func hlr_tuner_set_schedule(_ handle: OpaquePointer?, _ schedule: OpaquePointer?) -> Int32 {
    exported("hlr_tuner_set_schedule") {
        let box = try Registry.lookup(handle)
        let copy = try schedule.map { try Registry.lookupSchedule($0).read { $0 } }
        box.mutate { $0.schedule = copy }
    }
}

@_cdecl("hlr_tuner_get_schedule")
public func hlr_tuner_get_schedule(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    exported("hlr_tuner_get_schedule") {
        let box = try Registry.lookup(handle)
        let out = try Arguments.pointer(out, "out")
        out.pointee = nil
        if let schedule = box.read({ $0.schedule }) { try newSchedule(schedule, out) }
    }
}
