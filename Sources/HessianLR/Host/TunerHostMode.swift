/// Host mode for every tuner: the library computes the observation from flat buffers and an
/// HVP oracle (`QuadraticTerms`) and feeds it to `observeCurvature`, so host mode and
/// observation mode share one path for the math.
extension Tuner {
    /// Checks a host-mode request and computes its observation without changing the tuner.
    /// Nothing is spent (no HVP is called) unless the step wants curvature and the buffers fit.
    ///
    /// - Parameters:
    ///   - gradient: g, n elements.
    ///   - update: u (n elements) when the tuner's direction is the optimizer's update; nil for
    ///     direction gradient (d = g).
    ///   - layout: the group split of the n elements; its group count must be the tuner's.
    public func hostObservation<T: HostScalar>(
        step: UInt64, gradient: UnsafeBufferPointer<T>, update: UnsafeBufferPointer<T>?,
        layout: GroupLayout, hvp: QuadraticTerms.HVP<T>
    ) throws(HLRError) -> [Double] {
        try requireCurvatureStep(step)
        guard layout.groupCount == groupCount else {
            throw .invalid(
                "the group layout has \(layout.groupCount) groups, the tuner has \(groupCount)")
        }
        if usesUpdateDirection && update == nil {
            throw .invalid("direction is 'update' but no update vector was given")
        }
        if !usesUpdateDirection && update != nil {
            throw .invalid("an update vector was given but direction is 'gradient'")
        }
        return try QuadraticTerms.compute(
            gradient: gradient, direction: update ?? gradient, layout: layout, hvp: hvp)
    }

    /// Host mode in one call: `hostObservation` then `observeCurvature`. Throws and changes
    /// nothing if the step wants no curvature, a buffer is malformed, the oracle throws, or a
    /// value is not finite.
    public mutating func observeCurvature<T: HostScalar>(
        step: UInt64, gradient: UnsafeBufferPointer<T>, update: UnsafeBufferPointer<T>? = nil,
        layout: GroupLayout, hvp: QuadraticTerms.HVP<T>
    ) throws(HLRError) {
        let values = try hostObservation(
            step: step, gradient: gradient, update: update, layout: layout, hvp: hvp)
        try observeCurvature(step: step, values: values)
    }

    /// Host mode over Swift arrays with one group per `groupOffsets` range (one group over
    /// everything when nil). The oracle gets v and must return H·v of the same length.
    public mutating func observeCurvature<T: HostScalar>(
        step: UInt64, gradient: [T], update: [T]? = nil, groupOffsets: [Int]? = nil,
        hvp: ([T]) throws(HLRError) -> [T]
    ) throws(HLRError) {
        let layout = try GroupLayout(
            offsets: groupOffsets ?? [0, gradient.count], elementCount: gradient.count)
        func oracle(_ v: UnsafeBufferPointer<T>, _ out: UnsafeMutableBufferPointer<T>) throws(HLRError) {
            let product = try hvp(Array(v))
            guard product.count == out.count else {
                throw HLRError(
                    .callbackFailed, "HVP returned \(product.count) values, expected \(out.count)")
            }
            for index in product.indices { out[index] = product[index] }
        }
        let values = try gradient.withUnsafeBufferPointer { (g) throws(HLRError) in
            guard let update else {
                return try hostObservation(step: step, gradient: g, update: nil, layout: layout, hvp: oracle)
            }
            return try update.withUnsafeBufferPointer { (u) throws(HLRError) in
                try hostObservation(step: step, gradient: g, update: u, layout: layout, hvp: oracle)
            }
        }
        try observeCurvature(step: step, values: values)
    }
}
