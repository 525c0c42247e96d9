import HessianLRLoops

/// The library's counter-based random numbers: every value is a pure function of
/// (seed, stream, index, element), so a probe vector can be regenerated anywhere — in C, in
/// Python, on a GPU in torch — without carrying generator state, and a checkpoint resumes
/// bit-identically.
///
/// Definition (all arithmetic on UInt64, wrapping):
///
///     mix(z)  = SplitMix64 finalizer: z ^= z >> 30; z *= 0xBF58476D1CE4E5B9;
///                                     z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31
///     key     = mix(mix(mix(seed + 0x9E3779B97F4A7C15) ^ (stream · 0xD1B54A32D192ED03))
///                   ^ (index · 0x8CB92BA72F3D8DD7))
///     bits(i) = mix(key + (i + 1) · 0x9E3779B97F4A7C15)
///
/// Distributions of element i of vector (seed, stream, index):
/// - Rademacher: +1 if the top bit of bits(i) is 0, else −1 (exactly ±1 with probability ½).
/// - Uniform in [0, 1): (bits(i) >> 11) · 2⁻⁵³.
/// - Gaussian (Box–Muller): u₁ = ((bits(i) >> 11) + 0.5)·2⁻⁵³ ∈ (0, 1],
///   u₂ = (mix(bits(i)) >> 11)·2⁻⁵³, value √(−2 ln u₁)·cos(2π u₂), with ln and cos the
///   library's own vectorised kernels (`VectorLoops.gaussianFill`: within 3.5 ulp of the exact
///   value; not libm's).
public struct CounterRNG: Sendable, Equatable {
    public let key: UInt64

    /// The generator of vector `index` in `stream` under `seed`.
    public init(seed: UInt64, stream: UInt64, index: UInt64) {
        let k0 = Self.mix(seed &+ 0x9E37_79B9_7F4A_7C15)
        let k1 = Self.mix(k0 ^ (stream &* 0xD1B5_4A32_D192_ED03))
        key = Self.mix(k1 ^ (index &* 0x8CB9_2BA7_2F3D_8DD7))
    }

    /// SplitMix64's output function (Steele, Lea, Flood 2014).
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The 64 random bits of element `i`.
    @inlinable
    public func bits(_ i: UInt64) -> UInt64 {
        Self.mix(key &+ (i &+ 1) &* 0x9E37_79B9_7F4A_7C15)
    }

    @inlinable
    public func rademacher(_ i: UInt64) -> Double {
        bits(i) >> 63 == 0 ? 1 : -1
    }

    @inlinable
    public func uniform(_ i: UInt64) -> Double {
        Double(bits(i) >> 11) * 0x1p-53
    }

    /// Element i's Gaussian: the transform of `VectorLoops.gaussianFill` on bits(i) (the same
    /// bits as a fill).
    public func gaussian(_ i: UInt64) -> Double {
        VectorLoops.gaussian(bits: bits(i))
    }
}

/// Probe distributions (`HLR_PROBE_*`).
public enum ProbeDistribution: Int, CaseIterable, Sendable {
    case rademacher = 1
    case gaussian = 2

    public func value(_ rng: CounterRNG, _ i: UInt64) -> Double {
        switch self {
        case .rademacher: return rng.rademacher(i)
        case .gaussian: return rng.gaussian(i)
        }
    }
}

/// The documented stream numbers: each consumer of random vectors draws from its own stream, so
/// adding draws to one never shifts another's.
public enum RandomStream: UInt64, CaseIterable, Sendable {
    case lanczosStart = 1
    case powerIterationStart = 2
    case hutchinson = 3
    case hutchPlusPlusSketch = 4
    case hutchPlusPlusResidual = 5
    case diagonal = 6
    case spectralDensity = 7
    case perturbation = 8
    case xtrace = 9
    case xdiag = 10
}
