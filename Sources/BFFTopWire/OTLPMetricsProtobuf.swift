/// `ExportMetricsServiceRequest` in protobuf, read straight from the wire format into an
/// `OTLPMetricsExport`. Field numbers are opentelemetry-proto's metrics.proto. A metric whose name
/// bfftop does not map is skipped without reading its points; repeated numbers are accepted packed
/// or not (as every proto3 parser must); a known field with another wire type is skipped as unknown.
/// The tests check it against swift-protobuf's generated code on the same bytes.
extension OTLPProtobuf {
    public static func metrics(_ body: [UInt8]) throws(DecodeError) -> OTLPMetricsExport {
        try body.withUnsafeBytes { b in Result { () throws(DecodeError) in try metrics(b) } }.get()
    }

    public static func metrics(_ body: UnsafeRawBufferPointer) throws(DecodeError) -> OTLPMetricsExport {
        var r = ProtobufReader(body)
        var export = OTLPMetricsExport()
        while let (field, wire) = try r.nextTag() {
            guard field == 1, wire == .lengthDelimited else { try r.skip(wire); continue }
            export.resources.append(try resourceMetrics(r.message(r.lengthDelimited()), points: &export.points))
        }
        return export
    }

    static func resourceMetrics(_ m: ProtobufReader, points: inout Int) throws(DecodeError) -> OTLPResourceMetrics {
        var r = m
        var out = OTLPResourceMetrics()
        while let (field, wire) = try r.nextTag() {
            guard wire == .lengthDelimited, field == 1 || field == 2 else { try r.skip(wire); continue }
            var inner = r.message(try r.lengthDelimited())
            while let (f, w) = try inner.nextTag() {
                guard w == .lengthDelimited, f == (field == 1 ? 1 : 2) else { try inner.skip(w); continue }
                let body = try inner.lengthDelimited()
                if field == 1 {  // Resource.attributes
                    OTLPIdentity.mix(&out.identity, inner.slice(body))
                    if let (k, v) = try keyValue(inner.message(body)) { out.resource[k] = v }
                } else if let metric = try metric(inner.message(body), points: &points) {  // ScopeMetrics.metrics
                    out.metrics.append(metric)
                }
            }
        }
        return out
    }

    /// A metric bfftop maps, or nil (its points are counted, not read).
    static func metric(_ m: ProtobufReader, points: inout Int) throws(DecodeError) -> OTLPMetric? {
        var r = m
        var name: Range<Int>?
        var unit: Range<Int>?
        var data: (field: UInt64, range: Range<Int>)?
        while let (field, wire) = try r.nextTag() {
            switch (field, wire) {
            case (1, .lengthDelimited): name = try r.lengthDelimited()
            case (3, .lengthDelimited): unit = try r.lengthDelimited()
            case (5, .lengthDelimited), (7, .lengthDelimited), (9, .lengthDelimited), (10, .lengthDelimited), (11, .lengthDelimited):
                data = (field, try r.lengthDelimited())  // a oneof: the last one counts
            default: try r.skip(wire)
            }
        }
        guard let data else { return nil }
        // Summaries (and metrics bfftop does not map) are only counted.
        guard data.field != 11, let n = name, let known = OTLPMetricName.match(r.slice(n)) else {
            points += try countPoints(r.message(data.range))
            return nil
        }
        var metric = OTLPMetric(name: known)
        if let unit { metric.unit = r.string(unit) }
        metric.kind = switch data.field {
        case 5: .gauge
        case 7: .sum
        case 9: .histogram
        default: .exponentialHistogram
        }
        var d = r.message(data.range)
        while let (field, wire) = try d.nextTag() {
            switch (field, wire) {
            case (1, .lengthDelimited):
                points += 1
                let body = d.message(try d.lengthDelimited())
                metric.points.append(try metric.kind == .histogram ? histogramPoint(body)
                    : metric.kind == .exponentialHistogram ? exponentialPoint(body) : numberPoint(body))
            case (2, .varint): metric.temporality = Int(truncatingIfNeeded: try d.varint())
            case (3, .varint): metric.monotonic = try d.varint() != 0
            default: try d.skip(wire)
            }
        }
        return metric
    }

    static func countPoints(_ m: ProtobufReader) throws(DecodeError) -> Int {
        var r = m
        var n = 0
        while let (field, wire) = try r.nextTag() {
            if field == 1 { n += 1 }
            try r.skip(wire)
        }
        return n
    }

    /// The attribute, known or not, into the point's identity and (known) its attributes.
    static func attribute(_ r: inout ProtobufReader, into p: inout OTLPMetricPoint) throws(DecodeError) {
        let body = try r.lengthDelimited()
        OTLPIdentity.mix(&p.identity, r.slice(body))
        if let (k, v) = try keyValue(r.message(body)) { p.attributes[k] = v }
    }

    static func numberPoint(_ m: ProtobufReader) throws(DecodeError) -> OTLPMetricPoint {
        var r = m
        var p = OTLPMetricPoint()
        while let (field, wire) = try r.nextTag() {
            switch (field, wire) {
            case (2, .fixed64): p.startNs = try r.fixed64()
            case (3, .fixed64): p.timeNs = try r.fixed64()
            case (4, .fixed64): p.value = Double(bitPattern: try r.fixed64())
            case (6, .fixed64): p.value = Double(Int64(bitPattern: try r.fixed64()))
            case (7, .lengthDelimited): try attribute(&r, into: &p)
            case (8, .varint): p.flags = UInt32(truncatingIfNeeded: try r.varint())
            default: try r.skip(wire)
            }
        }
        return p
    }

    static func histogramPoint(_ m: ProtobufReader) throws(DecodeError) -> OTLPMetricPoint {
        var r = m
        var p = OTLPMetricPoint()
        while let (field, wire) = try r.nextTag() {
            switch (field, wire) {
            case (2, .fixed64): p.startNs = try r.fixed64()
            case (3, .fixed64): p.timeNs = try r.fixed64()
            case (4, .fixed64): p.count = try r.fixed64()
            case (5, .fixed64): p.sum = Double(bitPattern: try r.fixed64())
            case (6, .fixed64): p.appendBucket(try r.fixed64())
            case (6, .lengthDelimited): try packedFixed64(&r) { p.appendBucket($0) }
            case (7, .fixed64): p.appendBound(Double(bitPattern: try r.fixed64()))
            case (7, .lengthDelimited): try packedFixed64(&r) { p.appendBound(Double(bitPattern: $0)) }
            case (9, .lengthDelimited): try attribute(&r, into: &p)
            case (10, .varint): p.flags = UInt32(truncatingIfNeeded: try r.varint())
            case (11, .fixed64): p.min = Double(bitPattern: try r.fixed64())
            case (12, .fixed64): p.max = Double(bitPattern: try r.fixed64())
            default: try r.skip(wire)
            }
        }
        return p
    }

    static func exponentialPoint(_ m: ProtobufReader) throws(DecodeError) -> OTLPMetricPoint {
        var r = m
        var p = OTLPMetricPoint()
        while let (field, wire) = try r.nextTag() {
            switch (field, wire) {
            case (1, .lengthDelimited): try attribute(&r, into: &p)
            case (2, .fixed64): p.startNs = try r.fixed64()
            case (3, .fixed64): p.timeNs = try r.fixed64()
            case (4, .fixed64): p.count = try r.fixed64()
            case (5, .fixed64): p.sum = Double(bitPattern: try r.fixed64())
            case (6, .varint): p.scale = zigzag32(try r.varint())
            case (7, .fixed64): p.zeroCount = try r.fixed64()
            case (8, .lengthDelimited), (9, .lengthDelimited):
                var b = r.message(try r.lengthDelimited())
                var offset: Int32 = 0
                var counts: [UInt64] = []
                while let (f, w) = try b.nextTag() {
                    switch (f, w) {
                    case (1, .varint): offset = zigzag32(try b.varint())
                    case (2, .varint): OTLPMetricPoint.append(try b.varint(), to: &counts, tooMany: &p.tooManyBuckets)
                    case (2, .lengthDelimited):
                        var packed = b.message(try b.lengthDelimited())
                        while !packed.isAtEnd { OTLPMetricPoint.append(try packed.varint(), to: &counts, tooMany: &p.tooManyBuckets) }
                    default: try b.skip(w)
                    }
                }
                if field == 8 {
                    (p.positiveOffset, p.positive) = (offset, counts)
                } else {
                    p.negativeCount = counts.reduce(0) { $0.addingReportingOverflow($1).overflow ? .max : $0 + $1 }
                }
            case (10, .varint): p.flags = UInt32(truncatingIfNeeded: try r.varint())
            case (12, .fixed64): p.min = Double(bitPattern: try r.fixed64())
            case (13, .fixed64): p.max = Double(bitPattern: try r.fixed64())
            default: try r.skip(wire)
            }
        }
        return p
    }

    /// Each 8-byte value of a packed field (a length not a multiple of 8 is not one).
    static func packedFixed64(_ r: inout ProtobufReader, _ body: (UInt64) -> Void) throws(DecodeError) {
        var packed = r.message(try r.lengthDelimited())
        while !packed.isAtEnd { body(try packed.fixed64()) }
    }

    /// A `sint32` (zigzag) from its varint, as protobuf truncates an over-long one.
    static func zigzag32(_ v: UInt64) -> Int32 {
        let u = UInt32(truncatingIfNeeded: v)
        return Int32(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }
}
