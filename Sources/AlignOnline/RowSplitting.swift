import Foundation

extension Array where Element == [Float] {
    /// Splits a flat array back into rows of the given lengths.
    package static func unflatten(_ flat: [Float], lengths: [Int]) -> [[Float]] {
        var out: [[Float]] = [], i = 0
        for n in lengths { out.append([Float](flat[i..<i + n])); i += n }
        return out
    }
}
