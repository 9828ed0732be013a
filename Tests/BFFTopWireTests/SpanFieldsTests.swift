import Testing
@testable import BFFTopWire

/// `trace_id`, `span_id` and `parent_span_id` in the native protocol: read back as written, hex
/// ids as the numbers they spell, other text hashed stably, and clear reasons for what is wrong.
@Suite struct SpanFieldsTests {
    let decoder = NativeDecoder()
    let head = #"{"v":1,"type":"invocation","ts":1732460000.5,"endpoint":"slots-query","kind":"function","duration_ms":12,"outcome":"ok""#

    func span(_ fields: String) -> Result<SpanContext?, DecodeError> {
        switch decoder.decode(head + fields + "}") {
        case .success(.invocation(let i)): .success(i.span)
        case .success: .failure(DecodeError("not an invocation"))
        case .failure(let e): .failure(e)
        }
    }

    @Test func hexIdsAreTheNumbersTheySpell() throws {
        let s = try span(#","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","parent_span_id":"53995c3f42cd8ad8""#).get()
        #expect(s == SpanContext(trace: TraceKey(high: 0x4bf9_2f35_77b3_4da6, low: 0xa3ce_929d_0e0e_4736)!, span: 0x00f0_67aa_0ba9_02b7, parent: 0x5399_5c3f_42cd_8ad8))
        #expect(s?.trace.hex == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(s?.spanHex == "00f067aa0ba902b7")
    }

    @Test func otherTextIsHashedStablyAndAllRoundTripsThroughTheEncoder() throws {
        let a = try span(#","trace_id":"1-5759e988-bd862e3fe1be46a994272793","span_id":"req-1","parent_span_id":"req-0""#).get()
        let b = try span(#","trace_id":"1-5759e988-bd862e3fe1be46a994272793","span_id":"req-1","parent_span_id":"req-0""#).get()
        let c = try span(#","trace_id":"1-5759e988-bd862e3fe1be46a994272794","span_id":"req-1""#).get()
        #expect(a == b && a != nil)
        #expect(a?.trace != c?.trace)
        #expect(c?.parent == 0)
        // Encoded and decoded again: the same invocation, span included.
        for text in [#","trace_id":"1-5759e988-bd862e3fe1be46a994272793","span_id":"req-1","parent_span_id":"req-0""#,
                     #","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7""#] {
            guard case .success(let e) = decoder.decode(head + text + "}") else { Issue.record("decode"); continue }
            #expect(decoder.decode(NativeEncoder.encode(e)) == .success(e))
        }
    }

    @Test func wrongSpanFieldsGetAReason() {
        #expect(span(#","span_id":"00f067aa0ba902b7""#) == .failure(DecodeError(#"field "span_id" needs "trace_id" (the trace it belongs to)"#)))
        #expect(span(#","trace_id":"abc","parent_span_id":"00f067aa0ba902b7""#) == .failure(DecodeError(#"field "parent_span_id" needs "span_id" (this invocation's own span)"#)))
        #expect(span(#","trace_id":"","span_id":"a""#) == .failure(DecodeError(#"fields "trace_id" and "span_id" must not be empty"#)))
        #expect(span(#","trace_id":"abc","span_id":7"#).isFailure)
        // An all-zero hex id is no id (W3C): hashed as text, never 0.
        let zero = try? span(#","trace_id":"00000000000000000000000000000000","span_id":"0000000000000000""#).get()
        #expect(zero != nil && zero?.span != 0)
    }

    /// Lines with spans leave the packed paths (which do not carry them) for the general decoder,
    /// so nothing is lost in live ingest or replay.
    @Test func fastDecodersLeaveSpannedLinesToTheGeneralDecoder() {
        var fast = RecordingFastDecoder()
        var ids: [String] = []
        let line = head + #","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#
        let packed = line.utf8CString.withUnsafeBytes { fast.decode(UnsafeRawBufferPointer(rebasing: $0.dropLast()), ids: &ids) }
        #expect(packed == nil)
        let plain = head + "}"
        let packedPlain = plain.utf8CString.withUnsafeBytes { fast.decode(UnsafeRawBufferPointer(rebasing: $0.dropLast()), ids: &ids) }
        #expect(packedPlain != nil)
    }
}
