/// The last curvature observation of every group, [gᵀd, dᵀHd] along the group's direction d
/// (`InfoKey.lastSlope` and `InfoKey.lastCurvature`, NaN before the first): HessianLR and CDAT.
struct CurvatureLog: Sendable, Equatable {
    private(set) var slopes: [Double]
    private(set) var curvatures: [Double]

    /// No observation yet for `groups` groups.
    init(groups: Int) {
        slopes = Array(repeating: .nan, count: groups)
        curvatures = Array(repeating: .nan, count: groups)
    }

    /// Records gᵀd and dᵀHd of one group.
    mutating func record(group: Int, slope: Double, curvature: Double) {
        slopes[group] = slope
        curvatures[group] = curvature
    }

    /// gᵀd or dᵀHd of `group` for those two keys; nil for any other.
    func info(_ key: InfoKey, group: Int) -> Double? {
        switch key {
        case .lastSlope: return slopes[group]
        case .lastCurvature: return curvatures[group]
        default: return nil
        }
    }

    /// Payload fields: last_slope (K doubles), last_curvature (K doubles).
    func encode(into writer: inout SnapshotWriter) {
        writer.write(slopes)
        writer.write(curvatures)
    }

    /// Reads what `encode` wrote for `groups` groups.
    static func decode(from reader: inout SnapshotReader, groups: Int) throws(HLRError) -> CurvatureLog {
        var log = CurvatureLog(groups: groups)
        log.slopes = try reader.readDoubles("last_slope", count: groups)
        log.curvatures = try reader.readDoubles("last_curvature", count: groups)
        return log
    }
}
