import HessianLR

// Self-description: every parameter of every method, schedule kind and estimator kind
// (ParameterCatalog), one hlr_param_desc at a time.

/// The layout of `hlr_param_desc` (version 1): size_t struct_size; int key; unsigned flags;
/// double min, max, default_value; char name[48]. The caller's struct_size must cover every field
/// written; bytes past version 1's fields (a newer header's) are left untouched.
private enum ParamDescLayout {
    static let keyOffset = MemoryLayout<UInt>.size
    static let flagsOffset = keyOffset + 4
    static let minOffset = flagsOffset + 4
    static let maxOffset = minOffset + 8
    static let defaultOffset = maxOffset + 8
    static let nameOffset = defaultOffset + 8
    static let nameCapacity = 48
    static let version1Size = nameOffset + nameCapacity

    static let flagIntegral: UInt32 = 1
    static let flagPerGroup: UInt32 = 2
}

private func parameterFamily(_ value: Int32) throws(HLRError) -> ParameterFamily {
    try ParameterFamily.from(rawValue: Int(value))
}

@_cdecl("hlr_param_count")
public func hlr_param_count(_ family: Int32, _ kind: Int32, _ count: UnsafeMutablePointer<UInt>?) -> Int32 {
    exported("hlr_param_count") {
        let family = try parameterFamily(family)
        let n = try ParameterCatalog.count(family: family, kind: Int(kind))
        let out = try Arguments.pointer(count, "count")
        out.pointee = UInt(n)
    }
}

@_cdecl("hlr_param_info")
public func hlr_param_info(
    _ family: Int32, _ kind: Int32, _ index: UInt, _ out: UnsafeMutableRawPointer?
) -> Int32 {
    exported("hlr_param_info") {
        let family = try parameterFamily(family)
        let all = try ParameterCatalog.descriptions(family: family, kind: Int(kind))
        guard let position = Int(exactly: index), position < all.count else {
            throw ParameterCatalog.indexError(family, Int(kind), index: String(index), count: all.count)
        }
        let desc = all[position]
        let out = try Arguments.pointer(out, "out")
        let size = out.loadUnaligned(as: UInt.self)
        guard size >= UInt(ParamDescLayout.version1Size) else {
            throw ABIError.invalid(
                "out->struct_size = \(size) is smaller than sizeof(hlr_param_desc) = "
                    + "\(ParamDescLayout.version1Size) (set it to sizeof(hlr_param_desc))")
        }
        var flags: UInt32 = 0
        if desc.integral { flags |= ParamDescLayout.flagIntegral }
        if desc.perGroup { flags |= ParamDescLayout.flagPerGroup }
        out.storeBytes(of: Int32(desc.key), toByteOffset: ParamDescLayout.keyOffset, as: Int32.self)
        out.storeBytes(of: flags, toByteOffset: ParamDescLayout.flagsOffset, as: UInt32.self)
        out.storeBytes(of: desc.minimum, toByteOffset: ParamDescLayout.minOffset, as: Double.self)
        out.storeBytes(of: desc.maximum, toByteOffset: ParamDescLayout.maxOffset, as: Double.self)
        out.storeBytes(of: desc.defaultValue, toByteOffset: ParamDescLayout.defaultOffset, as: Double.self)
        let name = out.advanced(by: ParamDescLayout.nameOffset)
        name.initializeMemory(as: UInt8.self, repeating: 0, count: ParamDescLayout.nameCapacity)
        // Names are short snake_case ASCII (the core's tests check they fit); NUL-terminated.
        let bytes = Array(desc.name.utf8.prefix(ParamDescLayout.nameCapacity - 1))
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress { name.copyMemory(from: base, byteCount: raw.count) }
        }
    }
}
