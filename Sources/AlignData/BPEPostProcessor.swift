import Foundation

/// What `addSpecialTokens` adds around one encoded sequence: the effect of a
/// tokenizer.json `post_processor` (`TemplateProcessing`, `ByteLevel`,
/// `RobertaProcessing`, `BertProcessing` or a `Sequence` of them) or of GGUF
/// `add_bos_token` / `add_eos_token`.
struct BPEPostProcessor: Sendable, Equatable {
    var prefix: [Int] = []
    var suffix: [Int] = []
    /// The tokenizer.json value written back by `save` (null for none).
    var json: JSONValue = .null

    static func == (a: BPEPostProcessor, b: BPEPostProcessor) -> Bool {
        a.prefix == b.prefix && a.suffix == b.suffix
    }

    func apply(_ ids: inout [Int]) {
        if !prefix.isEmpty { ids.insert(contentsOf: prefix, at: 0) }
        ids.append(contentsOf: suffix)
    }

    /// A `TemplateProcessing` that adds `bos` in front and/or `eos` at the end.
    static func bosEOS(bos: (String, Int)?, eos: (String, Int)?) -> BPEPostProcessor {
        guard bos != nil || eos != nil else { return BPEPostProcessor() }
        func special(_ t: (String, Int), typeID: Int) -> JSONValue {
            .obj(["SpecialToken": .obj(["id": .string(t.0), "type_id": .int(typeID)])])
        }
        func sequence(_ name: String, typeID: Int) -> JSONValue {
            .obj(["Sequence": .obj(["id": .string(name), "type_id": .int(typeID)])])
        }
        var single: [JSONValue] = []
        var pair: [JSONValue] = []
        if let bos { single.append(special(bos, typeID: 0)) }
        single.append(sequence("A", typeID: 0))
        if let eos { single.append(special(eos, typeID: 0)) }
        if let bos { pair.append(special(bos, typeID: 0)) }
        pair.append(sequence("A", typeID: 0))
        if let eos { pair.append(special(eos, typeID: 0)) }
        if let bos { pair.append(special(bos, typeID: 1)) }
        pair.append(sequence("B", typeID: 1))
        if let eos { pair.append(special(eos, typeID: 1)) }
        var specials: [(key: String, value: JSONValue)] = []
        for t in [bos, eos].compactMap({ $0 }) where !specials.contains(where: { $0.key == t.0 }) {
            specials.append((key: t.0, value: .obj(["id": .string(t.0), "ids": .array([.int(t.1)]),
                                                   "tokens": .array([.string(t.0)])])))
        }
        let json = JSONValue.obj(["type": .string("TemplateProcessing"), "single": .array(single),
                                  "pair": .array(pair), "special_tokens": .object(specials)])
        return BPEPostProcessor(prefix: bos.map { [$0.1] } ?? [], suffix: eos.map { [$0.1] } ?? [], json: json)
    }

    static func parse(_ j: LocatedJSON?) throws -> BPEPostProcessor {
        guard let j else { return BPEPostProcessor() }
        var result = try parseOne(j)
        result.json = j.value
        return result
    }

    private static func parseOne(_ j: LocatedJSON) throws -> BPEPostProcessor {
        let type = try j.typeName
        switch type {
        case "ByteLevel":
            return BPEPostProcessor()
        case "Sequence":
            var result = BPEPostProcessor()
            for item in try j.require("processors").array {
                let p = try parseOne(item)
                result.prefix = p.prefix + result.prefix
                result.suffix += p.suffix
            }
            return result
        case "RobertaProcessing", "BertProcessing":
            func idOf(_ key: String) throws -> Int {
                let pair = try j.require(key).array
                guard pair.count == 2 else { throw try j.require(key).malformed("should be [token, id]") }
                return try pair[1].int
            }
            return BPEPostProcessor(prefix: [try idOf("cls")], suffix: [try idOf("sep")])
        case "TemplateProcessing":
            var ids: [String: [Int]] = [:]
            if let specials = j["special_tokens"] {
                for (name, v) in try specials.members {
                    ids[name] = try v.require("ids").array.map { try $0.int }
                }
            }
            var result = BPEPostProcessor()
            var seenSequence = false
            for item in try j.require("single").array {
                if let special = item["SpecialToken"] {
                    let name = try special.require("id").string
                    guard let tokenIDs = ids[name] else {
                        throw special.malformed("names \(jsonQuoted(name)), which is not in post_processor.special_tokens")
                    }
                    if seenSequence { result.suffix += tokenIDs } else { result.prefix += tokenIDs }
                } else if let sequence = item["Sequence"] {
                    let name = try sequence.require("id").string
                    guard name == "A", !seenSequence else { throw sequence.unsupported(".id \(jsonQuoted(name))") }
                    seenSequence = true
                } else {
                    throw item.malformed("is neither a SpecialToken nor a Sequence")
                }
            }
            return result
        default:
            throw j.unsupported(".type \(jsonQuoted(type))")
        }
    }
}
