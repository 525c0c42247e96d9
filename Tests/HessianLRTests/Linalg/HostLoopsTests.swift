import HessianLRLoops
import HessianLRLoopsX86V3
import Testing
@testable import HessianLR

/// The two compiled copies of the element loops (baseline and x86-64-v3, `HostLoops`) give the
/// same bits on the same inputs, and `HostLoops` runs the copy its CPU check selects.
@Suite struct HostLoopsTests {
    typealias Base = HessianLRLoops.VectorLoops
    typealias V3 = HessianLRLoopsX86V3.VectorLoops

    static let lengths = [0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 1000, 8192 + 5]

    /// Values over many magnitudes (subnormal to 1e30 for Double, to 1e18 for Float), both signs.
    static func values<T: HostScalar>(_: T.Type, _ n: Int, seed: UInt64) -> [T] {
        var generator = SplitMix(seed: seed)
        let span: Double = T.self == Float.self ? 36 : 60
        return (0..<n).map { i in
            let mantissa = generator.nextSigned()
            let exponent = (Double(generator.next() >> 11) / Double(1 << 53) - 0.5) * span
            if i % 97 == 13 { return T.leastNonzeroMagnitude * T(i % 5) }  // subnormals and zeros
            return T(mantissa * Double.pow10(exponent))
        }
    }

    static func bits<T: HostScalar>(_ values: [T]) -> [UInt64] {
        values.map { value in
            if let float = value as? Float { return UInt64(float.bitPattern) }
            return (value as! Double).bitPattern
        }
    }

    @Test(.enabled(if: HostLoops.usesX86V3, "this CPU runs the baseline copy only"), arguments: lengths)
    func bothCopiesGiveTheSameBits(n: Int) {
        check(Float.self, n, Base.dot, V3.dot, Base.dot2, V3.dot2, Base.axpy, V3.axpy, Base.axpy4, V3.axpy4,
              Base.scale, V3.scale, Base.multiplyAccumulate, V3.multiplyAccumulate)
        check(Double.self, n, Base.dot, V3.dot, Base.dot2, V3.dot2, Base.axpy, V3.axpy, Base.axpy4, V3.axpy4,
              Base.scale, V3.scale, Base.multiplyAccumulate, V3.multiplyAccumulate)
    }

    // swiftlint:disable:next function_parameter_count
    func check<T: HostScalar>(
        _: T.Type, _ n: Int,
        _ dotA: (UnsafePointer<T>, UnsafePointer<T>, Int) -> Double,
        _ dotB: (UnsafePointer<T>, UnsafePointer<T>, Int) -> Double,
        _ dot2A: (UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>, Int, UnsafeMutablePointer<Double>) -> Void,
        _ dot2B: (UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>, Int, UnsafeMutablePointer<Double>) -> Void,
        _ axpyA: (T, UnsafePointer<T>, UnsafeMutablePointer<T>, Int) -> Void,
        _ axpyB: (T, UnsafePointer<T>, UnsafeMutablePointer<T>, Int) -> Void,
        _ axpy4A: (SIMD4<T>, UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, Int) -> Void,
        _ axpy4B: (SIMD4<T>, UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, Int) -> Void,
        _ scaleA: (T, UnsafeMutablePointer<T>, Int) -> Void,
        _ scaleB: (T, UnsafeMutablePointer<T>, Int) -> Void,
        _ macA: (T, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, Int) -> Void,
        _ macB: (T, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, Int) -> Void
    ) {
        let inputs = (0..<5).map { Self.values(T.self, n + 1, seed: UInt64(n * 10 + $0)) }
        let a = T(-0.37109375), four = SIMD4<T>(0.75, -1.5e-3, 2.5, -0.1)
        let x0 = inputs[0], x1 = inputs[1], x2 = inputs[2], x3 = inputs[3], y = inputs[4]
        func pairs(_ run: (UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>) -> Void) {
            x0.withUnsafeBufferPointer { p0 in x1.withUnsafeBufferPointer { p1 in x2.withUnsafeBufferPointer { p2 in
                x3.withUnsafeBufferPointer { p3 in y.withUnsafeBufferPointer { py in
                    run(p0.baseAddress!, p1.baseAddress!, p2.baseAddress!, p3.baseAddress!, py.baseAddress!)
                } }
            } } }
        }
        pairs { p0, p1, _, _, py in
            #expect(dotA(p0, py, n).bitPattern == dotB(p0, py, n).bitPattern, "dot \(T.self) n \(n)")
            var outA = [Double](repeating: 0, count: 2), outB = outA
            dot2A(p0, p1, py, n, &outA)
            dot2B(p0, p1, py, n, &outB)
            #expect(outA.map(\.bitPattern) == outB.map(\.bitPattern), "dot2 \(T.self) n \(n)")
            #expect(outA[0].bitPattern == dotA(p0, py, n).bitPattern && outA[1].bitPattern == dotA(p1, py, n).bitPattern)
        }
        func same(_ what: String, _ run: (UnsafeMutablePointer<T>, Bool) -> Void) {
            var resultA = y, resultB = y
            resultA.withUnsafeMutableBufferPointer { run($0.baseAddress!, true) }
            resultB.withUnsafeMutableBufferPointer { run($0.baseAddress!, false) }
            #expect(Self.bits(resultA) == Self.bits(resultB), "\(what) \(T.self) n \(n)")
        }
        pairs { p0, p1, p2, p3, _ in
            same("axpy") { out, first in (first ? axpyA : axpyB)(a, p0, out, n) }
            same("axpy4") { out, first in (first ? axpy4A : axpy4B)(four, p0, p1, p2, p3, out, n) }
            same("scale") { out, first in (first ? scaleA : scaleB)(a, out, n) }
            same("multiplyAccumulate") { out, first in (first ? macA : macB)(a, p0, p1, out, n) }
        }
    }

    /// `dot4` (four products in one pass over y) gives each x the bits of `dot`, in both copies.
    @Test(arguments: lengths)
    func dot4IsFourDots(n: Int) {
        func check<T: HostScalar>(
            _: T.Type, _ dot: (UnsafePointer<T>, UnsafePointer<T>, Int) -> Double,
            _ copies: [(UnsafePointer<UnsafePointer<T>>, UnsafePointer<T>, Int, UnsafeMutablePointer<Double>) -> Void]
        ) {
            let xs = (0..<4).map { Self.values(T.self, n + 1, seed: UInt64(n * 7 + $0)) }
            let y = Self.values(T.self, n + 1, seed: UInt64(n * 7 + 9))
            let pointers = xs.map { x in UnsafeMutablePointer<T>.allocate(capacity: x.count) }
            defer { pointers.forEach { $0.deallocate() } }
            for (p, x) in zip(pointers, xs) { p.initialize(from: x, count: x.count) }
            let quad = pointers.map { UnsafePointer($0) }
            y.withUnsafeBufferPointer { py in
                quad.withUnsafeBufferPointer { pq in
                    let expected = quad.map { dot($0, py.baseAddress!, n).bitPattern }
                    for copy in copies {
                        var out = [Double](repeating: .nan, count: 4)
                        copy(pq.baseAddress!, py.baseAddress!, n, &out)
                        #expect(out.map(\.bitPattern) == expected, "dot4 \(T.self) n \(n)")
                    }
                }
            }
        }
        let v3 = HostLoops.usesX86V3
        check(Float.self, Base.dot, v3 ? [Base.dot4, V3.dot4] : [Base.dot4])
        check(Double.self, Base.dot, v3 ? [Base.dot4, V3.dot4] : [Base.dot4])
    }

    @Test func theCPUCheckReadsTheFlagsOnce() {
        #expect(HostLoops.usesX86V3 == HostLoops.detectX86V3())
        #expect(HostKernels.instructionSet == (HostLoops.usesX86V3 ? "x86-64-v3" : "baseline"))
    }
}

private extension Double {
    static func pow10(_ exponent: Double) -> Double {
        var result = 1.0
        let whole = Int(exponent.rounded(.down))
        for _ in 0..<Swift.abs(whole) { result = whole < 0 ? result / 10 : result * 10 }
        return result * (1 + (exponent - Double(whole)) * 9)  // within [10^k, 10^(k+1)]
    }
}
