import Dispatch
import Synchronization

/// Host vector kernels with a fixed chunking, so that every result is independent of the thread
/// count: a range is cut into consecutive chunks of `chunkLength` elements counted from the range
/// start (the last one shorter), each chunk is processed by one thread, and reductions add the
/// per-chunk results of `HostScalar.dot` (float64, fixed lane order) in chunk order.
///
/// With `threads ≤ 1`, or fewer than `parallelThreshold` elements, everything runs on the calling
/// thread, giving bit-identical results to the threaded path.
public enum ChunkedKernels {
    /// Elements per chunk (8192: 32 KiB of float32, 64 KiB of float64).
    public static let chunkLength = 8192
    /// Ranges shorter than this run on the calling thread whatever the thread count.
    public static let parallelThreshold = 4 * chunkLength

    /// The chunks of `range`, in order.
    static func chunks(of range: Range<Int>) -> [Range<Int>] {
        var result: [Range<Int>] = []
        result.reserveCapacity((range.count + chunkLength - 1) / chunkLength)
        var start = range.lowerBound
        while start < range.upperBound {
            let end = start + Swift.min(chunkLength, range.upperBound - start)
            result.append(start..<end)
            start = end
        }
        return result
    }

    /// Consecutive indices a worker of `perform` takes at a time (8 chunks: 256 KiB of float32).
    static let grain = 8

    /// Runs `body(i)` for every i in 0..<count, on up to `threads` threads when `elements` is
    /// large enough. `body` must only write state owned by its index. Workers take the next
    /// `grain` consecutive indices from a shared counter until none are left, so a worker whose
    /// core is busy elsewhere delays nothing (each index still runs exactly once; which worker
    /// runs it never changes a result).
    static func perform(count: Int, elements: Int, threads: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        let workers = Swift.min(threads, (count + grain - 1) / grain)
        if workers <= 1 || elements < parallelThreshold {
            for index in 0..<count { body(index) }
            return
        }
        let next = Atomic<Int>(0)
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedBox(escapable)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let start = next.add(grain, ordering: .relaxed).oldValue
                    guard start < count else { return }
                    for index in start..<Swift.min(start + grain, count) { box.value(index) }
                }
            }
        }
    }

    /// Σ xᵢyᵢ over equal-length buffers: per-chunk `T.dot`, added in chunk order.
    public static func dot<T: HostScalar>(
        _ x: UnsafeBufferPointer<T>, _ y: UnsafeBufferPointer<T>, threads: Int
    ) -> Double {
        blockDots(x, y, ranges: [0..<Swift.min(x.count, y.count)], threads: threads)[0]
    }

    /// For each range r (within both buffers): Σ_{i∈r} xᵢyᵢ, chunked from r's start.
    public static func blockDots<T: HostScalar>(
        _ x: UnsafeBufferPointer<T>, _ y: UnsafeBufferPointer<T>, ranges: [Range<Int>], threads: Int
    ) -> [Double] {
        var pieces: [(block: Int, range: Range<Int>)] = []
        for (block, range) in ranges.enumerated() {
            for chunk in chunks(of: range) { pieces.append((block, chunk)) }
        }
        var partials = [Double](repeating: 0, count: pieces.count)
        partials.withUnsafeMutableBufferPointer { out in
            let target = UncheckedBox(out)
            perform(count: pieces.count, elements: x.count, threads: threads) { index in
                let range = pieces[index].range
                target.value[index] = T.dot(
                    UnsafeBufferPointer(rebasing: x[range]), UnsafeBufferPointer(rebasing: y[range]))
            }
        }
        var sums = [Double](repeating: 0, count: ranges.count)
        for (index, piece) in pieces.enumerated() { sums[piece.block] += partials[index] }
        return sums
    }

    /// r[j] = Σ xⱼᵢyᵢ over i in 0..<count for every x_j of `xs`, each bit for bit
    /// `dot(x_j, y)` (per-chunk `T.dot`, chunks added in order), in one blocked pass: every
    /// chunk of y is dotted with every x_j while it is in cache (the Gram–Schmidt dots of
    /// `OperatorBackend.multiDot`).
    public static func multiDot<T: HostScalar>(
        _ xs: [UnsafePointer<T>], _ y: UnsafePointer<T>, count: Int, threads: Int
    ) -> [Double] {
        let k = xs.count
        guard k > 0 else { return [] }
        let pieces = chunks(of: 0..<count)
        var partials = [Double](repeating: 0, count: pieces.count * k)
        partials.withUnsafeMutableBufferPointer { out in
            xs.withUnsafeBufferPointer { vectors in
                let target = UncheckedBox(out.baseAddress!), boxX = UncheckedBox(vectors), boxY = UncheckedBox(y)
                perform(count: pieces.count, elements: count, threads: threads) { index in
                    let range = pieces[index]
                    HostKernels.dots(
                        boxX.value, boxY.value, first: range.lowerBound, count: range.count,
                        into: target.value + index * k)
                }
            }
        }
        // As `blockDots`: each sum starts at 0 and adds its chunks' partials in chunk order.
        var sums = [Double](repeating: 0, count: k)
        for piece in 0..<pieces.count {
            for j in 0..<k { sums[j] += partials[piece * k + j] }
        }
        return sums
    }

    /// Applies `body` to every chunk of 0..<count (possibly in parallel).
    static func forEachChunk(count: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        let pieces = chunks(of: 0..<count)
        perform(count: pieces.count, elements: count, threads: threads) { body(pieces[$0]) }
    }

    // The elementwise kernels run the element loops of `HostScalar` (`HostLoops`: compiled for
    // the baseline CPU and for x86-64-v3) on each chunk; per element they are exact, so neither
    // the chunking nor the CPU changes a bit.

    /// y ← y + a·x (a rounded to T once).
    public static func axpy<T: HostScalar>(
        _ a: Double, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, count: Int, threads: Int
    ) {
        let scalar = T(a), boxX = UncheckedBox(x), boxY = UncheckedBox(y)
        forEachChunk(count: count, threads: threads) { range in
            T.axpy(scalar, boxX.value + range.lowerBound, boxY.value + range.lowerBound, count: range.count)
        }
    }

    /// y ← y + a₀·x₀, then y ← y + a₁·x₁, …: per element exactly the sequence of `axpy` calls
    /// in order (each a_j rounded to T once, each product and sum rounded to T), applied block by
    /// block so that y is read and written once from memory instead of once per x_j. No x_j may
    /// be y (an x_j equal to y would be read before the earlier updates of the same block).
    public static func multiAxpy<T: HostScalar>(
        _ a: [Double], _ xs: [UnsafePointer<T>], _ y: UnsafeMutablePointer<T>, count: Int, threads: Int
    ) {
        precondition(a.count == xs.count, "multiAxpy: \(a.count) coefficients for \(xs.count) vectors")
        multiAxpyBody(a, xs, y, count, threads)
    }

    /// x ← a·x (a rounded to T once).
    public static func scale<T: HostScalar>(
        _ a: Double, _ x: UnsafeMutablePointer<T>, count: Int, threads: Int
    ) {
        let scalar = T(a), boxX = UncheckedBox(x)
        forEachChunk(count: count, threads: threads) { range in
            T.scale(scalar, boxX.value + range.lowerBound, count: range.count)
        }
    }

    /// acc ← acc + a·(x ⊙ y) (a rounded to T once; evaluated as acc + (a·x)·y).
    public static func multiplyAccumulate<T: HostScalar>(
        _ a: Double, _ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ acc: UnsafeMutablePointer<T>,
        count: Int, threads: Int
    ) {
        let scalar = T(a), boxX = UncheckedBox(x), boxY = UncheckedBox(y), boxA = UncheckedBox(acc)
        forEachChunk(count: count, threads: threads) { range in
            let start = range.lowerBound
            T.multiplyAccumulate(scalar, boxX.value + start, boxY.value + start, boxA.value + start, count: range.count)
        }
    }

    /// x[j] ← T(distribution.value(rng, first + j)) for j in 0..<count: exactly the values of
    /// `ProbeDistribution.value` rounded once to T (Rademacher: ±1 built from the sign bit, no
    /// conversion, `HostScalar.rademacher`; Gaussian: the float64 Box–Muller value rounded to T,
    /// `HostScalar.gaussianFill`).
    public static func fill<T: HostScalar>(
        _ x: UnsafeMutablePointer<T>, count: Int, rng: CounterRNG,
        distribution: ProbeDistribution, first: UInt64 = 0, threads: Int
    ) {
        // Concrete branches: a call from another module reaches this function unspecialised, and
        // the chunk kernel must be specialised to stay vectorised.
        if T.self == Float.self {
            let p = UncheckedBox(rebind(x) as UnsafeMutablePointer<Float>)
            forEachChunk(count: count, threads: threads) { fillChunk(p.value, $0, rng, distribution, first) }
        } else if T.self == Double.self {
            let p = UncheckedBox(rebind(x) as UnsafeMutablePointer<Double>)
            forEachChunk(count: count, threads: threads) { fillChunk(p.value, $0, rng, distribution, first) }
        } else {
            let p = UncheckedBox(x)
            forEachChunk(count: count, threads: threads) { fillChunk(p.value, $0, rng, distribution, first) }
        }
    }

    /// x[i] ← 0 for i in 0..<count (initialises or overwrites: Float and Double are trivial).
    public static func zero<T: HostScalar>(_ x: UnsafeMutablePointer<T>, count: Int) {
        if T.self == Float.self {
            (rebind(x) as UnsafeMutablePointer<Float>).initialize(repeating: 0, count: count)
        } else if T.self == Double.self {
            (rebind(x) as UnsafeMutablePointer<Double>).initialize(repeating: 0, count: count)
        } else {
            x.initialize(repeating: 0, count: count)
        }
    }

    /// x[i] ← 0 for i in 0..<count, chunk-parallel on up to `threads` threads.
    public static func zero<T: HostScalar>(_ x: UnsafeMutablePointer<T>, count: Int, threads: Int) {
        let p = UncheckedBox(x)
        forEachChunk(count: count, threads: threads) { range in
            zero(p.value + range.lowerBound, count: range.count)
        }
    }

    /// destination[i] ← source[i] for i in 0..<count (memory that does not overlap),
    /// chunk-parallel on up to `threads` threads. Float and Double are copied as bytes.
    public static func copy<T: HostScalar>(
        from source: UnsafePointer<T>, to destination: UnsafeMutablePointer<T>, count: Int,
        threads: Int = 1
    ) {
        let s = UncheckedBox(source), d = UncheckedBox(destination)
        forEachChunk(count: count, threads: threads) { range in
            let from = s.value + range.lowerBound, to = d.value + range.lowerBound
            if T.self == Float.self || T.self == Double.self {
                UnsafeMutableRawPointer(to).copyMemory(
                    from: UnsafeRawPointer(from), byteCount: range.count * MemoryLayout<T>.stride)
            } else {
                to.update(from: from, count: range.count)
            }
        }
    }

    /// The index of the first non-finite element, or nil. Each chunk is first screened with
    /// SIMD arithmetic (x − x is 0 exactly for finite x), and only a chunk that fails the screen
    /// is searched element by element.
    public static func firstNonFinite<T: HostScalar>(
        _ x: UnsafeBufferPointer<T>, threads: Int
    ) -> Int? {
        if T.self == Float.self {
            let p = UnsafeRawBufferPointer(x).assumingMemoryBound(to: Float.self)
            return firstIndex(count: x.count, threads: threads) { firstNonFiniteChunk(p, $0, by: SIMD16<Float>.self) }
        } else if T.self == Double.self {
            let p = UnsafeRawBufferPointer(x).assumingMemoryBound(to: Double.self)
            return firstIndex(count: x.count, threads: threads) { firstNonFiniteChunk(p, $0, by: SIMD8<Double>.self) }
        }
        return firstIndex(count: x.count, threads: threads) { range in
            range.first { !x[$0].isFinite }
        }
    }

    /// Elements per block of `multiAxpyBody` (8 KiB of float64: stays in L1 across the x's).
    static let multiAxpyBlock = 1024

    private static func multiAxpyBody<U: HostScalar>(
        _ a: [Double], _ xs: [UnsafePointer<U>], _ y: UnsafeMutablePointer<U>, _ count: Int, _ threads: Int
    ) {
        let k = xs.count
        guard k > 0 else { return }
        let scalars = a.map { U($0) }
        scalars.withUnsafeBufferPointer { s in
            xs.withUnsafeBufferPointer { vectors in
                let boxS = UncheckedBox(s), boxX = UncheckedBox(vectors), boxY = UncheckedBox(y)
                forEachChunk(count: count, threads: threads) { range in
                    let s = boxS.value, x = boxX.value, py = boxY.value
                    var start = range.lowerBound
                    while start < range.upperBound {
                        let end = Swift.min(start + multiAxpyBlock, range.upperBound)
                        let length = end - start
                        var j = 0
                        // Per element the same operations in the same order as k axpys:
                        // y ← fl(y + fl(a_j·x_j)) for j = 0, 1, ….
                        while j + 4 <= k {
                            let coefficients = SIMD4<U>(s[j], s[j + 1], s[j + 2], s[j + 3])
                            let x0: UnsafePointer<U> = x[j] + start, x1: UnsafePointer<U> = x[j + 1] + start
                            let x2: UnsafePointer<U> = x[j + 2] + start, x3: UnsafePointer<U> = x[j + 3] + start
                            U.axpy4(coefficients, x0, x1, x2, x3, py + start, count: length)
                            j += 4
                        }
                        while j < k {
                            U.axpy(s[j], x[j] + start, py + start, count: length)
                            j += 1
                        }
                        start = end
                    }
                }
            }
        }
    }

    /// The first index found by `search` over the chunks of 0..<count (chunks searched in
    /// parallel, the lowest chunk with a hit wins).
    private static func firstIndex(
        count: Int, threads: Int, _ search: (Range<Int>) -> Int?
    ) -> Int? {
        let pieces = chunks(of: 0..<count)
        var found = [Int](repeating: -1, count: pieces.count)
        found.withUnsafeMutableBufferPointer { out in
            let target = UncheckedBox(out)
            perform(count: pieces.count, elements: count, threads: threads) { index in
                if let hit = search(pieces[index]) { target.value[index] = hit }
            }
        }
        return found.first { $0 >= 0 }
    }

    /// `firstNonFinite` over one chunk, screened a `Vector` (64 bytes: SIMD16<Float> or
    /// SIMD8<Double>) at a time; specialised for both at the call sites.
    @inline(__always)
    private static func firstNonFiniteChunk<Vector: SIMD>(
        _ x: UnsafeBufferPointer<Vector.Scalar>, _ range: Range<Int>, by _: Vector.Type
    ) -> Int? where Vector.Scalar: BinaryFloatingPoint {
        guard let base = x.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        let lanes = Vector.scalarCount
        var screen = Vector()
        var i = range.lowerBound
        while i + lanes <= range.upperBound {
            let v = raw.loadUnaligned(fromByteOffset: i &* MemoryLayout<Vector.Scalar>.stride, as: Vector.self)
            screen += v - v
            i &+= lanes
        }
        var clean = screen == Vector()
        while i < range.upperBound {
            if !base[i].isFinite { clean = false }
            i &+= 1
        }
        return clean ? nil : range.first { !base[$0].isFinite }
    }

    /// One chunk of `fill`: Rademacher ±1 from the sign bit of bits(i) (`HostScalar.rademacher`),
    /// or the Gaussian kernel.
    @inline(__always)
    private static func fillChunk<T: HostScalar>(
        _ x: UnsafeMutablePointer<T>, _ range: Range<Int>, _ rng: CounterRNG,
        _ distribution: ProbeDistribution, _ first: UInt64
    ) {
        switch distribution {
        case .rademacher:
            for i in range { x[i] = T.rademacher(bits: rng.bits(first &+ UInt64(i))) }
        case .gaussian:
            T.gaussianFill(x + range.lowerBound, count: range.count, key: rng.key, first: first &+ UInt64(range.lowerBound))
        }
    }

    @inline(__always)
    private static func rebind<T, U>(_ p: UnsafePointer<T>) -> UnsafePointer<U> {
        UnsafeRawPointer(p).assumingMemoryBound(to: U.self)
    }

    @inline(__always)
    private static func rebind<T, U>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<U> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: U.self)
    }
}

/// Carries a value into a concurrently performed closure whose indices write disjoint state.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
