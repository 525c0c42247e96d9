import Testing
@testable import HessianLR

@Suite struct HostKernelsTests {
    /// The documented summation order, written out element by element.
    static func reference(_ x: [Double], _ y: [Double]) -> Double {
        var lanes = [Double](repeating: 0, count: 8)
        let body = x.count - x.count % 8
        for index in 0..<body { lanes[index % 8] += x[index] * y[index] }
        var sum = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]))
        for index in body..<x.count { sum += x[index] * y[index] }
        return sum
    }

    @Test(arguments: [0, 1, 7, 8, 9, 63, 64, 1000, 1001])
    func doubleDotFollowsTheDocumentedOrder(n: Int) {
        var generator = SplitMix(seed: UInt64(n))
        let x = (0..<n).map { _ in generator.nextSigned() }
        let y = (0..<n).map { _ in generator.nextSigned() * 1e3 }
        let result = x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { py in Double.dot(px, py) } }
        #expect(result.bitPattern == Self.reference(x, y).bitPattern)
    }

    @Test(arguments: [3, 16, 1001])
    func floatDotAccumulatesInDouble(n: Int) {
        var generator = SplitMix(seed: 99)
        let x = (0..<n).map { _ in Float(generator.nextSigned()) }
        let y = (0..<n).map { _ in Float(generator.nextSigned()) }
        let result = x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { py in Float.dot(px, py) } }
        #expect(result.bitPattern == Self.reference(x.map(Double.init), y.map(Double.init)).bitPattern)
    }

    @Test func unalignedSlicesGiveTheSameBits() {
        var generator = SplitMix(seed: 5)
        let x = (0..<41).map { _ in generator.nextSigned() }
        let whole = x.withUnsafeBufferPointer { p in
            Double.dot(UnsafeBufferPointer(rebasing: p[1...]), UnsafeBufferPointer(rebasing: p[1...]))
        }
        let copy = Array(x[1...])
        let aligned = copy.withUnsafeBufferPointer { Double.dot($0, $0) }
        #expect(whole.bitPattern == aligned.bitPattern)
    }
}
