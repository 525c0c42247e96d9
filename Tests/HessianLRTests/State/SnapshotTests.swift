import Testing
@testable import HessianLR

/// The snapshot container: every corruption is refused with the right kind and nothing changes.
@Suite struct SnapshotTests {
    static func trainedTuner() throws -> HessianLRTuner {
        var tuner = try HessianLRTuner(groups: 2)
        try tuner.setParameter(.updatePeriod, 1, group: nil)
        try tuner.observeCurvature(step: 0, values: [1, 3, 2, 5])
        try tuner.observeCurvature(step: 1, values: [1, -3, 0, 5])
        return tuner
    }

    /// Rewrites the CRC so that only the intended change is tested.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var copy = bytes
        let end = copy.count - Snapshot.trailerSize
        let crc = CRC32.checksum(copy[0..<end])
        for index in 0..<4 { copy[end + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
        return copy
    }

    @Test func crcMatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func layoutHasMagicVersionMethodAndLength() throws {
        let bytes = try Self.trainedTuner().snapshot()
        #expect(Array(bytes[0..<4]) == Array("HLRS".utf8))
        #expect(bytes[4] == 2 && bytes[5] == 0)  // format version 2
        #expect(bytes[6] == UInt8(Method.hessianLR.rawValue) && bytes[7] == 0)
        let opened = try Snapshot.open(bytes)
        #expect(opened.method == .hessianLR)
        #expect(opened.payload.count == bytes.count - 20)
    }

    @Test func roundTripIsExact() throws {
        let tuner = try Self.trainedTuner()
        var fresh = try HessianLRTuner(groups: 2)
        try fresh.restore(snapshot: tuner.snapshot())
        #expect(fresh.snapshot() == tuner.snapshot())
        #expect(fresh.options == tuner.options)
    }

    @Test func everyTruncationIsRefused() throws {
        let bytes = try Self.trainedTuner().snapshot()
        var target = try HessianLRTuner(groups: 2)
        let before = target.snapshot()
        for length in 0..<bytes.count {
            let error = #expect(throws: HLRError.self) { try target.restore(snapshot: Array(bytes[0..<length])) }
            #expect(error?.kind == .snapshotCorrupt, "length \(length)")
        }
        #expect(target.snapshot() == before)
    }

    @Test func everyBitFlipIsRefused() throws {
        let bytes = try Self.trainedTuner().snapshot()
        var target = try HessianLRTuner(groups: 2)
        let before = target.snapshot()
        for index in bytes.indices {
            for bit in 0..<8 {
                var flipped = bytes
                flipped[index] ^= UInt8(1 << bit)
                let error = #expect(throws: HLRError.self) { try target.restore(snapshot: flipped) }
                let versionField = index == 4 || index == 5
                let expected: Set<HLRError.Kind> = versionField
                    ? [.snapshotCorrupt, .snapshotVersion] : [.snapshotCorrupt]
                #expect(error.map { expected.contains($0.kind) } == true, "byte \(index) bit \(bit)")
            }
        }
        #expect(target.snapshot() == before)
    }

    @Test func futureVersionIsRefused() throws {
        var bytes = try Self.trainedTuner().snapshot()
        bytes[4] = 3
        var target = try HessianLRTuner(groups: 2)
        let error = #expect(throws: HLRError.self) { try target.restore(snapshot: Self.resealed(bytes)) }
        #expect(error?.kind == .snapshotVersion)
        #expect(error?.message.contains("version 3") == true)
    }

    /// Format 1 wrote HessianLR's options in a layout of their own; it is retired.
    @Test func retiredVersionIsRefused() throws {
        var bytes = try Self.trainedTuner().snapshot()
        bytes[4] = 1
        var target = try HessianLRTuner(groups: 2)
        let before = target.snapshot()
        let error = #expect(throws: HLRError.self) { try target.restore(snapshot: Self.resealed(bytes)) }
        #expect(error?.kind == .snapshotVersion)
        #expect(error?.message.contains("version 1 is older") == true)
        #expect(target.snapshot() == before)
    }

    @Test func otherGroupCountOrMethodIsAMismatch() throws {
        let bytes = try Self.trainedTuner().snapshot()
        var three = try HessianLRTuner(groups: 3)
        let error = #expect(throws: HLRError.self) { try three.restore(snapshot: bytes) }
        #expect(error?.kind == .snapshotMismatch)
        var unknownMethod = bytes
        unknownMethod[6] = 200
        var two = try HessianLRTuner(groups: 2)
        let methodError = #expect(throws: HLRError.self) { try two.restore(snapshot: Self.resealed(unknownMethod)) }
        #expect(methodError?.kind == .snapshotMismatch)
    }

    @Test func craftedInvalidOptionIsRefusedDespiteAValidChecksum() throws {
        let tuner = try Self.trainedTuner()
        var payload = tuner.encodePayload()
        // Payload: groups (8) · initial_lr count (8) + 2 doubles · then one double per option in
        // table order: warmup, period, low, high, lr_min, lr_max, smoothing: smoothing starts at
        // 8+8+16+16+32.
        let smoothingOffset = 8 + 8 + 16 + 16 + 32
        let two = (2.0).bitPattern
        for index in 0..<8 { payload[smoothingOffset + index] = UInt8(truncatingIfNeeded: two >> (8 * UInt64(index))) }
        var target = try HessianLRTuner(groups: 2)
        let error = #expect(throws: HLRError.self) {
            try target.restore(snapshot: Snapshot.seal(method: .hessianLR, payload: payload))
        }
        #expect(error?.kind == .snapshotCorrupt)
        #expect(error?.message.contains("smoothing") == true)
    }

    @Test func readerRefusesShortFields() {
        var reader = SnapshotReader([1, 2, 3])
        let error = #expect(throws: HLRError.self) { try reader.readUInt64("field") }
        #expect(error?.kind == .snapshotCorrupt)
        #expect(error?.message.contains("field") == true)
    }
}
