/// The library's Gaussian probe values (`CounterRNG`, `HLR_PROBE_GAUSSIAN`), eight elements per
/// step, for `ChunkedKernels.fill` and `CounterRNG.gaussian`:
///
///     bits(i) = mix(key + (i + 1)·0x9E3779B97F4A7C15)                  (`CounterRNG.bits`)
///     u₁ = ((bits >> 11) + 0.5)·2⁻⁵³ ∈ (0, 1],   u₂ = (mix(bits) >> 11)·2⁻⁵³ ∈ [0, 1),
///     value = √(−2 ln u₁) · cos(2π u₂),
///
/// with ln and cos the kernels below, not libm's, so that the transform vectorises: every step is
/// a lane-wise integer add, and, or, xor, shift or multiply, IEEE-754 double arithmetic (+, −, ×,
/// ÷, √, each rounded once, in the written order: Swift neither contracts nor reassociates) or a
/// bit cast — no 64-bit lane comparison or conversion, which the x86-64 baseline lacks. So every
/// lane, either compiled copy of this file, and the scalar `gaussian(bits:)` (lane 0 of the same
/// code) give the same bits.
///
/// - ln u₁: fdlibm's e_log.c algorithm (Sun Microsystems, 1993): u₁ = 2ᵏ·m, m ∈ [√½, √2),
///   f = m − 1, s = f/(2 + f), ln(1 + f) = f − (f²/2 − s·(f²/2 + R(s²))) with R fdlibm's
///   minimax polynomial (Lg1…Lg7), plus k·ln 2 as k·ln2_hi (exact) + k·ln2_lo. Error < 1 ulp.
/// - cos(2π u₂): u₂ is a multiple of 2⁻⁵³, so the quadrant reduction is exact in integers:
///   q = round(4u₂), r = u₂ − q/4 ∈ [−⅛, ⅛], and cos(2πu₂) is cos(2πr), −sin(2πr), −cos(2πr)
///   or sin(2πr) for q mod 4 = 0, 1, 2, 3, each its Taylor series in r (to r¹⁸ and r¹⁹; the
///   first term left out is below 10⁻²⁰), by Horner's rule in r².
///
/// Accuracy: within 3.5 ulp of the exact √(−2 ln u₁)·cos(2πu₂): 3.43 ulp the largest over
/// 4·10⁷ elements against 80-bit extended precision (a review's sweep; about 1.6 elements per
/// million exceed 3 ulp), confirmed at 50 digits (mpmath) on the worst ones, which
/// `GaussianProbeTests` keeps. libm's formula, which rounds 2πu₂ first, is off by up to 10⁴ ulp
/// near the zeros of the cosine and ~13 ulp elsewhere; the two differ by at most 3e-15
/// absolute (2.9e-15 over 10⁷ elements).
extension VectorLoops {
    /// x[j] ← Gaussian probe element first + j of the vector with generator key `key`, j < n.
    @inline(never)
    public static func gaussianFill(_ x: UnsafeMutablePointer<Double>, _ n: Int, key: UInt64, first: UInt64) {
        gaussianFillBody(x, n, key: key, first: first) { $0 }
    }

    /// `gaussianFill` rounded to float32 (each value computed in double, rounded once).
    @inline(never)
    public static func gaussianFill(_ x: UnsafeMutablePointer<Float>, _ n: Int, key: UInt64, first: UInt64) {
        gaussianFillBody(x, n, key: key, first: first) { SIMD8<Float>($0) }
    }

    /// The Gaussian value of one element's 64 random bits: lane 0 of the eight-lane transform.
    @inline(never)
    public static func gaussian(bits: UInt64) -> Double {
        gaussians(SIMD8(repeating: bits))[0]
    }

    /// Σₖ cₖ zᵏ, k = 0 … 9, by Horner's rule from c₉: c₈ + z·c₉, then cₖ + z·(…), down to c₀.
    @inline(__always)
    static func series(_ z: SIMD8<Double>, _ c: SIMD16<Double>) -> SIMD8<Double> {
        var sum = v(c[9])
        for k in (0..<9).reversed() { sum = v(c[k]) + z * sum }
        return sum
    }

    /// (−1)ᵏ(2π)²ᵏ/(2k)! (cos 2πr in z = r²) and (−1)ᵏ(2π)²ᵏ⁺¹/(2k+1)! (sin 2πr / r), k = 0 … 9,
    /// rounded to double from 60-digit values; lanes 10 … 15 unused.
    @inline(__always) static var cosineCoefficients: SIMD16<Double> {
        SIMD16(1, -0x1.3bd3cc9be45dep+4, 0x1.03c1f081b5ac4p+6, -0x1.55d3c7e3cbffap+6, 0x1.e1f506891babbp+5,
        -0x1.a6d1f2a204a8cp+4, 0x1.f9d38a3763cc3p+2, -0x1.b6e24f44b128fp+0, 0x1.20c62c2f2d7f5p-2,
        -0x1.2a0c591af8314p-5, 0, 0, 0, 0, 0, 0)
    }
    @inline(__always) static var sineCoefficients: SIMD16<Double> {
        SIMD16(0x1.921fb54442d18p+2, -0x1.4abbce625be53p+5, 0x1.466bc6775aae2p+6, -0x1.32d2cce62bd86p+6,
        0x1.50783487ee782p+5, -0x1.e3074fde8871fp+3, 0x1.e8f434d018d63p+1, -0x1.6fadb9f155744p-1,
        0x1.aaec32af93359p-4, -0x1.8a404211f9547p-7, 0, 0, 0, 0, 0, 0)
    }

    /// `value` in every lane (the transform's arithmetic is vector by vector: a scalar operand
    /// would take the standard library's lane-by-lane path).
    @inline(__always)
    static func v(_ value: Double) -> SIMD8<Double> { SIMD8(repeating: value) }

    /// SplitMix64's finalizer lane-wise (`CounterRNG.mix`; tested equal lane for lane).
    @inline(__always)
    static func mix(_ value: SIMD8<UInt64>) -> SIMD8<UInt64> {
        var z = value
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }

    @inline(__always)
    static func gaussianFillBody<T: SIMDScalar>(
        _ x: UnsafeMutablePointer<T>, _ n: Int, key: UInt64, first: UInt64, _ narrow: (SIMD8<Double>) -> SIMD8<T>
    ) {
        let raw = UnsafeMutableRawPointer(x)
        let stride = MemoryLayout<T>.stride
        let golden: UInt64 = 0x9E37_79B9_7F4A_7C15
        var counter = SIMD8<UInt64>(1, 2, 3, 4, 5, 6, 7, 8) &+ first  // i + 1 for lanes i … i + 7
        var index = 0
        while index &+ 8 <= n {
            let values = narrow(gaussians(mix(key &+ counter &* golden)))
            raw.storeBytes(of: values, toByteOffset: index &* stride, as: SIMD8<T>.self)
            counter &+= 8
            index &+= 8
        }
        if index < n {  // the tail: the same lanes, stored one by one
            let values = narrow(gaussians(mix(key &+ counter &* golden)))
            var lane = 0
            while index < n {
                x[index] = values[lane]
                index &+= 1
                lane &+= 1
            }
        }
    }

    /// The transform of eight elements' bits.
    @inline(__always)
    static func gaussians(_ bits: SIMD8<UInt64>) -> SIMD8<Double> {
        let u1 = (exactDouble(bits &>> 11) + v(0.5)) * v(0x1p-53)
        let radius = (v(-2) * log(u1)).squareRoot()
        return radius * cosTwoPi(mix(bits) &>> 11)
    }

    /// Double(x) for x < 2⁵³, exactly: x's low 52 bits as the mantissa of 2⁵² (minus 2⁵²), plus
    /// 2⁵² when bit 52 is set (the sum is below 2⁵³, so exact).
    @inline(__always)
    static func exactDouble(_ x: SIMD8<UInt64>) -> SIMD8<Double> {
        let low = unsafeBitCast((x & 0x000F_FFFF_FFFF_FFFF) | 0x4330_0000_0000_0000, to: SIMD8<Double>.self) - v(0x1p52)
        let top = unsafeBitCast((x &>> 52) &* 0x4330_0000_0000_0000, to: SIMD8<Double>.self)  // 0 or 2⁵²
        return low + top
    }

    /// Double(x) for a signed x (two's complement in the lane), −2⁵¹ ≤ x < 2⁵¹, exactly: x added
    /// to the bits of 1.5·2⁵² (it stays in the mantissa), minus 1.5·2⁵².
    @inline(__always)
    static func exactSignedDouble(_ x: SIMD8<UInt64>) -> SIMD8<Double> {
        unsafeBitCast(x &+ 0x4338_0000_0000_0000, to: SIMD8<Double>.self) - v(0x1.8p52)
    }

    /// ln x for x in (0, 1] with x normal (u₁'s range): fdlibm's e_log, lane-wise.
    @inline(__always)
    static func log(_ x: SIMD8<Double>) -> SIMD8<Double> {
        let bits = unsafeBitCast(x, to: SIMD8<UInt64>.self)
        let mantissa = bits & 0x000F_FFFF_FFFF_FFFF
        // m ∈ [√½, √2): a mantissa at or above √2's (high = 1) takes exponent −1 (m/2) and k + 1.
        let high = (mantissa &+ (0x0010_0000_0000_0000 &- 0x0006_A09E_667F_3BCD)) &>> 52
        let m = unsafeBitCast(mantissa | (0x3FF0_0000_0000_0000 &- (high &<< 52)), to: SIMD8<Double>.self)
        let f = m - v(1)
        let k = exactSignedDouble((bits &>> 52) &+ high &- 1023)
        let s = f / (v(2) + f)
        let z = s * s
        let w = z * z
        let t1 = w * (v(0.3999999999940941908) + w * (v(0.2222219843214978396) + w * v(0.1531383769920937332)))
        let t2 = z * (v(0.6666666666666735130) + w * (v(0.2857142874366239149)
            + w * (v(0.1818357216161805012) + w * v(0.1479819860511658591))))
        let r = t2 + t1
        let hfsq = v(0.5) * f * f
        // ln 2 = 6.93147180369123816490e-01 (32 trailing zero bits: k·ln2_hi is exact) + 1.90821492927058770002e-10.
        return k * v(6.93147180369123816490e-01) - ((hfsq - (s * (hfsq + r) + k * v(1.90821492927058770002e-10))) - f)
    }

    /// cos(2π·n·2⁻⁵³) for integers n < 2⁵³, lane-wise.
    @inline(__always)
    static func cosTwoPi(_ n: SIMD8<UInt64>) -> SIMD8<Double> {
        let quadrant = (n &+ (1 << 50)) &>> 51  // round(4u): 0 … 4
        let r = exactSignedDouble(n &- (quadrant &<< 51)) * v(0x1p-53)  // |n − q·2⁵¹| ≤ 2⁵⁰
        let z = r * r
        let cosine = series(z, cosineCoefficients)
        let sine = r * series(z, sineCoefficients)
        // q mod 4 = 0, 1, 2, 3: cos, −sin, −cos, sin (chosen by a mask, the sign by xor).
        let odd = 0 &- (quadrant & 1)  // all ones for odd q
        let sign = (((quadrant &+ 1) &>> 1) & 1) &<< 63
        let chosen = (unsafeBitCast(cosine, to: SIMD8<UInt64>.self) & ~odd)
            | (unsafeBitCast(sine, to: SIMD8<UInt64>.self) & odd)
        return unsafeBitCast(chosen ^ sign, to: SIMD8<Double>.self)
    }
}
