// Entry point of hessianlr-fuzz. Without libFuzzer (a plain `swift build`) it replays inputs
// through the harness: `hessianlr-fuzz FILE_OR_DIR...` (`make test` replays the committed corpus
// this way). Built with -sanitize=fuzzer,address and -D FUZZING (`make fuzz-smoke`, `make fuzz`)
// it hands control to libFuzzer's driver, which takes libFuzzer's usual arguments.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@main
struct FuzzDriver {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
    }
}
#else
@main
struct Replayer {
    static func main() {
        var files: [String] = []
        for argument in CommandLine.arguments.dropFirst() {
            if let directory = opendir(argument) {
                while let entry = readdir(directory) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    if !name.hasPrefix(".") { files.append(argument + "/" + name) }
                }
                closedir(directory)
            } else {
                files.append(argument)
            }
        }
        for file in files.sorted() {
            let bytes = read(file)
            _ = bytes.withUnsafeBufferPointer { fuzzOneInput($0.baseAddress, $0.count) }
        }
        print("hessianlr-fuzz: replayed \(files.count) inputs without a failure")
    }

    static func read(_ path: String) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            print("hessianlr-fuzz: cannot open \(path)")
            exit(2)
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }
}
#endif
