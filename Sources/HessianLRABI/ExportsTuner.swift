import HessianLR

// Handle lifetime, options and diagnostics.

/// Reset selectors of `hlr_tuner_reset` (bit set).
private let resetState: Int32 = 1
private let resetOptions: Int32 = 2

@_cdecl("hlr_tuner_create")
public func hlr_tuner_create(
    _ method: Int32, _ groups: UInt, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    exported("hlr_tuner_create") {
        let out = try Arguments.pointer(out, "out")
        out.pointee = nil
        let method = try Arguments.method(method)
        let groups = try Arguments.count(groups, "groups", limit: maxTunerGroups)
        let tuner = try makeTuner(method: method, groups: groups)
        out.pointee = try Registry.insert(TunerBox(ScheduledTuner(base: tuner)))
    }
}

@_cdecl("hlr_tuner_free")
public func hlr_tuner_free(_ handle: OpaquePointer?) -> Int32 {
    exported("hlr_tuner_free") {
        guard let handle else { return }
        try Registry.remove(handle, as: TunerBox.self)
    }
}

@_cdecl("hlr_tuner_reset")
public func hlr_tuner_reset(_ handle: OpaquePointer?, _ what: Int32) -> Int32 {
    exported("hlr_tuner_reset") {
        let box = try Registry.lookup(handle)
        guard what >= 1 && what <= (resetState | resetOptions) else {
            throw ABIError.invalid(
                "what must be HLR_RESET_STATE (1), HLR_RESET_OPTIONS (2) or HLR_RESET_ALL (3), got \(what)")
        }
        box.mutate {
            $0.reset(state: what & resetState != 0, options: what & resetOptions != 0)
        }
    }
}

@_cdecl("hlr_tuner_method")
public func hlr_tuner_method(_ handle: OpaquePointer?, _ method: UnsafeMutablePointer<Int32>?) -> Int32 {
    exported("hlr_tuner_method") {
        let box = try Registry.lookup(handle)
        let out = try Arguments.pointer(method, "method")
        out.pointee = Int32(box.read { $0.method.rawValue })
    }
}

@_cdecl("hlr_tuner_group_count")
public func hlr_tuner_group_count(_ handle: OpaquePointer?, _ groups: UnsafeMutablePointer<UInt>?) -> Int32 {
    exported("hlr_tuner_group_count") {
        let box = try Registry.lookup(handle)
        let out = try Arguments.pointer(groups, "groups")
        out.pointee = UInt(box.read { $0.groupCount })
    }
}

@_cdecl("hlr_tuner_set_param")
public func hlr_tuner_set_param(_ handle: OpaquePointer?, _ key: Int32, _ value: Double) -> Int32 {
    exported("hlr_tuner_set_param") {
        let box = try Registry.lookup(handle)
        let key = try Arguments.key(key)
        try box.mutate { (tuner) throws(HLRError) in
            try tuner.setParameter(key, value, group: nil)
        }
    }
}

@_cdecl("hlr_tuner_set_params")
public func hlr_tuner_set_params(
    _ handle: OpaquePointer?, _ keys: UnsafePointer<Int32>?, _ values: UnsafePointer<Double>?, _ n: UInt
) -> Int32 {
    exported("hlr_tuner_set_params") {
        let box = try Registry.lookup(handle)
        let count = try Arguments.count(n, "n", limit: ParameterKey.allCases.count)
        var settings: [ParameterSetting] = []
        if count > 0 {
            let keys = try Arguments.pointer(keys, "keys")
            let values = try Arguments.pointer(values, "values")
            for index in 0..<count {
                let key = try Arguments.key(keys[index])
                guard !settings.contains(where: { $0.key == key }) else {
                    throw ABIError.invalid("key \(key.name) appears twice in keys")
                }
                settings.append(ParameterSetting(key, values[index]))
            }
        }
        try box.mutate { (tuner) throws(HLRError) in try tuner.setParameters(settings) }
    }
}

@_cdecl("hlr_tuner_get_param")
public func hlr_tuner_get_param(
    _ handle: OpaquePointer?, _ key: Int32, _ value: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_tuner_get_param") {
        let box = try Registry.lookup(handle)
        let key = try Arguments.key(key)
        let out = try Arguments.pointer(value, "value")
        out.pointee = try box.read { (tuner) throws(HLRError) in
            try tuner.parameter(key, group: 0)
        }
    }
}

@_cdecl("hlr_tuner_set_group_param")
public func hlr_tuner_set_group_param(
    _ handle: OpaquePointer?, _ group: UInt, _ key: Int32, _ value: Double
) -> Int32 {
    exported("hlr_tuner_set_group_param") {
        let box = try Registry.lookup(handle)
        let group = try Arguments.count(group, "group")
        let key = try Arguments.key(key)
        try box.mutate { (tuner) throws(HLRError) in
            try tuner.setParameter(key, value, group: group)
        }
    }
}

@_cdecl("hlr_tuner_get_group_param")
public func hlr_tuner_get_group_param(
    _ handle: OpaquePointer?, _ group: UInt, _ key: Int32, _ value: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_tuner_get_group_param") {
        let box = try Registry.lookup(handle)
        let group = try Arguments.count(group, "group")
        let key = try Arguments.key(key)
        let out = try Arguments.pointer(value, "value")
        out.pointee = try box.read { (tuner) throws(HLRError) in
            try tuner.parameter(key, group: group)
        }
    }
}

@_cdecl("hlr_tuner_get_info")
public func hlr_tuner_get_info(
    _ handle: OpaquePointer?, _ key: Int32, _ group: UInt, _ value: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_tuner_get_info") {
        let box = try Registry.lookup(handle)
        let key = try Arguments.infoKey(key)
        // Handle-wide keys ignore the group argument entirely (any value, SIZE_MAX included).
        let group = key.perGroup ? try Arguments.count(group, "group") : 0
        let out = try Arguments.pointer(value, "value")
        out.pointee = try box.read { (tuner) throws(HLRError) in
            try tuner.info(key, group: group)
        }
    }
}
