#if canImport(Glibc)
import Glibc
#endif

/// Which compiled copy of the host kernels' element loops (`VectorLoops`, Sources/HessianLRLoops)
/// runs (`HostScalar`'s Float and Double conformances ask): module HessianLRLoopsX86V3 when this
/// CPU has x86-64-v3, HessianLRLoops otherwise. Both copies compile one source with the same operations in the
/// same order, so the choice changes the speed, never a bit of a result (`HostLoopsTests`
/// compares them).
enum HostLoops {
    /// Whether the x86-64-v3 copy runs here: an x86_64 Linux CPU whose /proc/cpuinfo lists every
    /// feature of the x86-64-v3 level (the kernel lists AVX only when it saves the AVX state).
    static let usesX86V3: Bool = detectX86V3()

    /// The /proc/cpuinfo flag names of the x86-64-v3 level (abm = LZCNT).
    static let x86V3Flags = ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"]

    static func detectX86V3() -> Bool {
        #if arch(x86_64) && os(Linux)
        guard let file = fopen("/proc/cpuinfo", "r") else { return false }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let text = line {
            let entry = String(cString: text)
            guard entry.hasPrefix("flags") else { continue }
            let flags = Set(entry.split { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == ":" })
            return x86V3Flags.allSatisfy { flags.contains(Substring($0)) }
        }
        return false
        #else
        return false
        #endif
    }
}
