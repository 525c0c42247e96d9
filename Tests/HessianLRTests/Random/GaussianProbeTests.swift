#if canImport(Glibc)
import Glibc
#endif
@testable import HessianLRLoops
import HessianLRLoopsX86V3
import Testing
@testable import HessianLR

/// The Gaussian probe transform (`VectorLoops.gaussianFill`, Sources/HessianLRLoops/GaussianProbes.swift):
/// its accuracy against extended precision, the same bits from both compiled copies, from the
/// scalar `CounterRNG.gaussian`, at every offset and tail, in float32 and float64.
@Suite struct GaussianProbeTests {
    typealias Base = HessianLRLoops.VectorLoops
    typealias V3 = HessianLRLoopsX86V3.VectorLoops

    static let rng = CounterRNG(seed: 0xDEAD_BEEF, stream: RandomStream.xdiag.rawValue, index: 3)

    static func fill<T: HostScalar>(
        _: T.Type, _ n: Int, first: UInt64,
        _ kernel: (UnsafeMutablePointer<T>, Int, UInt64, UInt64) -> Void
    ) -> [T] {
        var out = [T](repeating: .nan, count: n)
        out.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { kernel(base, n, rng.key, first) }
        }
        return out
    }

    /// u₁, u₂ of the formula, computed here independently (plain integer → double conversion).
    static func uniforms(_ bits: UInt64) -> (Double, Double) {
        ((Double(bits >> 11) + 0.5) * 0x1p-53, Double(CounterRNG.mix(bits) >> 11) * 0x1p-53)
    }

    /// Within 3.5 ulp of √(−2 ln u₁)·cos(2πu₂) evaluated in 80-bit extended precision (64-bit
    /// significand: its own error is ~2⁻⁶⁰ relative, plus 2π·u₂'s rounding, ≤ 4e-19 absolute),
    /// over 2·10⁵ elements, the extremes of u₁, and the two worst elements a review's sweep of
    /// 4·10⁷ found (3.43 and 3.30 ulp, confirmed at 50 digits).
    @Test func isWithinThreeAndAHalfUlpOfTheExactValue() {
        #if arch(x86_64) && canImport(Glibc)
        func check(_ bits: UInt64) {
            let value = Base.gaussian(bits: bits)
            let (u1, u2) = Self.uniforms(bits)
            let twoPi: Float80 = 6.283185307179586476925286766559
            let exact = sqrtl(-2 * logl(Float80(u1))) * cosl(twoPi * Float80(u2))
            let error = abs(Float80(value) - exact)
            #expect(error <= 3.5 * Float80(value.ulp) + 4e-19, "bits \(bits): \(value) vs \(exact)")
        }
        for i in 0..<UInt64(200_000) { check(Self.rng.bits(i)) }
        // u₁ at its ends (bits >> 11 = 0, 1, 2⁵² ± 1, 2⁵³ − 1: u₁ = 1 gives 0) with u₂ anywhere.
        for high: UInt64 in [0, 1, 2, (1 << 52) - 1, 1 << 52, (1 << 52) + 1, (1 << 53) - 1] {
            for low: UInt64 in [0, 1, 0x7FF] { check(high << 11 | low) }
        }
        #expect(Base.gaussian(bits: ((1 << 53) - 1) << 11) == 0)  // u₁ rounds to 1: ln 1 = 0
        let worst = CounterRNG(seed: 32, stream: 2, index: 0).bits(71_878)  // exact −0.94767396383717488…
        check(worst)
        #expect(Base.gaussian(bits: worst) == -0.9476739638371745)
        check(CounterRNG(seed: 18, stream: 2, index: 0).bits(242_741))
        #endif
    }

    /// cos(2πu₂) at and around the quadrant boundaries u₂ = q/4 and the reduction's edges
    /// u₂ = (2q+1)/8: exact values where known, and within 3 ulp of extended precision.
    @Test func cosineReductionIsExactAtTheQuadrants() {
        let quarter: UInt64 = 1 << 51
        #expect(Base.cosTwoPi(SIMD8(repeating: 0))[0] == 1)
        #expect(Base.cosTwoPi(SIMD8(repeating: quarter))[0] == 0)  // r = 0 in quadrant 1: −sin 0 = −0
        #expect(Base.cosTwoPi(SIMD8(repeating: 2 * quarter))[0] == -1)
        #expect(Base.cosTwoPi(SIMD8(repeating: 3 * quarter))[0] == 0)
        #if arch(x86_64) && canImport(Glibc)
        let twoPi: Float80 = 6.283185307179586476925286766559
        for q: UInt64 in 0...7 {
            let centre = q * (quarter / 2)
            for delta: Int64 in [-2, -1, 0, 1, 2] {
                let signed = Int64(centre) + delta
                guard signed >= 0, signed < 1 << 53 else { continue }
                let n = UInt64(signed)
                let value = Base.cosTwoPi(SIMD8(repeating: n))[0]
                let exact = cosl(twoPi * Float80(n) * 0x1p-53)
                #expect(abs(Float80(value) - exact) <= 3 * Float80(value.ulp) + 4e-19, "n = \(n)")
            }
        }
        #endif
    }

    /// Both compiled copies, every offset and tail: the same bits as the scalar lane-0 path.
    @Test(arguments: [0, 1, 7, 8, 9, 15, 16, 17, 1000, 8192 + 5])
    func fillsAreBitIdenticalToTheScalarValues(n: Int) {
        for first: UInt64 in [0, 3, 1 << 40] {
            let scalar = (0..<n).map { Self.rng.gaussian(first &+ UInt64($0)) }
            let base = Self.fill(Double.self, n, first: first) { Base.gaussianFill($0, $1, key: $2, first: $3) }
            #expect(base.map(\.bitPattern) == scalar.map(\.bitPattern))
            let base32 = Self.fill(Float.self, n, first: first) { Base.gaussianFill($0, $1, key: $2, first: $3) }
            #expect(base32.map(\.bitPattern) == scalar.map { Float($0).bitPattern })
            if HostLoops.usesX86V3 {
                let v3 = Self.fill(Double.self, n, first: first) { V3.gaussianFill($0, $1, key: $2, first: $3) }
                #expect(v3.map(\.bitPattern) == scalar.map(\.bitPattern))
                let v332 = Self.fill(Float.self, n, first: first) { V3.gaussianFill($0, $1, key: $2, first: $3) }
                #expect(v332.map(\.bitPattern) == base32.map(\.bitPattern))
            }
            // The threaded, chunked fill the estimators use.
            var chunked = [Double](repeating: .nan, count: n)
            chunked.withUnsafeMutableBufferPointer { buffer in
                if let p = buffer.baseAddress {
                    ChunkedKernels.fill(p, count: n, rng: Self.rng, distribution: .gaussian, first: first, threads: 2)
                }
            }
            #expect(chunked.map(\.bitPattern) == scalar.map(\.bitPattern))
        }
    }

    /// The lane-wise SplitMix64 finalizer is `CounterRNG.mix`.
    @Test func laneMixIsCounterRNGMix() {
        let words = SIMD8<UInt64>(0, 1, 2, 0x9E37_79B9_7F4A_7C15, .max, 1 << 63, 12345, 0xDEAD_BEEF_CAFE_F00D)
        let mixed = Base.mix(words)
        for lane in 0..<8 { #expect(mixed[lane] == CounterRNG.mix(words[lane])) }
    }
}
