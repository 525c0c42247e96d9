import HessianLR

/// A caller's versioned C table of callbacks (`hlr_vector_ops`, `hlr_step_ops`): struct_size
/// first, then pointer-sized fields (size_t or function pointers), so field i lies at byte
/// offset i · sizeof(void *). A field is read only when struct_size covers it, so a table can
/// grow at its end; a struct_size below the version-1 size is refused, naming the struct.
struct CallbackTable {
    let raw: UnsafeRawPointer
    /// Fields the caller's struct_size covers (a newer header's larger struct has more).
    let fieldCount: Int

    /// Checks struct_size ≥ `minimumFields` words of `structName`.
    init(_ raw: UnsafeRawPointer, structName: String, minimumFields: Int) throws(ABIError) {
        let minimum = minimumFields * MemoryLayout<UInt>.size
        let size = raw.loadUnaligned(as: UInt.self)
        guard size >= UInt(minimum) else {
            throw ABIError.invalid(
                "ops->struct_size = \(size) is smaller than \(minimum), the size of the first version of "
                    + "\(structName) (set it to sizeof(\(structName)))")
        }
        self.raw = raw
        fieldCount = Int(clamping: size / UInt(MemoryLayout<UInt>.size))
    }

    /// Field `index` as a nullable function pointer (or any pointer-sized value); nil when the
    /// caller's struct_size does not cover it (an older header: the field does not exist).
    func field<F>(_ index: Int, _: F.Type) -> F? {
        guard index < fieldCount else { return nil }
        return raw.loadUnaligned(fromByteOffset: index * MemoryLayout<UInt>.size, as: Optional<F>.self)
    }

    /// Field `index`, which must not be NULL (`HLR_ERR_NULL_POINTER` naming it).
    func required<F>(_ index: Int, _ name: String, _ type: F.Type) throws(ABIError) -> F {
        guard let value = field(index, type) else { throw ABIError.null("ops->\(name)") }
        return value
    }

    /// Field `index` as a size_t.
    func size(_ index: Int) -> UInt {
        raw.loadUnaligned(fromByteOffset: index * MemoryLayout<UInt>.size, as: UInt.self)
    }
}
