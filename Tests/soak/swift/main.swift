// Soak test through the Swift core directly (no C ABI): the same N steps as Tests/soak/soak.c.
// Usage: hessianlr-soak [N]. See Tests/soak/README.md.
import HessianLR

let steps = CommandLine.arguments.count > 1 ? UInt64(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
let groups = 2

func build() throws(HLRError) -> ScheduledTuner {
    var base = try HessianLRTuner(groups: groups)
    try base.setParameter(.updatePeriod, 1, group: nil)
    try base.setParameter(.lrMax, 10, group: nil)
    return ScheduledTuner(base: base, schedule: try Schedule(.cosine, [.baseLR: 1, .tMax: 1000]))
}

do {
    var tuner = try build()
    let rng = CounterRNG(seed: 2026, stream: 99, index: 0)
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    var refused: UInt64 = 0
    var rates = [Double](repeating: 0, count: groups)
    for t in 0..<steps {
        let values = (0..<(2 * groups)).map { 4 * rng.uniform(2 * t * UInt64(groups) + UInt64($0)) - 1 }
        var status: UInt8 = 0
        do {
            try tuner.observeCurvature(step: t, values: values)
        } catch {
            guard error.kind == .invalidArgument else { throw error }
            status = UInt8(error.kind.rawValue)
            refused += 1
        }
        for group in 0..<groups { rates[group] = try tuner.learningRate(group: group, step: t) }
        var bytes: [UInt8] = []
        for rate in rates {
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: rate.bitPattern >> UInt64(shift))) }
        }
        bytes.append(status)
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    }
    func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
    print("steps \(steps) refused \(refused) hash \(hex(hash)) lr \(hex(rates[0].bitPattern)) \(hex(rates[1].bitPattern))")
} catch {
    fatalError("hessianlr-soak: \(error)")
}
