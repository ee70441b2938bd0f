/// Which language a text is in, for `language:response_language` and the "in English" half of
/// `change_case:english_capital` / `english_lowercase`. IFEval's reference asks `langdetect`,
/// whose character n-gram profiles of 55 languages (2.3 MB) and randomised sampling are not
/// reproduced here; this guess reads the script (Cyrillic, Arabic, Devanagari, Hangul, kana, …),
/// letters only some languages of a script use, and frequent short words of the Latin-script
/// languages IFEval names. It agrees with `langdetect` on ordinary sentences and can differ on
/// very short or mixed texts (README, "IFEval": how often, measured on the golden set).
public enum LanguageGuess {
    /// The guessed ISO 639-1 code, or nil when the text has no letters (where `langdetect`
    /// raises and IFEval counts the instruction as followed).
    public static func code(_ text: String) -> String? {
        var counts: [Script: Int] = [:]
        var letters = 0
        for s in text.unicodeScalars where s.properties.isAlphabetic {
            letters += 1
            counts[script(s), default: 0] += 1
        }
        guard letters > 0, let (top, _) = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue > $1.key.rawValue) }) else { return nil }
        let has: (String) -> Int = { set in text.unicodeScalars.filter { set.unicodeScalars.contains($0) }.count }
        switch top {
        case .latin: return latin(text)
        case .cyrillic:
            if has("іїєґІЇЄҐ") > 0 { return "uk" }
            if has("ыэёЫЭЁ") == 0 && has("ъЪ") > 0 { return "bg" }
            return "ru"
        case .arabic:
            if has("ےںٹڈڑھۓ") > 0 { return "ur" }
            if has("ةىيك") == 0 && has("پچژگکی") > 0 { return "fa" }
            return "ar"
        case .devanagari:
            let w = words(text)
            let mr = w.filter { ["आहे", "आणि", "या", "हे", "आहेत", "होते", "नाही", "म्हणून"].contains($0) }.count
            let ne = w.filter { ["छ", "छन्", "हो", "र", "पनि", "गर्न", "भएको", "थियो"].contains($0) }.count
            let hi = w.filter { ["है", "हैं", "के", "में", "की", "और", "से", "को", "था", "नहीं"].contains($0) }.count
            if mr > hi && mr >= ne { return "mr" }
            if ne > hi { return "ne" }
            return "hi"
        case .bengali: return "bn"
        case .thai: return "th"
        case .tamil: return "ta"
        case .telugu: return "te"
        case .kannada: return "kn"
        case .malayalam: return "ml"
        case .gujarati: return "gu"
        case .gurmukhi: return "pa"
        case .hebrew: return "he"
        case .hangul: return "ko"
        case .kana: return "ja"
        case .han: return counts[.kana, default: 0] > 0 ? "ja" : "zh-cn"
        case .other: return "unknown"
        }
    }

    enum Script: Int { case latin, cyrillic, arabic, devanagari, bengali, thai, tamil, telugu, kannada, malayalam, gujarati, gurmukhi, hebrew, hangul, kana, han, other }

    static func script(_ s: Unicode.Scalar) -> Script {
        switch s.value {
        case 0x41...0x5A, 0x61...0x7A, 0xC0...0x24F, 0x1E00...0x1EFF: return .latin
        case 0x400...0x52F: return .cyrillic
        case 0x600...0x6FF, 0x750...0x77F, 0xFB50...0xFDFF, 0xFE70...0xFEFF: return .arabic
        case 0x900...0x97F: return .devanagari
        case 0x980...0x9FF: return .bengali
        case 0xA00...0xA7F: return .gurmukhi
        case 0xA80...0xAFF: return .gujarati
        case 0xB80...0xBFF: return .tamil
        case 0xC00...0xC7F: return .telugu
        case 0xC80...0xCFF: return .kannada
        case 0xD00...0xD7F: return .malayalam
        case 0xE00...0xE7F: return .thai
        case 0x590...0x5FF: return .hebrew
        case 0x1100...0x11FF, 0x3130...0x318F, 0xAC00...0xD7AF: return .hangul
        case 0x3040...0x30FF: return .kana
        case 0x4E00...0x9FFF, 0x3400...0x4DBF: return .han
        default: return .other
        }
    }

    static func words(_ text: String) -> [String] {
        var out: [String] = []
        var cur = ""
        for s in text.unicodeScalars {
            if s.properties.isAlphabetic || s.properties.generalCategory == .nonspacingMark || s.properties.generalCategory == .spacingMark {
                cur.unicodeScalars.append(s)
            } else if !cur.isEmpty {
                out.append(cur)
                cur = ""
            }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    static let latinWords: [(String, Set<String>)] = [
        ("en", ["the", "and", "is", "of", "to", "in", "it", "that", "you", "for", "with", "this", "are", "was", "be", "on", "not", "have", "your", "can", "a", "an", "or", "as", "we", "they", "will", "from", "by", "at"]),
        ("es", ["el", "la", "de", "que", "y", "en", "los", "las", "es", "por", "con", "para", "una", "un", "del", "se", "no", "su", "al", "lo", "como", "más", "pero", "muy", "está"]),
        ("pt", ["o", "a", "de", "que", "e", "do", "da", "em", "um", "uma", "para", "é", "com", "não", "os", "as", "no", "na", "se", "por", "mais", "dos", "das", "você", "são", "muito"]),
        ("fr", ["le", "la", "les", "de", "des", "et", "est", "un", "une", "du", "en", "que", "qui", "dans", "pour", "pas", "sur", "au", "avec", "ce", "il", "elle", "nous", "vous", "sont", "je"]),
        ("de", ["der", "die", "das", "und", "ist", "nicht", "ein", "eine", "zu", "den", "mit", "sich", "des", "auf", "für", "im", "dem", "es", "ich", "sie", "wir", "auch", "von", "sind", "wird"]),
        ("it", ["il", "la", "di", "che", "e", "è", "un", "una", "per", "non", "del", "della", "in", "con", "sono", "si", "le", "gli", "lo", "ma", "come", "anche", "più", "questo", "al"]),
        ("pl", ["i", "w", "nie", "na", "się", "z", "jest", "to", "że", "do", "jak", "o", "co", "ale", "po", "tak", "dla", "od", "są", "czy", "jego", "przez", "być", "tym"]),
        ("vi", ["và", "của", "là", "có", "không", "được", "một", "những", "các", "trong", "cho", "người", "này", "với", "đã", "để", "khi", "như", "rất", "tôi"]),
        ("sw", ["na", "ya", "wa", "kwa", "ni", "za", "katika", "la", "kuwa", "hii", "au", "yake", "cha", "hiyo", "kama", "lakini", "sana", "pia", "wao", "mimi"]),
        ("fi", ["ja", "on", "ei", "se", "että", "hän", "oli", "ovat", "mutta", "kun", "niin", "tai", "kuin", "myös", "ole", "joka", "tämä", "mitä", "minä", "sinä"]),
    ]

    static func latin(_ text: String) -> String {
        let w = words(PythonText.lower(text))
        if text.unicodeScalars.contains(where: { (0x1EA0...0x1EF9).contains($0.value) || "ơưđƠƯĐ".unicodeScalars.contains($0) }) { return "vi" }
        if text.unicodeScalars.contains(where: { "ąęłńśźżĄĘŁŃŚŹŻ".unicodeScalars.contains($0) }) { return "pl" }
        var best = ("en", 0)
        for (code, list) in latinWords {
            let n = w.filter { list.contains($0) }.count
            if n > best.1 { best = (code, n) }
        }
        return best.0
    }
}
