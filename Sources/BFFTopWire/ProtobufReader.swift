/// The protobuf wire format, read in place: tags, varints, fixed 32/64-bit fields and
/// length-delimited ranges, every step bounds-checked. Hostile input gets a `DecodeError` with the
/// offset, never a trap: a varint longer than ten bytes, a length past the end, a wire type that is
/// not one (groups included; OTLP has none).
///
/// It does not recurse by itself: a caller descends into a field it knows with `message(_:)`, so the
/// depth is the depth of the schema the caller follows, not of the input.
struct ProtobufReader {
    enum WireType: UInt8 {
        /// Groups (3, 4) are proto2's; OTLP has none, but a parser must skip them as unknown
        /// fields, as swift-protobuf does.
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int
    let end: Int
    /// The field number of the last tag read (a group ends with its own number).
    private var lastField: UInt64 = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        offset = 0
        end = bytes.count
    }

    private init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) {
        self.bytes = bytes
        offset = range.lowerBound
        end = range.upperBound
    }

    /// A reader over one length-delimited field's contents.
    func message(_ range: Range<Int>) -> ProtobufReader { ProtobufReader(bytes, range: range) }

    var isAtEnd: Bool { offset >= end }

    /// The next field's number and wire type; nil at the end of the message.
    mutating func nextTag() throws(DecodeError) -> (field: UInt64, wire: WireType)? {
        guard offset < end else { return nil }
        let at = offset
        let tag = try varint()
        guard let wire = WireType(rawValue: UInt8(tag & 7)) else {
            throw DecodeError("protobuf: wire type \(tag & 7) is not one protobuf has", at: at)
        }
        let field = tag >> 3
        guard field > 0 else { throw DecodeError("protobuf: field number 0", at: at) }
        guard wire != .endGroup else { throw DecodeError("protobuf: a group ends that did not start", at: at) }
        lastField = field
        return (field, wire)
    }

    mutating func varint() throws(DecodeError) -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while offset < end {
            let b = bytes[offset]
            offset += 1
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
            if shift >= 70 { break }
        }
        throw DecodeError(offset >= end ? "protobuf: a varint runs past the end" : "protobuf: a varint longer than ten bytes", at: offset)
    }

    mutating func fixed64() throws(DecodeError) -> UInt64 {
        guard end - offset >= 8 else { throw DecodeError("protobuf: a fixed64 runs past the end", at: offset) }
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset += 8
        return UInt64(littleEndian: v)
    }

    mutating func fixed32() throws(DecodeError) -> UInt32 {
        guard end - offset >= 4 else { throw DecodeError("protobuf: a fixed32 runs past the end", at: offset) }
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset += 4
        return UInt32(littleEndian: v)
    }

    /// The byte range of a length-delimited field.
    mutating func lengthDelimited() throws(DecodeError) -> Range<Int> {
        let at = offset
        let n = try varint()
        guard n <= UInt64(end - offset) else { throw DecodeError("protobuf: a field of \(n) bytes runs past the end", at: at) }
        let r = offset..<offset + Int(n)
        offset = r.upperBound
        return r
    }

    mutating func skip(_ wire: WireType) throws(DecodeError) {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup: try skipGroup(lastField)
        case .endGroup: throw DecodeError("protobuf: a group ends that did not start", at: offset)
        }
    }

    /// Everything up to the end of group `field`, nested groups too (without recursion; as deep
    /// as swift-protobuf allows).
    private mutating func skipGroup(_ field: UInt64) throws(DecodeError) {
        var open: [UInt64] = [field]
        while let top = open.last {
            guard offset < end else { throw DecodeError("protobuf: a group runs past the end", at: offset) }
            let at = offset
            let tag = try varint()
            guard let wire = WireType(rawValue: UInt8(tag & 7)), tag >> 3 > 0 else {
                throw DecodeError("protobuf: a bad tag in a group", at: at)
            }
            switch wire {
            case .startGroup:
                guard open.count < 100 else { throw DecodeError("protobuf: groups nested deeper than 100", at: at) }
                open.append(tag >> 3)
            case .endGroup:
                guard tag >> 3 == top else { throw DecodeError("protobuf: a group ends with another's number", at: at) }
                open.removeLast()
            default:
                try skip(wire)
            }
        }
    }

    func slice(_ r: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[r]) }

    /// A string field's text; invalid UTF-8 is repaired (U+FFFD) rather than refused.
    func string(_ r: Range<Int>) -> String { String(decoding: slice(r), as: UTF8.self) }
}

/// Writes the few protobuf messages bfftop answers with (export responses, `google.rpc.Status`).
package struct ProtobufWriter {
    package init() {}
    package private(set) var bytes: [UInt8] = []

    package mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: UInt64, _ wire: ProtobufReader.WireType) { varint(field << 3 | UInt64(wire.rawValue)) }

    package mutating func int(_ field: UInt64, _ v: Int64) {
        guard v != 0 else { return }
        tag(field, .varint)
        varint(UInt64(bitPattern: v))
    }

    package mutating func string(_ field: UInt64, _ s: String) {
        guard !s.isEmpty else { return }
        bytes(field, Array(s.utf8))
    }

    package mutating func bytes(_ field: UInt64, _ b: [UInt8]) {
        tag(field, .lengthDelimited)
        varint(UInt64(b.count))
        bytes += b
    }
}
