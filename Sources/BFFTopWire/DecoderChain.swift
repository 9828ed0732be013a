/// Which decoder reads a line, answered in one place for every entry point: the socket
/// (`LineDecoder`), replay and report (`RecordingStream`), `forward`, and the formats still to come.
///
/// The order is fixed and cheapest-first, each stage tried only when the ones before it did not
/// read the line:
/// 1. `fast`: a successful invocation in the native format, without token objects
///    (`RecordingFastDecoder`; names interned, bounded). Replay runs its own copy of this stage
///    inline, writing packed events straight into its batches.
/// 2. `native`: any native event (`NativeDecoder`; with `recordings`, also a recording's header and
///    its `rt` receive times). Tried only on lines whose first non-blank byte is `{` when function
///    logs follow (text lines are theirs).
/// 3. `control`: the control channel's messages (declarations, invoke results), socket only.
/// 4. `emf`: CloudWatch Embedded Metric Format, with the reason when a figure is out of range.
/// 5. `functionLogs`: what functions log (CloudWatch text and its tools' prefixes, Telemetry API
///    JSON, CloudWatch JSON exports), stateful across lines (`FunctionLogDecoder`).
///
/// A line no stage reads is malformed, with the reason of the native decoder when the line looked
/// like JSON (what an emitter most likely meant), else of the function-log reader.
public struct DecoderChain {
    public struct Stages: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let fast = Stages(rawValue: 1)
        public static let native = Stages(rawValue: 2)
        public static let control = Stages(rawValue: 4)
        public static let emf = Stages(rawValue: 8)
        public static let functionLogs = Stages(rawValue: 16)

        /// The dashboard's socket: what emitters send. Function logs come through `bfftop forward`:
        /// on the socket, a line of text is malformed (counted, with its reason), never "other".
        public static let socket: Stages = [.fast, .native, .control, .emf]
        /// Recordings and exported logs (replay's fast stage runs inline, before the chain).
        public static let files: Stages = [.native, .emf, .functionLogs]
        /// `forward`: native lines and logs (control messages belong to a live connection).
        public static let forward: Stages = [.native, .emf, .functionLogs]
    }

    /// What a line was.
    public enum Decoded {
        /// A successful invocation read by the fast stage (names and ids in `fastNames`, `ids`).
        case packed(PackedInvocation)
        /// One native event, with the receive time a recording line carries.
        case event(WireEvent, receivedAt: Double?)
        /// EMF metrics, Telemetry API events: several events from one line.
        case events([WireEvent])
        /// Invocations from function logs (REPORT lines and their marks).
        case invocations([Invocation])
        case control(ControlMessage)
        /// A recording's header line.
        case header
        /// Recognised, nothing to aggregate: START/END, application log lines.
        case other
        /// No stage reads it.
        case malformed(reason: String)
    }

    public let stages: Stages
    private let native = NativeDecoder()
    private let recordings: Bool
    public private(set) var fast: RecordingFastDecoder
    /// The trace ids of the last `.packed` line (the fast stage keeps them out of the packed event).
    public var ids: [String] = []
    public var logs: FunctionLogDecoder

    /// `recordings`: native lines may be a recording's (header, `rt`). The function-log reader
    /// takes `logFormat`, names functions without a log group `defaultFunction`, and times lines
    /// without a time of their own by `clock` (nil: such lines are dropped, as for files).
    public init(stages: Stages, recordings: Bool = false, fastNames: Int = 2048, keepsEveryField: Bool = true,
                logFormat: FunctionLogDecoder.Format = .auto, defaultFunction: String = "lambda", clock: (() -> Double)? = nil) {
        self.stages = stages
        self.recordings = recordings
        fast = RecordingFastDecoder(nameLimit: fastNames, keepsEveryField: keepsEveryField)
        logs = FunctionLogDecoder(format: logFormat, defaultFunction: defaultFunction, clock: clock)
    }

    /// The event a `.packed` line stands for, with its names and ids.
    public func invocation(_ packed: PackedInvocation) -> Invocation {
        packed.invocation(names: fast.names.names, ids: ids)
    }

    /// The first stage alone, for callers that keep packed events apart (the socket's hot loop:
    /// an optional plain value crosses back, not the `Decoded` enum with its outlined copies). A nil
    /// goes on with `decode(_:afterFast:)`; the order is the chain's either way.
    @inline(__always) public mutating func decodeFast(_ line: UnsafeRawBufferPointer) -> PackedInvocation? {
        var packed = PackedInvocation.unread
        return decodeFast(line, into: &packed) ? packed : nil
    }

    /// The first stage alone, writing into `packed` (the caller's storage: the batch's next
    /// element, so the value is not copied on its way there). False: go on with `decode(_:afterFast:)`.
    @inline(__always) public mutating func decodeFast(_ line: UnsafeRawBufferPointer, into packed: inout PackedInvocation) -> Bool {
        guard stages.contains(.fast), line.first == 0x7B else { return false }
        ids.removeAll(keepingCapacity: true)
        return fast.decode(line, ids: &ids, into: &packed)
    }

    /// Reads one line (without its newline).
    public mutating func decode(_ line: UnsafeRawBufferPointer) -> Decoded {
        if let packed = decodeFast(line) { return .packed(packed) }
        return decode(line, afterFast: true)
    }

    /// Reads one line the fast stage did not (`afterFast`), or from the start.
    public mutating func decode(_ line: UnsafeRawBufferPointer, afterFast: Bool) -> Decoded {
        if !afterFast, let packed = decodeFast(line) { return .packed(packed) }
        let brace = line.first == 0x7B  // {
        let json = brace || line.first(where: { $0 != 0x20 && $0 != 0x09 }) == 0x7B
        var nativeFailure: DecodeError?
        // Without a log reader after it, the native decoder reads every line: its reason is the one to give.
        if stages.contains(.native), json || !stages.contains(.functionLogs) {
            if recordings {
                switch Result(catching: { () throws(DecodeError) in try native.decodeRecordingLine(line) }) {
                case .success(.header): return .header
                case .success(.event(let e, let rt)): return .event(e, receivedAt: rt)
                case .failure(let e): nativeFailure = e
                }
            } else {
                switch native.decode(line) {
                case .success(let e): return .event(e, receivedAt: nil)
                case .failure(let e): nativeFailure = e
                }
            }
        }
        if stages.contains(.control), json {
            switch ControlCodec.decode(line) {
            case .success(let m)?: return .control(m)
            case .failure(let e)?: return .malformed(reason: e.description)
            case nil: break
            }
        }
        if stages.contains(.emf), json {
            switch EMFDecoder.decode(line) {
            case .success(let events)?: return .events(events)
            case .failure(let e)?: return .malformed(reason: e.description)
            case nil: break
            }
        }
        if stages.contains(.functionLogs) {
            switch logs.decode(line) {
            case .invocations(let invs): return .invocations(invs)
            case .events(let evs): return evs.isEmpty ? .other : .events(evs)
            case .other: return .other
            case .unrecognised: break
            }
        }
        if let nativeFailure { return .malformed(reason: nativeFailure.description) }
        return .malformed(reason: json ? "JSON that no format reads" : "not a format bfftop reads (native JSON, EMF, Lambda logs)")
    }
}
