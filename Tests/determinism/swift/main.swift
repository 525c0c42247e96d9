// Swift replay of a determinism scenario through `import HessianLR` (the core, no C ABI).
// Protocol: Tests/determinism/README.md. Usage: hessianlr-replay SCENARIO_FILE
import HessianLR

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func fail(_ message: String) -> Never {
    var line = "hessianlr-replay: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func readFile(_ path: String) -> String {
    guard let file = fopen(path, "rb") else { fail("cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count == 0 { break }
        bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

func double(_ field: Substring) -> Double {
    guard field.count == 16, let bits = UInt64(field, radix: 16) else {
        fail("bad double field '\(field)'")
    }
    return Double(bitPattern: bits)
}

func integer<T: FixedWidthInteger>(_ field: Substring) -> T {
    guard let value = T(field) else { fail("bad integer field '\(field)'") }
    return value
}

func hex(_ value: Double) -> String {
    let digits = String(value.bitPattern, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}

guard CommandLine.arguments.count == 2 else { fail("usage: hessianlr-replay SCENARIO_FILE") }
let lines = readFile(CommandLine.arguments[1]).split(separator: "\n")
guard lines.first == "hlr-replay 1" else { fail("missing header 'hlr-replay 1'") }

var method: Method?
var groups = 0
var tuner: (any Tuner)?
var saveRestoreSteps: Set<UInt64> = []
var output = ""

@MainActor func makeConfiguredTuner() -> any Tuner {
    guard let method, groups > 0 else { fail("method and groups must come before params and steps") }
    do {
        return try makeTuner(method: method, groups: groups)
    } catch {
        fail("create failed: \(error.message)")
    }
}

for line in lines.dropFirst() {
    let fields = line.split(separator: " ")
    guard let tag = fields.first else { fail("empty line") }
    switch tag {
    case "method":
        guard fields.count == 2, let parsed = Method(rawValue: integer(fields[1])) else {
            fail("bad method line '\(line)'")
        }
        method = parsed
    case "groups":
        guard fields.count == 2 else { fail("bad groups line '\(line)'") }
        groups = integer(fields[1])
    case "param", "group_param":
        if tuner == nil { tuner = makeConfiguredTuner() }
        let isGroup = tag == "group_param"
        guard fields.count == (isGroup ? 4 : 3) else { fail("bad \(tag) line '\(line)'") }
        let group: Int? = isGroup ? integer(fields[1]) : nil
        let keyField = fields[isGroup ? 2 : 1]
        guard let key = ParameterKey(rawValue: integer(keyField)) else { fail("unknown key in '\(line)'") }
        do {
            try tuner!.setParameter(key, double(fields[isGroup ? 3 : 2]), group: group)
        } catch {
            fail("\(tag) failed: \(error.message)")
        }
    case "save_restore":
        guard fields.count == 2 else { fail("bad save_restore line '\(line)'") }
        saveRestoreSteps.insert(integer(fields[1]))
    case "step":
        if tuner == nil { tuner = makeConfiguredTuner() }
        guard fields.count == 2 + 2 * groups else { fail("bad step line '\(line)'") }
        let step: UInt64 = integer(fields[1])
        let values = fields[2...].map(double)
        let wants = tuner!.wantsCurvature(atStep: step)
        var status = 0
        if wants {
            do {
                try tuner!.observeCurvature(step: step, values: values)
            } catch {
                status = error.kind.rawValue
            }
        }
        var record = "\(step) \(wants ? 1 : 0) \(status)"
        for group in 0..<groups {
            guard let rate = try? tuner!.learningRate(group: group, step: step) else {
                fail("learningRate failed at step \(step)")
            }
            record += " " + hex(rate)
        }
        output += record + "\n"
        if saveRestoreSteps.contains(step) {
            let bytes = tuner!.snapshot()
            var fresh = makeConfiguredTuner()
            do {
                try fresh.restore(snapshot: bytes)
            } catch {
                fail("restore failed at step \(step): \(error.message)")
            }
            tuner = fresh
        }
    default:
        fail("unknown record '\(tag)'")
    }
}
print(output, terminator: "")
