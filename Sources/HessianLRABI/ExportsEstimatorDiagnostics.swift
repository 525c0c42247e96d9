import HessianLR

// Plain functions next to the estimators: the library's probe vectors (for vector backends that
// fill on the host) and the stability diagnostics that turn estimates into learning-rate advice.

@_cdecl("hlr_probe_fill_f32")
public func hlr_probe_fill_f32(
    _ seed: UInt64, _ stream: UInt64, _ index: UInt64, _ distribution: Int32, _ first: UInt64,
    _ out: UnsafeMutablePointer<Float>?, _ n: UInt
) -> Int32 {
    exported("hlr_probe_fill_f32") {
        try probeFill(seed, stream, index, distribution, first, out, n)
    }
}

@_cdecl("hlr_probe_fill_f64")
public func hlr_probe_fill_f64(
    _ seed: UInt64, _ stream: UInt64, _ index: UInt64, _ distribution: Int32, _ first: UInt64,
    _ out: UnsafeMutablePointer<Double>?, _ n: UInt
) -> Int32 {
    exported("hlr_probe_fill_f64") {
        try probeFill(seed, stream, index, distribution, first, out, n)
    }
}

/// out[j] = T(distribution.value(CounterRNG(seed, stream, index), first + j)) for j < n.
private func probeFill<T: HostScalar>(
    _ seed: UInt64, _ stream: UInt64, _ index: UInt64, _ distribution: Int32, _ first: UInt64,
    _ out: UnsafeMutablePointer<T>?, _ n: UInt
) throws {
    guard let distribution = ProbeDistribution(rawValue: Int(distribution)) else {
        throw ABIError.invalid(
            "distribution must be HLR_PROBE_RADEMACHER (1) or HLR_PROBE_GAUSSIAN (2), got \(distribution)")
    }
    let count = try Arguments.count(n, "n")
    try Arguments.indexRange(first, count, "first", "n")
    guard count > 0 else { return }
    let out = try Arguments.pointer(out, "out")
    let rng = CounterRNG(seed: seed, stream: stream, index: index)
    // The core's vectorised fill (the same values bit for bit as the per-element formula).
    ChunkedKernels.fill(out, count: count, rng: rng, distribution: distribution, first: first, threads: 1)
}

@_cdecl("hlr_density_smooth")
public func hlr_density_smooth(
    _ nodes: UnsafePointer<Double>?, _ weights: UnsafePointer<Double>?, _ nNodes: UInt,
    _ points: UnsafePointer<Double>?, _ nPoints: UInt, _ sigma: Double, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_density_smooth") {
        let nodeCount = try Arguments.count(nNodes, "n_nodes", limit: EstimatorConfig.maxSmoothingPairs)
        let pointCount = try Arguments.count(nPoints, "n_points", limit: EstimatorConfig.maxSmoothingPairs)
        guard nodeCount > 0 else { throw ABIError.invalid("n_nodes must be ≥ 1, got 0") }
        guard pointCount > 0 else { throw ABIError.invalid("n_points must be ≥ 1, got 0") }
        let (pairs, overflow) = nodeCount.multipliedReportingOverflow(by: pointCount)
        guard !overflow, pairs <= EstimatorConfig.maxSmoothingPairs else {
            throw ABIError.invalid(
                "n_nodes × n_points = \(nodeCount) × \(pointCount) is more than \(EstimatorConfig.maxSmoothingPairs) terms")
        }
        let nodes = Array(UnsafeBufferPointer(start: try Arguments.pointer(nodes, "nodes"), count: nodeCount))
        let weights = Array(UnsafeBufferPointer(start: try Arguments.pointer(weights, "weights"), count: nodeCount))
        let points = Array(UnsafeBufferPointer(start: try Arguments.pointer(points, "points"), count: pointCount))
        let result = try Arguments.pointer(out, "out")
        let values = try DensityGrid.density(nodes: nodes, weights: weights, at: points, sigma: sigma)
        for (index, value) in values.enumerated() { result[index] = value }
    }
}

@_cdecl("hlr_edge_of_stability")
public func hlr_edge_of_stability(
    _ learningRate: Double, _ lambdaMax: Double, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_edge_of_stability") {
        let out = try Arguments.pointer(out, "out")
        out.pointee = try StabilityDiagnostics.edgeOfStability(learningRate: learningRate, lambdaMax: lambdaMax)
    }
}

@_cdecl("hlr_sgd_trace_stability")
public func hlr_sgd_trace_stability(
    _ learningRate: Double, _ trace: Double, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_sgd_trace_stability") {
        let out = try Arguments.pointer(out, "out")
        out.pointee = try StabilityDiagnostics.sgdTraceStability(learningRate: learningRate, trace: trace)
    }
}

@_cdecl("hlr_scaled_lr")
public func hlr_scaled_lr(
    _ learningRate: Double, _ oldBatch: Double, _ newBatch: Double, _ rule: Int32,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_scaled_lr") {
        let out = try Arguments.pointer(out, "out")
        guard let rule = StabilityDiagnostics.BatchScaling(rawValue: Int(rule)) else {
            throw ABIError.invalid(
                "rule must be HLR_BATCH_SCALING_LINEAR (1) or HLR_BATCH_SCALING_SQRT (2), got \(rule)")
        }
        out.pointee = try StabilityDiagnostics.scaledLearningRate(
            learningRate, fromBatchSize: oldBatch, toBatchSize: newBatch, rule: rule)
    }
}
