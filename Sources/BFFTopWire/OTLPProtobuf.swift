/// `ExportTraceServiceRequest` in protobuf (`application/x-protobuf`, and every OTLP/gRPC export),
/// read straight from the wire format into an `OTLPExport`. Field numbers are those of
/// opentelemetry-proto's trace.proto, common.proto and resource.proto; fields bfftop does not use
/// (events, links, scopes, unknown attributes) are skipped without being decoded, and so is a known
/// field written with another wire type (as swift-protobuf does: it is an unknown field). The test suite
/// checks it against swift-protobuf's generated code on the same bytes.
public enum OTLPProtobuf {
    public static func traces(_ body: UnsafeRawBufferPointer) throws(DecodeError) -> OTLPExport {
        var r = ProtobufReader(body)
        var export = OTLPExport()
        while let (field, wire) = try r.nextTag() {
            guard field == 1 else { try r.skip(wire); continue }
            guard wire == .lengthDelimited else { try r.skip(wire); continue }
            export.resources.append(try resourceSpans(r.message(r.lengthDelimited())))
        }
        return export
    }

    public static func traces(_ body: [UInt8]) throws(DecodeError) -> OTLPExport {
        try body.withUnsafeBytes { b in Result { () throws(DecodeError) in try traces(b) } }.get()
    }

    static func resourceSpans(_ m: ProtobufReader) throws(DecodeError) -> OTLPResourceSpans {
        var r = m
        var out = OTLPResourceSpans()
        while let (field, wire) = try r.nextTag() {
            switch field {
            case 1:  // Resource
                guard wire == .lengthDelimited else { try r.skip(wire); continue }
                var res = r.message(try r.lengthDelimited())
                while let (f, w) = try res.nextTag() {
                    if f == 1 {
                        guard w == .lengthDelimited else { try res.skip(w); continue }
                        if let (k, v) = try keyValue(res.message(res.lengthDelimited())) { out.resource[k] = v }
                    } else {
                        try res.skip(w)
                    }
                }
            case 2:  // ScopeSpans
                guard wire == .lengthDelimited else { try r.skip(wire); continue }
                var scope = r.message(try r.lengthDelimited())
                while let (f, w) = try scope.nextTag() {
                    if f == 2 {
                        guard w == .lengthDelimited else { try scope.skip(w); continue }
                        // Read in place: a span is a few hundred bytes of optionals, not worth a copy.
                        let body = scope.message(try scope.lengthDelimited())
                        out.spans.append(OTLPSpan())
                        try out.spans.withUnsafeMutableBufferPointer { (b) throws(DecodeError) in try span(body, into: &b[b.count - 1]) }
                    } else {
                        try scope.skip(w)
                    }
                }
            default:
                try r.skip(wire)
            }
        }
        return out
    }

    static func span(_ m: ProtobufReader, into s: inout OTLPSpan) throws(DecodeError) {
        var r = m
        var name = 0..<0
        while let (field, wire) = try r.nextTag() {
            switch field {
            case 1:
                guard wire == .lengthDelimited else { try r.skip(wire); continue }
                let b = r.slice(try r.lengthDelimited())
                // A repeated field: the last one counts, also when it is not an id.
                (s.traceHigh, s.traceLow) = b.count == 16
                    ? (UInt64(bigEndian: b.loadUnaligned(as: UInt64.self)), UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 8, as: UInt64.self))) : (0, 0)
            case 2, 4:
                guard wire == .lengthDelimited else { try r.skip(wire); continue }
                let b = r.slice(try r.lengthDelimited())
                let id = b.count == 8 ? UInt64(bigEndian: b.loadUnaligned(as: UInt64.self)) : 0
                if field == 2 { s.spanID = id == 0 ? nil : id } else { s.parentID = id == 0 ? nil : id }
            case 5:
                guard wire == .lengthDelimited else { try r.skip(wire); continue }
                name = try r.lengthDelimited()
            case 6:
                guard wire == .varint else { try r.skip(wire); continue }
                s.kind = Int(truncatingIfNeeded: try r.varint())
            case 7, 8:
                guard wire == .fixed64 else { try r.skip(wire); continue }
                let ns = try r.fixed64()
                if field == 7 { s.startNs = ns } else { s.endNs = ns }
            case 9:
                guard wire == .lengthDelimited else { try r.skip(wire); continue }
                if let (k, v) = try keyValue(r.message(r.lengthDelimited())) { s.attributes[k] = v }
            case 15:
                guard wire == .lengthDelimited else { try r.skip(wire); continue }
                var st = r.message(try r.lengthDelimited())
                while let (f, w) = try st.nextTag() {
                    switch f {
                    case 2:
                        guard w == .lengthDelimited else { try st.skip(w); continue }
                        s.statusMessage = st.string(try st.lengthDelimited())
                    case 3:
                        guard w == .varint else { try st.skip(w); continue }
                        s.statusCode = Int(truncatingIfNeeded: try st.varint())
                    default:
                        try st.skip(w)
                    }
                }
            default:
                try r.skip(wire)
            }
        }
        // The name is only for messages about spans that may be endpoints: not made for the rest.
        if !name.isEmpty, !s.attributes.isEmpty { s.name = r.string(name) }
    }

    /// A `KeyValue` whose key bfftop knows, with its value (nil when it is of a kind bfftop skips:
    /// a repeated key counts last, so that clears it); nil for any other key.
    static func keyValue(_ m: ProtobufReader) throws(DecodeError) -> (OTLPKey, OTLPValue?)? {
        var r = m
        var key: Range<Int>?
        var value: Range<Int>?
        while let (field, wire) = try r.nextTag() {
            switch field {
            case 1:
                guard wire == .lengthDelimited else { try r.skip(wire); continue }
                key = try r.lengthDelimited()
            case 2:
                guard wire == .lengthDelimited else { try r.skip(wire); continue }
                value = try r.lengthDelimited()
            default:
                try r.skip(wire)
            }
        }
        guard let k = key, let known = OTLPKey.match(r.slice(k)), let v = value else { return nil }
        return (known, try anyValue(r.message(v)))
    }

    static func anyValue(_ m: ProtobufReader) throws(DecodeError) -> OTLPValue? {
        var r = m
        var out: OTLPValue?
        // A oneof: the last one written wins, as protobuf says.
        while let (field, wire) = try r.nextTag() {
            switch field {
            case 1:
                guard wire == .lengthDelimited else { try r.skip(wire); continue }
                out = .string(r.string(try r.lengthDelimited()))
            case 2:
                guard wire == .varint else { try r.skip(wire); continue }
                out = .bool(try r.varint() != 0)
            case 3:
                guard wire == .varint else { try r.skip(wire); continue }
                out = .int(Int64(bitPattern: try r.varint()))
            case 4:
                guard wire == .fixed64 else { try r.skip(wire); continue }
                out = .double(Double(bitPattern: try r.fixed64()))
            case 5...8:  // arrays, maps, bytes: not a value bfftop reads
                try r.skip(wire)
                out = nil
            default:
                try r.skip(wire)
            }
        }
        return out
    }
}
