import CBFFTopSys

// Byte-level scanning for `RecordingFastDecoder`: spans, keys, values and the cursor with its
// word-at-a-time string and digit loops.

/// Bytes of the line, by pointer.
struct FastSpan {
    let start: UnsafeRawPointer
    let count: Int

    /// Whether the bytes are valid UTF-8, as the general decoder requires of every string, even one
    /// the fast path skips (found by fuzzing: a trace id with a stray byte was taken here and
    /// refused there). ASCII, the usual case, is one pass over the bytes.
    var isValidUTF8: Bool {
        let bytes = UnsafeRawBufferPointer(start: start, count: count)
        if !bytes.contains(where: { $0 >= 0x80 }) { return true }
        return String(validating: bytes, as: UTF8.self) != nil
    }

    /// Byte by byte, inlined: keys are short and most comparisons end at the first byte, where a
    /// call to `memcmp` per candidate key cost more than the rest of the line.
    @inline(always) func `is`(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let l = literal.utf8Start
        for i in 0..<count where start.load(fromByteOffset: i, as: UInt8.self) != l[i] { return false }
        return true
    }

    var string: String? { String(validating: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self) }
}

/// A key, with its first 16 bytes as two little-endian words (zero-padded) for matching.
struct FastKey {
    let count: Int
    let w0: UInt64
    let w1: UInt64
}

enum FastValue {
    case string(FastSpan)
    case number(Double)
    case bool(Bool)
    case null

    @inline(always) func number(_ out: inout Double?) -> Bool {
        switch self {
        case .number(let d): out = d
        case .null: out = nil
        default: return false
        }
        return true
    }

    @inline(always) func bool(_ out: inout Bool?) -> Bool {
        switch self {
        case .bool(let b): out = b
        case .null: out = nil
        default: return false
        }
        return true
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// A string (valid UTF-8) or null: a field the fast path skips but the general decoder validates.
    var isStringOrNull: Bool {
        switch self {
        case .string(let s): s.isValidUTF8
        case .null: true
        default: false
        }
    }
}

/// The read position. Each method works on a local copy of `p` and stores it once at the end:
/// loads through raw pointers may alias the cursor, so a loop that advanced `p` in place would
/// store and reload it every byte.
struct FastCursor {
    var p: UnsafeRawPointer
    let end: UnsafeRawPointer

    var atEnd: Bool { p == end }

    @inline(always) func peek() -> UInt8? { p < end ? p.load(as: UInt8.self) : nil }

    @inline(always) mutating func take(_ byte: UInt8) -> Bool {
        guard p < end, p.load(as: UInt8.self) == byte else { return false }
        p += 1
        return true
    }

    @inline(always) mutating func skipSpace() {
        var q = p
        while q < end {
            let b = q.load(as: UInt8.self)
            guard b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A else { break }
            q += 1
        }
        p = q
    }

    /// A string without escapes or control characters (nil otherwise: the general path decides).
    /// Eight bytes at a time where the line allows: the first quote, backslash or control byte is
    /// the lowest flagged byte of the word (the zero-byte test has no false positives below it).
    @inline(always) mutating func plainString() -> FastSpan? {
        guard take(0x22) else { return nil }
        return stringBody()
    }

    /// The rest of a string whose opening quote is behind the cursor (see `plainString`).
    @inline(always) mutating func stringBody() -> FastSpan? {
        let start = p
        var q = p
        let end = self.end
        while end - q >= 8 {
            let w = q.loadUnaligned(as: UInt64.self)
            let flagged = Self.zeroByte(w ^ 0x2222_2222_2222_2222) | Self.zeroByte(w ^ 0x5C5C_5C5C_5C5C_5C5C)
                | ((w &- 0x2020_2020_2020_2020) & ~w & 0x8080_8080_8080_8080)
            if flagged != 0 {
                q += flagged.trailingZeroBitCount >> 3
                return close(start, at: q)
            }
            q += 8
        }
        while q < end {
            let b = q.load(as: UInt8.self)
            if b == 0x22 || b == 0x5C || b < 0x20 { return close(start, at: q) }
            q += 1
        }
        p = q
        return nil
    }

    /// At the first special byte of a string: its end if that is a quote.
    @inline(always) mutating func close(_ start: UnsafeRawPointer, at q: UnsafeRawPointer) -> FastSpan? {
        p = q
        guard q.load(as: UInt8.self) == 0x22 else { return nil }
        p = q + 1
        return FastSpan(start: start, count: q - start)
    }

    @inline(always) private static func zeroByte(_ x: UInt64) -> UInt64 {
        (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
    }

    /// A key and its words (see `FastKey`).
    @inline(always) mutating func key() -> FastKey? {
        guard let s = plainString() else { return nil }
        let n = s.count
        if n <= 16, end - s.start >= 16 {
            let lo = s.start.loadUnaligned(as: UInt64.self)
            let hi = s.start.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let w0 = n >= 8 ? lo : lo & ((1 << UInt64(n * 8)) - 1)
            let w1 = n >= 16 ? hi : n <= 8 ? 0 : hi & ((1 << UInt64((n - 8) * 8)) - 1)
            return FastKey(count: n, w0: w0, w1: w1)
        }
        var w0: UInt64 = 0
        var w1: UInt64 = 0
        for i in 0..<min(n, 16) {
            let b = UInt64(s.start.load(fromByteOffset: i, as: UInt8.self))
            if i < 8 { w0 |= b << UInt64(i * 8) } else { w1 |= b << UInt64((i - 8) * 8) }
        }
        return FastKey(count: n, w0: w0, w1: w1)
    }

    @inline(always) mutating func value() -> FastValue? {
        guard let b = peek() else { return nil }
        switch b {
        case 0x22: return plainString().map(FastValue.string)
        case 0x30...0x39: return number().map(FastValue.number)
        case 0x74: return literal(0x6575_7274, 4) ? .bool(true) : nil  // true
        case 0x66: return literal(0x65_736C_6166, 5) ? .bool(false) : nil  // false
        case 0x6E: return literal(0x6C6C_756E, 4) ? .null : nil  // null
        default: return nil  // negative numbers, objects, arrays: the general path
        }
    }

    /// The `n` bytes at the cursor as a little-endian word equal `word`.
    @inline(always) private mutating func literal(_ word: UInt64, _ n: Int) -> Bool {
        guard end - p >= n else { return false }
        var w: UInt64 = 0
        for i in 0..<n { w |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << UInt64(i * 8) }
        guard w == word else { return false }
        p += n
        return true
    }

    /// Non-negative decimals that Clinger's fast path reads exactly (as `JSONScanner` does);
    /// exponents, leading zeros and long mantissas are left to the general path.
    @inline(always) mutating func number() -> Double? {
        // The cursor is stored once, at the end (no `defer`: its block was not always inlined).
        var q = p
        let end = self.end
        var mantissa: UInt64 = 0
        let intStart = q
        Self.digits(&q, end, into: &mantissa)
        var digits = q - intStart
        var fraction = 0
        var ok = digits > 0 && (digits == 1 || intStart.load(as: UInt8.self) != 0x30)
        if q < end, q.load(as: UInt8.self) == 0x2E {
            q += 1
            let fractionStart = q
            Self.digits(&q, end, into: &mantissa)
            fraction = q - fractionStart
            digits += fraction
            ok = ok && fraction > 0
        }
        ok = ok && !(q < end && q.load(as: UInt8.self) | 0x20 == 0x65)  // e / E
        ok = ok && digits <= 18 && mantissa < (1 << 53) && fraction <= 22
        p = q
        guard ok else { return nil }
        let m = Double(mantissa)
        return fraction == 0 ? m : m / exactPowerOf10(fraction)
    }

    /// Appends the run of decimal digits at `q` to `value` (wrapping past 19 digits, which the
    /// caller then refuses), eight at a time where the line allows.
    @inline(always) private static func digits(_ q: inout UnsafeRawPointer, _ end: UnsafeRawPointer, into value: inout UInt64) {
        while end - q >= 8 {
            let w = q.loadUnaligned(as: UInt64.self)
            // Non-digit bytes are nonzero here; the lowest one is exact (a carry only moves upward).
            let high = w & 0xF0F0_F0F0_F0F0_F0F0
            let bumped = (w &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0
            let nonDigit = (high ^ 0x3030_3030_3030_3030) | (bumped ^ 0x3030_3030_3030_3030)
            let n = nonDigit == 0 ? 8 : nonDigit.trailingZeroBitCount >> 3
            guard n > 0 else { return }
            // The n digits, most significant first in memory, moved to the top of the word.
            var v = (w &- 0x3030_3030_3030_3030) << UInt64((8 - n) * 8)
            v = (v &* 10) &+ (v >> 8)  // pairs: first*10 + second in each 16-bit lane
            v = ((v & 0x00FF_00FF_00FF_00FF) &* (100 << 16 + 1)) >> 16  // fours
            v = ((v & 0x0000_FFFF_0000_FFFF) &* (10_000 << 32 + 1)) >> 32  // eight
            value = value &* exactPowerOf10Int(n) &+ v
            q += n
            if n < 8 { return }
        }
        while q < end {
            let d = q.load(as: UInt8.self) &- 0x30
            guard d < 10 else { return }
            value = value &* 10 &+ UInt64(d)
            q += 1
        }
    }
}

/// 10^n for 0 ≤ n ≤ 8, as an integer.
@inline(always) private func exactPowerOf10Int(_ n: Int) -> UInt64 { bt_pow10_u64(UInt32(truncatingIfNeeded: n)) }

/// 10^n for 0 ≤ n ≤ 22, each exactly representable.
@inline(always) func exactPowerOf10(_ n: Int) -> Double { bt_pow10_f64(UInt32(truncatingIfNeeded: n)) }
