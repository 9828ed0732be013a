/// How many terminal columns text takes: 2 for East Asian wide and full-width characters and for
/// emoji, 0 for combining marks, joiners and variation selectors, 1 for the rest. A table of
/// Unicode's East Asian Width (W and F) and emoji-presentation ranges rather than the C library's
/// `wcwidth`, which depends on the process's locale and C library version: views and reports must
/// measure the same way everywhere, tests included.
public enum DisplayWidth {
    /// Columns of one scalar on its own (an emoji presentation selector after it can widen it:
    /// see `of(_: String)`).
    @inline(__always) public static func of(_ s: Unicode.Scalar) -> Int {
        let v = s.value
        if v < 0x300 { return 1 }
        // What the panes draw most (box drawing, blocks, shapes up to the two wide ones at U+25FD,
        // braille, arrows): narrow, without a Unicode property lookup.
        if (v >= 0x2500 && v < 0x25FD) || (v >= 0x2800 && v <= 0x28FF) || (v >= 0x2190 && v <= 0x21FF) { return 1 }
        return general(v)
    }

    private static func general(_ v: UInt32) -> Int {
        if isZeroWidth(v) { return 0 }
        return isWide(v) ? 2 : 1
    }

    /// Columns of a string, as the cell grid lays it out.
    public static func of(_ s: String) -> Int {
        var n = 0
        var previous = 0
        for u in s.unicodeScalars {
            if u.value == 0xFE0F, previous == 1 {
                n += 1  // emoji presentation of a text-default symbol (☀️): two columns
                previous = 2
                continue
            }
            let w = of(u)
            n += w
            if w > 0 { previous = w }
        }
        return n
    }

    /// The longest prefix of `s` that fits `columns`.
    public static func prefix(_ s: String, _ columns: Int) -> String {
        var out = String.UnicodeScalarView()
        var n = 0
        let scalars = Array(s.unicodeScalars)
        for (i, u) in scalars.enumerated() {
            var w = of(u)
            if w == 1, i + 1 < scalars.count, scalars[i + 1].value == 0xFE0F { w = 2 }
            if n + w > columns { break }
            n += w
            out.append(u)
        }
        return String(out)
    }

    static func isZeroWidth(_ v: UInt32) -> Bool {
        if (0x300...0x36F).contains(v) || (0x1AB0...0x1AFF).contains(v) || (0x1DC0...0x1DFF).contains(v) || (0x20D0...0x20FF).contains(v)
            || (0xFE20...0xFE2F).contains(v) { return true }  // combining diacritics
        if (0x200B...0x200F).contains(v) || (0x202A...0x202E).contains(v) || (0x2060...0x2064).contains(v) || v == 0xFEFF { return true }
        if (0xFE00...0xFE0F).contains(v) || (0xE0100...0xE01EF).contains(v) || (0x1160...0x11FF).contains(v) { return true }
        if (0x1F3FB...0x1F3FF).contains(v) { return true }  // skin tones modify the emoji before them
        guard let u = Unicode.Scalar(v) else { return false }
        switch u.properties.generalCategory {
        case .nonspacingMark, .enclosingMark: return true
        default: return false
        }
    }

    static func isWide(_ v: UInt32) -> Bool {
        if v < 0x1100 { return false }
        if v <= 0x115F { return true }
        if v < 0x2300 { return false }
        if v < 0x2E80 { return emojiPresentation.contains { $0.contains(v) } }
        if (0x2E80...0x303E).contains(v) || (0x3041...0x33FF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v)
            || (0xA000...0xA4CF).contains(v) || (0xA960...0xA97F).contains(v) || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v)
            || (0xFE10...0xFE19).contains(v) || (0xFE30...0xFE6F).contains(v) || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v) {
            return true
        }
        if (0x16FE0...0x16FE4).contains(v) || (0x17000...0x18AFF).contains(v) || (0x1B000...0x1B2FF).contains(v) { return true }
        if v == 0x1F004 || v == 0x1F0CF || v == 0x1F18E || (0x1F191...0x1F19A).contains(v) || (0x1F200...0x1F251).contains(v) { return true }
        if (0x1F300...0x1F64F).contains(v) || (0x1F680...0x1F6FF).contains(v) || (0x1F7E0...0x1F7EB).contains(v)
            || (0x1F90C...0x1F9FF).contains(v) || (0x1FA70...0x1FAFF).contains(v) { return true }
        return (0x20000...0x2FFFD).contains(v) || (0x30000...0x3FFFD).contains(v)
    }

    /// Symbols below U+2E80 that are wide (emoji presentation by default): ⌚ ⏩ ⏰ ⏳ ☔ ♈ ⚡ ⚽ ⛔ ✅ ❌ ⭐ ….
    /// Others there (✓ ⚠ ● ▶ ⏸ ⏱ ❄, which bfftop draws) are narrow.
    static let emojiPresentation: [ClosedRange<UInt32>] = [
        0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0...0x23F0, 0x23F3...0x23F3, 0x25FD...0x25FE, 0x2614...0x2615,
        0x2648...0x2653, 0x267F...0x267F, 0x2693...0x2693, 0x26A1...0x26A1, 0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5,
        0x26CE...0x26CE, 0x26D4...0x26D4, 0x26EA...0x26EA, 0x26F2...0x26F3, 0x26F5...0x26F5, 0x26FA...0x26FA, 0x26FD...0x26FD,
        0x2705...0x2705, 0x270A...0x270B, 0x2728...0x2728, 0x274C...0x274C, 0x274E...0x274E, 0x2753...0x2755, 0x2757...0x2757,
        0x2795...0x2797, 0x27B0...0x27B0, 0x27BF...0x27BF, 0x2B1B...0x2B1C, 0x2B50...0x2B50, 0x2B55...0x2B55,
    ]
}

extension String {
    /// Columns the string takes in a terminal (`DisplayWidth`).
    public var displayWidth: Int { DisplayWidth.of(self) }
}
