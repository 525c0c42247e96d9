import Foundation
import Testing
@testable import HessianLR

/// `CatalogEnum`: every Swift id family has exactly the ids and names of its typed enum in
/// include/hessianlr.h, the one hand-written place of the catalog (a member
/// `HLR_<PREFIX><SUFFIX> = <id>` is the case with raw value id and name suffix in lower case).
@Suite struct CatalogEnumTests {
    /// The members `PREFIX…SUFFIX = id` of `typedef enum <name> { … } <name>;`, as id → suffix.
    private static func header(_ enumName: String, prefix: String) throws -> [Int: String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../include/hessianlr.h").standardized
        let text = try String(contentsOf: root, encoding: .utf8)
        guard let start = text.range(of: "typedef enum \(enumName) {"),
              let end = text.range(of: "} \(enumName);", range: start.upperBound..<text.endIndex)
        else { throw HLRError(.invalidArgument, "no typedef enum \(enumName) in the header") }
        var members: [Int: String] = [:]
        let body = String(text[start.upperBound..<end.lowerBound])
        let pattern = try NSRegularExpression(pattern: "^\\s*\(prefix)([A-Z0-9_]+)\\s*=\\s*(\\d+)", options: .anchorsMatchLines)
        for match in pattern.matches(in: body, range: NSRange(body.startIndex..., in: body)) {
            let suffix = String(body[Range(match.range(at: 1), in: body)!])
            let id = Int(body[Range(match.range(at: 2), in: body)!])!
            members[id] = suffix.lowercased()
        }
        return members
    }

    private func expectMatches<E: CatalogEnum>(
        _ type: E.Type, _ enumName: String, prefix: String, headerOnly: Set<Int> = []
    ) throws {
        var expected = try Self.header(enumName, prefix: prefix)
        #expect(!expected.isEmpty, "\(enumName): no members with prefix \(prefix)")
        for id in headerOnly { expected[id] = nil }
        let swift = Dictionary(uniqueKeysWithValues: E.allCases.map { ($0.rawValue, $0.name) })
        #expect(swift == expected, "\(E.self) against \(enumName)")
    }

    @Test func everyFamilyMatchesTheHeader() throws {
        try expectMatches(Method.self, "hlr_method", prefix: "HLR_METHOD_")
        try expectMatches(ParameterKey.self, "hlr_param", prefix: "HLR_PARAM_")
        try expectMatches(InfoKey.self, "hlr_info", prefix: "HLR_INFO_")
        try expectMatches(ParameterFamily.self, "hlr_family", prefix: "HLR_FAMILY_")
        // HLR_NEED_NOTHING (0) is `Need.nothing`, not an observation kind.
        try expectMatches(ObservationKind.self, "hlr_need", prefix: "HLR_NEED_", headerOnly: [0])
        try expectMatches(ScheduleKind.self, "hlr_sched_kind", prefix: "HLR_SCHEDULE_")
        try expectMatches(ScheduleParameter.self, "hlr_sched_param", prefix: "HLR_SCHED_PARAM_")
        try expectMatches(AnnealStrategy.self, "hlr_anneal", prefix: "HLR_ANNEAL_")
        try expectMatches(CyclicMode.self, "hlr_cyclic_mode", prefix: "HLR_CYCLIC_")
        try expectMatches(DecayShape.self, "hlr_decay_shape", prefix: "HLR_DECAY_")
        try expectMatches(EstimatorKind.self, "hlr_est_kind", prefix: "HLR_ESTIMATOR_")
        try expectMatches(EstimatorParameter.self, "hlr_est_param", prefix: "HLR_EST_PARAM_")
        try expectMatches(EstimatorResultKey.self, "hlr_result", prefix: "HLR_RESULT_")
    }

    @Test func snakeCaseSpelling() {
        #expect(Method.snakeCase("initialLR") == "initial_lr")
        #expect(Method.snakeCase("r2Threshold") == "r2_threshold")
        #expect(Method.snakeCase("hutchPlusPlus") == "hutch_plus_plus")
        #expect(Method.snakeCase("triangular2") == "triangular2")
        #expect(Method.snakeCase("t0") == "t0")
        #expect(Method.hessianLR.name == "hessianlr" && ScheduleParameter.t0.name == "t_0")
    }
}
