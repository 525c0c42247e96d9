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

/// The vectorised paths (probe fill from the sign bit, SIMD non-finite screen, byte copies,
/// threaded zeroing): same values as the element-by-element definitions, for every tail length
/// and offset, and for any thread count.
@Suite struct ChunkedKernelPathsTests {
    static let sizes = [0, 1, 7, 8, 15, 16, 17, ChunkedKernels.chunkLength - 1, ChunkedKernels.chunkLength + 3,
                        ChunkedKernels.parallelThreshold + 17]

    @Test(arguments: sizes)
    func fillMatchesCounterRNGValuesForAnyThreadsAndFirst(n: Int) {
        let rng = CounterRNG(seed: 11, stream: 3, index: 4)
        for distribution in ProbeDistribution.allCases {
            for first: UInt64 in [0, 5, 1 << 40] {
                let expected = (0..<n).map { distribution.value(rng, first + UInt64($0)) }
                for threads in [1, 3] {
                    var doubles = [Double](repeating: .nan, count: n)
                    var floats = [Float](repeating: .nan, count: n)
                    doubles.withUnsafeMutableBufferPointer { p in
                        if let base = p.baseAddress {
                            ChunkedKernels.fill(base, count: n, rng: rng, distribution: distribution, first: first, threads: threads)
                        }
                    }
                    floats.withUnsafeMutableBufferPointer { p in
                        if let base = p.baseAddress {
                            ChunkedKernels.fill(base, count: n, rng: rng, distribution: distribution, first: first, threads: threads)
                        }
                    }
                    #expect(doubles.map(\.bitPattern) == expected.map(\.bitPattern))
                    #expect(floats.map(\.bitPattern) == expected.map { Float($0).bitPattern })
                }
            }
        }
    }

    @Test(arguments: sizes.filter { $0 > 0 })
    func firstNonFiniteFindsEveryPositionAndKind(n: Int) {
        let positions = Set([0, n / 2, n - 1])
        for bad in [Double.nan, .infinity, -.infinity] {
            for position in positions {
                var x = (0..<n).map { Double($0 % 7) - 3.5 }
                x[position] = bad
                if position + 1 < n { x[n - 1] = .nan }  // a later one never wins
                let floats = x.map(Float.init)
                for threads in [1, 2] {
                    x.withUnsafeBufferPointer { #expect(ChunkedKernels.firstNonFinite($0, threads: threads) == position) }
                    floats.withUnsafeBufferPointer { #expect(ChunkedKernels.firstNonFinite($0, threads: threads) == position) }
                }
            }
        }
        let clean = (0..<n).map { Float($0) * -1e30 }  // large finite values: x − x is still 0
        clean.withUnsafeBufferPointer { #expect(ChunkedKernels.firstNonFinite($0, threads: 2) == nil) }
        let maxima = [Double](repeating: .greatestFiniteMagnitude, count: n)
        maxima.withUnsafeBufferPointer { #expect(ChunkedKernels.firstNonFinite($0, threads: 1) == nil) }
    }

    @Test(arguments: sizes)
    func copyAndThreadedZeroCoverExactlyTheRange(n: Int) {
        let source = (0..<(n + 2)).map { Float($0) + 0.25 }
        for threads in [1, 2] {
            var destination = [Float](repeating: -1, count: n + 2)
            source.withUnsafeBufferPointer { s in
                destination.withUnsafeMutableBufferPointer { d in
                    ChunkedKernels.copy(from: s.baseAddress! + 1, to: d.baseAddress! + 1, count: n, threads: threads)
                }
            }
            #expect(destination[0] == -1 && destination[n + 1] == -1)
            #expect(Array(destination[1..<(n + 1)]) == Array(source[1..<(n + 1)]))
            destination.withUnsafeMutableBufferPointer { d in
                ChunkedKernels.zero(d.baseAddress! + 1, count: n, threads: threads)
            }
            #expect(destination[0] == -1 && destination[n + 1] == -1)
            #expect(destination[1..<(n + 1)].allSatisfy { $0 == 0 && $0.sign == .plus })
        }
    }

    @Test func hostMemoryIsZeroedForSmallAndHugeBuffers() {
        for count in [0, 1, 1000, (HostMemory.hugePageThreshold / 8) + 3] {
            let p = HostMemory.allocateZeroed(Double.self, capacity: count)
            defer { HostMemory.deallocate(p) }
            let buffer = UnsafeBufferPointer(start: p, count: Swift.max(count, 1))
            #expect(buffer.allSatisfy { $0.bitPattern == 0 })
            p[Swift.max(count, 1) - 1] = 1  // writable to the end
        }
    }
}
