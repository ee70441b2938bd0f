import AlignTensor
import Foundation

/// Why a checkpoint does not fit a model: every missing key, unexpected key, shape mismatch and
/// conflict at once (sorted), so one failed load shows the whole picture.
public struct StateDictError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    public struct ShapeMismatch: Equatable, Sendable, CustomStringConvertible {
        public let key: String
        public let expected: [Int]
        public let got: [Int]
        public init(key: String, expected: [Int], got: [Int]) {
            self.key = key
            self.expected = expected
            self.got = got
        }
        public var description: String { "\(key): expected shape \(expected), got \(got)" }
    }

    /// Parameters of the model that the checkpoint does not provide.
    public var missing: [String] = []
    /// Checkpoint keys that name no parameter.
    public var unexpected: [String] = []
    public var shapeMismatches: [ShapeMismatch] = []
    /// Other inconsistencies, e.g. a tied `lm_head.weight` that differs from the embedding.
    public var conflicts: [String] = []

    public init(missing: [String] = [], unexpected: [String] = [], shapeMismatches: [ShapeMismatch] = [],
                conflicts: [String] = []) {
        self.missing = missing
        self.unexpected = unexpected
        self.shapeMismatches = shapeMismatches
        self.conflicts = conflicts
    }

    public var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && shapeMismatches.isEmpty && conflicts.isEmpty }

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys (\(missing.count)): \(missing.joined(separator: ", "))") }
        if !unexpected.isEmpty { parts.append("unexpected keys (\(unexpected.count)): \(unexpected.joined(separator: ", "))") }
        if !shapeMismatches.isEmpty {
            parts.append("shape mismatches (\(shapeMismatches.count)): "
                         + shapeMismatches.map(\.description).joined(separator: "; "))
        }
        if !conflicts.isEmpty { parts.append("conflicts: \(conflicts.joined(separator: "; "))") }
        return "state dict does not match the model: " + parts.joined(separator: "; ")
    }

    public var errorDescription: String? { description }
}

extension Module {
    /// A snapshot of every parameter under its (Hugging Face) name: copies, detached from the
    /// graph, so later optimizer steps do not change it. Tied weights appear once.
    public func stateDict() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, p) in namedParameters() { out[name] = p.copy() }
        return out
    }

    /// Copies `values` into the parameters whose names match exactly. Strict: nothing is changed
    /// and a `StateDictError` lists every problem unless the names and shapes match one to one.
    /// Model-specific key conventions (prefixes, buffers, tied heads) are handled by the models'
    /// `load(stateDict:)` before they call this.
    public func loadParameters(_ values: [String: Tensor], conflicts: [String] = []) throws {
        let params = namedParameters()
        var error = StateDictError(conflicts: conflicts)
        var known = Set<String>()
        for (name, p) in params {
            known.insert(name)
            guard let v = values[name] else { error.missing.append(name); continue }
            if v.shape != p.shape {
                error.shapeMismatches.append(.init(key: name, expected: p.shape, got: v.shape))
            }
        }
        error.unexpected = values.keys.filter { !known.contains($0) }.sorted()
        error.missing.sort()
        error.shapeMismatches.sort { $0.key < $1.key }
        guard error.isEmpty else { throw error }
        for (name, p) in params {
            let v = values[name]!
            if v.storage !== p.storage { p.pointer.update(from: v.pointer, count: p.count) }
        }
    }
}

/// Tensor equality by value, for accepting a checkpoint's copy of a tied weight.
func sameValues(_ a: Tensor, _ b: Tensor) -> Bool {
    guard a.shape == b.shape else { return false }
    if a.storage === b.storage { return true }
    return memcmp(a.pointer, b.pointer, a.count * MemoryLayout<Float>.stride) == 0
}
