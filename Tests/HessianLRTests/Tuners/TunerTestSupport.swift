import Testing
@testable import HessianLR

/// `options` with every safeguard neutral, so that a rule's raw candidate shows: no EMA
/// (smoothing 0), no bound on the change per update (`low`, `high` at the ends of their ranges)
/// and the clamp wide open ([0, greatest finite]).
func neutralSafeguards<Options: RateFieldOptions>(
    _ options: Options, bounds low: WritableKeyPath<Options, Double>, _ high: WritableKeyPath<Options, Double>
) -> Options {
    var options = options
    options.rate.smoothing = 0
    options.rate.lrMin = 0
    options.rate.lrMax = .greatestFiniteMagnitude
    options[keyPath: low] = .leastNormalMagnitude
    options[keyPath: high] = .greatestFiniteMagnitude
    return options
}

/// A quadratic loss L(w) = c₀ + ½ (w − w*)ᵀH(w − w*) over n weights, with its gradient and
/// Hessian-vector product, all summed in index order (deterministic bits).
struct TunerQuadratic {
    let n: Int
    /// H, n×n row-major symmetric.
    let hessian: [Double]
    let minimum: [Double]
    let offset: Double

    func loss(_ w: [Double]) -> Double {
        let e = zip(w, minimum).map { $0 - $1 }
        var sum = 0.0
        for i in 0..<n {
            var row = 0.0
            for j in 0..<n { row += hessian[i * n + j] * e[j] }
            sum += e[i] * row
        }
        return offset + 0.5 * sum
    }

    func gradient(_ w: [Double]) -> [Double] {
        hvp(zip(w, minimum).map { $0 - $1 })
    }

    func hvp(_ v: [Double]) -> [Double] {
        (0..<n).map { i in
            var sum = 0.0
            for j in 0..<n { sum += hessian[i * n + j] * v[j] }
            return sum
        }
    }

    /// Block-diagonal H = diag(λ) (separable across any grouping).
    static func diagonal(_ lambda: [Double], minimum: [Double]? = nil, offset: Double = 1) -> TunerQuadratic {
        let n = lambda.count
        var h = [Double](repeating: 0, count: n * n)
        for i in 0..<n { h[i * n + i] = lambda[i] }
        return TunerQuadratic(
            n: n, hessian: h, minimum: minimum ?? Array(repeating: 0, count: n), offset: offset)
    }
}

/// Numeric helpers of the tuner tests.
enum TunerCheck {
    /// Σ xᵢyᵢ in index order.
    static func dot(_ x: [Double], _ y: [Double]) -> Double {
        var sum = 0.0
        for (a, b) in zip(x, y) { sum += a * b }
        return sum
    }

    /// |a − b| ≤ tolerance·max(|a|, |b|) (both 0 is close).
    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool {
        a == b || abs(a - b) <= tolerance * max(abs(a), abs(b))
    }
}

/// The methods that learn from observations (every method but `constant`, which only follows
/// its initial rates or a schedule; ScheduledTunerTests covers it).
let observingMethods: [Method] = Method.allCases.filter { $0 != .constant }

extension RuleTuner {
    /// A tuner of `groups` groups with each of `settings` set for the whole tuner.
    static func with(groups: Int, _ settings: [(ParameterKey, Double)]) throws -> Self {
        var tuner = try Self(groups: groups)
        for (key, value) in settings { try tuner.setParameter(key, value, group: nil) }
        return tuner
    }
}

extension TunerCheck {
    /// `method`'s options are exactly the keys of `expected`, in catalog order, and each default
    /// is the value given, both in the catalog and as read from `tuner` (a fresh one) for every
    /// group.
    static func expectDefaults(_ method: Method, _ expected: [(ParameterKey, Double)], of tuner: some Tuner) throws {
        for (key, value) in expected {
            for group in 0..<tuner.groupCount {
                #expect(try tuner.parameter(key, group: group) == value, "\(method.name): \(key.name), group \(group)")
            }
            #expect(try method.spec(for: key).defaultValue == value, "\(method.name): \(key.name)")
        }
        #expect(method.parameterSpecs.map(\.key) == expected.map(\.0), "\(method.name)")
    }
}
