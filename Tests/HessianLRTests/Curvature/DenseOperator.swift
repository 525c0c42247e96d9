@testable import HessianLR

/// A dense symmetric test matrix with a known spectrum: A = P·diag(λ)·Pᵀ, P a product of
/// Householder reflections I − 2uuᵀ whose u are Gaussian probes of CounterRNG (seed, stream 100,
/// index r), so the test matrices are reproducible and their eigenvalues exact up to rounding.
final class DenseOperator: Sendable {
    let n: Int
    let spectrum: [Double]
    /// Row-major n×n.
    let entries: [Double]

    init(spectrum: [Double], reflections: Int = 3, seed: UInt64 = 1) {
        n = spectrum.count
        self.spectrum = spectrum
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { a[i * n + i] = spectrum[i] }
        for r in 0..<reflections where n > 1 { Self.reflect(&a, n: n, seed: seed, index: UInt64(r)) }
        entries = a
    }

    private init(n: Int, spectrum: [Double], entries: [Double]) {
        self.n = n
        self.spectrum = spectrum
        self.entries = entries
    }

    /// A non-symmetric matrix: A + asymmetry·(strict upper triangle of a Gaussian probe matrix).
    func skewed(by asymmetry: Double) -> DenseOperator {
        var a = entries
        let rng = CounterRNG(seed: 77, stream: 101, index: 0)
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) { a[i * n + j] += asymmetry * rng.gaussian(UInt64(i * n + j)) }
        }
        return DenseOperator(n: n, spectrum: spectrum, entries: a)
    }

    /// A ← H A H with H = I − 2uuᵀ: A − 2u pᵀ − 2p uᵀ + 4(uᵀp) uuᵀ, p = Au.
    private static func reflect(_ a: inout [Double], n: Int, seed: UInt64, index: UInt64) {
        let rng = CounterRNG(seed: seed, stream: 100, index: index)
        var u = (0..<n).map { rng.gaussian(UInt64($0)) }
        let norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
        u = u.map { $0 / norm }
        let p = multiply(a, n: n, u)
        let up = zip(u, p).reduce(0) { $0 + $1.0 * $1.1 }
        a.withUnsafeMutableBufferPointer { m in
            for i in 0..<n {
                for j in 0..<n { m[i * n + j] += -2 * u[i] * p[j] - 2 * p[i] * u[j] + 4 * up * u[i] * u[j] }
            }
        }
    }

    private static func multiply(_ a: [Double], n: Int, _ v: [Double]) -> [Double] {
        a.withUnsafeBufferPointer { m in
            v.withUnsafeBufferPointer { x in
                (0..<n).map { i in Double.dot(UnsafeBufferPointer(rebasing: m[(i * n)..<(i * n + n)]), x) }
            }
        }
    }

    func apply(_ v: [Double]) -> [Double] { Self.multiply(entries, n: n, v) }

    var trace: Double { (0..<n).reduce(0) { $0 + entries[$1 * n + $1] } }
    var diagonal: [Double] { (0..<n).map { entries[$0 * n + $0] } }

    /// The oracle for `HostVectorSpace<T>` (computes in Double, rounds to T).
    func hvp<T: HostScalar>(_ v: UnsafeBufferPointer<T>, _ out: UnsafeMutableBufferPointer<T>) throws(HLRError) {
        if T.self == Double.self {
            let vd = UnsafeRawBufferPointer(v).bindMemory(to: Double.self)
            let od = UnsafeMutableRawBufferPointer(out).bindMemory(to: Double.self)
            entries.withUnsafeBufferPointer { a in
                for i in 0..<n { od[i] = Double.dot(UnsafeBufferPointer(rebasing: a[(i * n)..<(i * n + n)]), vd) }
            }
            return
        }
        entries.withUnsafeBufferPointer { a in
            for i in 0..<n {
                var sum = 0.0
                let row = i * n
                for j in 0..<n { sum += a[row + j] * Double(v[j]) }
                out[i] = T(sum)
            }
        }
    }

    func space<T: HostScalar>(_: T.Type = Double.self, threads: Int = 1) throws -> HostVectorSpace<T> {
        try HostVectorSpace<T>(dimension: n, threads: threads, hvp: hvp)
    }
}

/// Relative error |a − b| / |b| (absolute when b = 0).
func relativeError(_ a: Double, _ b: Double) -> Double {
    b == 0 ? a.magnitude : (a - b).magnitude / b.magnitude
}

/// `options` changed by `configure`: the options of one test run, built from an estimator's
/// defaults by the suites' run helpers.
func configured<Options>(_ options: Options, _ configure: (inout Options) -> Void) -> Options {
    var options = options
    configure(&options)
    return options
}
