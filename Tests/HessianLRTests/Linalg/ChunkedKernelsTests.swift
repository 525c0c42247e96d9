import Testing
@testable import HessianLR

/// Threaded host kernels give the same bits as one thread; reductions follow the chunk order.
@Suite struct ChunkedKernelsTests {
    static let n = 3 * ChunkedKernels.chunkLength * 2 + 1234  // 6 full chunks and a tail: threaded

    static func vector(_ seed: UInt64, count: Int = n) -> [Double] {
        let rng = CounterRNG(seed: seed, stream: 200, index: 0)
        return (0..<count).map { rng.gaussian(UInt64($0)) * 1e3 }
    }

    @Test func dotIsChunkSumInIndexOrderAndThreadIndependent() {
        let x = Self.vector(1), y = Self.vector(2)
        x.withUnsafeBufferPointer { px in
            y.withUnsafeBufferPointer { py in
                var expected = 0.0
                for chunk in ChunkedKernels.chunks(of: 0..<Self.n) {
                    expected += Double.dot(UnsafeBufferPointer(rebasing: px[chunk]), UnsafeBufferPointer(rebasing: py[chunk]))
                }
                for threads in [1, 2, 3, 8] {
                    #expect(ChunkedKernels.dot(px, py, threads: threads).bitPattern == expected.bitPattern)
                }
                // Within one chunk the reduction is exactly HostScalar.dot.
                let short = UnsafeBufferPointer(rebasing: px[0..<1000])
                #expect(ChunkedKernels.dot(short, short, threads: 4) == Double.dot(short, short))
            }
        }
    }

    @Test func blockDotsAreThreadIndependent() {
        let x = Self.vector(3), y = Self.vector(4)
        let ranges = [0..<5, 5..<20_000, 20_000..<20_000, 20_000..<Self.n]
        x.withUnsafeBufferPointer { px in
            y.withUnsafeBufferPointer { py in
                let one = ChunkedKernels.blockDots(px, py, ranges: ranges, threads: 1)
                let many = ChunkedKernels.blockDots(px, py, ranges: ranges, threads: 4)
                #expect(one.map(\.bitPattern) == many.map(\.bitPattern))
                #expect(one[2] == 0)
                let tail = UnsafeBufferPointer(rebasing: px[0..<5]), tailY = UnsafeBufferPointer(rebasing: py[0..<5])
                #expect(one[0] == Double.dot(tail, tailY))
            }
        }
    }

    @Test func elementwiseKernelsAreThreadIndependent() throws {
        for threads in [2, 5] {
            let one = try HostVectorSpace<Float>(dimension: Self.n, threads: 1) { _, _ throws(HLRError) in }
            let many = try HostVectorSpace<Float>(dimension: Self.n, threads: threads) { _, _ throws(HLRError) in }
            var results: [[Float]] = []
            for space in [one, many] {
                let x = try space.makeVector(), y = try space.makeVector(), acc = try space.makeVector()
                try space.fillProbe(x, seed: 9, stream: 3, index: 1, distribution: .gaussian)
                try space.fillProbe(y, seed: 9, stream: 3, index: 2, distribution: .rademacher)
                try space.axpy(0.3, x, y)
                try space.scale(-1.7, y)
                try space.multiplyAccumulate(0.5, x, y, into: acc)
                results.append(acc.elements)
                results.append([Float(try space.dot(x, acc))])
            }
            #expect(results[0].map(\.bitPattern) == results[2].map(\.bitPattern))
            #expect(results[1].map(\.bitPattern) == results[3].map(\.bitPattern))
        }
    }

    @Test func firstNonFiniteFindsTheLowestIndex() {
        var x = [Double](repeating: 1, count: Self.n)
        x[Self.n - 3] = .infinity
        x[40_000] = .nan
        x.withUnsafeBufferPointer { p in
            #expect(ChunkedKernels.firstNonFinite(p, threads: 1) == 40_000)
            #expect(ChunkedKernels.firstNonFinite(p, threads: 4) == 40_000)
        }
        [1.0, 2].withUnsafeBufferPointer { p in #expect(ChunkedKernels.firstNonFinite(p, threads: 1) == nil) }
    }
}
