// HessianLR from Swift by `import HessianLR`: L2-regularised logistic regression on the UCI
// breast cancer data (examples/data/breast_cancer.csv), full-batch gradient descent whose
// learning rate comes from the tuner in host mode (analytic Hessian-vector products), compared
// with constant learning rates.
//
//   swift run hessianlr-swift-example examples/data/breast_cancer.csv
//
// Model: p = σ(Xw), loss L(w) = mean(−y log p − (1−y) log(1−p)) + (λ/2)‖w‖², λ = 1e-3,
// gradient Xᵀ(p − y)/n + λw, Hessian-vector product Xᵀ(p(1−p) ⊙ Xv)/n + λv.
import Foundation
import HessianLR

struct Dataset {
    var rows: [[Double]]  // standardised features plus a trailing 1 (bias)
    var labels: [Double]
}

func fail(_ message: String) -> Never {
    var line = "hessianlr-swift-example: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
}

func loadCSV(_ path: String) -> Dataset {
    guard let file = fopen(path, "rb") else { fail("cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count == 0 { break }
        bytes += buffer[0..<count]
    }
    let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst()
    var features: [[Double]] = []
    var labels: [Double] = []
    for line in lines {
        let fields = line.split(separator: ",").map { Double($0) }
        guard fields.count >= 2, fields.allSatisfy({ $0 != nil }) else { fail("bad row '\(line)'") }
        features.append(fields.dropLast().map { $0! })
        labels.append(fields.last!!)
    }
    let d = features[0].count
    for column in 0..<d {
        let values = features.map { $0[column] }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        let scale = variance > 0 ? variance.squareRoot() : 1
        for row in features.indices { features[row][column] = (features[row][column] - mean) / scale }
    }
    return Dataset(rows: features.map { $0 + [1] }, labels: labels)
}

struct LogisticRegression {
    let data: Dataset
    let lambda = 1e-3

    func probabilities(_ w: [Double]) -> [Double] {
        data.rows.map { row in
            let z = zip(row, w).reduce(0) { $0 + $1.0 * $1.1 }
            return 1 / (1 + exp(-z))
        }
    }

    func loss(_ w: [Double]) -> Double {
        let p = probabilities(w)
        var total = 0.0
        for (pi, yi) in zip(p, data.labels) {
            let clipped = min(max(pi, 1e-12), 1 - 1e-12)
            total -= yi * log(clipped) + (1 - yi) * log(1 - clipped)
        }
        return total / Double(p.count) + lambda / 2 * w.reduce(0) { $0 + $1 * $1 }
    }

    func gradient(_ w: [Double]) -> [Double] {
        let p = probabilities(w)
        var g = w.map { lambda * $0 }
        let n = Double(p.count)
        for (row, (pi, yi)) in zip(data.rows, zip(p, data.labels)) {
            for j in row.indices { g[j] += row[j] * (pi - yi) / n }
        }
        return g
    }

    func hvp(_ w: [Double], _ v: [Double]) -> [Double] {
        let p = probabilities(w)
        var out = v.map { lambda * $0 }
        let n = Double(p.count)
        for (row, pi) in zip(data.rows, p) {
            let xv = zip(row, v).reduce(0) { $0 + $1.0 * $1.1 }
            let weight = pi * (1 - pi) * xv / n
            for j in row.indices { out[j] += row[j] * weight }
        }
        return out
    }

    func accuracy(_ w: [Double]) -> Double {
        let correct = zip(probabilities(w), data.labels).filter { ($0.0 >= 0.5 ? 1.0 : 0.0) == $0.1 }
        return Double(correct.count) / Double(data.labels.count)
    }
}

/// Trains for `steps` full-batch steps; the learning rate comes from `tuner`, or is `constant`.
func train(
    _ model: LogisticRegression, steps: Int, tuner: inout (any Tuner)?, constant: Double,
    trace: Bool
) throws(HLRError) -> (loss: Double, accuracy: Double, hvps: Int) {
    var w = [Double](repeating: 0, count: model.data.rows[0].count)
    var hvps = 0
    for step in 0..<steps {
        let g = model.gradient(w)
        var lr = constant
        if var active = tuner {
            let t = UInt64(step)
            if active.wantsCurvature(atStep: t) {
                try active.observeCurvature(step: t, gradient: g) { (v: [Double]) throws(HLRError) in
                    hvps += 1
                    return model.hvp(w, v)
                }
            }
            lr = try active.learningRate(group: 0, step: t)
            if trace && step % 25 == 0 {
                let flags = try active.info(.lastFlags, group: 0)
                print("  step \(pad(step, 4))  loss \(fmt(model.loss(w)))  lr \(fmt(lr))  flags \(Int(flags))")
            }
            tuner = active
        }
        for j in w.indices { w[j] -= lr * g[j] }
    }
    return (model.loss(w), model.accuracy(w), hvps)
}

func fmt(_ value: Double) -> String { String(format: "%.6g", value) }

func pad(_ value: Int, _ width: Int) -> String { String(format: "%\(width)d", value) }

let path = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "examples/data/breast_cancer.csv"
let model = LogisticRegression(data: loadCSV(path))
let steps = 200
print("HessianLR from Swift: logistic regression, \(model.data.rows.count) samples, "
    + "\(model.data.rows[0].count) weights, \(steps) full-batch steps")

do {
    var results: [(String, Double, Double, Int)] = []
    for initial in [0.01, 0.1, 1.0] {
        var hessian = try makeTuner(method: .hessianLR, groups: 1)
        try hessian.setParameter(.initialLR, initial, group: nil)
        try hessian.setParameter(.updatePeriod, 5, group: nil)
        try hessian.setParameter(.lrMax, 100, group: nil)
        var tuner: (any Tuner)? = hessian
        print("HessianLR from initial lr \(initial) (update_period 5, lr_max 100):")
        let result = try train(model, steps: steps, tuner: &tuner, constant: 0, trace: initial == 0.01)
        let final = try tuner!.learningRate(group: 0, step: UInt64(steps))
        results.append(("hessianlr η₀=\(initial) → lr \(fmt(final))", result.loss, result.accuracy, result.hvps))
    }
    for constant in [0.01, 0.1, 1.0, 10.0] {
        var none: (any Tuner)? = nil
        let result = try train(model, steps: steps, tuner: &none, constant: constant, trace: false)
        results.append(("constant lr \(constant)", result.loss, result.accuracy, 0))
    }
    print("\nmethod                                   final loss    accuracy   HVPs")
    for (name, loss, accuracy, hvps) in results {
        let label = name.padding(toLength: 40, withPad: " ", startingAt: 0)
        print("\(label) \(fmt(loss).padding(toLength: 12, withPad: " ", startingAt: 0))"
            + "  \(fmt(accuracy).padding(toLength: 9, withPad: " ", startingAt: 0))  \(hvps)")
    }
} catch {
    fail("library error: \(error.message)")
}
